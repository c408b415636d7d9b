"""GkeCluster and ControlPlaneAccount from Python: defaults, refusal before registration, and
which inputs change when a node count changes (updates, never replacements)."""

from typing import Any

import pytest

from concurrent_infra.gke.args import GkeClusterArgs
from concurrent_infra.validation import ConfigError
from tests.support.gke import CLUSTER, KEY, MOCK_OUTPUTS, NODE_POOL, OptionsMonitor
from tests.support.mocks import Mocks, RecordingMonitor, run_program

ML: GkeClusterArgs = {"name": "ml", "location": "us-central1", "project": "my-project"}

NODE_POOL_REPLACE_PROPERTIES = {"initialNodeCount", "project", "cluster", "location", "name", "namePrefix",
                                "maxPodsPerNode", "placementPolicy", "queuedProvisioning"}  # fmt: skip
"""Top-level NodePool inputs that force replacement in pulumi-gcp (ForceNew in the upstream
google_container_node_pool schema, resource_container_node_pool.go): node counts live in
``autoscaling`` (updated in place), ``node_count`` (resized in place) and ``node_locations``
(updated in place); ``initial_node_count`` is the only count that forces replacement."""


def build_cluster(args: Any) -> Any:
    from concurrent_infra.gke.cluster import GkeCluster

    return GkeCluster("ml", args)


def run_cluster(args: Any) -> tuple[Any, OptionsMonitor]:
    monitor = OptionsMonitor(Mocks(MOCK_OUTPUTS))
    component, _ = run_program(lambda: build_cluster(args), monitor=monitor, mock_outputs=MOCK_OUTPUTS)
    return component, monitor


def pools(monitor: RecordingMonitor) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in monitor.registrations if r.type == NODE_POOL}


def test_built_from_python_it_gets_the_docs_pools_and_the_components_pool() -> None:
    component, monitor = run_cluster(ML)
    assert set(pools(monitor)) == {"components", "system", "cpu"}
    (cluster,) = [r for r in monitor.registrations if r.type == CLUSTER]
    assert cluster.inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster.inputs["anonymousAuthenticationConfig"] == {"mode": "LIMITED"}
    assert cluster.inputs["maintenancePolicy"]["dailyMaintenanceWindow"] == {"startTime": "03:00"}
    from tests.support.mocks import is_secret, resolve

    assert resolve(component.cluster_name) == "ml"
    assert (resolve(component.location), resolve(component.location_type)) == ("us-central1", "regional")
    assert resolve(component.project) == "my-project"
    assert is_secret(component.kubeconfig)
    assert component.provider is not None


def test_the_registered_outputs_are_the_public_attributes() -> None:
    from concurrent_infra.gke.cluster import GkeCluster

    annotated = {name for name in GkeCluster.__annotations__}
    assert annotated == {"cluster_name", "location", "location_type", "project", "endpoint", "kubeconfig"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({**ML, "name": "ML"}, "GkeCluster('ml') args.name = \"ML\""),
        ({**ML, "location": "us-central1\n"}, "args.location"),
        ({"name": "ml", "location": "us-central1"}, "args.project = null: required"),
        ({**ML, "master_ipv4_cidr_block": "172.16.0.0/28"}, "args.master_ipv4_cidr_block"),
        ({**ML, "master_authorized_networks": [{"cidr_block": "10.0.0.0/33"}]}, "cidr_block"),
        (
            {**ML, "node_pools": {"cpu": {"min_nodes": 2, "max_nodes": 1}}},
            "args.node_pools.cpu.min_nodes = 2",
        ),
        ({**ML, "node_pools": {"gpu": {"enabled": True, "accelerator_count": 0}}}, "accelerator_count"),
        ({**ML, "nodePools": {}}, "args.nodePools"),
        ({**ML, "datapath_provider": "CILIUM"}, "args.datapath_provider"),
    ],
)
def test_bad_args_are_refused_before_anything_is_registered(args: Any, fragment: str) -> None:
    monitor = RecordingMonitor(Mocks(MOCK_OUTPUTS))
    with pytest.raises(ConfigError) as caught:
        run_program(lambda: build_cluster(args), monitor=monitor)
    message = str(caught.value)
    assert fragment in message and "fix:" in message, message
    assert monitor.registrations == [], "nothing registered, not even the component"


def test_node_pools_snake_case_typo_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        run_program(lambda: build_cluster({**ML, "nodePools": {}}))
    assert "did you mean 'node_pools'?" in str(caught.value)


def test_control_plane_account_from_python() -> None:
    def program() -> Any:
        from concurrent_infra.gke.control_plane import ControlPlaneAccount

        return ControlPlaneAccount("ctl", {"account_id": "concurrent-ctl", "project": "my-project"})

    monitor = RecordingMonitor(Mocks(MOCK_OUTPUTS))
    component, _ = run_program(program, monitor=monitor, mock_outputs=MOCK_OUTPUTS)
    roles = {r.inputs["role"] for r in monitor.registrations if r.type == "gcp:projects/iAMMember:IAMMember"}
    assert roles == {
        "roles/container.clusterViewer",
        "roles/cloudbuild.builds.editor",
        "roles/artifactregistry.writer",
    }
    assert not [r for r in monitor.registrations if r.type == KEY]
    from tests.support.mocks import resolve

    assert resolve(component.email) == "concurrent-ctl@my-project.iam.gserviceaccount.com"
    assert resolve(component.key) is None


@pytest.mark.parametrize("role", ["roles/owner", "roles/editor", "roles/viewer", "roles/container.admin"])
def test_control_plane_account_refuses_broad_roles_before_registration(role: str) -> None:
    def program() -> Any:
        from concurrent_infra.gke.control_plane import ControlPlaneAccount

        return ControlPlaneAccount(
            "ctl", {"account_id": "concurrent-ctl", "project": "my-project", "roles": [role]}
        )

    monitor = RecordingMonitor(Mocks(MOCK_OUTPUTS))
    with pytest.raises(ConfigError) as caught:
        run_program(program, monitor=monitor)
    assert f"ControlPlaneAccount('ctl') args.roles[0] = \"{role}\"" in str(caught.value)
    assert "allow_broad_roles: true" in str(caught.value)
    assert monitor.registrations == []


def changed_inputs(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key)}


@pytest.mark.parametrize("location", ["us-central1", "us-central1-c"])
@pytest.mark.parametrize(
    ("pool", "before", "after"),
    [
        ("system", {"node_count": 1}, {"node_count": 3}),
        ("cpu", {"min_nodes": 0, "max_nodes": 1}, {"min_nodes": 2, "max_nodes": 5}),
        ("components", {"min_nodes": 1, "max_nodes": 2}, {"min_nodes": 2, "max_nodes": 2}),
        ("gpu", {"enabled": True, "min_nodes": 0}, {"enabled": True, "min_nodes": 1}),
        ("system", {"node_count": 1}, {"min_nodes": 1, "max_nodes": 3}),
    ],
)
def test_changing_a_count_is_an_update_never_a_replacement(
    location: str, pool: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """The only count input pulumi-gcp replaces a pool for is initialNodeCount, which every pool
    ignores after creation; everything else that changes is updated in place."""
    runs = []
    for pool_args in (before, after):
        args = {**ML, "location": location, "node_pools": {pool: pool_args}}
        _, monitor = run_cluster(args)
        runs.append(monitor)
    old, new = (
        next(r for r in m.registrations if r.type == NODE_POOL and r.inputs["name"] == pool) for m in runs
    )
    assert old.urn == new.urn, "same resource"
    changed = changed_inputs(old.inputs, new.inputs)
    assert changed, "the change reaches the pool"
    ignored = set(runs[1].ignore_changes[new.urn])
    assert ignored == {"initialNodeCount"}
    forcing = (changed - ignored) & NODE_POOL_REPLACE_PROPERTIES
    assert forcing == set(), f"{pool}: {forcing} would replace the pool"
    assert changed - ignored <= {"autoscaling", "nodeCount", "nodeLocations"}, changed
