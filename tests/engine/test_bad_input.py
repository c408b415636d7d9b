"""Bad input, tried as an attacker would, through both doors: the stack config and the Python API.

Each case is refused before any resource is registered, with one message that names the key, the
bad value and the fix (issue 8, "Validation holes"; issue 9, "a bad argument fails the
constructor before any child is registered"). Stack config values are raw strings, as Pulumi hands
them to a program (structured values as JSON text).
"""

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pytest

from concurrent_infra import ConcurrentNamespace, SystemRole
from concurrent_infra.kube.names import SYSTEM_CLUSTER_ROLE
from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.program.stack import main
from tests.support.bad_input import assert_names_key_value_and_fix, namespaces, team_a
from tests.support.mocks import Mocks, RecordingMonitor, run_program

DEEP = 20_000
"""Deeper than Python's recursion limit: a recursive reader would crash with RecursionError."""
BIG = 300 * 1024
"""Larger than the 256 KiB Kubernetes allows for an object's annotations."""

SYSTEM_SUBJECTS = (
    "system:anonymous",
    "system:authenticated",
    "system:masters",
    "system:serviceaccount:ns:sa",
    "system:serviceaccounts",
)
"""Kubernetes' own identities, which a cluster-wide binding must never name (issue 8)."""

CLUSTER = {"name": "ml", "location": "us-central1", "project": "my-project"}


def deep_json(inner: str, depth: int = DEEP) -> str:
    """JSON text of ``inner`` wrapped in ``depth`` objects {"a": ...}."""
    return '{"a":' * depth + inner + "}" * depth


def deep_dict(inner: Any = "x", depth: int = DEEP) -> Any:
    """``inner`` wrapped in ``depth`` dicts {"a": ...}, built without recursion."""
    value = inner
    for _ in range(depth):
        value = {"a": value}
    return value


def a_cluster(**settings: Any) -> dict[str, str]:
    return namespaces("team-a", cluster={**CLUSTER, **settings})


# ---- the stack config --------------------------------------------------------------------------

CONFIG_CASES = [
    # Trailing newlines (re.match with '$' accepts them).
    pytest.param(namespaces("team-a\n"), "namespaces[0]", '"team-a\\n"', "'team-a'", id="name-newline"),
    pytest.param(
        namespaces({"name": "team-a\n"}),
        "namespaces[0].name",
        '"team-a\\n"',
        "'team-a'",
        id="object-name-newline",
    ),
    pytest.param(
        namespaces({"name": "a", "labels": {"team\n": "x"}}),
        "namespaces[0].labels.team\n",
        '"team\\n"',
        "a key is an optional DNS-subdomain prefix",
        id="label-key-newline",
    ),
    pytest.param(
        namespaces({"name": "a", "labels": {"team": "x\n"}}),
        "namespaces[0].labels.team",
        '"x\\n"',
        "a label value is empty or at most 63 characters",
        id="label-value-newline",
    ),
    pytest.param(
        namespaces({"name": "a", "annotations": {"note\n": "x"}}),
        "namespaces[0].annotations.note\n",
        '"note\\n"',
        "a key is an optional DNS-subdomain prefix",
        id="annotation-key-newline",
    ),
    pytest.param(
        namespaces("team-a", systemRoleUsers=["alice@example.com\n"]),
        "systemRoleUsers[0]",
        '"alice@example.com\\n"',
        "systemRoleUsers: [",
        id="user-newline",
    ),
    pytest.param(
        namespaces("team-a", podSecurity="baseline\n"),
        "podSecurity",
        '"baseline\\n"',
        "podSecurity: baseline",
        id="pod-security-newline",
    ),
    # Nesting and size bounds: a clear error, never RecursionError.
    pytest.param(
        {"namespaces": "[" * DEEP + "]" * DEEP},
        "namespaces",
        '"[[[[',
        "keep config values small",
        id="deep-list",
    ),
    pytest.param(
        {"namespaces": '[{"name": "a", "labels": ' + deep_json('"x"') + "}]"},
        "namespaces",
        '"[{\\"name\\": \\"a\\"',
        "keep config values small",
        id="deep-labels",
    ),
    pytest.param(
        {"namespaces": '["a"]', "quota": deep_json('"1"')},
        "quota",
        '"{\\"a\\":{\\"a\\"',
        "keep config values small",
        id="deep-quota",
    ),
    pytest.param(
        {"namespaces": '["a"]', "cluster": deep_json("1")},
        "cluster",
        '"{\\"a\\":{\\"a\\"',
        "keep config values small",
        id="deep-cluster",
    ),
    pytest.param(
        {"namespaces": '["a"]', "systemRoleUsers": "[" * 9 + "]" * 9},
        "systemRoleUsers",
        '"[[[[[[[[[]]]]]]]]]"',
        "keep config values small",
        id="nine-levels",
    ),
    pytest.param(
        {"namespaces": json.dumps(["a", "x" * (1024 * 1024)])},
        "namespaces",
        '"[\\"a\\", \\"xxxx',
        "keep config values small",
        id="over-1mib",
    ),
    pytest.param(
        namespaces({"name": "a", "annotations": {"big": "x" * BIG}}),
        "namespaces[0].annotations",
        '{"big": "xxxx',
        "keep large data out of annotations",
        id="annotations-300kib",
    ),
    pytest.param(
        namespaces({"name": "a", "annotations": {f"k{i}": "x" * 5 * 1024 for i in range(60)}}),
        "namespaces[0].annotations",
        '{"k0": "xxxx',
        "keep large data out of annotations",
        id="annotations-300kib-in-60-entries",
    ),
    pytest.param(
        namespaces({"name": "a", "labels": {f"k{i}": "v" for i in range(65)}}),
        "namespaces[0].labels",
        '{"k0": "v"',
        "keep fewer",
        id="65-labels",
    ),
    # Duplicates.
    pytest.param(
        namespaces("team-a", "team-a"), "namespaces[1]", '"team-a"', "list each namespace once", id="dup"
    ),
    pytest.param(
        namespaces("team-a", {"name": "team-a", "protect": False}),
        "namespaces[1]",
        '"team-a"',
        "list each namespace once",
        id="dup-object",
    ),
    # Kubernetes' own identities bound cluster-wide.
    *(
        pytest.param(
            namespaces("team-a", **{key: [subject]}),
            f"{key}[0]",
            json.dumps(subject),
            f"{key}: [",
            id=f"{key}-{subject}",
        )
        for key in ("systemRoleUsers", "systemRoleGroups")
        for subject in SYSTEM_SUBJECTS
    ),
    pytest.param(
        namespaces("team-a", systemRoleGroups=["System:Masters"]),
        "systemRoleGroups[0]",
        '"System:Masters"',
        "systemRoleGroups: [",
        id="group-system-masters-uppercase",
    ),
    pytest.param(
        namespaces("team-a", systemRoleScope="namespaces", systemRoleUsers=["system:anonymous"]),
        "systemRoleUsers[0]",
        '"system:anonymous"',
        "systemRoleUsers: [",
        id="namespaced-scope-anonymous",
    ),
    pytest.param(
        namespaces("team-a", systemRoleScope="Namespaces"),
        "systemRoleScope",
        '"Namespaces"',
        "systemRoleScope: namespaces",
        id="scope-case",
    ),
    pytest.param(
        namespaces("team-a", systemRoleUsers="system:anonymous"),
        "systemRoleUsers",
        '"system:anonymous"',
        "systemRoleUsers: [",
        id="user-not-a-list",
    ),
    # Pod Security and labels the package owns.
    pytest.param(
        namespaces({"name": "a", "podSecurity": "Privileged"}),
        "namespaces[0].podSecurity",
        '"Privileged"',
        "podSecurity: baseline",
        id="pod-security-case",
    ),
    pytest.param(
        namespaces({"name": "a", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}),
        "namespaces[0].labels.pod-security.kubernetes.io/enforce",
        '"privileged"',
        "set podSecurity instead",
        id="pod-security-by-label",
    ),
    pytest.param(
        namespaces({"name": "a", "labels": {"app.kubernetes.io/managed-by": "someone-else"}}),
        "namespaces[0].labels.app.kubernetes.io/managed-by",
        '"someone-else"',
        "remove 'app.kubernetes.io/managed-by'",
        id="managed-by-label",
    ),
    pytest.param(
        namespaces({"name": "a", "dind": True}),
        "namespaces[0].dind",
        "true",
        "set podSecurity: privileged",
        id="dind-without-privileged",
    ),
    pytest.param(
        namespaces({"name": "a", "quota": {"requests.cpu": "8 cores"}}),
        "namespaces[0].quota.requests.cpu",
        '"8 cores"',
        "a number with an optional suffix",
        id="bad-quantity",
    ),
    pytest.param(
        namespaces({"name": "a", "workloadIdentity": {"roles": ["roles/owner"], "project": "my-project"}}),
        "namespaces[0].workloadIdentity.roles[0]",
        '"roles/owner"',
        "roles: [roles/storage.objectUser]",
        id="workload-identity-owner",
    ),
    pytest.param(
        namespaces(
            {"name": "a", "workloadIdentity": {"googleServiceAccount": "a@b.com\n", "project": "my-project"}}
        ),
        "namespaces[0].workloadIdentity.googleServiceAccount",
        '"a@b.com\\n"',
        "googleServiceAccount: team-a@my-project.iam.gserviceaccount.com",
        id="workload-identity-email-newline",
    ),
    # The cluster (the GKE engineer's validation).
    # Issue 16: what GKE refuses, refused before registration (a private cluster without a /28 is
    # now valid: Private Service Connect, which lets privateNodes be turned on in place).
    pytest.param(
        a_cluster(
            maintenanceExclusions=[
                {"name": "q1", "startTime": "2027-01-01T00:00:00Z", "endTime": "2027-02-15T00:00:00Z"}
            ]
        ),
        "cluster.maintenanceExclusions[0].endTime",
        '"2027-02-15T00:00:00Z"',
        "end it by 2027-01-31T00:00:00+00:00",
        id="no-upgrades-exclusion-over-30-days",
    ),
    pytest.param(
        a_cluster(nodePools={"cpu": {"machineType": "c4-standard-8", "diskType": "pd-balanced"}}),
        "cluster.nodePools.cpu.diskType",
        '"pd-balanced"',
        "diskType: hyperdisk-balanced",
        id="hyperdisk-only-machine-with-pd-disk",
    ),
    pytest.param(
        a_cluster(nodePools={"gpu": {"enabled": True, "provisioning": "flex-start", "nodeCount": 2}}),
        "cluster.nodePools.gpu.provisioning",
        '"flex-start"',
        "minNodes: 0 and maxNodes",
        id="flex-start-pool-with-fixed-size",
    ),
    pytest.param(
        a_cluster(nodePools={"gpu": {"enabled": True, "provisioning": "queued", "minNodes": 1}}),
        "cluster.nodePools.gpu.provisioning",
        '"queued"',
        "minNodes: 0",
        id="queued-pool-not-from-zero",
    ),
    pytest.param(
        a_cluster(nodePools={"gpu": {"enabled": True, "provisioning": "flex-start", "spot": True}}),
        "cluster.nodePools.gpu.provisioning",
        '"flex-start"',
        "remove spot",
        id="flex-start-pool-on-spot",
    ),
    pytest.param(
        a_cluster(nodePools={"gpu": {"enabled": True, "provisioning": "reserved"}}),
        "cluster.nodePools.gpu.provisioning",
        '"reserved"',
        "flex-start",
        id="unknown-provisioning-model",
    ),
    pytest.param(
        a_cluster(privateNodes=True, masterIpv4CidrBlock="999.999.999.999/99"),
        "cluster.masterIpv4CidrBlock",
        '"999.999.999.999/99"',
        "masterIpv4CidrBlock: 172.16.0.0/28",
        id="master-cidr-not-an-address",
    ),
    pytest.param(
        a_cluster(privateNodes=True, masterIpv4CidrBlock="172.16.0.0/28\n"),
        "cluster.masterIpv4CidrBlock",
        '"172.16.0.0/28\\n"',
        "masterIpv4CidrBlock: 172.16.0.0/28",
        id="master-cidr-newline",
    ),
    pytest.param(
        a_cluster(masterAuthorizedNetworks=[{"cidrBlock": "10.0.0.1/8"}]),
        "cluster.masterAuthorizedNetworks[0].cidrBlock",
        '"10.0.0.1/8"',
        "cidrBlock: 203.0.113.0/24",
        id="authorized-network-host-bits",
    ),
    pytest.param(
        a_cluster(masterAuthorizedNetworks=[{"cidrBlock": "10.0.0.0"}]),
        "cluster.masterAuthorizedNetworks[0].cidrBlock",
        '"10.0.0.0"',
        "cidrBlock: 203.0.113.0/24",
        id="authorized-network-no-prefix",
    ),
    *(
        pytest.param(
            a_cluster(controlPlaneServiceAccount={"roles": [role]}),
            "cluster.controlPlaneServiceAccount.roles[0]",
            json.dumps(role),
            "allowBroadRoles: true",
            id=f"control-plane-{role}",
        )
        for role in ("roles/owner", "roles/editor", "roles/container.admin")
    ),
    # Found by the attacker review: escalating roles, Unicode digits, overflowing exponents,
    # the internet written another way.
    *(
        pytest.param(
            namespaces({"name": "a", "workloadIdentity": {"roles": [role], "project": "my-project"}}),
            "namespaces[0].workloadIdentity.roles[0]",
            json.dumps(role),
            "roles: [",
            id=f"wi-role-{role}",
        )
        for role in (
            "roles/iam.serviceAccountTokenCreator",
            "roles/compute.instanceAdmin.v1",
            "roles/container.developer",
            "projects/my-project/roles/owner",
        )
    ),
    pytest.param(
        namespaces({"name": "a", "quota": {"pods": "\u0661\u0660"}}),
        "namespaces[0].quota.pods",
        '"\\u0661',
        "a number with an optional suffix",
        id="quota-arabic-indic-digits",
    ),
    pytest.param(
        namespaces(
            {"name": "a", "containerDefaults": {"requests": {"cpu": "1e999999999"}, "limits": {"cpu": "1"}}}
        ),
        "namespaces[0].containerDefaults.requests.cpu",
        '"1e999999999"',
        "a number with an optional suffix",
        id="container-defaults-overflowing-exponent",
    ),
    *(
        pytest.param(
            a_cluster(masterAuthorizedNetworks=networks),
            key,
            value,
            fix,
            id=f"authorized-networks-{label}",
        )
        for label, networks, key, value, fix in (
            (
                "slash-00",
                [{"cidrBlock": "0.0.0.0/00"}],
                "cidrBlock",
                '"0.0.0.0/00"',
                "list only your networks",
            ),
            (
                "netmask",
                [{"cidrBlock": "0.0.0.0/0.0.0.0"}],
                "cidrBlock",
                '"0.0.0.0/0.0.0.0"',
                "cidrBlock: 203.0.113.0/24",
            ),
            (
                "split-pair",
                [{"cidrBlock": "0.0.0.0/1"}, {"cidrBlock": "128.0.0.0/1"}],
                "cluster.masterAuthorizedNetworks",
                '["0.0.0.0/1"',
                "list only your networks",
            ),
        )
    ),
]


@pytest.mark.parametrize(("config", "key", "value", "fix"), CONFIG_CASES)
def test_bad_stack_config_is_refused_with_key_value_and_fix(
    config: Mapping[str, str], key: str, value: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config)
    assert_names_key_value_and_fix(caught.value.problems, key, value, fix)
    for problem in caught.value.problems:
        assert problem.startswith("concurrent-infra:"), problem


@pytest.mark.parametrize(("config", "key", "value", "fix"), CONFIG_CASES)
def test_bad_stack_config_registers_nothing(
    config: Mapping[str, str], key: str, value: str, fix: str
) -> None:
    """The stack program itself stops before its first registration."""
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(pulumi.RunError, match="invalid stack config") as caught:
        run_program(
            main, {f"concurrent-infra:{name}": text for name, text in config.items()}, monitor=monitor
        )
    assert key in str(caught.value)
    assert monitor.registrations == []


def test_the_cases_are_many_and_distinct() -> None:
    configs = [json.dumps(case.values[0], sort_keys=True) for case in CONFIG_CASES]
    apis = [case.id for case in API_CASES]
    assert len(set(configs)) == len(configs)
    assert len(set(apis)) == len(apis)
    assert len(configs) + len(apis) >= 40


# ---- the Python API ----------------------------------------------------------------------------


def system_role(**args: Any) -> Callable[[], object]:
    return lambda: SystemRole("s", args)  # type: ignore[arg-type]


def two_of_team_a() -> None:
    ConcurrentNamespace("first", {"namespace": "team-a"})
    ConcurrentNamespace("second", {"namespace": "team-a"})


def gke(**args: Any) -> Callable[[], object]:
    def program() -> object:
        from concurrent_infra.gke.cluster import GkeCluster

        return GkeCluster("ml", {**CLUSTER, **args})  # type: ignore[typeddict-item]

    return program


API_CASES = [
    pytest.param(
        lambda: ConcurrentNamespace("t", {"namespace": "team-a\n"}),
        "args.namespace",
        '"team-a\\n"',
        "'team-a'",
        id="ns-name-newline",
    ),
    pytest.param(
        lambda: ConcurrentNamespace("t", {"namespace": "Team_A"}),
        "args.namespace",
        '"Team_A"',
        "'team-a'",
        id="ns-name-not-dns",
    ),
    pytest.param(
        team_a(labels={"team\n": "x"}),
        "args.labels.team\n",
        '"team\\n"',
        "a key is an optional DNS-subdomain prefix",
        id="ns-label-key-newline",
    ),
    pytest.param(
        team_a(labels={"team": "x\n"}),
        "args.labels.team",
        '"x\\n"',
        "a label value is empty or at most 63 characters",
        id="ns-label-value-newline",
    ),
    pytest.param(
        team_a(labels=deep_dict()),
        "args.labels",
        "<class 'dict'>",
        "pass plain values",
        id="ns-labels-20000-deep",
    ),
    pytest.param(
        team_a(quota=deep_dict()),
        "args.quota",
        "<class 'dict'>",
        "pass plain values",
        id="ns-quota-20000-deep",
    ),
    pytest.param(
        team_a(container_defaults=deep_dict()),
        "args.container_defaults",
        "<class 'dict'>",
        "pass plain values",
        id="ns-container-defaults-20000-deep",
    ),
    pytest.param(
        lambda: ConcurrentNamespace("t", {"namespace": deep_dict()}),
        "args.namespace",
        "<class 'dict'>",
        "pass plain values",
        id="ns-name-20000-deep",
    ),
    pytest.param(
        team_a(annotations={"big": "x" * BIG}),
        "args.annotations",
        '{"big": "xxxx',
        "keep large data out of annotations",
        id="ns-annotations-300kib",
    ),
    pytest.param(
        team_a(labels={"pod-security.kubernetes.io/enforce": "privileged"}),
        "args.labels.pod-security.kubernetes.io/enforce",
        '"privileged"',
        "set pod_security instead",
        id="ns-pod-security-by-label",
    ),
    pytest.param(
        team_a(pod_security="Privileged"),
        "args.pod_security",
        '"Privileged"',
        "pod_security: baseline",
        id="ns-pod-security-case",
    ),
    pytest.param(
        team_a(dind=True),
        "args.dind",
        "true",
        "set pod_security: privileged",
        id="ns-dind-without-privileged",
    ),
    pytest.param(
        team_a(podSecurity="privileged"),
        "args.podSecurity",
        '"privileged"',
        "did you mean 'pod_security'?",
        id="ns-camel-case-key",
    ),
    *(
        pytest.param(
            team_a(system_role_name=role),
            "args.system_role_name",
            json.dumps(role),
            SYSTEM_CLUSTER_ROLE,
            id=f"ns-system-role-name-{role.strip()}",
        )
        for role in ("cluster-admin", "k8s-role-for-parallels-lambda\n")
    ),
    *(
        pytest.param(
            system_role(**{key: [subject]}),
            f"args.{key}[0]",
            json.dumps(subject),
            f"{key}: [",
            id=f"{key}-{subject}",
        )
        for key in ("extra_users", "extra_groups")
        for subject in SYSTEM_SUBJECTS
    ),
    pytest.param(
        system_role(extra_users=["alice@example.com\n"]),
        "args.extra_users[0]",
        '"alice@example.com\\n"',
        "extra_users: [",
        id="extra-user-newline",
    ),
    pytest.param(
        system_role(extra_users="alice@example.com"),
        "args.extra_users",
        '"alice@example.com"',
        "extra_users: [",
        id="extra-users-not-a-list",
    ),
    pytest.param(
        system_role(extra_groups=deep_dict([])),
        "args.extra_groups",
        "<class 'dict'>",
        "pass plain values",
        id="extra-groups-20000-deep",
    ),
    pytest.param(
        system_role(extraUsers=["alice@example.com"]),
        "args.extraUsers",
        '["alice@example.com"]',
        "did you mean 'extra_users'?",
        id="system-role-camel-case-key",
    ),
    pytest.param(
        gke(node_pools={"system": {"machine_type": "n4-standard-4", "disk_type": "pd-ssd"}}),
        "args.node_pools.system.disk_type",
        '"pd-ssd"',
        "disk_type: hyperdisk-balanced",
        id="gke-hyperdisk-only-machine-with-pd-disk",
    ),
    pytest.param(
        gke(
            maintenance_exclusions=[
                {"name": "q1", "start_time": "2027-01-01T00:00:00Z", "end_time": "2027-03-01T00:00:00Z"}
            ]
        ),
        "args.maintenance_exclusions[0].end_time",
        '"2027-03-01T00:00:00Z"',
        "NO_MINOR_UPGRADES",
        id="gke-no-upgrades-exclusion-over-30-days",
    ),
    pytest.param(
        gke(private_nodes=True, master_ipv4_cidr_block="999.999.999.999/99"),
        "args.master_ipv4_cidr_block",
        '"999.999.999.999/99"',
        "master_ipv4_cidr_block: 172.16.0.0/28",
        id="gke-bad-master-cidr",
    ),
    pytest.param(
        gke(name="ml\n"),
        "args.name",
        '"ml\\n"',
        "name: concurrent-dev",
        id="gke-name-newline",
    ),
    pytest.param(
        gke(node_pools={"cpu": deep_dict()}),
        "args.node_pools",
        "<class 'dict'>",
        "pass plain values",
        id="gke-node-pools-20000-deep",
    ),
    pytest.param(
        gke(master_authorized_networks=[{"cidr_block": "0.0.0.0/0"}]),
        "args.master_authorized_networks[0].cidr_block",
        '"0.0.0.0/0"',
        "list only your networks",
        id="gke-authorized-network-everyone",
    ),
]


@pytest.mark.parametrize(("program", "key", "value", "fix"), API_CASES)
def test_bad_args_are_refused_before_any_registration(
    program: Callable[[], object], key: str, value: str, fix: str
) -> None:
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(ConfigError) as caught:
        run_program(program, monitor=monitor)
    assert_names_key_value_and_fix(caught.value.problems, key, value, fix)
    assert monitor.registrations == []


def test_a_second_component_of_one_namespace_is_refused_before_it_registers() -> None:
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(ConfigError) as caught:
        run_program(two_of_team_a, monitor=monitor)
    assert_names_key_value_and_fix(caught.value.problems, "args.namespace", '"team-a"', "once")
    assert "ConcurrentNamespace('second')" in caught.value.problems[0]
    assert not [r for r in monitor.registrations if r.name == "second" or r.name.startswith("second-")]


def test_gke_components_refuse_args_that_are_not_a_dict() -> None:
    from concurrent_infra.gke.cluster import GkeCluster
    from concurrent_infra.gke.control_plane import ControlPlaneAccount

    for program in (
        lambda: GkeCluster("ml", None),  # type: ignore[arg-type]
        lambda: ControlPlaneAccount("cp", None),  # type: ignore[arg-type]
    ):
        monitor = RecordingMonitor(Mocks())
        with pytest.raises(ConfigError, match="expected a dict of args"):
            run_program(program, monitor=monitor)
        assert monitor.registrations == []


def test_the_control_plane_account_refuses_an_escalating_role() -> None:
    from concurrent_infra.gke.control_plane import ControlPlaneAccount

    monitor = RecordingMonitor(Mocks())
    role = "roles/iam.serviceAccountTokenCreator"
    with pytest.raises(ConfigError) as caught:
        run_program(
            lambda: ControlPlaneAccount(
                "cp", {"account_id": "concurrent-cp", "project": "my-project", "roles": [role]}
            ),
            monitor=monitor,
        )
    assert any(role in problem and "act as other identities" in problem for problem in caught.value.problems)
    assert monitor.registrations == []
