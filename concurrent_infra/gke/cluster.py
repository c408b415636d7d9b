"""The GkeCluster component: a regional or zonal GKE cluster with the node pools Concurrent expects.

Imported only when the stack config has a ``cluster`` object, so stacks for existing clusters
never load pulumi-gcp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from .cluster_config import NODE_TYPE_TAINT_KEY, ClusterSpec, NodePoolSpec, service_account_id
from .kubeconfig import gke_context_name, gke_kubeconfig

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
"""The node service account's roles: GKE's least-privilege node role, and pulling images."""


@dataclass(frozen=True)
class GkeClusterArgs:
    """Arguments of :class:`GkeCluster`."""

    spec: ClusterSpec
    """The validated cluster settings (see :func:`.cluster_config.parse_cluster_config`)."""
    adopt_existing: bool = False
    """Let the cluster's Kubernetes provider adopt existing objects (the stack's ``adoptExisting``)."""


def _role_suffix(role: str) -> str:
    return role.removeprefix("roles/").replace(".", "-").lower()


class GkeCluster(pulumi.ComponentResource):
    """A GKE cluster with secure defaults, Concurrent's node pools and a Kubernetes provider for it.

    Outputs: ``cluster_name``, ``location``, ``location_type``, ``project``, ``endpoint``,
    ``kubeconfig`` (secret), ``control_plane_email`` and ``control_plane_key`` (secret) when the
    control-plane service account is configured. ``provider`` deploys Kubernetes objects onto it.
    """

    cluster: gcp.container.Cluster
    node_service_account: gcp.serviceaccount.Account
    node_pools: dict[str, gcp.container.NodePool]
    control_plane_account: gcp.serviceaccount.Account | None
    control_plane_key: gcp.serviceaccount.Key | None
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    control_plane_email: pulumi.Output[str] | None

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("concurrent-infra:index:GkeCluster", name, None, opts)
        spec = args.spec
        self.spec = spec
        child = pulumi.ResourceOptions(parent=self)

        self.node_service_account, node_roles = self._service_account(
            f"{name}-nodes",
            service_account_id(spec.name, "nodes"),
            f"GKE nodes of {spec.name} (least privilege, instead of the Compute default)",
            NODE_ROLES,
        )
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=spec.name,
            project=spec.project,
            location=spec.location,
            node_locations=list(spec.node_locations) or None,
            # GKE needs a default pool to create a cluster; it is deleted right away, and these
            # settings keep even that one off the Compute default service account.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=self._node_config(None),
            release_channel={"channel": spec.release_channel},
            workload_identity_config={"workload_pool": spec.workload_pool},
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            deletion_protection=spec.deletion_protection,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={},
            network=spec.network,
            subnetwork=spec.subnetwork,
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": spec.master_ipv4_cidr_block,
            }
            if spec.private_nodes
            else None,
            master_authorized_networks_config={
                "cidr_blocks": [
                    {"cidr_block": network.cidr_block, "display_name": network.display_name}
                    for network in spec.master_authorized_networks
                ]
            }
            if spec.master_authorized_networks
            else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_roles),
        )
        self.node_pools = {pool.name: self._node_pool(name, pool, node_roles) for pool in spec.node_pools}

        context = gke_context_name(spec.project, spec.location, spec.name)
        self.endpoint = self.cluster.endpoint
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate).apply(
                lambda values: gke_kubeconfig(context, values[0], values[1] or "")
            )
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            # Replace the provider (and so every object on it) only if the cluster itself changes,
            # never because the kubeconfig text changed.
            cluster_identifier=self.cluster.id,
            upsert_existing_objects=args.adopt_existing,
            opts=child,
        )
        self._control_plane(name, spec)
        self.register_outputs(
            {
                "cluster_name": self.cluster.name,
                "location": spec.location,
                "location_type": spec.location_type,
                "project": spec.project,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "control_plane_email": self.control_plane_email,
            }
        )

    def _service_account(
        self, resource_name: str, account_id: str, display_name: str, roles: Sequence[str]
    ) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
        """A Google service account with ``roles`` on the project (non-authoritative grants)."""
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            resource_name,
            project=self.spec.project,
            account_id=account_id,
            display_name=display_name,
            opts=child,
        )
        member = account.email.apply(lambda email: f"serviceAccount:{email}")
        grants = [
            gcp.projects.IAMMember(
                f"{resource_name}-{_role_suffix(role)}",
                project=self.spec.project,
                role=role,
                member=member,
                opts=child,
            )
            for role in roles
        ]
        return account, grants

    def _node_config(self, pool: NodePoolSpec | None) -> gcp.container.NodePoolNodeConfigArgsDict:
        """Node settings shared by every pool: dedicated account, Workload Identity, shielded VMs."""
        config: gcp.container.NodePoolNodeConfigArgsDict = {
            "service_account": self.node_service_account.email,
            "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        }
        if pool is None:
            return config
        config.update(
            {
                "machine_type": pool.machine_type,
                "disk_size_gb": pool.disk_size_gb,
                "disk_type": "pd-balanced",
                "spot": pool.spot,
                "labels": {NODE_TYPE_TAINT_KEY: pool.node_type},
                "taints": [{"key": NODE_TYPE_TAINT_KEY, "value": pool.node_type, "effect": "NO_SCHEDULE"}],
            }
        )
        if pool.accelerator_type:
            config["guest_accelerators"] = [
                {
                    "type": pool.accelerator_type,
                    "count": pool.accelerator_count,
                    "gpu_driver_installation_config": {"gpu_driver_version": pool.gpu_driver_version},
                }
            ]
        return config

    def _node_pool(
        self, name: str, pool: NodePoolSpec, node_roles: list[gcp.projects.IAMMember]
    ) -> gcp.container.NodePool:
        """A pool whose counts are cluster totals (see concurrent_infra.gke.cluster_config)."""
        spec = self.spec
        autoscaling: gcp.container.NodePoolAutoscalingArgsDict | None = None
        node_count = initial_node_count = None
        node_locations: list[pulumi.Input[str]] | None = None
        if pool.autoscaled:
            autoscaling = {
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                "location_policy": "ANY",
            }
            initial_node_count = pool.min_nodes if spec.location_type == "zonal" else 0
        else:
            # A fixed size counts per zone in GKE; a regional cluster's pool is pinned to one zone
            # so that nodeCount is the total.
            node_count = pool.min_nodes
            if spec.location_type == "regional":
                node_locations = [self._first_zone()]
        return gcp.container.NodePool(
            f"{name}-{pool.name}-pool",
            name=pool.name,
            project=spec.project,
            location=spec.location,
            cluster=self.cluster.name,
            autoscaling=autoscaling,
            node_count=node_count,
            initial_node_count=initial_node_count,
            node_locations=node_locations,
            management={"auto_repair": True, "auto_upgrade": True},
            node_config=self._node_config(pool),
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_roles),
        )

    def _first_zone(self) -> pulumi.Input[str]:
        if self.spec.node_locations:
            return self.spec.node_locations[0]
        zones = gcp.compute.get_zones_output(
            project=self.spec.project, region=self.spec.location, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        return zones.names.apply(lambda names: sorted(names)[0])

    def _control_plane(self, name: str, spec: ClusterSpec) -> None:
        """The Google service account Concurrent's control plane reaches the cluster with."""
        self.control_plane_account = self.control_plane_key = self.control_plane_email = None
        account_spec = spec.control_plane_account
        if account_spec is None:
            return
        account, _ = self._service_account(
            f"{name}-control-plane",
            account_spec.account_id,
            f"Concurrent for MLflow control plane for {spec.name}",
            account_spec.roles,
        )
        self.control_plane_account = account
        self.control_plane_email = account.email
        if account_spec.create_key:
            self.control_plane_key = gcp.serviceaccount.Key(
                f"{name}-control-plane-key",
                service_account_id=account.name,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["privateKey"]),
            )
