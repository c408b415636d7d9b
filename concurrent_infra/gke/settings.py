"""Validated GKE settings: what GkeCluster and ControlPlaneAccount create, every default applied
(each written once, here). Node counts are cluster totals, whatever the location type. Pure.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from ..kube.names import DIND_NODE_TYPE, NODE_TYPE_KEY
from .args import ControlPlaneAccountArgs, GkeClusterArgs, NodePoolArgs
from .iam_names import workload_pool
from .syntax import STANDARD_PROVISIONING, location_type, region_of

NODE_TYPE_TAINT_KEY = NODE_TYPE_KEY
"""The taint (and node label) key the Concurrent docs give their node pools."""


GKE_MANAGED_COMPONENTS_TAINT_KEY = "components.gke.io/gke-managed-components"
"""GKE's own taint for a pool dedicated to GKE-managed components (kube-dns, konnectivity-agent,
metrics-server, ...), which tolerate it (Google: "Isolate your workloads in dedicated node pools")."""


GPU_TAINT_KEY = "nvidia.com/gpu"
"""The taint of GPU nodes; pods that request ``nvidia.com/gpu`` get the toleration automatically."""


ACCELERATOR_LABEL_KEY = "concurrent-accelerator"
"""Node label: ``gpu`` on the GPU pool, ``none`` on the CPU pool (a nodeSelector for jobs)."""


CONTROL_PLANE_ROLES = (
    "roles/container.clusterViewer",
    "roles/cloudbuild.builds.editor",
    "roles/artifactregistry.writer",
)
"""Least-privilege roles of the control plane's Google service account (the default):

- cluster access: ``container.clusterViewer`` (get the cluster's endpoint and credentials; what it
  may do inside the cluster is decided by RBAC, where its email is bound to the system role),
  instead of the Kubernetes Engine Service Agent role;
- Cloud Build: ``cloudbuild.builds.editor`` (start and watch builds), instead of the Cloud Build
  Service Account role, which is meant for Cloud Build's own account;
- images: ``artifactregistry.writer`` (push the built images), instead of the Container Registry
  Service Agent role (Container Registry was shut down in March 2025).
"""


CONCURRENT_DOCS_ROLES = (
    "roles/cloudbuild.builds.builder",
    "roles/containerregistry.ServiceAgent",
    "roles/container.serviceAgent",
)
"""The roles the Concurrent docs give the control plane's account (Cloud Build Service Account,
Container Registry Service Agent, Kubernetes Engine Service Agent); pass them as ``roles`` to get
the docs' set. Two are service-agent roles, which Google says not to grant user-managed accounts."""


@dataclass(frozen=True)
class PoolDefaults:
    """The defaults of one pool (the Concurrent docs' pools, plus GKE-managed components)."""

    node_type: str
    machine_type: str
    min_nodes: int
    max_nodes: int
    spot: bool
    disk_size_gb: int
    enabled: bool = True
    upgrade_max_surge: int = 1
    """Surge upgrades: nodes added before any is taken away (0 for GPUs: no spare accelerator)."""
    accelerator: tuple[str, int] | None = None
    """The GPU pool's accelerator type and count per node."""


POOL_DEFAULTS: Mapping[str, PoolDefaults] = {
    # Small, on-demand, never scales to zero: DNS must always run.
    "components": PoolDefaults("components", "e2-standard-2", 1, 2, spot=False, disk_size_gb=50),
    # The Concurrent docs' pools. Disks: see docs/gke.md (ML images are large, pd-balanced throughput
    # scales with size; the docs use 500 GB).
    "system": PoolDefaults("system", "e2-standard-2", 1, 1, spot=False, disk_size_gb=100),
    "cpu": PoolDefaults("worker", "e2-standard-4", 0, 1, spot=True, disk_size_gb=200),
    # Scarce accelerators: upgrade by taking one node away first (max surge 0, max unavailable 1)
    # rather than needing a spare GPU and its quota (Google, "Configure node upgrade strategy":
    # surge upgrades of GPU/TPU pools need quota for the surge nodes).
    "gpu": PoolDefaults(
        "worker",
        "n1-standard-4",
        0,
        1,
        spot=False,
        disk_size_gb=500,
        enabled=False,
        upgrade_max_surge=0,
        accelerator=("nvidia-tesla-t4", 1),
    ),
    # Privileged DinD pods (image builds) on nodes of their own; on-demand, builds are not retried.
    "dind": PoolDefaults(DIND_NODE_TYPE, "e2-standard-4", 0, 2, spot=False, disk_size_gb=200, enabled=False),
}


GPU_ONLY_FIELDS = ("accelerator_type", "accelerator_count", "gpu_driver_version", "provisioning")


GPU_POOL_FIELDS = tuple(NodePoolArgs.__annotations__)


POOL_FIELDS = tuple(name for name in GPU_POOL_FIELDS if name not in GPU_ONLY_FIELDS)


@dataclass(frozen=True)
class PoolSettings:
    """One validated node pool. ``min_nodes``/``max_nodes`` are cluster totals."""

    name: str
    node_type: str
    machine_type: str
    disk_size_gb: int
    min_nodes: int
    max_nodes: int
    spot: bool
    node_locations: tuple[str, ...] = ()
    accelerator_type: str | None = None
    accelerator_count: int = 0
    gpu_driver_version: str = "DEFAULT"
    disk_type: str = "pd-balanced"
    provisioning: str = STANDARD_PROVISIONING
    upgrade_max_surge: int = 1

    @property
    def fixed(self) -> bool:
        """A fixed size (``node_count``, or equal minimum and maximum)."""
        return self.min_nodes == self.max_nodes

    @property
    def gpu(self) -> bool:
        return self.accelerator_type is not None

    @property
    def dynamic_workload_scheduler(self) -> bool:
        """Provisioned by GKE's Dynamic Workload Scheduler (flex-start or queued), not on demand."""
        return self.provisioning != STANDARD_PROVISIONING

    def initial_node_count(self, zones: int) -> int:
        """Nodes per zone at creation: enough for ``min_nodes`` in all, but never more than
        ``max_nodes`` in all, so a regional pool of 1 node does not start with one per zone. A pool
        that starts below its minimum gets the rest from the autoscaler when pods wait for it."""
        zones = max(zones, 1)
        return min(-(-self.min_nodes // zones), self.max_nodes // zones)


@dataclass(frozen=True)
class MaintenanceExclusion:
    name: str
    start_time: str
    end_time: str
    scope: str = "NO_UPGRADES"


@dataclass(frozen=True)
class ClusterSettings:
    """A validated GkeCluster: every default applied."""

    name: str
    project: str
    location: str
    release_channel: str = "REGULAR"
    deletion_protection: bool = True
    node_pools: tuple[PoolSettings, ...] = ()
    node_locations: tuple[str, ...] = ()
    private_nodes: bool = False
    master_ipv4_cidr_block: str | None = None
    private_endpoint: bool = False
    cloud_nat: bool = False
    master_authorized_networks: tuple[tuple[str, str | None], ...] = ()
    network: str | None = None
    subnetwork: str | None = None
    datapath_provider: str = "ADVANCED_DATAPATH"
    image_streaming: bool = True
    autoscaling_profile: str = "OPTIMIZE_UTILIZATION"
    cost_allocation: bool = True
    maintenance_start_time: str = "03:00"
    maintenance_exclusions: tuple[MaintenanceExclusion, ...] = ()
    binary_authorization: bool = False
    adopt_existing: bool = False
    enable_apis: bool = True

    @property
    def dind_pool(self) -> bool:
        """Whether the cluster has the pool for Docker-in-Docker pods."""
        return any(pool.node_type == DIND_NODE_TYPE for pool in self.node_pools)

    @property
    def location_type(self) -> str:
        kind = location_type(self.location)
        assert kind is not None, "validated by read_cluster"
        return kind

    @property
    def region(self) -> str:
        return region_of(self.location)

    @property
    def additional_node_locations(self) -> tuple[str, ...]:
        """``node_locations`` as pulumi-gcp takes them: without a zonal cluster's own zone, which
        the provider refuses there and leaves out of the state it reads (google-beta
        resource_container_cluster.go l.3283-3287 and l.3725-3729, @93c65b2d)."""
        return tuple(zone for zone in self.node_locations if zone != self.location)

    @property
    def node_zone_count(self) -> int | None:
        """How many zones the nodes are in, when the config says (a zonal cluster's own zone
        always counts); None for a regional cluster whose zones GKE picks."""
        if self.location_type == "zonal":
            return 1 + len(self.additional_node_locations)
        return len(self.node_locations) or None

    @property
    def workload_pool(self) -> str:
        return workload_pool(self.project)


@dataclass(frozen=True)
class ControlPlaneSettings:
    """A validated ControlPlaneAccount."""

    account_id: str
    project: str
    display_name: str = "Concurrent for MLflow control plane"
    roles: tuple[str, ...] = CONTROL_PLANE_ROLES
    create_key: bool = False
    allow_broad_roles: bool = False

    @property
    def email(self) -> str:
        """The email of the Google service account this creates."""
        return f"{self.account_id}@{self.project}.iam.gserviceaccount.com"


CLUSTER_FIELDS = tuple(GkeClusterArgs.__annotations__)


CONTROL_PLANE_FIELDS = tuple(ControlPlaneAccountArgs.__annotations__)
