"""The change-safety table against the component's wiring (issue 16).

For every key of ``concurrent-infra:cluster`` and every pool key, the GKE stack runs under the mock
engine twice (a base config, then the key changed), the registered inputs of the Cluster and of
each NodePool are diffed, and the changed input paths are classified with the provider facts of
:mod:`concurrent_infra.gke.change_safety`. The table's effect must be what the diff shows, and the
options that make the effect safe must be on the resources: a key that replaces the cluster never
does so silently, a pool replacement deletes the old pool first, and ``ignore_changes`` is exactly
the provider's create-only inputs.
"""

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from concurrent_infra.gke.change_safety import (
    CLUSTER_FORCE_NEW,
    CLUSTER_IGNORED_CHANGES,
    CLUSTER_KEY_CHANGES,
    POOL_FORCE_NEW,
    POOL_IGNORED_CHANGES,
    POOL_KEY_CHANGES,
    Effect,
    KeyChange,
    cluster_change_effect,
    markdown_table,
    pool_change_effect,
)
from concurrent_infra.gke.settings import CLUSTER_FIELDS, GPU_POOL_FIELDS, POOL_DEFAULTS, POOL_FIELDS
from concurrent_infra.program.gke_cluster import CONTROL_PLANE_KEY
from concurrent_infra.validation import KeyStyle
from tests.support.gke import CLUSTER, NODE_POOL, REGIONAL, ZONAL, OptionsMonitor, run_gke
from tests.support.mocks import Registration, Run

README = Path(__file__).resolve().parents[2] / "docs" / "gke.md"

Overrides = dict[str, Any]

CLUSTER_MUTATIONS: dict[str, tuple[Overrides, Overrides]] = {
    # key: (base config, the same config with the key changed), on top of the cluster's name/location
    "name": ({}, {"name": "concurrent-dev2"}),
    "location": ({}, {"location": "us-east1"}),
    "project": ({}, {"project": "other-project"}),
    "releaseChannel": ({}, {"releaseChannel": "STABLE"}),
    "deletionProtection": ({}, {"deletionProtection": False}),
    "nodeLocations": ({}, {"nodeLocations": ["us-central1-a", "us-central1-b"]}),
    "privateNodes": ({}, {"privateNodes": True}),
    "masterIpv4CidrBlock": (
        {"privateNodes": True},
        {"privateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
    ),
    "privateEndpoint": ({"privateNodes": True}, {"privateNodes": True, "privateEndpoint": True}),
    "cloudNat": ({"privateNodes": True}, {"privateNodes": True, "cloudNat": True}),
    "masterAuthorizedNetworks": ({}, {"masterAuthorizedNetworks": [{"cidrBlock": "203.0.113.0/24"}]}),
    "network": ({}, {"network": "ml-vpc"}),
    "subnetwork": ({}, {"subnetwork": "ml-nodes"}),
    "datapathProvider": ({}, {"datapathProvider": "LEGACY_DATAPATH"}),
    "imageStreaming": ({}, {"imageStreaming": False}),
    "autoscalingProfile": ({}, {"autoscalingProfile": "BALANCED"}),
    "costAllocation": ({}, {"costAllocation": False}),
    "maintenanceStartTime": ({}, {"maintenanceStartTime": "22:00"}),
    "maintenanceExclusions": (
        {},
        {
            "maintenanceExclusions": [
                {"name": "year-end", "startTime": "2026-12-20T00:00:00Z", "endTime": "2027-01-05T00:00:00Z"}
            ]
        },
    ),
    "binaryAuthorization": ({}, {"binaryAuthorization": True}),
    "adoptExisting": ({}, {"adoptExisting": True}),
    "enableApis": ({}, {"enableApis": False}),
    "nodePools": ({}, {"nodePools": {"cpu": {"maxNodes": 3}}}),
    CONTROL_PLANE_KEY: ({}, {CONTROL_PLANE_KEY: True}),
}
"""One change of each cluster key (a key that needs another one, e.g. cloudNat needs privateNodes,
has it in both configs)."""

GPU_ON = {"enabled": True, "nodeLocations": ["us-central1-a"]}
POOL_MUTATIONS: dict[str, tuple[str, Overrides, Overrides]] = {
    # key: (pool, base pool config, the same with the key changed)
    "enabled": ("cpu", {}, {"enabled": False}),
    "machineType": ("cpu", {}, {"machineType": "e2-standard-8"}),
    "diskSizeGb": ("cpu", {}, {"diskSizeGb": 300}),
    "diskType": ("cpu", {}, {"diskType": "pd-ssd"}),
    "minNodes": ("cpu", {"maxNodes": 3}, {"minNodes": 1, "maxNodes": 3}),
    "maxNodes": ("cpu", {}, {"maxNodes": 4}),
    "nodeCount": ("system", {}, {"nodeCount": 2}),
    "spot": ("cpu", {}, {"spot": False}),
    "nodeLocations": ("cpu", {}, {"nodeLocations": ["us-central1-a"]}),
    "acceleratorType": ("gpu", GPU_ON, {**GPU_ON, "acceleratorType": "nvidia-l4"}),
    "acceleratorCount": ("gpu", GPU_ON, {**GPU_ON, "acceleratorCount": 2}),
    "gpuDriverVersion": ("gpu", GPU_ON, {**GPU_ON, "gpuDriverVersion": "LATEST"}),
    "provisioning": ("gpu", GPU_ON, {**GPU_ON, "provisioning": "flex-start"}),
}
LOCATIONS = {"regional": REGIONAL, "zonal": ZONAL}


@functools.cache
def _run(config_json: str) -> tuple[Run, OptionsMonitor]:
    return run_gke(json.loads(config_json))


def run(config: Overrides) -> tuple[Run, OptionsMonitor]:
    """The GKE stack of ``config`` under mocks (memoized: several tests look at the same run)."""
    return _run(json.dumps(config, sort_keys=True))


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The input paths (``nodeConfig.spot``) where two registered values differ; a list is one value,
    a block added or removed gives the paths of its fields."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths = []
        for key in sorted(old.keys() | new.keys()):
            paths += changed_paths(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return paths
    if (isinstance(old, dict) and new is None) or (old is None and isinstance(new, dict)):
        return changed_paths(old or {}, new or {}, prefix) or [prefix]
    return [] if old == new else [prefix]


def by_name(run: Run, type_: str) -> dict[str, Registration]:
    return {r.name: r for r in run.of_type(type_)}


def custom_resources(run: Run) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.registrations if r.custom}


def observed_effect(before: Run, after: Run) -> Effect:
    """What the engine would do, read from two runs: the worst effect of the changed Cluster and
    NodePool inputs; with none, resources created or deleted beside them, or nothing."""
    effects = []
    cluster_paths = changed_paths(before.of_type(CLUSTER)[0].inputs, after.of_type(CLUSTER)[0].inputs)
    if cluster_paths:
        effects.append(cluster_change_effect(cluster_paths))
    old_pools, new_pools = by_name(before, NODE_POOL), by_name(after, NODE_POOL)
    for name in old_pools.keys() & new_pools.keys():
        if paths := changed_paths(old_pools[name].inputs, new_pools[name].inputs):
            effects.append(pool_change_effect(paths))
    if effects:
        return max(effects, key=lambda effect: effect.severity)
    if custom_resources(before) != custom_resources(after):
        return Effect.ADDS_OR_REMOVES
    return Effect.IN_PLACE


def something_changed(before: Run, after: Run) -> bool:
    old = {(r.type, r.name): r.inputs for r in before.registrations}
    new = {(r.type, r.name): r.inputs for r in after.registrations}
    return old != new


def cluster_configs(key: str, location: str) -> tuple[Overrides, Overrides]:
    base, changed = CLUSTER_MUTATIONS[key]
    return {**LOCATIONS[location], **base}, {**LOCATIONS[location], **changed}


def pool_configs(key: str, location: str) -> tuple[Overrides, Overrides]:
    pool, base, changed = POOL_MUTATIONS[key]
    if location == "zonal":  # one zone: a pool's zones can only be the cluster's own
        base = {k: v for k, v in base.items() if k != "nodeLocations"}
        changed = {k: v for k, v in changed.items() if k != "nodeLocations"}
        if key == "nodeLocations":
            changed = {"nodeLocations": [ZONAL["location"]]}
    return (
        {**LOCATIONS[location], "nodePools": {pool: base}},
        {**LOCATIONS[location], "nodePools": {pool: changed}},
    )


# ---- the table covers every key, and only keys ------------------------------------------------


def test_the_table_has_a_row_for_every_cluster_key_and_only_those() -> None:
    keys = [change.key for change in CLUSTER_KEY_CHANGES]
    assert len(keys) == len(set(keys)), "one row per key"
    assert set(keys) == {KeyStyle.CAMEL.spell(field) for field in CLUSTER_FIELDS} | {CONTROL_PLANE_KEY}


def test_the_table_has_a_row_for_every_pool_key_and_only_those() -> None:
    keys = [change.key for change in POOL_KEY_CHANGES]
    assert len(keys) == len(set(keys)), "one row per key"
    assert set(POOL_FIELDS) <= set(GPU_POOL_FIELDS)
    assert set(keys) == {KeyStyle.CAMEL.spell(field) for field in GPU_POOL_FIELDS}


def test_every_row_is_checked_by_a_mutation() -> None:
    assert set(CLUSTER_MUTATIONS) == {change.key for change in CLUSTER_KEY_CHANGES}
    assert set(POOL_MUTATIONS) == {change.key for change in POOL_KEY_CHANGES}
    assert {pool for pool, _, _ in POOL_MUTATIONS.values()} <= set(POOL_DEFAULTS)


# ---- each row's effect is what the registered inputs show -------------------------------------


@pytest.mark.parametrize("location", sorted(LOCATIONS))
@pytest.mark.parametrize("change", CLUSTER_KEY_CHANGES, ids=lambda change: change.key)
def test_changing_a_cluster_key_does_what_the_table_says(change: KeyChange, location: str) -> None:
    base, changed = cluster_configs(change.key, location)
    before, after = run(base)[0], run(changed)[0]
    assert something_changed(before, after), f"the mutation of {change.key} changed nothing"
    assert observed_effect(before, after) is change.effect, change.key


@pytest.mark.parametrize("location", sorted(LOCATIONS))
@pytest.mark.parametrize("change", POOL_KEY_CHANGES, ids=lambda change: change.key)
def test_changing_a_pool_key_does_what_the_table_says(change: KeyChange, location: str) -> None:
    base, changed = pool_configs(change.key, location)
    before, after = run(base)[0], run(changed)[0]
    assert something_changed(before, after), f"the mutation of {change.key} changed nothing"
    assert observed_effect(before, after) is change.effect, change.key


def test_the_classifier_sees_a_replacement_in_a_nested_path() -> None:
    # The helper the table tests rely on: a ForceNew field deep in a block, a block added whole.
    old = {"nodeConfig": {"machineType": "e2-standard-4", "spot": True}}
    new = {
        "nodeConfig": {"machineType": "e2-standard-4", "spot": False},
        "queuedProvisioning": {"enabled": True},
    }
    assert changed_paths(old, new) == ["nodeConfig.spot", "queuedProvisioning.enabled"]
    assert pool_change_effect(changed_paths(old, new)) is Effect.REPLACES_POOL
    assert cluster_change_effect(["privateClusterConfig.enablePrivateNodes"]) is Effect.IN_PLACE
    assert cluster_change_effect(["privateClusterConfig.masterIpv4CidrBlock"]) is Effect.REPLACES_CLUSTER
    assert cluster_change_effect(["datapathProvider", "releaseChannel.channel"]) is Effect.IN_PLACE
    assert cluster_change_effect(["datapathProvider"]) is Effect.CREATE_ONLY
    assert pool_change_effect(["initialNodeCount", "nodeConfig.machineType"]) is Effect.ROLLS_NODES


# ---- the options that make each effect safe ----------------------------------------------------


def _cluster(config: Overrides) -> tuple[Registration, OptionsMonitor]:
    result, monitor = run(config)
    return result.of_type(CLUSTER)[0], monitor


@pytest.mark.parametrize(
    "change",
    [c for c in CLUSTER_KEY_CHANGES if c.effect is Effect.REPLACES_CLUSTER],
    ids=lambda change: change.key,
)
def test_a_key_that_replaces_the_cluster_is_refused_unless_protection_is_off(change: KeyChange) -> None:
    # Pulumi refuses at preview to replace a protected resource; deletionProtection: false is the
    # opt-in, and then the old cluster is deleted first (the new one has the same name).
    for config in cluster_configs(change.key, "regional"):
        cluster, monitor = _cluster(config)
        assert cluster.protect is True, change.key
        assert monitor.delete_before_replace[cluster.urn] is True, change.key
        assert monitor.replace_on_changes[cluster.urn] == [], "no replacement the table does not show"
    opted_in = {**cluster_configs(change.key, "regional")[1], "deletionProtection": False}
    cluster, monitor = _cluster(opted_in)
    assert cluster.protect is False and cluster.inputs["deletionProtection"] is False
    assert monitor.delete_before_replace[cluster.urn] is True


@pytest.mark.parametrize("location", sorted(LOCATIONS))
@pytest.mark.parametrize(
    "change",
    [c for c in POOL_KEY_CHANGES if c.effect is Effect.REPLACES_POOL],
    ids=lambda change: change.key,
)
def test_a_key_that_replaces_a_pool_deletes_the_old_pool_first(change: KeyChange, location: str) -> None:
    pool_name = POOL_MUTATIONS[change.key][0]
    for config in pool_configs(change.key, location):
        result, monitor = run(config)
        pool = by_name(result, NODE_POOL)[f"gke-{pool_name}-pool"]
        assert monitor.delete_before_replace[pool.urn] is True, change.key
        assert monitor.replace_on_changes[pool.urn] == []


@pytest.mark.parametrize("location", sorted(LOCATIONS))
def test_ignore_changes_are_exactly_the_create_only_inputs(location: str) -> None:
    result, monitor = run({**LOCATIONS[location], "nodePools": {"gpu": GPU_ON, "dind": {"enabled": True}}})
    (cluster,) = result.of_type(CLUSTER)
    assert monitor.ignore_changes[cluster.urn] == CLUSTER_IGNORED_CHANGES
    pools = result.of_type(NODE_POOL)
    assert {p.name for p in pools} == {f"gke-{name}-pool" for name in POOL_DEFAULTS}
    for pool in pools:
        assert monitor.ignore_changes[pool.urn] == POOL_IGNORED_CHANGES, pool.name
    # Only inputs whose change would replace are ignored: an ignored in-place input would hide a
    # change the user asked for.
    assert set(CLUSTER_IGNORED_CHANGES) <= CLUSTER_FORCE_NEW
    assert set(POOL_IGNORED_CHANGES) <= POOL_FORCE_NEW


# ---- the README shows the table ---------------------------------------------------------------


def test_the_readme_shows_exactly_the_table() -> None:
    lines = README.read_text().splitlines()
    table = markdown_table().splitlines()
    start = lines.index(table[0])
    shown = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        shown.append(line)
    assert shown == table, (
        "regenerate: python -c 'from concurrent_infra.gke.change_safety import *; print(markdown_table())'"
    )
    assert lines.count(table[0]) == 1
