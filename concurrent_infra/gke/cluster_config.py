"""GKE cluster settings: the args of GkeCluster and ControlPlaneAccount, validated without pulumi-gcp.

One reader (:func:`read_cluster`) validates a cluster mapping in either key style and returns
normalized :class:`ClusterSettings`: the stack config parser calls it with camelCase keys and turns
the result into :class:`GkeClusterArgs`; :class:`~concurrent_infra.gke.cluster.GkeCluster` calls it
again on those args (snake_case), so both doors refuse the same values with the same messages.
The same holds for the control-plane account (:func:`read_control_plane`).

Node counts are cluster totals, whatever the location type (see :mod:`concurrent_infra.gke.cluster`).

This module never imports pulumi-gcp: stacks without a cluster must not load it.
"""

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict

from ..kube.names import DIND_NODE_TYPE, NODE_TYPE_KEY
from ..syntax import (
    broad_role_problem,
    covers_every_address,
    gcp_role_problem,
    ipv4_cidr_problem,
    project_id_problem,
)
from ..validation import PROJECT, KeyStyle, ObjectReader, Problems
from .iam_names import workload_pool

CLUSTER_NAME_MAX_LENGTH = 40
_CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")
_ZONE = re.compile(r"[a-z]+-[a-z]+[0-9]+-[a-z]")
_SERVICE_ACCOUNT_ID = re.compile(r"[a-z][-a-z0-9]{4,28}[a-z0-9]")
_RESOURCE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_MACHINE_TYPE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+){1,4}")
_ACCELERATOR = re.compile(r"nvidia-[a-z0-9-]+")
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_NETWORK = re.compile(r"[-a-zA-Z0-9/._]{1,255}")

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
GPU_DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")
DATAPATH_PROVIDERS = ("ADVANCED_DATAPATH", "LEGACY_DATAPATH")
AUTOSCALING_PROFILES = ("OPTIMIZE_UTILIZATION", "BALANCED")
EXCLUSION_SCOPES = ("NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES")
NO_UPGRADES_MAX_DAYS = 30
"""GKE refuses a ``NO_UPGRADES`` exclusion longer than 30 days (Google, "Maintenance windows and
exclusions"; Google's Terraform sample ``gke_standard_release_channel_no_upgrade``, 2025:
"NO_UPGRADES exclusions are limited to 30 days"); the other scopes may last until end of support. A 2026
third-party report says GKE now allows 90 days; not confirmed from Google's page here, so the
documented limit stands (raise it here when Google's page says otherwise)."""
STANDARD_PROVISIONING = "standard"
GPU_PROVISIONING_MODELS = (STANDARD_PROVISIONING, "flex-start", "queued")
"""How the GPU pool gets its VMs: on demand as they are free (``standard``), or through GKE's Dynamic
Workload Scheduler: ``flex-start`` (nodes when capacity is found, up to 7 days) or ``queued``
(all of a ProvisioningRequest's nodes at once). See README, "GPU capacity"."""
PD_DISK_TYPES = ("pd-balanced", "pd-ssd", "pd-standard")
HYPERDISK_TYPES = ("hyperdisk-balanced",)
"""The Hyperdisk a node can boot from (Google, "About Hyperdisk Balanced": Hyperdisk Balanced is
the only Hyperdisk type supported for boot disks; Extreme and Throughput are data disks)."""
DISK_TYPES = (*PD_DISK_TYPES, *HYPERDISK_TYPES)
HYPERDISK_ONLY_SERIES = ("c4", "c4a", "c4d", "n4", "n4a", "n4d", "m4", "x4", "h4d", "a4", "a4x", "a3u")
"""Machine series whose boot disk must be Hyperdisk (Google, "Machine series comparison" and each
series' "Supported disk types"): C4, C4A, C4D, N4, N4A, N4D, M4, X4, H4D, A4, A4X and A3 Ultra
(``a3-ultragpu-*``). Public cross-checks: hashicorp/terraform-provider-google issue 20247 (C4A has no
Persistent Disk) and 19890 (N4 node pools), cluster-toolkit PR 5566 (E2 to N4 needs
hyperdisk-balanced). M4, X4, H4D, A4, A4X and A3 Ultra are from Google's series pages as recalled,
not re-read for this list: a series wrongly listed here is refused a PD boot disk GCP would take."""

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


def cluster_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a GKE cluster, or None if it can."""
    if len(name) > CLUSTER_NAME_MAX_LENGTH:
        return f"it has {len(name)} characters; GKE allows at most {CLUSTER_NAME_MAX_LENGTH}"
    if not _CLUSTER_NAME.fullmatch(name):
        return "GKE cluster names are lowercase letters, digits and '-', starting with a letter"
    return None


def location_type(location: str) -> str | None:
    """``regional`` for a region (``us-central1``), ``zonal`` for a zone (``us-central1-c``)."""
    if _REGION.fullmatch(location):
        return "regional"
    if _ZONE.fullmatch(location):
        return "zonal"
    return None


def region_of(location: str) -> str:
    """The region of a region or zone."""
    return location if location_type(location) == "regional" else location.rsplit("-", 1)[0]


def _location_problem(location: str) -> str | None:
    if location_type(location) is None:
        return "neither a region (e.g. us-central1) nor a zone (e.g. us-central1-c)"
    return None


def _zone_problem(zone: str) -> str | None:
    return None if location_type(zone) == "zonal" else "not a zone (e.g. us-central1-a)"


def account_id_problem(account_id: str) -> str | None:
    """Why ``account_id`` cannot be a service account ID, or None."""
    if not _SERVICE_ACCOUNT_ID.fullmatch(account_id):
        return "a service account ID is 6-30 lowercase letters, digits and '-', starting with a letter"
    return None


def _machine_type_problem(machine_type: str) -> str | None:
    if _MACHINE_TYPE.fullmatch(machine_type) and len(machine_type) <= 63:
        return None
    return "not a Compute Engine machine type (e.g. e2-standard-4)"


def _accelerator_problem(accelerator: str) -> str | None:
    if _ACCELERATOR.fullmatch(accelerator) and len(accelerator) <= 63:
        return None
    return "not a GPU accelerator type (e.g. nvidia-tesla-t4, nvidia-l4)"


def _network_problem(network: str) -> str | None:
    return None if _NETWORK.fullmatch(network) else "not a VPC network or subnetwork name or self link"


def _time_of_day_problem(value: str) -> str | None:
    return None if _TIME_OF_DAY.fullmatch(value) else "not a time of day HH:MM (UTC, 24-hour)"


def _timestamp_problem(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "not an RFC 3339 timestamp (e.g. 2026-12-20T00:00:00Z)"
    if moment.tzinfo is None:
        return "the timestamp has no time zone (end it with Z or +00:00)"
    return None


def _one_of(choices: tuple[str, ...]) -> Any:
    return lambda value: None if value in choices else f"one of {', '.join(choices)}"


def service_account_id(cluster_name: str, suffix: str) -> str:
    """A service account ID (at most 30 characters) made from the cluster name and ``suffix``.

    The cluster name is truncated when it is too long, so two long names with a common prefix give
    the same ID: the default of the control-plane account, kept for existing stacks (whose email
    Concurrent holds); new accounts use :func:`unique_service_account_id`.
    """
    return f"{cluster_name[: 29 - len(suffix)].rstrip('-')}-{suffix}"


def unique_service_account_id(cluster_name: str, suffix: str) -> str:
    """Like :func:`service_account_id`, but a truncated name carries a hash of the whole name, so
    two clusters of one project never share an ID (``concurrent-production-e-3f2a-nodes``)."""
    plain = f"{cluster_name}-{suffix}"
    if len(plain) <= 30:
        return plain
    digest = hashlib.sha256(cluster_name.encode()).hexdigest()[:4]
    return f"{cluster_name[: 30 - len(suffix) - 6].rstrip('-')}-{digest}-{suffix}"


def machine_series(machine_type: str) -> str:
    """The series of a machine type: ``c4`` for ``c4-standard-8``, ``a3u`` for ``a3-ultragpu-8g``."""
    series = machine_type.split("-", 1)[0]
    return "a3u" if machine_type.startswith("a3-ultragpu") else series


def default_disk_type(machine_type: str) -> str:
    """``hyperdisk-balanced`` for a Hyperdisk-only series, else ``pd-balanced``."""
    return "hyperdisk-balanced" if machine_series(machine_type) in HYPERDISK_ONLY_SERIES else "pd-balanced"


# ---- args (the components' public input types) -------------------------------------------------


class NodePoolArgs(TypedDict):
    """One node pool of GkeCluster. Counts are cluster totals, on zonal and regional clusters."""

    enabled: NotRequired[bool]
    """Create this pool (default true, except the GPU pool: false)."""
    machine_type: NotRequired[str]
    """Compute Engine machine type of the nodes."""
    disk_size_gb: NotRequired[int]
    """Boot disk size in GB (pd-balanced: throughput grows with size; ML images are large)."""
    disk_type: NotRequired[str]
    """Boot disk type: pd-balanced (default), pd-ssd, pd-standard, or hyperdisk-balanced (the
    default and only choice for C4, N4, A3 Ultra and the other Hyperdisk-only series)."""
    min_nodes: NotRequired[int]
    """Autoscaling: the fewest nodes in the whole pool (all zones together)."""
    max_nodes: NotRequired[int]
    """Autoscaling: the most nodes in the whole pool (all zones together)."""
    node_count: NotRequired[int]
    """A fixed size for the whole pool (instead of min_nodes/max_nodes)."""
    spot: NotRequired[bool]
    """Spot VMs (cheaper, can be preempted)."""
    node_locations: NotRequired[list[str]]
    """Zones of this pool (default: the cluster's). For GPUs: zones that offer the accelerator."""
    accelerator_type: NotRequired[str]
    """GPU pool only: the accelerator (gcloud compute accelerator-types list)."""
    accelerator_count: NotRequired[int]
    """GPU pool only: accelerators per node."""
    gpu_driver_version: NotRequired[str]
    """GPU pool only: DEFAULT, LATEST or INSTALLATION_DISABLED (GKE installs the driver)."""
    provisioning: NotRequired[str]
    """GPU pool only: standard (default), flex-start or queued (GKE's Dynamic Workload Scheduler;
    autoscaled from 0, see README "GPU capacity")."""


class NodePoolsArgs(TypedDict):
    """The node pools of GkeCluster, each with the Concurrent docs' defaults."""

    components: NotRequired[NodePoolArgs]
    """Pool for GKE-managed components (kube-dns, metrics-server...), tainted with GKE's own
    components.gke.io/gke-managed-components taint. Default e2-standard-2, 1..2 nodes."""
    system: NotRequired[NodePoolArgs]
    """Concurrent's system pool (taint concurrent-node-type=system). Default e2-standard-2, 1 node."""
    cpu: NotRequired[NodePoolArgs]
    """CPU worker pool (taint concurrent-node-type=worker). Default e2-standard-4, spot, 0..1."""
    gpu: NotRequired[NodePoolArgs]
    """GPU worker pool (taints concurrent-node-type=worker and nvidia.com/gpu). Opt-in (enabled)."""
    dind: NotRequired[NodePoolArgs]
    """Pool for privileged Docker-in-Docker pods (taint concurrent-node-type=dind), so they share no
    node with other workloads. Opt-in (enabled); required by a stack with dind namespaces."""


class MasterAuthorizedNetworkArgs(TypedDict):
    """A network allowed to reach the cluster's control plane."""

    cidr_block: str
    """An IPv4 CIDR block, e.g. 203.0.113.0/24."""
    display_name: NotRequired[str]
    """A label for the network."""


class MaintenanceExclusionArgs(TypedDict):
    """A period in which GKE does not upgrade the cluster (e.g. during a long training run)."""

    name: str
    """Name of the exclusion."""
    start_time: str
    """Start, RFC 3339 (e.g. 2026-12-20T00:00:00Z)."""
    end_time: str
    """End, RFC 3339."""
    scope: NotRequired[str]
    """NO_UPGRADES (default; at most 30 days), NO_MINOR_UPGRADES or NO_MINOR_OR_NODE_UPGRADES."""


class GkeClusterArgs(TypedDict):
    """Arguments of GkeCluster (snake_case in Python, camelCase in the schema and stack config)."""

    name: str
    """Cluster name: lowercase letters, digits and '-', starting with a letter, at most 40."""
    location: str
    """A region (regional cluster, e.g. us-central1) or a zone (zonal cluster, e.g. us-central1-c)."""
    project: str
    """Google Cloud project ID."""
    release_channel: NotRequired[str]
    """RAPID, REGULAR (default), STABLE or EXTENDED."""
    deletion_protection: NotRequired[bool]
    """GCP refuses to delete the cluster while true (default true)."""
    node_pools: NotRequired[NodePoolsArgs]
    """Node pools; omitted pools get the defaults."""
    node_locations: NotRequired[list[str]]
    """Zones of the cluster's nodes (default: GKE's choice for a region, the zone for a zone)."""
    private_nodes: NotRequired[bool]
    """Nodes without public IPs (see cloud_nat). Can be turned on later, in place."""
    master_ipv4_cidr_block: NotRequired[str]
    """A /28 for the control plane of a VPC-peering private cluster (with private_nodes). Optional:
    clusters use Private Service Connect without it; setting it later replaces the cluster."""
    private_endpoint: NotRequired[bool]
    """Control plane reachable only on its private IP (needs private_nodes)."""
    cloud_nat: NotRequired[bool]
    """Create a Cloud Router and Cloud NAT so private nodes can pull public images."""
    master_authorized_networks: NotRequired[list[MasterAuthorizedNetworkArgs]]
    """Networks allowed to reach the control plane."""
    network: NotRequired[str]
    """VPC network (default: the project's default network)."""
    subnetwork: NotRequired[str]
    """Subnetwork of the nodes."""
    datapath_provider: NotRequired[str]
    """ADVANCED_DATAPATH (Dataplane V2, enforces NetworkPolicies; default) or LEGACY_DATAPATH.
    Used only when the cluster is created: an existing cluster keeps its datapath."""
    image_streaming: NotRequired[bool]
    """Image streaming for Artifact Registry images (default true)."""
    autoscaling_profile: NotRequired[str]
    """OPTIMIZE_UTILIZATION (default: remove idle nodes sooner) or BALANCED."""
    cost_allocation: NotRequired[bool]
    """GKE cost allocation: cost per namespace and label in the billing export (default true)."""
    maintenance_start_time: NotRequired[str]
    """Start of GKE's daily 4-hour maintenance window, HH:MM UTC (default 03:00)."""
    maintenance_exclusions: NotRequired[list[MaintenanceExclusionArgs]]
    """Periods without upgrades."""
    binary_authorization: NotRequired[bool]
    """Enforce the project's Binary Authorization policy (default false)."""
    adopt_existing: NotRequired[bool]
    """Let the cluster's Kubernetes provider adopt existing objects (the stack's adoptExisting)."""
    enable_apis: NotRequired[bool]
    """Enable the Google APIs the cluster needs (default true; never disabled on destroy). False:
    they must be enabled already (the program lists them)."""


class ControlPlaneAccountArgs(TypedDict):
    """Arguments of ControlPlaneAccount: the Google service account Concurrent's control plane uses."""

    account_id: str
    """Service account ID (6-30 lowercase letters, digits, '-')."""
    project: str
    """Google Cloud project ID."""
    display_name: NotRequired[str]
    """Display name of the account."""
    roles: NotRequired[list[str]]
    """Project roles (default: least privilege, see README). Basic and admin roles are refused
    unless allow_broad_roles."""
    allow_broad_roles: NotRequired[bool]
    """Accept basic roles (owner, editor, viewer) and administrator roles (default false)."""
    create_key: NotRequired[bool]
    """Create a JSON key, kept secret in the state (default false; see the README's key hand-over)."""


# ---- normalized settings ------------------------------------------------------------------------


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
    # The Concurrent docs' pools. Disks: see README (ML images are large, pd-balanced throughput
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


# ---- readers (one code path for stack config and args) ------------------------------------------


def _read_pool(
    name: str, reader: ObjectReader | None, key: str, problems: Problems, style: KeyStyle
) -> PoolSettings | None:
    defaults = POOL_DEFAULTS[name]
    if reader is None:
        if not defaults.enabled:
            return None
        reader = ObjectReader({}, key, (), problems, style)
    if not reader.boolean("enabled", defaults.enabled):
        return None
    fixed = reader.has("node_count")
    if fixed and (reader.has("min_nodes") or reader.has("max_nodes")):
        problems.add(
            reader.field("node_count"),
            reader.raw("node_count"),
            "node_count fixes the size, so min_nodes/max_nodes cannot be given too"
            if style is KeyStyle.SNAKE
            else "nodeCount fixes the size, so minNodes/maxNodes cannot be given too",
            f"give {reader.spelled('node_count')}, or {reader.spelled('min_nodes')} and "
            f"{reader.spelled('max_nodes')}",
        )
    minimum = 1 if name == "components" else 0
    if fixed:
        min_nodes = max_nodes = reader.integer(
            "node_count", max(defaults.min_nodes, 1), minimum=max(minimum, 1), maximum=1000
        )
    else:
        min_nodes = reader.integer("min_nodes", defaults.min_nodes, minimum=minimum, maximum=1000)
        max_nodes = reader.integer("max_nodes", defaults.max_nodes, minimum=1, maximum=1000)
    if min_nodes > max_nodes:
        problems.add(
            reader.field("min_nodes"),
            min_nodes,
            f"greater than {reader.spelled('max_nodes')} ({max_nodes})",
            f"make {reader.spelled('min_nodes')} <= {reader.spelled('max_nodes')}",
        )
    accelerator_type: str | None = PoolSettings.accelerator_type
    accelerator_count = PoolSettings.accelerator_count
    driver = PoolSettings.gpu_driver_version
    provisioning = PoolSettings.provisioning
    if defaults.accelerator is not None:
        default_type, default_count = defaults.accelerator
        accelerator_type = reader.string(
            "accelerator_type", default_type, check=_accelerator_problem, example=default_type
        )
        accelerator_count = reader.integer("accelerator_count", default_count, minimum=1, maximum=16)
        driver = reader.string(
            "gpu_driver_version", driver, check=_one_of(GPU_DRIVER_VERSIONS), example=driver
        )
        provisioning = reader.string(
            "provisioning", provisioning, check=_one_of(GPU_PROVISIONING_MODELS), example="flex-start"
        )
    machine_type = reader.string(
        "machine_type", defaults.machine_type, check=_machine_type_problem, example=defaults.machine_type
    )
    spot = reader.boolean("spot", defaults.spot)
    if provisioning != STANDARD_PROVISIONING:
        _check_dynamic_workload_scheduler(reader, provisioning, fixed, min_nodes, spot, problems)
    return PoolSettings(
        name=name,
        node_type=defaults.node_type,
        machine_type=machine_type,
        disk_size_gb=reader.integer("disk_size_gb", defaults.disk_size_gb, minimum=10, maximum=65536),
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        spot=spot,
        node_locations=reader.strings("node_locations", example="us-central1-a", check=_zone_problem),
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
        gpu_driver_version=driver,
        disk_type=_read_disk_type(reader, machine_type),
        provisioning=provisioning,
        upgrade_max_surge=defaults.upgrade_max_surge,
    )


def _read_disk_type(reader: ObjectReader, machine_type: str) -> str:
    """The pool's boot disk type: Hyperdisk for the series that take nothing else (refused otherwise)."""
    default = default_disk_type(machine_type)
    disk_type = reader.string("disk_type", default, check=_one_of(DISK_TYPES), example=default)
    series = machine_series(machine_type)
    if series in HYPERDISK_ONLY_SERIES and disk_type not in HYPERDISK_TYPES:
        reader.problems.add(
            reader.field("disk_type"),
            disk_type,
            f"{machine_type} ({series.upper()} series) boots only from Hyperdisk",
            f"set {reader.spelled('disk_type')}: hyperdisk-balanced, or remove it (the default for this "
            "series)",
        )
    elif series not in HYPERDISK_ONLY_SERIES and disk_type in HYPERDISK_TYPES and series in ("e2", "n1"):
        reader.problems.add(
            reader.field("disk_type"),
            disk_type,
            f"{machine_type} ({series.upper()} series) cannot boot from Hyperdisk",
            "use pd-balanced or pd-ssd, or a machine series that supports Hyperdisk (e.g. n4, c4)",
        )
    return disk_type


def _check_dynamic_workload_scheduler(
    reader: ObjectReader, provisioning: str, fixed: bool, min_nodes: int, spot: bool, problems: Problems
) -> None:
    """What GKE requires of a flex-start or queued-provisioning pool (Google, "About GPU
    obtainability with flex-start" and "Deploy GPUs for batch workloads with ProvisioningRequest"):
    autoscaled from zero, on-demand (not spot)."""
    key = reader.field("provisioning")
    if fixed:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool is sized by GKE's Dynamic Workload Scheduler, not fixed "
            f"({reader.spelled('node_count')} is set)",
            f"give {reader.spelled('min_nodes')}: 0 and {reader.spelled('max_nodes')} instead of "
            f"{reader.spelled('node_count')}",
        )
    elif min_nodes != 0:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool must scale from zero ({reader.spelled('min_nodes')} is {min_nodes})",
            f"set {reader.spelled('min_nodes')}: 0",
        )
    if spot:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool provisions on-demand VMs and cannot be spot",
            f"remove {reader.spelled('spot')}, or use provisioning: standard for spot GPUs",
        )


def _read_pools(
    reader: ObjectReader | None, key: str, problems: Problems, style: KeyStyle
) -> tuple[PoolSettings, ...]:
    pools = []
    for name in POOL_DEFAULTS:
        fields = GPU_POOL_FIELDS if name == "gpu" else POOL_FIELDS
        pool_reader = reader.reader(name, fields) if reader else None
        pool = _read_pool(name, pool_reader, f"{key}.{name}" if key else name, problems, style)
        if pool:
            pools.append(pool)
    return tuple(pools)


def _read_networks(reader: ObjectReader, problems: Problems) -> tuple[tuple[str, str | None], ...]:
    name = "master_authorized_networks"
    value = reader.raw(name)
    if value is None:
        return ()
    key = reader.field(name)
    example = f"{reader.spelled('cidr_block')}: 203.0.113.0/24"
    if not isinstance(value, list | tuple):
        problems.add(key, value, "expected a list of objects", f"e.g. [{{{example}}}]")
        return ()
    networks = []
    for index, entry in enumerate(value[:50]):
        if not isinstance(entry, Mapping):
            problems.add(f"{key}[{index}]", entry, "expected an object", f"e.g. {{{example}}}")
            continue
        fields = tuple(MasterAuthorizedNetworkArgs.__annotations__)
        entry_reader = ObjectReader(entry, f"{key}[{index}]", fields, problems, reader.style)
        cidr = entry_reader.required_string(
            "cidr_block", f"e.g. {example}", check=ipv4_cidr_problem, example="203.0.113.0/24"
        )
        if cidr is None:
            continue
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            problems.add(
                f"{key}[{index}].{entry_reader.spelled('cidr_block')}",
                cidr,
                "it authorizes every address on the internet, which is what having no list means",
                "list only your networks (e.g. your office or CI egress range)",
            )
            continue
        networks.append((cidr, entry_reader.string("display_name")))
    if len(value) > 50:
        problems.add(key, value, f"it has {len(value)} entries; GKE allows at most 50", "list fewer networks")
    elif networks and covers_every_address([cidr for cidr, _ in networks]):
        problems.add(
            key,
            [cidr for cidr, _ in networks],
            "together these blocks authorize every address on the internet",
            "list only your networks (e.g. your office or CI egress range)",
        )
        return ()
    return tuple(networks)


def _read_exclusions(reader: ObjectReader, problems: Problems) -> tuple[MaintenanceExclusion, ...]:
    name = "maintenance_exclusions"
    value = reader.raw(name)
    if value is None:
        return ()
    key = reader.field(name)
    fields = tuple(MaintenanceExclusionArgs.__annotations__)
    if not isinstance(value, list | tuple) or len(value) > 20:
        problems.add(
            key,
            value,
            "expected a list of at most 20 objects {name, startTime, endTime, scope?}",
            "e.g. [{name: year-end, startTime: 2026-12-20T00:00:00Z, endTime: 2027-01-05T00:00:00Z}]",
        )
        return ()
    exclusions = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping):
            problems.add(
                where, entry, "expected an object", "e.g. {name: year-end, startTime: ..., endTime: ...}"
            )
            continue
        entry_reader = ObjectReader(entry, where, fields, problems, reader.style)
        exclusion_name = entry_reader.required_string(
            "name",
            "give each exclusion a name",
            check=lambda v: (
                None
                if _RESOURCE_NAME.fullmatch(v)
                else "lowercase letters, digits and '-', starting with a letter"
            ),
            example="year-end",
        )
        start = entry_reader.required_string(
            "start_time",
            "e.g. 2026-12-20T00:00:00Z",
            check=_timestamp_problem,
            example="2026-12-20T00:00:00Z",
        )
        end = entry_reader.required_string(
            "end_time", "e.g. 2027-01-05T00:00:00Z", check=_timestamp_problem, example="2027-01-05T00:00:00Z"
        )
        scope = entry_reader.string(
            "scope", MaintenanceExclusion.scope, check=_one_of(EXCLUSION_SCOPES), example="NO_UPGRADES"
        )
        if not (exclusion_name and start and end):
            continue
        length = datetime.fromisoformat(end) - datetime.fromisoformat(start)
        if scope == "NO_UPGRADES" and length > timedelta(days=NO_UPGRADES_MAX_DAYS):
            latest_end = datetime.fromisoformat(start) + timedelta(days=NO_UPGRADES_MAX_DAYS)
            problems.add(
                f"{where}.{entry_reader.spelled('end_time')}",
                end,
                f"a NO_UPGRADES exclusion lasts at most {NO_UPGRADES_MAX_DAYS} days; this one lasts "
                f"{length.days} days from {start}",
                f"end it by {latest_end.isoformat()}, "
                "or use scope NO_MINOR_UPGRADES or NO_MINOR_OR_NODE_UPGRADES (allowed until the version's "
                "end of support)",
            )
            continue
        if datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            problems.add(
                f"{where}.{entry_reader.spelled('end_time')}",
                end,
                f"not after the start ({start})",
                "make the end later than the start",
            )
            continue
        exclusions.append(MaintenanceExclusion(exclusion_name, start, end, scope))
    return tuple(exclusions)


def read_cluster(
    value: Mapping[str, Any],
    key: str,
    problems: Problems,
    style: KeyStyle,
    default_project: str | None = None,
) -> ClusterSettings | None:
    """Validate a cluster mapping (``style`` says how its keys are spelled); None if it is invalid.

    Every problem is recorded in ``problems`` with the key, the value and the fix.
    """
    reader = ObjectReader(value, key, CLUSTER_FIELDS, problems, style)
    name = reader.required_string(
        "name",
        f"e.g. {reader.spelled('name')}: concurrent-dev",
        check=cluster_name_problem,
        example="concurrent-dev",
    )
    location = reader.required_string(
        "location",
        "a region (regional cluster) or a zone (zonal cluster)",
        check=_location_problem,
        example="us-central1",
    )
    project = reader.required_string(
        "project",
        f"pulumi config set gcp:project MY-PROJECT (or set {PROJECT}:cluster.project)"
        if style is KeyStyle.CAMEL
        else "pass project='my-project'",
        default=default_project,
        check=project_id_problem,
        example="my-project",
        why="no project: neither cluster.project nor gcp:project is set"
        if style is KeyStyle.CAMEL
        else "required",
    )
    defaults = ClusterSettings
    channel = reader.string(
        "release_channel", defaults.release_channel, check=_one_of(RELEASE_CHANNELS), example="REGULAR"
    )
    node_locations = reader.strings("node_locations", example="us-central1-a", check=_zone_problem)
    if location and node_locations:
        for index, zone in enumerate(node_locations):
            if region_of(zone) != region_of(location):
                problems.add(
                    f"{reader.field('node_locations')}[{index}]",
                    zone,
                    f"not a zone of the cluster's region {region_of(location)}",
                    f"use zones of {region_of(location)}, e.g. {region_of(location)}-a",
                )
    pools = _read_pools(
        reader.reader("node_pools", POOL_DEFAULTS), reader.field("node_pools"), problems, style
    )
    private_nodes = reader.boolean("private_nodes", defaults.private_nodes)
    master_cidr = reader.string("master_ipv4_cidr_block", check=ipv4_cidr_problem, example="172.16.0.0/28")
    cidr_key = reader.spelled("master_ipv4_cidr_block")
    if master_cidr is not None and not master_cidr.endswith("/28"):
        problems.add(
            reader.field("master_ipv4_cidr_block"),
            master_cidr,
            "GKE needs a /28 block",
            f"e.g. {cidr_key}: 172.16.0.0/28",
        )
    if master_cidr is not None and not private_nodes:
        problems.add(
            reader.field("master_ipv4_cidr_block"),
            master_cidr,
            f"only used with {reader.spelled('private_nodes')}: true",
            f"set {reader.spelled('private_nodes')}: true, or remove {cidr_key}",
        )
    private_endpoint = reader.boolean("private_endpoint", defaults.private_endpoint)
    if private_endpoint and not private_nodes:
        problems.add(
            reader.field("private_endpoint"),
            True,
            f"needs {reader.spelled('private_nodes')}: true",
            f"set {reader.spelled('private_nodes')}: true, or remove {reader.spelled('private_endpoint')}",
        )
    cloud_nat = reader.boolean("cloud_nat", defaults.cloud_nat)
    if cloud_nat and not private_nodes:
        problems.add(
            reader.field("cloud_nat"),
            True,
            "nodes with public IPs do not need Cloud NAT",
            f"set {reader.spelled('private_nodes')}: true, or remove {reader.spelled('cloud_nat')}",
        )
    networks = _read_networks(reader, problems)
    network = reader.string("network", check=_network_problem, example="default")
    subnetwork = reader.string("subnetwork", check=_network_problem, example="default")
    datapath = reader.string(
        "datapath_provider",
        defaults.datapath_provider,
        check=_one_of(DATAPATH_PROVIDERS),
        example="ADVANCED_DATAPATH",
    )
    profile = reader.string(
        "autoscaling_profile",
        defaults.autoscaling_profile,
        check=_one_of(AUTOSCALING_PROFILES),
        example="OPTIMIZE_UTILIZATION",
    )
    window = reader.string(
        "maintenance_start_time", defaults.maintenance_start_time, check=_time_of_day_problem, example="03:00"
    )
    deletion_protection = reader.boolean("deletion_protection", defaults.deletion_protection)
    image_streaming = reader.boolean("image_streaming", defaults.image_streaming)
    cost_allocation = reader.boolean("cost_allocation", defaults.cost_allocation)
    binary_authorization = reader.boolean("binary_authorization", defaults.binary_authorization)
    adopt_existing = reader.boolean("adopt_existing", defaults.adopt_existing)
    enable_apis = reader.boolean("enable_apis", defaults.enable_apis)
    exclusions = _read_exclusions(reader, problems)
    if not (name and location and project):
        return None
    return ClusterSettings(
        name=name,
        project=project,
        location=location,
        release_channel=channel,
        node_pools=pools,
        node_locations=node_locations,
        private_nodes=private_nodes,
        master_ipv4_cidr_block=master_cidr,
        private_endpoint=private_endpoint,
        cloud_nat=cloud_nat,
        master_authorized_networks=networks,
        network=network,
        subnetwork=subnetwork,
        datapath_provider=datapath,
        autoscaling_profile=profile,
        maintenance_start_time=window,
        maintenance_exclusions=exclusions,
        deletion_protection=deletion_protection,
        image_streaming=image_streaming,
        cost_allocation=cost_allocation,
        binary_authorization=binary_authorization,
        adopt_existing=adopt_existing,
        enable_apis=enable_apis,
    )


def read_control_plane(
    value: Mapping[str, Any],
    key: str,
    problems: Problems,
    style: KeyStyle,
    default_account_id: str | None = None,
    default_project: str | None = None,
) -> ControlPlaneSettings | None:
    """Validate a control-plane account mapping; None if it is invalid."""
    reader = ObjectReader(value, key, CONTROL_PLANE_FIELDS, problems, style)
    account_id = reader.required_string(
        "account_id",
        f"e.g. {reader.spelled('account_id')}: concurrent-ctl",
        default=default_account_id,
        check=account_id_problem,
        example=default_account_id or "concurrent-ctl",
    )
    project = reader.required_string(
        "project",
        "pass project='my-project'",
        default=default_project,
        check=project_id_problem,
        example="my-project",
    )
    allow_broad = reader.boolean("allow_broad_roles", ControlPlaneSettings.allow_broad_roles)
    roles = reader.strings("roles", example=CONTROL_PLANE_ROLES[0], check=gcp_role_problem, max_items=20)
    if not allow_broad:
        for index, role in enumerate(roles):
            if why := broad_role_problem(role):
                problems.add(
                    f"{reader.field('roles')}[{index}]",
                    role,
                    why,
                    f"grant a narrower role (default: {', '.join(CONTROL_PLANE_ROLES)}), or set "
                    f"{reader.spelled('allow_broad_roles')}: true if you really mean it",
                )
    defaults = ControlPlaneSettings
    display = reader.string("display_name", defaults.display_name)
    if not (account_id and project):
        return None
    return ControlPlaneSettings(
        account_id=account_id,
        project=project,
        display_name=display,
        roles=roles if reader.has("roles") else defaults.roles,
        create_key=reader.boolean("create_key", defaults.create_key),
        allow_broad_roles=allow_broad,
    )


# ---- the stack config's ``cluster`` object ------------------------------------------------------


@dataclass(frozen=True)
class GkeStackCluster:
    """The stack config's ``cluster`` object: the cluster, and Concurrent's control-plane account."""

    settings: ClusterSettings
    control_plane: ControlPlaneSettings | None = None
    """The account, when ``controlPlaneServiceAccount`` is set."""

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def project(self) -> str:
        return self.settings.project


CONTROL_PLANE_KEY = "controlPlaneServiceAccount"


def dind_placement_problem(
    dind_namespaces: list[str], cluster: "GkeStackCluster", problems: Problems, where: str = ""
) -> bool:
    """Record why DinD pods cannot run on ``cluster`` (no ``dind`` pool: every other pool is tainted,
    so the pod would never be scheduled and ``pulumi up`` would time out); True if recorded."""
    if not dind_namespaces or cluster.settings.dind_pool:
        return False
    problems.add(
        "cluster.nodePools.dind.enabled",
        False,
        f"namespaces {', '.join(dind_namespaces)} run Docker-in-Docker{where}, and every pool of this "
        "cluster is tainted, so the docker-dind pod would never be scheduled",
        "set cluster.nodePools.dind.enabled: true (a pool that runs the privileged DinD pods and "
        "nothing else), or drop dind from those namespaces",
    )
    return True


def parse_cluster_config(
    value: Any, default_project: str | None, problems: Problems
) -> GkeStackCluster | None:
    """Validate the ``cluster`` stack config object; ``default_project`` is ``gcp:project`` when set."""
    if not isinstance(value, Mapping):
        problems.add(
            "cluster",
            value,
            "expected an object {name, location, project?, ...}",
            "see the README's GKE section",
        )
        return None
    cluster_value = {k: v for k, v in value.items() if k != CONTROL_PLANE_KEY}
    settings = read_cluster(cluster_value, "cluster", problems, KeyStyle.CAMEL, default_project)
    control_plane = None
    account = value.get(CONTROL_PLANE_KEY)
    key = f"cluster.{CONTROL_PLANE_KEY}"
    if account is True:
        account = {}
    if account is not None and account is not False:
        if not isinstance(account, Mapping):
            problems.add(
                key,
                account,
                "expected true, false or an object {accountId?, roles?, createKey?, allowBroadRoles?}",
                f"e.g. {CONTROL_PLANE_KEY}: true",
            )
        else:
            name = settings.name if settings else "cluster"
            account_settings = read_control_plane(
                {"project": settings.project if settings else None, **account}
                if "project" not in account
                else account,
                key,
                problems,
                KeyStyle.CAMEL,
                default_account_id=service_account_id(name, "concurrent"),
                default_project=default_project,
            )
            control_plane = account_settings
    if settings is None:
        return None
    return GkeStackCluster(settings=settings, control_plane=control_plane)
