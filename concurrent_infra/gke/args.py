"""The public input types of GkeCluster and ControlPlaneAccount (the plugin's schema is inferred
from them); their keys are the field lists the readers accept.
"""

from typing import NotRequired, TypedDict


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
    autoscaled from 0, see docs/gke.md, "GPU capacity")."""


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
    """Project roles (default: least privilege, see docs/gke.md). Basic and admin roles are refused
    unless allow_broad_roles."""
    allow_broad_roles: NotRequired[bool]
    """Accept basic roles (owner, editor, viewer) and administrator roles (default false)."""
    create_key: NotRequired[bool]
    """Create a JSON key, kept secret in the state (default false; see docs/gke.md, "Control-plane
    service account")."""
