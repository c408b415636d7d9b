"""The GkeCluster component: a regional or zonal GKE cluster with the node pools Concurrent expects.

Imported only when a cluster is created, so stacks for existing clusters never load pulumi-gcp.

Node counts are cluster totals on zonal and regional clusters alike, and never force a pool to be
recreated:

- an autoscaled pool uses GKE's total limits (``total_min/max_node_count``); a fixed-size pool
  (``node_count``) of a single-zone pool uses ``node_count``, elsewhere the total limits with
  minimum = maximum, so no pool is pinned to one zone unless its ``node_locations`` say so;
- ``initial_node_count`` (per zone, and forcing replacement when changed in pulumi-gcp) is set
  once, so that the pool starts with at least its minimum, and is then ignored
  (``ignore_changes``): later count changes are updates of the autoscaling limits or of
  ``node_count``, which pulumi-gcp updates in place.
"""

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from ..validation import KeyStyle, component_args_problems
from .apis import required_apis
from .args import GkeClusterArgs
from .change_safety import CLUSTER_IGNORED_CHANGES, POOL_IGNORED_CHANGES
from .iam_names import service_account_role_suffix
from .kubeconfig import gke_context_name, gke_kubeconfig
from .readers import read_cluster
from .settings import (
    ACCELERATOR_LABEL_KEY,
    GKE_MANAGED_COMPONENTS_TAINT_KEY,
    GPU_TAINT_KEY,
    NODE_TYPE_TAINT_KEY,
    ClusterSettings,
    PoolSettings,
)
from .syntax import unique_service_account_id

TYPE = "concurrent-infra:index:GkeCluster"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
"""The node service account's roles: GKE's least-privilege node role, and pulling images (which
image streaming needs too: it reads the images from Artifact Registry as the node)."""
IMAGE_STREAMING_NODE_ROLE = "roles/serviceusage.serviceUsageConsumer"
"""Image streaming with a custom node service account needs it (Google, "Use Image streaming to
pull container images": "grant the serviceusage.services.use permission";
terraform-google-kubernetes-engine issue 2251, fixed in PR 2262 by granting this role)."""


def service_account_with_roles(
    parent: pulumi.Resource,
    resource_name: str,
    project: str,
    account_id: str,
    display_name: str,
    roles: Sequence[str],
    aliases: Sequence[pulumi.Alias] | None = None,
    keep_account_id: bool = False,
    depends_on: Sequence[pulumi.Resource] = (),
) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
    """A Google service account with ``roles`` on the project (non-authoritative grants).

    Resource names: ``resource_name`` and ``resource_name-<role>``; ``aliases`` go on each.
    ``keep_account_id``: an existing account keeps its ID when the program derives another one
    (``account_id`` forces a new account in pulumi-gcp).
    """
    child = pulumi.ResourceOptions(parent=parent, aliases=list(aliases) if aliases else None)
    account = gcp.serviceaccount.Account(
        resource_name,
        project=project,
        account_id=account_id,
        display_name=display_name,
        opts=pulumi.ResourceOptions.merge(
            child,
            pulumi.ResourceOptions(
                ignore_changes=["accountId"] if keep_account_id else None, depends_on=list(depends_on)
            ),
        ),
    )
    member = account.email.apply(lambda email: f"serviceAccount:{email}")
    grants = [
        gcp.projects.IAMMember(
            f"{resource_name}-{service_account_role_suffix(role)}",
            project=project,
            role=role,
            member=member,
            opts=child,
        )
        for role in roles
    ]
    return account, grants


def pool_taints(pool: PoolSettings) -> list[dict[str, str]]:
    """The taints of ``pool`` (as pulumi-gcp inputs)."""
    if pool.node_type == "components":
        return [{"key": GKE_MANAGED_COMPONENTS_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}]
    taints = [{"key": NODE_TYPE_TAINT_KEY, "value": pool.node_type, "effect": "NO_SCHEDULE"}]
    if pool.gpu:
        # Explicit: GKE adds it on its own only when a non-GPU pool already exists.
        taints.append({"key": GPU_TAINT_KEY, "value": "present", "effect": "NO_SCHEDULE"})
    return taints


def pool_labels(pool: PoolSettings) -> dict[str, str]:
    """The node labels of ``pool``: what a Concurrent job's nodeSelector targets."""
    labels = {NODE_TYPE_TAINT_KEY: pool.node_type}
    if pool.node_type == "worker":
        labels[ACCELERATOR_LABEL_KEY] = "gpu" if pool.gpu else "none"
    return labels


class GkeCluster(pulumi.ComponentResource):
    """A GKE cluster with secure defaults, Concurrent's node pools and a Kubernetes provider for it.

    ``provider`` (Python only) deploys Kubernetes objects onto the cluster.
    """

    cluster_name: pulumi.Output[str]
    """The GKE cluster's name."""
    location: pulumi.Output[str]
    """The cluster's region or zone."""
    location_type: pulumi.Output[str]
    """regional or zonal (what Concurrent's control plane asks for)."""
    project: pulumi.Output[str]
    """The cluster's project."""
    endpoint: pulumi.Output[str]
    """The control plane's IP address."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig using gke-gcloud-auth-plugin (secret)."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        problems = component_args_problems("GkeCluster", name, args, "{'name': ..., 'location': ...}")
        settings = read_cluster(args, "", problems, KeyStyle.SNAKE)
        problems.raise_if_any()
        assert settings is not None, "read_cluster returns settings when there is no problem"
        self._create(name, settings, opts)

    @classmethod
    def from_settings(
        cls, name: str, settings: ClusterSettings, opts: pulumi.ResourceOptions | None = None
    ) -> "GkeCluster":
        """The stack program's door: ``settings`` were validated from the stack config already."""
        component = cls.__new__(cls)
        component._create(name, settings, opts)
        return component

    def _create(self, name: str, settings: ClusterSettings, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(TYPE, name, {}, opts)
        self.settings = settings
        child = pulumi.ResourceOptions(parent=self)
        for pool in settings.node_pools:
            if (
                pool.gpu
                and not pool.node_locations
                and not settings.node_locations
                and (settings.location_type == "regional")
            ):
                pulumi.log.warn(
                    f"GkeCluster {name}: the GPU pool spans every zone of {settings.location}; GKE needs "
                    f"{pool.accelerator_type} in each. Set node_pools.gpu.node_locations to zones that offer "
                    f"it (gcloud compute accelerator-types list --filter='name={pool.accelerator_type}').",
                    resource=self,
                )
        if settings.private_nodes and not settings.cloud_nat:
            pulumi.log.warn(
                f"GkeCluster {name}: private nodes without cloud_nat cannot pull images from outside "
                "Google (Docker Hub, ghcr.io); set cloud_nat (cloudNat) unless the VPC has a NAT already.",
                resource=self,
            )

        self.apis = self._apis(name, settings)
        self.node_service_account, node_roles = service_account_with_roles(
            self,
            f"{name}-nodes",
            settings.project,
            unique_service_account_id(settings.name, "nodes"),
            f"GKE nodes of {settings.name} (least privilege, instead of the Compute default)",
            (*NODE_ROLES, IMAGE_STREAMING_NODE_ROLE) if settings.image_streaming else NODE_ROLES,
            keep_account_id=True,
            depends_on=self.apis,
        )
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*self.apis, *node_roles],
                ignore_changes=CLUSTER_IGNORED_CHANGES,
                # A change GKE can only make by recreating the cluster is refused at preview while
                # deletion protection is on (docs/gke.md, "What a change does"); when it is off, the old
                # cluster goes first, since the new one has the same name.
                protect=True if settings.deletion_protection else None,
                delete_before_replace=True,
            ),
            **self._cluster_inputs(settings),
        )
        self.router: gcp.compute.Router | None = None
        self.nat: gcp.compute.RouterNat | None = None
        if settings.cloud_nat:
            self._cloud_nat(name, settings)
        self.node_pools = {
            pool.name: self._node_pool(name, settings, pool, node_roles) for pool in settings.node_pools
        }

        context = gke_context_name(settings.project, settings.location, settings.name)
        self.cluster_name = self.cluster.name
        self.location = pulumi.Output.from_input(settings.location)
        self.location_type = pulumi.Output.from_input(settings.location_type)
        self.project = pulumi.Output.from_input(settings.project)
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
            upsert_existing_objects=settings.adopt_existing,
            opts=child,
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "location": self.location,
                "location_type": self.location_type,
                "project": self.project,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _apis(self, name: str, settings: ClusterSettings) -> list[gcp.projects.Service]:
        """The Google APIs the cluster needs, enabled and never disabled by this stack; or, with
        ``enable_apis`` false, a message that lists them."""
        apis = required_apis(settings)
        if not settings.enable_apis:
            pulumi.log.info(
                f"GkeCluster {name}: enable_apis is false, so these APIs must be enabled in project "
                f"{settings.project} already: {', '.join(apis)} "
                f"(gcloud services enable {' '.join(apis)} --project {settings.project})",
                resource=self,
            )
            return []
        return [
            gcp.projects.Service(
                f"{name}-api-{api.split('.')[0]}",
                project=settings.project,
                service=api,
                # Other workloads of the project may use the API: never turn it off on destroy.
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            for api in apis
        ]

    def _cluster_inputs(self, settings: ClusterSettings) -> dict[str, Any]:
        maintenance: dict[str, Any] = {
            "daily_maintenance_window": {"start_time": settings.maintenance_start_time}
        }
        if settings.maintenance_exclusions:
            maintenance["maintenance_exclusions"] = [
                {
                    "exclusion_name": exclusion.name,
                    "start_time": exclusion.start_time,
                    "end_time": exclusion.end_time,
                    "exclusion_options": {"scope": exclusion.scope},
                }
                for exclusion in settings.maintenance_exclusions
            ]
        return {
            "name": settings.name,
            "project": settings.project,
            "location": settings.location,
            "node_locations": list(settings.additional_node_locations) or None,
            # GKE needs a default pool to create a cluster; it is deleted right away, and these
            # settings keep even that one off the Compute default service account. (Unchanged
            # from earlier releases: the cluster's node_config cannot change without replacement.)
            "remove_default_node_pool": True,
            "initial_node_count": 1,
            "node_config": self._node_config(None),
            "release_channel": {"channel": settings.release_channel},
            "workload_identity_config": {"workload_pool": settings.workload_pool},
            "enable_shielded_nodes": True,
            "enable_legacy_abac": False,
            "master_auth": {"client_certificate_config": {"issue_client_certificate": False}},
            "deletion_protection": settings.deletion_protection,
            "networking_mode": "VPC_NATIVE",
            "ip_allocation_policy": {},
            "network": settings.network,
            "subnetwork": settings.subnetwork,
            "datapath_provider": settings.datapath_provider,
            "anonymous_authentication_config": {"mode": "LIMITED"},
            "security_posture_config": {"mode": "BASIC"},
            "cluster_autoscaling": {"autoscaling_profile": settings.autoscaling_profile},
            "cost_management_config": {"enabled": settings.cost_allocation},
            "maintenance_policy": maintenance,
            "node_pool_defaults": {
                "node_config_defaults": {
                    "insecure_kubelet_readonly_port_enabled": "FALSE",
                    "gcfs_config": {"enabled": settings.image_streaming},
                }
            },
            "binary_authorization": {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
            if settings.binary_authorization
            else None,
            "private_cluster_config": {
                "enable_private_nodes": True,
                "enable_private_endpoint": settings.private_endpoint,
                "master_ipv4_cidr_block": settings.master_ipv4_cidr_block,
            }
            if settings.private_nodes
            else None,
            "master_authorized_networks_config": {
                "cidr_blocks": [
                    {"cidr_block": cidr, "display_name": label}
                    for cidr, label in settings.master_authorized_networks
                ]
            }
            if settings.master_authorized_networks
            else None,
        }

    def _cloud_nat(self, name: str, settings: ClusterSettings) -> None:
        """A Cloud Router and Cloud NAT in the cluster's region, so private nodes reach the internet."""
        child = pulumi.ResourceOptions(parent=self)
        self.router = gcp.compute.Router(
            f"{name}-router",
            name=f"{settings.name}-nat",
            project=settings.project,
            region=settings.region,
            network=settings.network or "default",
            opts=child,
        )
        subnetworks: Any = None
        ranges = "ALL_SUBNETWORKS_ALL_IP_RANGES"
        if settings.subnetwork:
            ranges = "LIST_OF_SUBNETWORKS"
            subnetworks = [{"name": settings.subnetwork, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}]
        self.nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{settings.name}-nat",
            project=settings.project,
            region=settings.region,
            router=self.router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat=ranges,
            subnetworks=subnetworks,
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=child,
        )

    def _node_config(self, pool: PoolSettings | None) -> dict[str, Any]:
        """Node settings shared by every pool: dedicated account, Workload Identity, shielded VMs."""
        config: dict[str, Any] = {
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
                "disk_type": pool.disk_type,
                "spot": pool.spot,
                "labels": pool_labels(pool),
                "taints": pool_taints(pool),
                "kubelet_config": {"insecure_kubelet_readonly_port_enabled": "FALSE"},
                "gcfs_config": {"enabled": self.settings.image_streaming},
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
        if pool.dynamic_workload_scheduler:
            # Dynamic Workload Scheduler capacity is never from a reservation (Google, "About GPU
            # obtainability with flex-start", "Deploy GPUs ... with ProvisioningRequest").
            config["reservation_affinity"] = {"consume_reservation_type": "NO_RESERVATION"}
        if pool.provisioning == "flex-start":
            config["flex_start"] = True
        return config

    def _node_pool(
        self,
        name: str,
        settings: ClusterSettings,
        pool: PoolSettings,
        node_roles: list[gcp.projects.IAMMember],
    ) -> gcp.container.NodePool:
        """A pool whose counts are cluster totals, spread over all its zones (see the module doc)."""
        node_locations: Any = list(pool.node_locations) or None
        zones: Any = len(pool.node_locations) or settings.node_zone_count
        if zones is None:
            # Every zone of the regional cluster, explicitly: a pool created by an earlier release
            # may be pinned to one zone, and node_locations is kept from the state when unset.
            node_locations = self.cluster.node_locations
            zones = self.cluster.node_locations.apply(lambda names: len(names or []) or 3)
        autoscaling: dict[str, Any] | None = None
        node_count: int | None = None
        if pool.fixed and zones == 1:
            node_count = pool.min_nodes
        else:
            autoscaling = {
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                # ANY finds capacity (spot VMs, GPUs) in whichever zone has it; BALANCED spreads.
                # Flex-start and queued pools require ANY.
                "location_policy": "ANY" if pool.spot or pool.gpu else "BALANCED",
            }
        initial: Any = (
            pool.initial_node_count(zones) if isinstance(zones, int) else zones.apply(pool.initial_node_count)
        )
        inputs: dict[str, Any] = {
            "name": pool.name,
            "project": settings.project,
            "location": settings.location,
            "cluster": self.cluster.name,
            "autoscaling": autoscaling,
            "node_count": node_count,
            "initial_node_count": None if node_count is not None else initial,
            "node_locations": node_locations,
            "management": {
                # Dynamic Workload Scheduler nodes are not repaired: GKE's docs create these pools
                # with --no-enable-autorepair (a repaired node would lose the capacity it got).
                "auto_repair": not pool.dynamic_workload_scheduler,
                "auto_upgrade": True,
            },
            # GKE gives Dynamic Workload Scheduler pools the SHORT_LIVED strategy itself, which the
            # provider reads back (node_pool.go l.1468-1481, upgrade_settings Optional + Computed,
            # l.443) but cannot send: sending SURGE would plan a change on every `pulumi up`
            # (crossplane-contrib/provider-upjet-gcp#1028; terraform-google-kubernetes-engine
            # cluster.tf leaves the block out for such pools).
            "upgrade_settings": None
            if pool.dynamic_workload_scheduler
            else {
                "strategy": "SURGE",
                "max_surge": pool.upgrade_max_surge,
                "max_unavailable": 0 if pool.upgrade_max_surge else 1,
            },
            "node_config": self._node_config(pool),
        }
        if pool.provisioning == "queued":
            inputs["queued_provisioning"] = {"enabled": True}
        return gcp.container.NodePool(
            f"{name}-{pool.name}-pool",
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=node_roles,
                ignore_changes=POOL_IGNORED_CHANGES,
                # The pool's name is fixed, so a change GKE makes only by recreating the pool
                # (spot, accelerators, ...) deletes the old pool first: creating the new one
                # first would fail with "already exists" (docs/gke.md, "What a change does").
                delete_before_replace=True,
            ),
            **inputs,
        )
