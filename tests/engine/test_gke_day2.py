"""Day 2 under mocks: a second ``pulumi up`` with nothing changed plans nothing (issue 16).

The mocks echo inputs back, so they cannot show what GCP holds after an operation. Here a small
model does: it turns what the program registers into the state the provider reads back from GKE,
one rule per behaviour of the provider's source, and the next diff (every registered input that
the state does not hold) must be covered by the resource's ``ignore_changes``. The model does not
prove GCP; it pins what the source shows, so a change of the program that brings back a perpetual
diff (or a replacement) fails here.

Sources: hashicorp/terraform-provider-google-beta @ 93c65b2d (the code pulumi-gcp 10 is built
from), ``google-beta/services/container/``: cluster.go = resource_container_cluster.go,
node_pool.go = resource_container_node_pool.go, node_config.go. A field that is ``Computed`` in
the schema and absent from the inputs never diffs (terraform-plugin-sdk v2 ``schemaMap.diff``),
so the model only adds such fields.
"""

import copy
from typing import Any

import pytest

from concurrent_infra.gke.change_safety import (
    CLUSTER_FORCE_NEW,
    CLUSTER_IGNORED_CHANGES,
    POOL_IGNORED_CHANGES,
    Effect,
    pool_change_effect,
)
from concurrent_infra.gke.syntax import location_type
from tests.engine.test_gke import CLUSTER, CLUSTER_ZONES, NODE_POOL, REGIONAL, ZONAL, OptionsMonitor, run_gke
from tests.support.mocks import Registration, Run

State = dict[str, Any]

GPU_FLEX = {
    "enabled": True,
    "nodeLocations": ["us-central1-a"],
    "provisioning": "flex-start",
    "acceleratorType": "nvidia-l4",
    "machineType": "g2-standard-8",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "regional": REGIONAL,
    "zonal": ZONAL,
    "regional, explicit zones": {**REGIONAL, "nodeLocations": ["us-central1-b", "us-central1-c"]},
    # The cluster's own zone listed too: the provider refuses it in node_locations, the package
    # leaves it out (cluster.go l.3283-3287).
    "zonal, two zones": {**ZONAL, "nodeLocations": ["us-central1-c", "us-central1-a"]},
    "every option": {
        **REGIONAL,
        "privateNodes": True,
        "privateEndpoint": True,
        "cloudNat": True,
        "masterAuthorizedNetworks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}],
        "binaryAuthorization": True,
        "maintenanceExclusions": [
            {"name": "year-end", "startTime": "2026-12-20T00:00:00Z", "endTime": "2027-01-05T00:00:00Z"}
        ],
        "controlPlaneServiceAccount": True,
        "nodePools": {
            "gpu": GPU_FLEX,
            "dind": {"enabled": True},
            "cpu": {"machineType": "c4-standard-8", "maxNodes": 4},
        },
    },
    "queued GPU pool, zonal": {
        **ZONAL,
        "nodePools": {"gpu": {**GPU_FLEX, "provisioning": "queued", "nodeLocations": ["us-central1-c"]}},
    },
}


# ---- what the provider reads back after create ------------------------------------------------


def _zones_of(cluster_inputs: State) -> list[str]:
    """Every zone of the cluster's nodes, as GKE holds them (``Cluster.locations``)."""
    location = cluster_inputs["location"]
    given = list(cluster_inputs.get("nodeLocations") or [])
    if location_type(location) == "zonal":
        return [location, *given]  # create adds the cluster's zone back (cluster.go l.3291-3293)
    return given or CLUSTER_ZONES  # GKE picks the region's zones when none are given


def cluster_state(inputs: State, datapath: str | None = None) -> State:
    """The Cluster's state after create and refresh, per the provider's Read."""
    state = copy.deepcopy(inputs)
    # removeDefaultNodePool deletes default-pool right after create (cluster.go l.3515-3533), before
    # the read (l.3640); with no pool left GKE reports no nodeConfig and flattenNodeConfig gives []
    # (node_config.go l.3032-3036).
    del state["nodeConfig"]
    # The deprecated Cluster.initialNodeCount is read back (l.3749); with the default pool gone it
    # no longer describes a pool: modelled as 0.
    state["initialNodeCount"] = 0
    # node_locations is read as Cluster.locations minus the zonal cluster's own zone (l.3725-3729);
    # Optional + Computed (l.336-342).
    state["nodeLocations"] = [zone for zone in _zones_of(inputs) if zone != inputs["location"]]
    # Computed sub-fields the API fills in.
    state["ipAllocationPolicy"] = {
        "clusterIpv4CidrBlock": "10.4.0.0/14",
        "servicesIpv4CidrBlock": "10.8.0.0/20",
    }
    state["endpoint"] = "203.0.113.10"
    if datapath:
        state["datapathProvider"] = datapath
    return state


def pool_state(inputs: State, cluster_inputs: State) -> State:
    """The NodePool's state after it was created with ``inputs``, per the provider's Read."""
    state = copy.deepcopy(inputs)
    # node_locations: Optional + Computed (node_pool.go l.435), read verbatim from NodePool.locations
    # (l.1583), which holds every zone of the pool, the cluster's own included.
    state["nodeLocations"] = list(inputs.get("nodeLocations") or _zones_of(cluster_inputs))
    # node_count: Optional + Computed (l.553), read as the instance groups' size per zone
    # (l.1552-1577); the autoscaler may have moved it.
    if "autoscaling" in inputs:
        state["nodeCount"] = 0
    # initial_node_count (ForceNew, l.480) is read back as created (l.1582): kept from ``inputs``.
    # node_config: Computed fields GKE fills in (node_config.go schemaNodeConfig).
    state["nodeConfig"] = {
        "imageType": "COS_CONTAINERD",
        "metadata": {"disable-legacy-endpoints": "true"},
        **copy.deepcopy(inputs["nodeConfig"]),
    }
    state["version"] = "1.33.5-gke.1000000"
    # upgrade_settings: Optional + Computed (node_pool.go l.443), read back as GKE holds it
    # (l.1468-1481): GKE gives flex-start and queued pools the SHORT_LIVED strategy itself
    # (crossplane-contrib/provider-upjet-gcp#1028 shows the endless SURGE -> SHORT_LIVED diff).
    node_config = inputs["nodeConfig"]
    if node_config.get("flexStart") or inputs.get("queuedProvisioning"):
        state["upgradeSettings"] = {"strategy": "SHORT_LIVED", "maxSurge": 0, "maxUnavailable": 0}
    return state


# ---- the next diff ----------------------------------------------------------------------------


def planned_changes(inputs: State, state: State, prefix: str = "") -> list[str]:
    """The input paths the next diff shows: set in the inputs and not held so in the state."""
    paths = []
    for key, value in inputs.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in state:
            paths.append(path)  # a field or a whole block the state lacks: added
        elif isinstance(value, dict) and isinstance(state[key], dict):
            paths += planned_changes(value, state[key], path)
        elif value != state[key]:
            paths.append(path)
    return paths


def not_ignored(paths: list[str], ignored: list[str]) -> list[str]:
    return [p for p in paths if not any(p == i or p.startswith(f"{i}.") for i in ignored)]


def next_diff(run: Run, monitor: OptionsMonitor, created: Run | None = None) -> dict[str, list[str]]:
    """Per resource name, the changes the next ``pulumi up`` of ``run`` would plan on resources
    created by ``created`` (default: by ``run`` itself); empty lists: none."""
    (cluster,) = run.of_type(CLUSTER)
    (old_cluster,) = (created or run).of_type(CLUSTER)
    diffs = {
        cluster.name: not_ignored(
            planned_changes(cluster.inputs, cluster_state(old_cluster.inputs)),
            monitor.ignore_changes[cluster.urn],
        )
    }
    old_pools = {r.name: r.inputs for r in (created or run).of_type(NODE_POOL)}
    for pool in run.of_type(NODE_POOL):
        state = pool_state(old_pools[pool.name], old_cluster.inputs)
        diffs[pool.name] = sorted(
            not_ignored(planned_changes(pool.inputs, state), monitor.ignore_changes[pool.urn])
        )
    return diffs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_second_up_with_nothing_changed_plans_nothing(name: str) -> None:
    run, monitor = run_gke(CONFIGS[name])
    assert run.of_type(NODE_POOL), "the config has pools"
    assert next_diff(run, monitor) == {r.name: [] for r in run.of_type(CLUSTER) + run.of_type(NODE_POOL)}


def test_without_ignoring_node_config_the_second_up_would_replace_the_cluster() -> None:
    # The release-0.1 options (ignore_changes: [datapathProvider]) against the same read-back: the
    # model sees issue 16's first bug, so the test above can fail.
    run, _ = run_gke(REGIONAL)
    (cluster,) = run.of_type(CLUSTER)
    changes = not_ignored(
        planned_changes(cluster.inputs, cluster_state(cluster.inputs)), ["datapathProvider"]
    )
    assert "nodeConfig" in changes and "nodeConfig" in CLUSTER_FORCE_NEW, "a replacement"


def test_a_zonal_pool_given_the_clusters_zones_would_diff_forever() -> None:
    # What the package avoids by leaving a zonal cluster's pools without node_locations: the
    # cluster's state never holds its own zone, the pool's always does.
    run, _ = run_gke(ZONAL)
    (cluster,) = run.of_type(CLUSTER)
    pool = run.of_type(NODE_POOL)[0]
    cluster_zones = cluster_state(cluster.inputs)["nodeLocations"]
    assert cluster_zones == []
    assert pool_state(pool.inputs, cluster.inputs)["nodeLocations"] == ["us-central1-c"]
    assert "nodeLocations" not in pool.inputs


def test_a_cluster_of_an_earlier_release_keeps_its_datapath_without_a_diff() -> None:
    run, monitor = run_gke(REGIONAL)
    (cluster,) = run.of_type(CLUSTER)
    state = cluster_state(cluster.inputs, datapath="LEGACY_DATAPATH")
    assert sorted(planned_changes(cluster.inputs, state)) == [
        "datapathProvider",
        "initialNodeCount",
        "nodeConfig",
    ]
    assert not_ignored(planned_changes(cluster.inputs, state), monitor.ignore_changes[cluster.urn]) == []


def test_changing_pool_counts_later_never_replaces_a_pool() -> None:
    # The pools were created with the counts of the first config; the second asks for others.
    # initialNodeCount (ForceNew, read back as created) differs and is ignored; the rest is an
    # in-place update of the autoscaling limits or of node_count.
    created, _ = run_gke({**REGIONAL, "nodePools": {"cpu": {"minNodes": 0, "maxNodes": 1}}})
    run, monitor = run_gke({**REGIONAL, "nodePools": {"cpu": {"minNodes": 3, "maxNodes": 6}}})
    cpu: Registration = next(r for r in run.of_type(NODE_POOL) if r.name == "gke-cpu-pool")
    old = next(r for r in created.of_type(NODE_POOL) if r.name == "gke-cpu-pool")
    assert cpu.inputs["initialNodeCount"] != old.inputs["initialNodeCount"]
    changes = next_diff(run, monitor, created)["gke-cpu-pool"]
    assert changes == ["autoscaling.totalMaxNodeCount", "autoscaling.totalMinNodeCount"]
    assert pool_change_effect(changes) is Effect.IN_PLACE
    assert POOL_IGNORED_CHANGES == ["initialNodeCount"]


def test_the_model_applies_to_what_the_package_ignores() -> None:
    # Each ignored path is one the model's read-back changes: none is ignored without a reason.
    run, _ = run_gke(REGIONAL)
    (cluster,) = run.of_type(CLUSTER)
    read_back = planned_changes(cluster.inputs, cluster_state(cluster.inputs, datapath="LEGACY_DATAPATH"))
    assert set(CLUSTER_IGNORED_CHANGES) == set(read_back)
