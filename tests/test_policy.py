"""Tests of the policy pack's rules (pure functions) and of the policies built from them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from concurrent_infra.kube.labels import with_common_labels
from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.kube.namespace import ConcurrentNamespace, ConcurrentNamespaceArgs
from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, PolicyRule, k8s_rules
from concurrent_infra.kube.system_role import SystemRole
from policy import concurrent_policies as cp
from tests.harness import run_program

NAMES = namespace_object_names("team-b")
NO_CONFIG: dict[str, Any] = {}


def role(name: str, rules: Sequence[Mapping[str, Any]], managed: bool = True, **extra: Any) -> dict[str, Any]:
    labels = with_common_labels() if managed else {}
    return {"metadata": {"name": name, "labels": labels}, "rules": list(rules), **extra}


def binding(
    name: str, role_kind: str, role_name: str, subjects: list[dict[str, str]], namespace: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": with_common_labels()}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "metadata": metadata,
        "roleRef": {"apiGroup": RBAC_API_GROUP, "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def sa(name: str, namespace: str = "team-b") -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, list[str]]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


# ---- derived names -------------------------------------------------------------------------------


def test_prefixes_come_from_names_py() -> None:
    assert NAMES.user_cluster_role == cp.USER_CLUSTER_ROLE_PREFIX + "team-b"
    assert NAMES.user_service_account == cp.USER_SERVICE_ACCOUNT_PREFIX + "team-b"
    assert cp.USER_CLUSTER_ROLE_PREFIX == "k8s-role-for-users-"


# ---- no-cluster-wide-service-account-grants --------------------------------------------------------


def test_system_cluster_role_binding_to_group_complies() -> None:
    props = binding(
        SYSTEM_CLUSTER_ROLE_BINDING,
        "ClusterRole",
        SYSTEM_CLUSTER_ROLE,
        [{"kind": "Group", "name": SYSTEM_GROUP, "apiGroup": RBAC_API_GROUP}],
    )
    assert cp.no_cluster_wide_service_account_grants(cp.CLUSTER_ROLE_BINDING, props, False, NO_CONFIG) == []


@pytest.mark.parametrize(
    ("subject", "described"),
    [
        (sa(NAMES.user_service_account), f"ServiceAccount team-b/{NAMES.user_service_account}"),
        ({"kind": "Group", "name": "system:serviceaccounts"}, "Group system:serviceaccounts"),
        ({"kind": "Group", "name": "system:serviceaccounts:team-b"}, "Group system:serviceaccounts:team-b"),
        ({"kind": "User", "name": "system:serviceaccount:team-b:x"}, "User system:serviceaccount:team-b:x"),
    ],
)
def test_cluster_role_binding_to_service_account_is_a_violation(
    subject: dict[str, str], described: str
) -> None:
    props = binding("pods-reader-team-b", "ClusterRole", "pods-reader", [subject])
    for resource_type in (cp.CLUSTER_ROLE_BINDING, cp.CLUSTER_ROLE_BINDING + "Patch"):
        [message] = cp.no_cluster_wide_service_account_grants(resource_type, props, False, NO_CONFIG)
        assert described in message
        assert "pods-reader-team-b" in message
        assert "RoleBinding in the service account's own namespace" in message


def test_role_binding_of_service_account_is_not_cluster_wide() -> None:
    props = binding(
        NAMES.system_role_binding, "ClusterRole", SYSTEM_CLUSTER_ROLE, [sa(NAMES.system_service_account)]
    )
    assert cp.no_cluster_wide_service_account_grants(cp.ROLE_BINDING, props, False, NO_CONFIG) == []


def test_each_service_account_subject_is_reported() -> None:
    props = binding("x", "ClusterRole", "view", [sa("a"), {"kind": "User", "name": "alice"}, sa("b")])
    messages = cp.no_cluster_wide_service_account_grants(cp.CLUSTER_ROLE_BINDING, props, False, NO_CONFIG)
    assert len(messages) == 2


# ---- user-roles-read-only ------------------------------------------------------------------------


def test_user_role_from_user_rules_complies() -> None:
    props = role(NAMES.user_cluster_role, k8s_rules(USER_RULES))
    assert cp.user_roles_read_only(cp.CLUSTER_ROLE, props, False, NO_CONFIG) == []


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule(["batch"], ["jobs"], ["get", "create", "delete"])], "verbs create, delete"),
        ([rule([""], ["secrets"], ["get"])], "'secrets'"),
        ([rule([""], ["*"], ["get"])], "'*'"),
        ([rule([""], ["pods"], ["*"])], "verbs *"),
    ],
)
def test_user_role_that_writes_or_reads_secrets_is_a_violation(
    rules: list[dict[str, list[str]]], expected: str
) -> None:
    for resource_type in (cp.CLUSTER_ROLE, cp.ROLE):
        props = role(NAMES.user_cluster_role, [*k8s_rules(USER_RULES), *rules])
        [message] = cp.user_roles_read_only(resource_type, props, False, NO_CONFIG)
        assert expected in message
        assert NAMES.user_cluster_role in message
        assert "get, list, watch" in message


def test_user_role_with_aggregation_rule_is_a_violation() -> None:
    props = role(NAMES.user_cluster_role, [], aggregationRule={"clusterRoleSelectors": [{}]})
    [message] = cp.user_roles_read_only(cp.CLUSTER_ROLE, props, False, NO_CONFIG)
    assert "aggregationRule" in message


def test_user_rule_only_applies_to_user_roles() -> None:
    props = role(SYSTEM_CLUSTER_ROLE, k8s_rules(SYSTEM_RULES))
    assert cp.user_roles_read_only(cp.CLUSTER_ROLE, props, False, NO_CONFIG) == []


# ---- no-wildcards-in-managed-roles ---------------------------------------------------------------


@pytest.mark.parametrize("rules", [SYSTEM_RULES, USER_RULES])
def test_package_roles_have_no_wildcards(rules: tuple[PolicyRule, ...]) -> None:
    props = role("r", k8s_rules(rules))
    assert cp.no_wildcards_in_managed_roles(cp.CLUSTER_ROLE, props, False, NO_CONFIG) == []


@pytest.mark.parametrize("field", ["apiGroups", "resources", "verbs"])
def test_wildcard_in_managed_role_is_a_violation(field: str) -> None:
    wild = rule(["batch"], ["jobs"], ["get"])
    wild[field] = ["*"]
    for resource_type in (cp.CLUSTER_ROLE, cp.ROLE):
        [message] = cp.no_wildcards_in_managed_roles(resource_type, role("r", [wild]), False, NO_CONFIG)
        assert f"in {field} of rule 0" in message


def test_subresource_wildcard_is_a_violation() -> None:
    props = role("r", [rule(["apps"], ["*/scale"], ["get"])])
    assert len(cp.no_wildcards_in_managed_roles(cp.CLUSTER_ROLE, props, False, NO_CONFIG)) == 1


def test_wildcards_in_roles_of_others_are_not_checked() -> None:
    props = role("cluster-admin-copy", [rule(["*"], ["*"], ["*"])], managed=False)
    assert cp.no_wildcards_in_managed_roles(cp.CLUSTER_ROLE, props, False, NO_CONFIG) == []


# ---- managed-namespaces-protected ----------------------------------------------------------------


def namespace(name: str, managed: bool = True) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": with_common_labels() if managed else {}}}


def test_protected_managed_namespace_complies() -> None:
    assert cp.managed_namespaces_protected(cp.NAMESPACE, namespace("team-b"), True, NO_CONFIG) == []


def test_unprotected_managed_namespace_is_a_violation() -> None:
    [message] = cp.managed_namespaces_protected(cp.NAMESPACE, namespace("team-b"), False, NO_CONFIG)
    assert "Namespace team-b" in message
    assert "unprotectedNamespaces" in message


def test_unprotected_namespace_listed_in_config_complies() -> None:
    config = {"unprotectedNamespaces": ["team-b"]}
    assert cp.managed_namespaces_protected(cp.NAMESPACE, namespace("team-b"), False, config) == []
    assert len(cp.managed_namespaces_protected(cp.NAMESPACE, namespace("team-c"), False, config)) == 1


def test_unmanaged_namespace_is_not_checked() -> None:
    props = namespace("other", managed=False)
    assert cp.managed_namespaces_protected(cp.NAMESPACE, props, False, NO_CONFIG) == []


# ---- gke-cluster-hardened ------------------------------------------------------------------------


def hardened_cluster(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": "concurrent",
        "deletionProtection": True,
        "workloadIdentityConfig": {"workloadPool": "my-project.svc.id.goog"},
        "enableShieldedNodes": True,
        "enableLegacyAbac": False,
        "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    }
    props.update(overrides)
    return props


def test_hardened_cluster_complies() -> None:
    assert cp.gke_cluster_hardened(cp.GKE_CLUSTER, hardened_cluster(), False, NO_CONFIG) == []


def test_cluster_without_optional_off_switches_complies() -> None:
    props = hardened_cluster()
    del props["enableLegacyAbac"], props["masterAuth"]
    assert cp.gke_cluster_hardened(cp.GKE_CLUSTER, props, False, NO_CONFIG) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"deletionProtection": False}, "deletionProtection"),
        ({"deletionProtection": None}, "deletionProtection"),
        ({"workloadIdentityConfig": None}, "Workload Identity"),
        ({"workloadIdentityConfig": {"workloadPool": ""}}, "Workload Identity"),
        ({"enableShieldedNodes": False}, "enableShieldedNodes"),
        ({"enableLegacyAbac": True}, "enableLegacyAbac"),
        ({"masterAuth": {"clientCertificateConfig": {"issueClientCertificate": True}}}, "client certificate"),
    ],
)
def test_cluster_without_a_hardening_is_a_violation(overrides: dict[str, Any], expected: str) -> None:
    [message] = cp.gke_cluster_hardened(cp.GKE_CLUSTER, hardened_cluster(**overrides), False, NO_CONFIG)
    assert expected in message
    assert message.startswith("GKE cluster concurrent:")


def test_autopilot_cluster_needs_no_workload_identity_or_shielded_nodes_settings() -> None:
    props = hardened_cluster(enableAutopilot=True, workloadIdentityConfig=None, enableShieldedNodes=None)
    assert cp.gke_cluster_hardened(cp.GKE_CLUSTER, props, False, NO_CONFIG) == []


# ---- gke-node-pools-tainted ----------------------------------------------------------------------


def pool(name: str, *taints: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "nodeConfig": {"machineType": "e2-standard-4", "taints": list(taints)}}


def taint(value: str, effect: str = "NO_SCHEDULE", key: str = "concurrent-node-type") -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


@pytest.mark.parametrize("value", ["system", "worker"])
def test_tainted_node_pool_complies(value: str) -> None:
    props = pool("pool", taint("other", key="team"), taint(value))
    assert cp.gke_node_pools_tainted(cp.GKE_NODE_POOL, props, False, NO_CONFIG) == []


@pytest.mark.parametrize(
    "taints",
    [
        (),
        (taint("gpu"),),
        (taint("worker", effect="PREFER_NO_SCHEDULE"),),
        (taint("worker", key="node-type"),),
    ],
)
def test_node_pool_without_concurrent_taint_is_a_violation(taints: tuple[dict[str, str], ...]) -> None:
    [message] = cp.gke_node_pools_tainted(cp.GKE_NODE_POOL, pool("cpu", *taints), False, NO_CONFIG)
    assert message.startswith("GKE node pool cpu:")
    assert "concurrent-node-type" in message and "NO_SCHEDULE" in message


def test_node_pool_without_node_config_is_a_violation() -> None:
    assert len(cp.gke_node_pools_tainted(cp.GKE_NODE_POOL, {"name": "bare"}, False, NO_CONFIG)) == 1


def test_inline_node_pools_of_a_cluster_are_checked() -> None:
    props = hardened_cluster(nodePools=[pool("system", taint("system")), pool("untainted")])
    [message] = cp.gke_node_pools_tainted(cp.GKE_CLUSTER, props, False, NO_CONFIG)
    assert "untainted" in message


# ---- user-bindings-read-only (stack) -------------------------------------------------------------


def stack(*resources: tuple[str, dict[str, Any]]) -> list[cp.StackResource]:
    return [cp.StackResource(type_, props, f"urn:{index}") for index, (type_, props) in enumerate(resources)]


def test_package_user_binding_to_its_user_role_complies() -> None:
    resources = stack(
        (cp.CLUSTER_ROLE, role(NAMES.user_cluster_role, k8s_rules(USER_RULES))),
        (
            cp.ROLE_BINDING,
            binding(
                NAMES.user_role_binding,
                "ClusterRole",
                NAMES.user_cluster_role,
                [sa(NAMES.user_service_account)],
                "team-b",
            ),
        ),
    )
    assert cp.user_binding_roles_read_only(resources) == []


def test_user_service_account_bound_to_a_writing_cluster_role_is_a_violation() -> None:
    resources = stack(
        (cp.CLUSTER_ROLE, role("extra", [rule([""], ["secrets"], ["get"])])),
        (
            cp.ROLE_BINDING,
            binding("extra-binding", "ClusterRole", "extra", [sa(NAMES.user_service_account)], "team-b"),
        ),
    )
    [(urn, message)] = cp.user_binding_roles_read_only(resources)
    assert urn == "urn:1"
    assert "extra-binding" in message and "'secrets'" in message
    assert f"team-b/{NAMES.user_service_account}" in message


def test_user_service_account_bound_to_a_writing_role_in_its_namespace_is_a_violation() -> None:
    writer = role("writer", [rule(["batch"], ["jobs"], ["create"])])
    writer["metadata"]["namespace"] = "team-b"
    resources = stack(
        (cp.ROLE, writer),
        (cp.ROLE_BINDING, binding("w", "Role", "writer", [sa(NAMES.user_service_account)], "team-b")),
        # The same role name in another namespace is another role.
        (cp.ROLE_BINDING, binding("w", "Role", "writer", [sa(NAMES.user_service_account)], "team-c")),
    )
    [(urn, message)] = cp.user_binding_roles_read_only(resources)
    assert urn == "urn:1" and "verbs create" in message


def test_user_service_account_bound_to_builtin_edit_is_a_violation() -> None:
    resources = stack(
        (cp.CLUSTER_ROLE_BINDING, binding("edit", "ClusterRole", "edit", [sa(NAMES.user_service_account)])),
    )
    [(_, message)] = cp.user_binding_roles_read_only(resources)
    assert "built-in" in message


def test_other_service_accounts_and_invisible_roles_are_not_checked() -> None:
    resources = stack(
        (cp.CLUSTER_ROLE, role(SYSTEM_CLUSTER_ROLE, k8s_rules(SYSTEM_RULES))),
        (
            cp.ROLE_BINDING,
            binding(
                NAMES.system_role_binding,
                "ClusterRole",
                SYSTEM_CLUSTER_ROLE,
                [sa(NAMES.system_service_account)],
                "team-b",
            ),
        ),
        (cp.ROLE_BINDING, binding("v", "ClusterRole", "view", [sa(NAMES.user_service_account)], "team-b")),
    )
    assert cp.user_binding_roles_read_only(resources) == []


# ---- unknown values during preview ---------------------------------------------------------------


def test_plain_turns_unknown_values_into_unknown() -> None:
    props = unknown_checking_proxy(
        {"metadata": {"name": "n", "namespace": UNKNOWN_STRING_VALUE}, "list": [UNKNOWN_BOOLEAN_VALUE, 1]}
    )
    assert cp.plain(props) == {"metadata": {"name": "n", "namespace": cp.UNKNOWN}, "list": [cp.UNKNOWN, 1]}


def test_unknown_values_are_not_violations() -> None:
    props = hardened_cluster(
        deletionProtection=cp.UNKNOWN,
        enableShieldedNodes=cp.UNKNOWN,
        workloadIdentityConfig={"workloadPool": cp.UNKNOWN},
    )
    assert cp.gke_cluster_hardened(cp.GKE_CLUSTER, props, False, NO_CONFIG) == []
    assert cp.gke_node_pools_tainted(cp.GKE_NODE_POOL, {"nodeConfig": cp.UNKNOWN}, False, NO_CONFIG) == []
    unknown_subject = binding("b", "ClusterRole", "r", [])
    unknown_subject["subjects"] = [{"kind": "User", "name": cp.UNKNOWN}]
    assert not cp.no_cluster_wide_service_account_grants(cp.CLUSTER_ROLE_BINDING, unknown_subject, False, {})


# ---- the package's own objects comply --------------------------------------------------------------


def test_objects_of_the_package_comply_with_every_rule() -> None:
    def program() -> None:
        system_role = SystemRole("system-role")
        ConcurrentNamespace("team-b", ConcurrentNamespaceArgs(namespace="team-b", system_role=system_role))

    _, run = run_program(program)
    resources = [r for r in run.registrations if r.custom]
    kinds = {cp.NAMESPACE, cp.CLUSTER_ROLE, cp.ROLE_BINDING, cp.CLUSTER_ROLE_BINDING}
    assert {r.type for r in resources} >= kinds
    for resource in resources:
        for policy_rule in cp.RESOURCE_RULES:
            assert policy_rule.check(resource.type, resource.inputs, resource.protect, NO_CONFIG) == [], (
                policy_rule.name,
                resource.name,
            )
    stack_resources = [cp.StackResource(r.type, r.inputs, r.urn) for r in resources]
    assert cp.user_binding_roles_read_only(stack_resources) == []


def test_unprotected_namespace_of_the_package_is_caught() -> None:
    _, run = run_program(
        lambda: ConcurrentNamespace("team-b", ConcurrentNamespaceArgs(namespace="team-b", protect=False))
    )
    [ns] = run.of_type(cp.NAMESPACE)
    assert len(cp.managed_namespaces_protected(ns.type, ns.inputs, ns.protect, NO_CONFIG)) == 1


# ---- the policies the pack serves --------------------------------------------------------------------


def test_policies_have_names_descriptions_and_mandatory_enforcement() -> None:
    policies = cp.build_policies()
    names = [policy.name for policy in policies]
    assert names == [r.name for r in cp.RESOURCE_RULES] + [cp.STACK_RULE_NAME]
    assert len(set(names)) == len(names)
    for policy in policies:
        assert policy.name and policy.description
        assert policy.enforcement_level == EnforcementLevel.MANDATORY
    [namespaces_policy] = [p for p in policies if p.name == "managed-namespaces-protected"]
    assert "unprotectedNamespaces" in namespaces_policy.config_schema.properties


def options(protect: bool) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def test_resource_policy_reports_through_the_engine_callback_with_config() -> None:
    [policy] = [p for p in cp.build_policies() if p.name == "managed-namespaces-protected"]
    assert isinstance(policy, ResourceValidationPolicy)
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    props = unknown_checking_proxy(namespace("team-b"))
    for config, count in (({}, 1), ({"unprotectedNamespaces": ["team-b"]}, 0)):
        reported.clear()
        args = ResourceValidationArgs(cp.NAMESPACE, props, "urn:ns", "ns", options(False), None, config)
        policy.validate(args, report)
        assert len(reported) == count


def test_stack_policy_reports_the_binding_urn() -> None:
    [policy] = [p for p in cp.build_policies() if p.name == cp.STACK_RULE_NAME]
    assert isinstance(policy, StackValidationPolicy)
    resource = PolicyResource(
        cp.ROLE_BINDING,
        unknown_checking_proxy(
            binding("e", "ClusterRole", "edit", [sa(NAMES.user_service_account)], "team-b")
        ),
        "urn:binding",
        "e",
        options(False),
        None,
        None,
        [],
        {},
    )
    reported: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    policy.validate(StackValidationArgs([resource]), report)
    assert [urn for _, urn in reported] == ["urn:binding"]


def test_pack_serves_the_policies_over_the_analyzer_protocol(tmp_path: Path) -> None:
    """Run ``policy/__main__.py`` as the Pulumi CLI does and talk to it like the engine."""
    import grpc  # type: ignore[import-untyped]
    from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    pack = Path(__file__).resolve().parent.parent / "policy"
    process = subprocess.Popen([sys.executable, str(pack)], stdout=subprocess.PIPE, cwd=tmp_path)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == cp.PACK_NAME
            assert {p.name for p in info.policies} == {p.name for p in cp.build_policies()}
            assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}

            props = struct_pb2.Struct()
            props.update(namespace("team-b"))
            request = analyzer_pb2.AnalyzeRequest(
                type=cp.NAMESPACE,
                properties=props,
                urn="urn:pulumi:dev::concurrent-infra::kubernetes:core/v1:Namespace::team-b-namespace",
                name="team-b-namespace",
                options=analyzer_pb2.AnalyzerResourceOptions(protect=False),
            )
            [diagnostic] = analyzer.Analyze(request, timeout=30).diagnostics
            assert diagnostic.policyName == "managed-namespaces-protected"
            assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY

            config = struct_pb2.Struct()
            config.update({"unprotectedNamespaces": ["team-b"]})
            analyzer.Configure(
                analyzer_pb2.ConfigureAnalyzerRequest(
                    policyConfig={
                        "managed-namespaces-protected": analyzer_pb2.PolicyConfig(properties=config),
                    }
                ),
                timeout=30,
            )
            assert list(analyzer.Analyze(request, timeout=30).diagnostics) == []
    finally:
        process.kill()
        process.wait()
