"""A GKE stack of the previous release previews with no delete or replace (issue 16).

``tests/fixtures/gke-release-0.1/*.json`` hold, per config, what release 0.1.0 (commit 41c6570)
registered for its GKE resources under the mock engine: the stack config, and each GKE, control
plane and Kubernetes-provider registration (type, name, URN, inputs, protect, ignoreChanges), as
``run_gke`` of that commit's tests/engine/test_gke.py records them. (Re-recording: check out 41c6570 in a
scratch directory, run ``run_gke(config["concurrent-infra:cluster"],
config["concurrent-infra:namespaces"])`` there and dump those fields; they matched byte for byte
when this test was written.)

The e2e upgrade test (tests/e2e/test_upgrade_e2e.py) proves the Kubernetes side on a real engine;
this one covers the GKE resources, which need GCP for a real run: every old URN is registered
again (or aliased), and the Cluster and NodePool diffs, against the state the provider reads back
(tests/support/gke_day2.py's model), touch no ForceNew input that is not ignored.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from concurrent_infra.gke.change_safety import (
    CLUSTER_FORCE_NEW,
    POOL_FORCE_NEW,
    Effect,
    cluster_change_effect,
    pool_change_effect,
)
from concurrent_infra.gke.syntax import service_account_id, unique_service_account_id
from tests.support.gke import ACCOUNT, CLUSTER, NODE_POOL, REGIONAL, OptionsMonitor, run_gke
from tests.support.gke_day2 import cluster_state, not_ignored, planned_changes, pool_state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gke-release-0.1"
RELEASES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def previous(name: str) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return fixture


def upgrade(name: str) -> tuple[dict[str, Any], Any, OptionsMonitor]:
    """The previous release's registrations of fixture ``name``, and this release's run of the same config."""
    old = previous(name)
    config = old["config"]
    run, monitor = run_gke(
        config["concurrent-infra:cluster"], namespaces=config["concurrent-infra:namespaces"]
    )
    return old, run, monitor


def test_the_fixtures_cover_zonal_regional_and_every_option() -> None:
    assert RELEASES == ["full-options", "gke-regional", "gke-zonal"]
    types = {r["type"] for name in RELEASES for r in previous(name)["resources"]}
    assert {
        CLUSTER,
        NODE_POOL,
        ACCOUNT,
        "gcp:compute/routerNat:RouterNat",
        "gcp:serviceaccount/key:Key",
    } <= types


@pytest.mark.parametrize("name", RELEASES)
def test_every_resource_of_the_previous_release_is_registered_again_or_aliased(name: str) -> None:
    old, run, monitor = upgrade(name)
    new_urns = {r.urn for r in run.registrations}
    aliased = {alias for urn in new_urns for alias in monitor.aliases.get(urn, [])}
    missing = [r["urn"] for r in old["resources"] if r["urn"] not in new_urns | aliased]
    assert missing == [], "these would be deleted"


@pytest.mark.parametrize("name", RELEASES)
def test_no_cluster_or_pool_input_of_the_previous_release_forces_a_replacement(name: str) -> None:
    old, run, monitor = upgrade(name)
    old_by_urn = {r["urn"]: r for r in old["resources"]}
    (cluster,) = run.of_type(CLUSTER)
    old_cluster = old_by_urn[cluster.urn]["inputs"]
    changes = not_ignored(
        planned_changes(cluster.inputs, cluster_state(old_cluster)), monitor.ignore_changes[cluster.urn]
    )
    assert not set(changes) & CLUSTER_FORCE_NEW
    assert cluster_change_effect(changes) is Effect.IN_PLACE, changes
    pools = run.of_type(NODE_POOL)
    assert pools
    for pool in pools:
        if pool.urn not in old_by_urn:
            continue  # a pool the previous release did not have (e.g. components on 0.1's stack)
        state = pool_state(old_by_urn[pool.urn]["inputs"], old_cluster)
        changes = not_ignored(planned_changes(pool.inputs, state), monitor.ignore_changes[pool.urn])
        assert pool_change_effect(changes) in (Effect.IN_PLACE, Effect.ROLLS_NODES), (pool.name, changes)
        assert not any(c == f or c.startswith(f"{f}.") for c in changes for f in POOL_FORCE_NEW)


def test_the_gpu_pool_of_the_previous_release_changes_its_surge_in_place() -> None:
    # The one pool-level change of an unchanged config: the GPU pool's upgrade settings (max surge
    # 0, max unavailable 1), updated in place by UpdateNodePool (node_pool.go l.1989-2076).
    old, run, monitor = upgrade("gke-regional")
    old_gpu = next(r for r in old["resources"] if r["name"] == "gke-gpu-pool")
    gpu = next(r for r in run.of_type(NODE_POOL) if r.name == "gke-gpu-pool")
    (cluster,) = run.of_type(CLUSTER)
    old_cluster = next(r for r in old["resources"] if r["type"] == CLUSTER)["inputs"]
    changes = not_ignored(
        planned_changes(gpu.inputs, pool_state(old_gpu["inputs"], old_cluster)),
        monitor.ignore_changes[gpu.urn],
    )
    assert sorted(changes) == ["upgradeSettings.maxSurge", "upgradeSettings.maxUnavailable"]
    assert cluster.urn == next(r for r in old["resources"] if r["type"] == CLUSTER)["urn"]


def test_a_long_cluster_name_keeps_the_node_accounts_id() -> None:
    # New clusters get a hashed ID (two long names of one project no longer collide); an existing
    # account keeps the truncated one: accountId (ForceNew in pulumi-gcp) is ignored after create.
    name = "concurrent-production-europe-west4"
    run, monitor = run_gke({**REGIONAL, "name": name})
    (account,) = [r for r in run.of_type(ACCOUNT) if r.name == "gke-nodes"]
    assert account.inputs["accountId"] == unique_service_account_id(name, "nodes")
    assert account.inputs["accountId"] != service_account_id(name, "nodes")
    assert monitor.ignore_changes[account.urn] == ["accountId"]
