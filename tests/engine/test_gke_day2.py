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

from typing import Any

import pytest

from concurrent_infra.gke.change_safety import (
    CLUSTER_FORCE_NEW,
    CLUSTER_IGNORED_CHANGES,
    POOL_IGNORED_CHANGES,
    Effect,
    pool_change_effect,
)
from tests.support.gke import CLUSTER, NODE_POOL, REGIONAL, ZONAL, OptionsMonitor, run_gke
from tests.support.gke_day2 import cluster_state, not_ignored, planned_changes, pool_state
from tests.support.mocks import Registration, Run

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


# ---- the next diff ----------------------------------------------------------------------------


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
