"""The ``cluster`` config object: validation and defaults, without pulumi-gcp."""

import json
from typing import Any

import pytest

from concurrent_infra.config import ConfigError, parse_stack_config
from concurrent_infra.gke.cluster_config import (
    CONTROL_PLANE_ROLES,
    ClusterSpec,
    cluster_name_problem,
    location_type,
    service_account_id,
)


def parse(cluster: Any, gcp_project: str | None = "my-project") -> ClusterSpec:
    config = parse_stack_config({"namespaces": '["a"]', "cluster": json.dumps(cluster)}, gcp_project)
    assert config.cluster is not None
    return config.cluster


def problems(cluster: Any, gcp_project: str | None = "my-project") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(cluster, gcp_project)
    return caught.value.problems


def only_problem(cluster: Any, gcp_project: str | None = "my-project") -> str:
    found = problems(cluster, gcp_project)
    assert len(found) == 1, found
    return found[0]


MINIMAL = {"name": "concurrent-dev", "location": "us-central1"}


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("us-central1", "regional"),
        ("us-central1-c", "zonal"),
        ("europe-west4", "regional"),
        ("asia-east1-b", "zonal"),
    ],
)
def test_location_type_follows_the_location(location: str, kind: str) -> None:
    assert location_type(location) == kind
    assert parse({**MINIMAL, "location": location}).location_type == kind


def test_defaults_are_the_concurrent_pools_and_secure_settings() -> None:
    spec = parse(MINIMAL)
    assert spec.project == "my-project" and spec.workload_pool == "my-project.svc.id.goog"
    assert (spec.release_channel, spec.deletion_protection, spec.private_nodes) == ("REGULAR", True, False)
    pools = {pool.name: pool for pool in spec.node_pools}
    assert set(pools) == {"system", "cpu"}, "the GPU pool is opt-in"
    system, cpu = pools["system"], pools["cpu"]
    assert (system.machine_type, system.min_nodes, system.max_nodes, system.spot) == (
        "e2-standard-2",
        1,
        1,
        False,
    )
    assert (system.node_type, system.autoscaled) == ("system", False)
    assert (cpu.machine_type, cpu.min_nodes, cpu.max_nodes, cpu.spot) == ("e2-standard-4", 0, 1, True)
    assert (cpu.node_type, cpu.autoscaled) == ("worker", True)
    assert spec.control_plane_account is None


def test_gpu_pool_opt_in_with_defaults() -> None:
    spec = parse({**MINIMAL, "nodePools": {"gpu": {"enabled": True}}})
    gpu = next(pool for pool in spec.node_pools if pool.name == "gpu")
    assert (gpu.machine_type, gpu.accelerator_type, gpu.accelerator_count) == (
        "n1-standard-4",
        "nvidia-tesla-t4",
        1,
    )
    assert (gpu.min_nodes, gpu.max_nodes, gpu.node_type, gpu.gpu_driver_version) == (
        0,
        1,
        "worker",
        "DEFAULT",
    )


def test_pools_are_configurable() -> None:
    spec = parse(
        {
            **MINIMAL,
            "nodePools": {
                "system": {"nodeCount": 2, "machineType": "e2-standard-4", "diskSizeGb": 200},
                "cpu": {"minNodes": 1, "maxNodes": 5, "spot": False},
            },
        }
    )
    pools = {pool.name: pool for pool in spec.node_pools}
    assert (pools["system"].min_nodes, pools["system"].max_nodes, pools["system"].disk_size_gb) == (2, 2, 200)
    assert (pools["cpu"].min_nodes, pools["cpu"].max_nodes, pools["cpu"].spot) == (1, 5, False)


def test_control_plane_account_defaults_and_overrides() -> None:
    account = parse({**MINIMAL, "controlPlaneServiceAccount": True}).control_plane_account
    assert account is not None
    assert account.roles == CONTROL_PLANE_ROLES and account.create_key
    assert account.account_id == "concurrent-dev-concurrent"
    custom = parse(
        {
            **MINIMAL,
            "controlPlaneServiceAccount": {
                "accountId": "ctl-plane",
                "roles": ["roles/x"],
                "createKey": False,
            },
        }
    )
    assert custom.control_plane_account is not None
    assert (custom.control_plane_account.account_id, custom.control_plane_account.roles) == (
        "ctl-plane",
        ("roles/x",),
    )
    assert not custom.control_plane_account.create_key


def test_cluster_project_overrides_gcp_project() -> None:
    assert parse({**MINIMAL, "project": "other-project"}).project == "other-project"


@pytest.mark.parametrize("name", ["a" * 41, "Concurrent", "1cluster", "cluster-", "my_cluster"])
def test_bad_cluster_names(name: str) -> None:
    assert cluster_name_problem(name)
    message = only_problem({**MINIMAL, "name": name})
    assert message.startswith(f"concurrent-infra:cluster.name = {json.dumps(name)}")


@pytest.mark.parametrize("location", ["us", "us-central", "us-central1-cc", "US-CENTRAL1", "mars"])
def test_a_location_that_is_neither_region_nor_zone(location: str) -> None:
    message = only_problem({**MINIMAL, "location": location})
    assert "cluster.location" in message and "neither a region" in message


def test_no_project_anywhere() -> None:
    message = only_problem(MINIMAL, gcp_project=None)
    assert "cluster.project" in message and "pulumi config set gcp:project" in message


def test_min_greater_than_max() -> None:
    message = only_problem({**MINIMAL, "nodePools": {"cpu": {"minNodes": 3, "maxNodes": 1}}})
    assert "cluster.nodePools.cpu.minNodes" in message and "greater than maxNodes" in message


def test_a_gpu_pool_without_an_accelerator() -> None:
    message = only_problem({**MINIMAL, "nodePools": {"gpu": {"enabled": True, "acceleratorType": ""}}})
    assert "cluster.nodePools.gpu.acceleratorType" in message and "needs an accelerator" in message
    assert "acceleratorCount" in only_problem(
        {**MINIMAL, "nodePools": {"gpu": {"enabled": True, "acceleratorCount": 0}}}
    )


@pytest.mark.parametrize(
    ("cluster", "where", "suggestion"),
    [
        ({**MINIMAL, "nodePool": {}}, "cluster.nodePool", "nodePools"),
        ({**MINIMAL, "nodePools": {"cpus": {}}}, "cluster.nodePools.cpus", "cpu"),
        (
            {**MINIMAL, "nodePools": {"cpu": {"machinetype": "x"}}},
            "cluster.nodePools.cpu.machinetype",
            "machineType",
        ),
        ({**MINIMAL, "deletionProtect": False}, "cluster.deletionProtect", "deletionProtection"),
    ],
)
def test_unknown_keys_are_typos(cluster: dict[str, Any], where: str, suggestion: str) -> None:
    message = only_problem(cluster)
    assert where in message and f"did you mean '{suggestion}'?" in message


@pytest.mark.parametrize(
    ("cluster", "fragment"),
    [
        ("concurrent-dev", "expected an object"),
        ({"location": "us-central1"}, "cluster.name = null: required"),
        ({"name": "c1"}, "cluster.location = null: required"),
        ({**MINIMAL, "releaseChannel": "NIGHTLY"}, "cluster.releaseChannel"),
        ({**MINIMAL, "deletionProtection": "no"}, "cluster.deletionProtection"),
        ({**MINIMAL, "nodeLocations": ["us-central1"]}, "cluster.nodeLocations"),
        ({**MINIMAL, "masterAuthorizedNetworks": [{"cidrBlock": "10.0.0.0"}]}, "cidrBlock"),
        ({**MINIMAL, "nodePools": {"cpu": {"maxNodes": 0}}}, "cluster.nodePools.cpu.maxNodes"),
        ({**MINIMAL, "nodePools": {"system": {"nodeCount": 1, "minNodes": 1}}}, "nodeCount fixes the size"),
        ({**MINIMAL, "controlPlaneServiceAccount": {"accountId": "X"}}, "accountId"),
    ],
)
def test_other_bad_values(cluster: Any, fragment: str) -> None:
    assert fragment in only_problem(cluster)


def test_service_account_ids_fit_thirty_characters() -> None:
    account_id = service_account_id("a" * 40, "concurrent")
    assert len(account_id) <= 30 and account_id.endswith("-concurrent")


@pytest.mark.parametrize(
    ("cluster", "fragment"),
    [
        ({**MINIMAL, "name": None}, "cluster.name = null: required"),
        ({**MINIMAL, "location": None}, "cluster.location = null: required"),
    ],
)
def test_an_explicit_null_is_a_missing_value_not_a_silently_dropped_cluster(
    cluster: Any, fragment: str
) -> None:
    assert fragment in only_problem(cluster)


def test_an_explicit_null_takes_the_default() -> None:
    assert parse({**MINIMAL, "releaseChannel": None}).release_channel == "REGULAR"


def test_a_pool_that_is_not_an_object() -> None:
    assert "cluster.nodePools.cpu = 3: expected an object" in only_problem(
        {**MINIMAL, "nodePools": {"cpu": 3}}
    )
