"""The ``cluster`` stack config object: validation and defaults, without pulumi-gcp."""

import json
from typing import Any

import pytest

from concurrent_infra.gke.readers import read_cluster
from concurrent_infra.gke.settings import CONCURRENT_DOCS_ROLES, CONTROL_PLANE_ROLES, PoolSettings
from concurrent_infra.gke.syntax import cluster_name_problem, location_type, service_account_id
from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.program.gke_cluster import GkeStackCluster
from concurrent_infra.validation import KeyStyle, Problems


def parse(cluster: Any, gcp_project: str | None = "my-project") -> GkeStackCluster:
    config = parse_stack_config({"namespaces": '["a"]', "cluster": json.dumps(cluster)}, gcp_project)
    assert isinstance(config.cluster, GkeStackCluster)
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
    settings = parse({**MINIMAL, "location": location}).settings
    assert settings is not None and settings.location_type == kind


def pools_of(cluster: GkeStackCluster) -> dict[str, PoolSettings]:
    return {pool.name: pool for pool in cluster.settings.node_pools}


def test_defaults_are_the_concurrent_pools_and_secure_settings() -> None:
    cluster = parse(MINIMAL)
    settings = cluster.settings
    assert settings.project == "my-project"
    assert (settings.release_channel, settings.deletion_protection, settings.private_nodes) == (
        "REGULAR",
        True,
        False,
    )
    assert (settings.datapath_provider, settings.autoscaling_profile) == (
        "ADVANCED_DATAPATH",
        "OPTIMIZE_UTILIZATION",
    )
    assert settings.image_streaming and settings.cost_allocation and not settings.binary_authorization
    assert settings.maintenance_start_time == "03:00"
    pools = pools_of(cluster)
    assert "gpu" not in pools and "dind" not in pools, "the GPU and DinD pools are opt-in"
    assert pools["components"] == PoolSettings(
        name="components", node_type="components", machine_type="e2-standard-2", disk_size_gb=50,
        min_nodes=1, max_nodes=2, spot=False,
    )  # fmt: skip
    assert pools["system"] == PoolSettings(
        name="system", node_type="system", machine_type="e2-standard-2", disk_size_gb=100,
        min_nodes=1, max_nodes=1, spot=False,
    )  # fmt: skip
    assert pools["system"].fixed
    assert pools["cpu"] == PoolSettings(
        name="cpu", node_type="worker", machine_type="e2-standard-4", disk_size_gb=200,
        min_nodes=0, max_nodes=1, spot=True,
    )  # fmt: skip
    assert cluster.control_plane is None


def test_gpu_pool_opt_in_with_defaults() -> None:
    gpu = pools_of(
        parse({**MINIMAL, "nodePools": {"gpu": {"enabled": True, "nodeLocations": ["us-central1-a"]}}})
    )
    assert gpu["gpu"] == PoolSettings(
        name="gpu", node_type="worker", machine_type="n1-standard-4", disk_size_gb=500, spot=False,
        min_nodes=0, max_nodes=1, node_locations=("us-central1-a",),
        accelerator_type="nvidia-tesla-t4", accelerator_count=1, gpu_driver_version="DEFAULT",
        provisioning="standard", upgrade_max_surge=0,
    )  # fmt: skip


def test_pools_are_configurable() -> None:
    pools = pools_of(
        parse(
            {
                **MINIMAL,
                "nodePools": {
                    "system": {"nodeCount": 2, "machineType": "e2-standard-4", "diskSizeGb": 200},
                    "cpu": {"minNodes": 1, "maxNodes": 5, "spot": False},
                    "components": {"enabled": False},
                },
            }
        )
    )
    system, cpu = pools["system"], pools["cpu"]
    assert (system.fixed, system.min_nodes, system.disk_size_gb, system.machine_type) == (
        True,
        2,
        200,
        "e2-standard-4",
    )
    assert (cpu.min_nodes, cpu.max_nodes, cpu.spot) == (1, 5, False)
    assert "components" not in pools


def test_control_plane_account_defaults_and_overrides() -> None:
    account = parse({**MINIMAL, "controlPlaneServiceAccount": True}).control_plane
    assert account is not None
    assert account.roles == CONTROL_PLANE_ROLES and account.create_key is False
    assert (account.account_id, account.project) == ("concurrent-dev-concurrent", "my-project")
    assert account.email == "concurrent-dev-concurrent@my-project.iam.gserviceaccount.com"
    custom = parse(
        {
            **MINIMAL,
            "controlPlaneServiceAccount": {
                "accountId": "ctl-plane",
                "roles": list(CONCURRENT_DOCS_ROLES),
                "createKey": True,
            },
        }
    ).control_plane
    assert custom is not None
    assert (custom.account_id, custom.roles, custom.create_key) == ("ctl-plane", CONCURRENT_DOCS_ROLES, True)
    assert parse({**MINIMAL, "controlPlaneServiceAccount": False}).control_plane is None


def test_broad_roles_only_with_allow_broad_roles() -> None:
    message = only_problem({**MINIMAL, "controlPlaneServiceAccount": {"roles": ["roles/owner"]}})
    assert message.startswith('concurrent-infra:cluster.controlPlaneServiceAccount.roles[0] = "roles/owner"')
    assert "basic role" in message and "allowBroadRoles: true" in message
    assert "administrator role" in only_problem(
        {**MINIMAL, "controlPlaneServiceAccount": {"roles": ["roles/container.admin"]}}
    )
    allowed = parse(
        {**MINIMAL, "controlPlaneServiceAccount": {"roles": ["roles/editor"], "allowBroadRoles": True}}
    ).control_plane
    assert allowed is not None and allowed.roles == ("roles/editor",)


def test_cluster_project_overrides_gcp_project() -> None:
    assert parse({**MINIMAL, "project": "other-project"}).project == "other-project"


@pytest.mark.parametrize("name", ["a" * 41, "Concurrent", "1cluster", "cluster-", "my_cluster", "ok\n"])
def test_bad_cluster_names(name: str) -> None:
    assert cluster_name_problem(name)
    message = only_problem({**MINIMAL, "name": name})
    assert message.startswith(f"concurrent-infra:cluster.name = {json.dumps(name)}")
    assert "fix: e.g. name: concurrent-dev" in message


@pytest.mark.parametrize(
    "location",
    ["us", "us-central", "us-central1-cc", "US-CENTRAL1", "mars", "us-central1\n", "us-central1-c\n"],
)
def test_a_location_that_is_neither_region_nor_zone(location: str) -> None:
    message = only_problem({**MINIMAL, "location": location})
    assert "cluster.location" in message and "neither a region" in message and "fix: e.g." in message


def test_no_project_anywhere() -> None:
    message = only_problem(MINIMAL, gcp_project=None)
    assert "cluster.project" in message and "pulumi config set gcp:project" in message


def test_min_greater_than_max() -> None:
    message = only_problem({**MINIMAL, "nodePools": {"cpu": {"minNodes": 3, "maxNodes": 1}}})
    assert "cluster.nodePools.cpu.minNodes = 3" in message and "greater than maxNodes" in message
    assert "fix: make minNodes <= maxNodes" in message


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
        ({**MINIMAL, "controlPlaneServiceAccount": {"createkey": True}}, "createkey", "createKey"),
    ],
)
def test_unknown_keys_are_typos(cluster: dict[str, Any], where: str, suggestion: str) -> None:
    message = only_problem(cluster)
    assert where in message and f"did you mean '{suggestion}'?" in message


M, CP, NP, EX = MINIMAL, "controlPlaneServiceAccount", "nodePools", "maintenanceExclusions"
BAD_VALUES = [
    ("concurrent-dev", "cluster = ", "expected an object"),
    ({"location": "us-central1"}, "cluster.name = null", "required"),
    ({"name": "c1"}, "cluster.location = null", "required"),
    ({**M, "releaseChannel": "NIGHTLY"}, 'cluster.releaseChannel = "NIGHTLY"', "one of RAPID"),
    ({**M, "deletionProtection": "no"}, 'cluster.deletionProtection = "no"', "expected a boolean"),
    ({**M, "nodeLocations": ["us-central1"]}, 'cluster.nodeLocations[0] = "us-central1"', "not a zone"),
    ({**M, "nodeLocations": ["europe-west4-a"]}, "cluster.nodeLocations[0]", "not a zone of the cluster's"),
    ({**M, "masterAuthorizedNetworks": [{"cidrBlock": "10.0.0.0"}]}, "cidrBlock", "IPv4 CIDR"),
    ({**M, "masterAuthorizedNetworks": [{"cidrBlock": "999.999.999.999/99"}]}, "999.999", "IPv4 CIDR"),
    ({**M, "masterAuthorizedNetworks": [{"cidrBlock": "10.0.0.1/8"}]}, "10.0.0.1/8", "host bits"),
    ({**M, "masterAuthorizedNetworks": [{"cidrBlock": "0.0.0.0/0"}]}, "0.0.0.0/0", "every address"),
    ({**M, "masterAuthorizedNetworks": "10.0.0.0/8"}, "masterAuthorizedNetworks", "expected a list"),
    ({**M, "masterIpv4CidrBlock": "172.16.0.0/28"}, "cluster.masterIpv4CidrBlock", "only used with"),
    ({**M, "privateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/24"}, "172.16.0.0/24", "/28"),
    ({**M, "privateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28\n"}, "masterIpv4CidrBlock", "CIDR"),
    ({**M, "privateEndpoint": True}, "cluster.privateEndpoint = true", "needs privateNodes"),
    ({**M, "cloudNat": True}, "cluster.cloudNat = true", "do not need Cloud NAT"),
    ({**M, NP: {"cpu": {"maxNodes": 0}}}, "cluster.nodePools.cpu.maxNodes = 0", "whole number"),
    ({**M, NP: {"cpu": {"minNodes": -1}}}, "cluster.nodePools.cpu.minNodes = -1", "whole number"),
    ({**M, NP: {"components": {"minNodes": 0}}}, "components.minNodes = 0", ">= 1"),
    ({**M, NP: {"system": {"nodeCount": 1, "minNodes": 1}}}, "nodeCount", "fixes the size"),
    ({**M, NP: {"system": {"nodeCount": 0}}}, "system.nodeCount = 0", ">= 1"),
    ({**M, NP: {"cpu": {"machineType": "E2 standard"}}}, "machineType", "machine type"),
    ({**M, NP: {"cpu": {"diskSizeGb": 5}}}, "diskSizeGb = 5", ">= 10"),
    ({**M, NP: {"cpu": {"spot": "yes"}}}, "cpu.spot", "expected a boolean"),
    ({**M, NP: {"cpu": {"nodeLocations": ["us-central1"]}}}, "cpu.nodeLocations[0]", "zone"),
    ({**M, NP: {"gpu": {"enabled": True, "acceleratorType": "t4"}}}, "acceleratorType", "GPU"),
    ({**M, NP: {"gpu": {"enabled": True, "acceleratorCount": 0}}}, "acceleratorCount", ">= 1"),
    ({**M, NP: {"gpu": {"enabled": True, "gpuDriverVersion": "X"}}}, "gpuDriverVersion", "one of"),
    ({**M, NP: {"cpu": 3}}, "cluster.nodePools.cpu = 3", "expected an object"),
    ({**M, "datapathProvider": "CILIUM"}, 'cluster.datapathProvider = "CILIUM"', "ADVANCED_DATAPATH"),
    ({**M, "autoscalingProfile": "FAST"}, "cluster.autoscalingProfile", "OPTIMIZE_UTILIZATION"),
    ({**M, "maintenanceStartTime": "25:00"}, 'maintenanceStartTime = "25:00"', "HH:MM"),
    ({**M, EX: [{"name": "x", "startTime": "soon", "endTime": "2027-01-01T00:00:00Z"}]},
     "maintenanceExclusions[0].startTime", "RFC 3339"),
    ({**M, EX: [{"name": "x", "startTime": "2027-01-02T00:00:00Z",
                 "endTime": "2027-01-01T00:00:00Z"}]}, "endTime", "not after the start"),
    ({**M, EX: [{"name": "x", "startTime": "2027-01-01T00:00:00",
                 "endTime": "2027-01-02T00:00:00Z"}]}, "startTime", "time zone"),
    ({**M, EX: [{"name": "x", "startTime": "2027-01-01T00:00:00Z",
                 "endTime": "2027-01-02T00:00:00Z", "scope": "ALL"}]}, "scope", "one of"),
    ({**M, "network": "my net"}, 'cluster.network = "my net"', "VPC network"),
    ({**M, CP: {"accountId": "X"}}, "accountId", "service account ID"),
    ({**M, CP: {"accountId": "ctl-plane\n"}}, "accountId", "service account ID"),
    ({**M, CP: {"roles": ["owner"]}}, "roles[0]", "not an IAM role name"),
    ({**M, CP: {"roles": ["roles/viewer"]}}, "roles[0]", "basic role"),
    ({**M, CP: {"roles": ["roles/iam.securityAdmin"]}}, "roles[0]", "administrator"),
    ({**M, CP: "yes"}, "controlPlaneServiceAccount", "expected true, false"),
    ({**M, "project": "My Project"}, 'cluster.project = "My Project"', "project ID"),
]  # fmt: skip


@pytest.mark.parametrize(("cluster", "where", "why"), BAD_VALUES)
def test_bad_values_name_the_key_the_value_and_the_fix(cluster: Any, where: str, why: str) -> None:
    message = only_problem(cluster)
    assert message.startswith("concurrent-infra:cluster"), message
    assert where in message and why in message and "; fix: " in message, message


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
    assert parse({**MINIMAL, "releaseChannel": None}).settings.release_channel == "REGULAR"


def test_python_args_read_to_the_same_settings_as_the_stack_config() -> None:
    """One validation path: the same cluster given as GkeCluster's args (snake_case) and as the
    stack config (camelCase) gives the same settings."""
    cluster = parse(
        {
            **MINIMAL,
            "privateNodes": True,
            "masterIpv4CidrBlock": "172.16.0.0/28",
            "masterAuthorizedNetworks": [{"cidrBlock": "203.0.113.0/24"}],
            "nodePools": {
                "gpu": {"enabled": True, "nodeLocations": ["us-central1-a"]},
                "system": {"nodeCount": 2},
            },
            "maintenanceExclusions": [
                {"name": "x", "startTime": "2027-01-01T00:00:00Z", "endTime": "2027-01-02T00:00:00Z"}
            ],
        }
    )
    args = {
        "name": "concurrent-dev",
        "location": "us-central1",
        "project": "my-project",
        "private_nodes": True,
        "master_ipv4_cidr_block": "172.16.0.0/28",
        "master_authorized_networks": [{"cidr_block": "203.0.113.0/24"}],
        "node_pools": {
            "gpu": {"enabled": True, "node_locations": ["us-central1-a"]},
            "system": {"node_count": 2},
        },
        "maintenance_exclusions": [
            {"name": "x", "start_time": "2027-01-01T00:00:00Z", "end_time": "2027-01-02T00:00:00Z"}
        ],
    }
    problems = Problems()
    again = read_cluster(args, "", problems, KeyStyle.SNAKE)
    assert problems.messages == []
    assert again == cluster.settings
