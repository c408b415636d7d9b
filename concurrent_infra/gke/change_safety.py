"""What changing each GkeCluster key does to an existing cluster, and the provider facts behind it.

Pure data and functions (no pulumi-gcp), read from the provider's source so that the component's
resource options can be checked against it (tests/engine/test_gke_change_safety.py,
tests/engine/test_gke_day2.py) and docs/gke.md's table is rendered from it (:func:`markdown_table`).

Source: pulumi-gcp 10.x is built from terraform-provider-google-beta (pulumi-gcp
``.upgrade-config.yml``); line numbers are of google-beta @ 93c65b2d (the 8.0.0 major that
pulumi-gcp 10 follows), ``google-beta/services/container/``:

- ``resource_container_cluster.go`` (cluster.go), ``resource_container_node_pool.go``
  (node_pool.go) and ``node_config.go``;
- a nested block's ``ForceNew`` applies only to adding or removing the block (its ``#`` count key);
  a nested field replaces only when it is ``ForceNew`` itself (terraform-plugin-sdk v2.40.1,
  ``helper/schema/schema.go`` ``diffList``), and the Pulumi bridge turns ``RequiresNew`` into a
  replace (pulumi-terraform-bridge ``pkg/tfbridge/provider.go`` ``Diff``).
"""

from dataclasses import dataclass
from enum import Enum


class Effect(Enum):
    """What a change does, mildest first."""

    CREATE_ONLY = "used only when the cluster is created: ignored afterwards"
    IN_PLACE = "in place"
    ROLLS_NODES = "in place, and GKE re-creates the pool's nodes (surge upgrade)"
    ADDS_OR_REMOVES = "creates or deletes resources beside the cluster"
    REPLACES_POOL = "replaces the pool: it is drained and deleted, then created again"
    REPLACES_CLUSTER = "replaces the cluster: refused while deletionProtection is true"

    @property
    def severity(self) -> int:
        return list(Effect).index(self)


# ---- provider facts (input paths as pulumi-gcp spells them, camelCase) ---------------------------

CLUSTER_FORCE_NEW = frozenset(
    {
        "name",  # cluster.go l.295
        "project",  # l.2020
        "location",  # l.328
        "initialNodeCount",  # l.1232 (the default pool's, per zone)
        "nodeConfig",  # l.1848: schemaNodeConfig(), a ForceNew block (node_config.go l.279-285)
        "masterAuth.clientCertificateConfig",  # l.1750-1758
        "networkingMode",  # l.2232
        "ipAllocationPolicy",  # l.2061
        "network",  # l.1814
        "subnetwork",  # l.2028
        "datapathProvider",  # l.2626
        "privateClusterConfig.masterIpv4CidrBlock",  # l.2342-2348
    }
)
"""Cluster inputs whose change replaces the cluster."""

POOL_FORCE_NEW = frozenset(
    {
        "name",  # node_pool.go l.527
        "project",  # l.239
        "location",  # l.252
        "cluster",  # l.246
        "initialNodeCount",  # l.480
        "queuedProvisioning",  # l.409-424
        "nodeConfig.spot",  # node_config.go l.635
        "nodeConfig.guestAccelerators",  # l.316-346 (type, count, driver config: all ForceNew)
        "nodeConfig.serviceAccount",  # l.643
        "nodeConfig.oauthScopes",  # l.579
        "nodeConfig.shieldedInstanceConfig",  # l.665-681
        "nodeConfig.flexStart",  # l.1493
        "nodeConfig.maxRunDuration",  # l.1487
        "nodeConfig.reservationAffinity",  # l.602-610
    }
)
"""Node pool inputs whose change replaces the pool."""

POOL_NODE_RECREATING = frozenset(
    {
        "nodeConfig.machineType",  # UpdateNodePool{MachineType,DiskType,DiskSizeGb}, l.4120-4193
        "nodeConfig.diskSizeGb",
        "nodeConfig.diskType",
        "nodeConfig.kubeletConfig",  # l.4554
        "nodeConfig.gcfsConfig",  # l.4488
        "nodeConfig.workloadMetadataConfig",  # l.4453
    }
)
"""Node pool inputs updated in place by re-creating the nodes with the pool's upgrade strategy
(Google, "Node pool upgrade strategies": changes to the machine, disk, kubelet or image streaming
settings re-create nodes). Labels, taints, counts, zones, management and upgrade settings are
updated on the running nodes."""

CLUSTER_IGNORED_CHANGES = ["datapathProvider", "initialNodeCount", "nodeConfig"]
"""Cluster inputs used at creation only.

- ``datapathProvider``: ForceNew; a cluster of an earlier release keeps its legacy datapath.
- ``initialNodeCount``: the size of that short-lived default pool (ForceNew, l.1232), read back
  from the API's deprecated ``Cluster.initialNodeCount`` (l.3749) after the pool it described is
  gone; terraform-google-kubernetes-engine ignores it too (``cluster.tf``, ``ignore_changes``).
- ``nodeConfig``: the short-lived default pool's settings (so even it never runs as the Compute
  default account). Once ``removeDefaultNodePool`` deleted that pool, GKE reports no
  ``nodeConfig`` (cluster.go l.3515-3533 deletes it before the read at l.3640; ``flattenNodeConfig``,
  node_config.go l.3032-3036, gives an empty list), and the ForceNew block would replace the cluster
  at the next ``pulumi up`` (cloud-foundation-fabric issue 1275; Config Connector PR 8651;
  cluster-toolkit's gke-cluster module ignores ``node_config`` the same way). A nested update would
  also be sent to the deleted ``default-pool`` (cluster.go l.5020-5031).
"""
POOL_IGNORED_CHANGES = ["initialNodeCount"]
"""Node pool inputs used at creation only: ``initialNodeCount`` is ForceNew (node_pool.go l.480)."""


def _covers(paths: frozenset[str] | list[str], path: str) -> bool:
    return any(path == p or path.startswith(f"{p}.") or path.startswith(f"{p}[") for p in paths)


def _worst(effects: list[Effect]) -> Effect:
    """The most severe of ``effects``; no change at all is in place (nothing happens)."""
    return max(effects, key=lambda effect: effect.severity, default=Effect.IN_PLACE)


def _change_effect(
    changed_paths: list[str], ignored: list[str], rules: list[tuple[frozenset[str], Effect]]
) -> Effect:
    """The worst effect of ``changed_paths``: ignored paths are create-only, else the first of
    ``rules`` (paths, effect) that covers the path, else in place."""
    effects = [
        Effect.CREATE_ONLY
        if _covers(ignored, path)
        else next((effect for paths, effect in rules if _covers(paths, path)), Effect.IN_PLACE)
        for path in changed_paths
    ]
    return _worst(effects)


def pool_change_effect(changed_paths: list[str]) -> Effect:
    """The effect of changing these node pool input paths (``nodeConfig.spot``, ...)."""
    return _change_effect(
        changed_paths,
        POOL_IGNORED_CHANGES,
        [(POOL_FORCE_NEW, Effect.REPLACES_POOL), (POOL_NODE_RECREATING, Effect.ROLLS_NODES)],
    )


def cluster_change_effect(changed_paths: list[str]) -> Effect:
    """The effect of changing these cluster input paths."""
    return _change_effect(
        changed_paths, CLUSTER_IGNORED_CHANGES, [(CLUSTER_FORCE_NEW, Effect.REPLACES_CLUSTER)]
    )


# ---- the table: every key of concurrent-infra:cluster ------------------------------------------


@dataclass(frozen=True)
class KeyChange:
    """What changing ``key`` on an existing cluster does."""

    key: str
    effect: Effect
    note: str = ""


CLUSTER_KEY_CHANGES = (
    KeyChange("name", Effect.REPLACES_CLUSTER, "a new cluster: create a new stack and move the workloads"),
    KeyChange("location", Effect.REPLACES_CLUSTER, "a region cannot become a zone or another region"),
    KeyChange("project", Effect.REPLACES_CLUSTER),
    KeyChange("releaseChannel", Effect.IN_PLACE, "GKE then upgrades along the new channel"),
    KeyChange("deletionProtection", Effect.IN_PLACE, "a provider-side flag; also Pulumi's protect"),
    KeyChange("nodeLocations", Effect.IN_PLACE, "pools without their own zones follow"),
    KeyChange(
        "privateNodes",
        Effect.IN_PLACE,
        "the cluster default for new pools (GKE: existing pools keep their node addresses until re-created)",
    ),
    KeyChange(
        "masterIpv4CidrBlock",
        Effect.REPLACES_CLUSTER,
        "VPC-peering clusters only; leave it unset to turn privateNodes on in place",
    ),
    KeyChange("privateEndpoint", Effect.IN_PLACE),
    KeyChange("cloudNat", Effect.ADDS_OR_REMOVES, "a Cloud Router and Cloud NAT"),
    KeyChange("masterAuthorizedNetworks", Effect.IN_PLACE),
    KeyChange("network", Effect.REPLACES_CLUSTER),
    KeyChange("subnetwork", Effect.REPLACES_CLUSTER),
    KeyChange("datapathProvider", Effect.CREATE_ONLY, "docs/upgrading.md"),
    KeyChange(
        "imageStreaming",
        Effect.ROLLS_NODES,
        "also grants or revokes the node account's serviceUsageConsumer role, and enables the API",
    ),
    KeyChange("autoscalingProfile", Effect.IN_PLACE),
    KeyChange("costAllocation", Effect.IN_PLACE),
    KeyChange("maintenanceStartTime", Effect.IN_PLACE),
    KeyChange("maintenanceExclusions", Effect.IN_PLACE),
    KeyChange("binaryAuthorization", Effect.IN_PLACE, "and enables the Binary Authorization API"),
    KeyChange("adoptExisting", Effect.IN_PLACE, "an option of the cluster's Kubernetes provider"),
    KeyChange("enableApis", Effect.ADDS_OR_REMOVES, "false forgets the API resources; APIs stay enabled"),
    KeyChange("nodePools", Effect.IN_PLACE, "see the pool keys"),
    KeyChange(
        "controlPlaneServiceAccount",
        Effect.ADDS_OR_REMOVES,
        "a Google service account and its grants; a new accountId is a new account (new email)",
    ),
)
POOL_KEY_CHANGES = (
    KeyChange("enabled", Effect.ADDS_OR_REMOVES, "creates the pool, or drains and deletes it"),
    KeyChange("machineType", Effect.ROLLS_NODES),
    KeyChange("diskSizeGb", Effect.ROLLS_NODES),
    KeyChange("diskType", Effect.ROLLS_NODES),
    KeyChange("minNodes", Effect.IN_PLACE, "autoscaling limits (cluster totals)"),
    KeyChange("maxNodes", Effect.IN_PLACE, "autoscaling limits (cluster totals)"),
    KeyChange("nodeCount", Effect.IN_PLACE, "the size, or equal autoscaling limits on several zones"),
    KeyChange("spot", Effect.REPLACES_POOL),
    KeyChange("nodeLocations", Effect.IN_PLACE),
    KeyChange("acceleratorType", Effect.REPLACES_POOL, "GPU pool"),
    KeyChange("acceleratorCount", Effect.REPLACES_POOL, "GPU pool"),
    KeyChange("gpuDriverVersion", Effect.REPLACES_POOL, "GPU pool"),
    KeyChange("provisioning", Effect.REPLACES_POOL, "GPU pool"),
)


def markdown_table() -> str:
    """docs/gke.md's change-safety table (tests/engine/test_gke_change_safety.py keeps the page equal
    to it)."""
    rows = ["| key | changing it on an existing cluster | note |", "| --- | --- | --- |"]
    for change in CLUSTER_KEY_CHANGES:
        rows.append(f"| `{change.key}` | {change.effect.value} | {change.note} |")
    for change in POOL_KEY_CHANGES:
        rows.append(f"| `nodePools.<pool>.{change.key}` | {change.effect.value} | {change.note} |")
    return "\n".join(rows)
