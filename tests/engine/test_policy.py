"""The policy pack as a whole: the policies it serves, the package's own objects against every
rule, each bypass of issue 8 stopped, and the documentation of every rule and config key.

The rules themselves are tested one by one in test_policy_rbac.py, test_policy_gke.py and
test_policy_namespaces_tenancy.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
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

from concurrent_infra.kube.names import namespace_object_names
from concurrent_infra.kube.namespace import ConcurrentNamespace
from concurrent_infra.kube.system_role import SystemRole
from policy.concurrent_infra_policy import PACK_NAME
from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.pack import build_policies, plain
from policy.concurrent_infra_policy.rule import StackResource
from policy.concurrent_infra_policy.rules import RESOURCE_RULES, STACK_RULES, Violation, check_stack
from tests.support.mocks import run_program
from tests.support.policy_objects import (
    GKE_MANAGED,
    WORKER,
    binding,
    group,
    hardened_cluster,
    namespace,
    pool,
    role,
    rule,
    sa,
    user,
)

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy"
TEAM_A = namespace_object_names("team-a")
RULE_NAMES = [r.name for r in RESOURCE_RULES] + [r.name for r in STACK_RULES]
POLICIES_BEFORE_THE_SPLIT = {
    "no-cluster-wide-service-account-grants",
    "user-roles-read-only",
    "no-wildcards-in-managed-roles",
    "managed-namespaces-protected",
    "gke-cluster-hardened",
    "gke-node-pools-tainted",
    "user-bindings-read-only",
}


# ---- the package's objects (the only place the tests build components) --------------------------


def package_stack(**namespace_args: Any) -> list[StackResource]:
    """SystemRole and ConcurrentNamespace team-a, as the mock engine registers them."""

    def program() -> None:
        system_role = SystemRole("system-role", {})
        args: Any = {
            "namespace": "team-a",
            "system_role_name": system_role.cluster_role_name,
            **namespace_args,
        }
        ConcurrentNamespace("team-a", args)

    _, run = run_program(program)
    return [StackResource(r.type, r.inputs, r.urn, r.protect) for r in run.registrations if r.custom]


def policies_of(violations: list[Violation]) -> set[str]:
    return {violation.policy for violation in violations}


def test_the_package_objects_comply_with_every_rule() -> None:
    resources = package_stack()
    kinds = {p.NAMESPACE, p.CLUSTER_ROLE, p.ROLE_BINDING, p.CLUSTER_ROLE_BINDING, p.SERVICE_ACCOUNT}
    assert {r.resource_type for r in resources} >= kinds
    assert check_stack(resources) == []


def test_the_stack_programs_objects_comply_with_every_rule() -> None:
    from concurrent_infra.program.stack import main

    config = {
        "concurrent-infra:namespaces": json.dumps(["team-a", {"name": "team-b", "networkIsolation": True}])
    }
    _, run = run_program(main, config)
    resources = [StackResource(r.type, r.inputs, r.urn, r.protect) for r in run.registrations if r.custom]
    assert {p.NAMESPACE, p.ROLE_BINDING} <= {r.resource_type for r in resources}
    assert check_stack(resources) == []


def test_the_narrower_system_role_scope_complies_with_every_rule() -> None:
    from concurrent_infra.program.stack import main

    config = {
        "concurrent-infra:namespaces": json.dumps(["team-a", "team-b"]),
        "concurrent-infra:systemRoleScope": "namespaces",
        "concurrent-infra:systemRoleUsers": json.dumps(["ctrl@my-project.iam.gserviceaccount.com"]),
    }
    _, run = run_program(main, config)
    resources = [StackResource(r.type, r.inputs, r.urn, r.protect) for r in run.registrations if r.custom]
    assert p.CLUSTER_ROLE_BINDING not in {r.resource_type for r in resources}
    assert check_stack(resources) == []


def test_the_package_objects_with_workload_identity_comply() -> None:
    email = "team-a@my-project.iam.gserviceaccount.com"
    resources = package_stack(workload_identity={"google_service_account": email, "project": "my-project"})
    annotated = [
        r for r in resources if p.annotations_of(r.props).get("iam.gke.io/gcp-service-account") == email
    ]
    assert [p.name(r.props) for r in annotated] == [TEAM_A.user_service_account]
    [grant] = [r for r in resources if r.resource_type == p.SERVICE_ACCOUNT_IAM_MEMBER]
    assert grant.props["role"] == "roles/iam.workloadIdentityUser"  # escalating, but this grant is allowed
    assert check_stack(resources) == []


def test_a_dind_namespace_of_the_package_needs_both_allowances() -> None:
    resources = package_stack(pod_security="privileged", dind=True)
    assert policies_of(check_stack(resources)) == {
        "managed-namespaces-pod-security",
        "dind-only-where-allowed",
    }
    config = {
        "managed-namespaces-pod-security": {"privilegedNamespaces": ["team-a"]},
        "dind-only-where-allowed": {"dindNamespaces": ["team-a"]},
    }
    assert check_stack(resources, config) == []


def test_an_unprotected_namespace_of_the_package_is_caught() -> None:
    violations = check_stack(package_stack(protect=False))
    assert policies_of(violations) == {"managed-namespaces-protected"}


# ---- every bypass of issue 8 stops the stack ---------------------------------------------------------


def extra_binding(
    role_kind: str, role_name: str, subjects: list[dict[str, str]], ns: str | None = "team-a"
) -> dict[str, Any]:
    return binding("extra", role_kind, role_name, subjects, ns)


BYPASSES: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "RoleBinding of Group system:serviceaccounts:team-a to admin": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "admin", [group("system:serviceaccounts:team-a")]),
        {"service-accounts-bound-by-name"},
    ),
    "ClusterRoleBinding to Group system:authenticated": (
        p.CLUSTER_ROLE_BINDING,
        extra_binding("ClusterRole", "view", [group("system:authenticated")], None),
        {"no-cluster-wide-system-subjects"},
    ),
    "system role bound to User system:anonymous": (
        p.CLUSTER_ROLE_BINDING,
        extra_binding("ClusterRole", "k8s-role-for-parallels-lambda", [user("system:anonymous")], None),
        {"no-cluster-wide-system-subjects", "system-role-bound-only-by-the-package"},
    ),
    "ClusterRoleBinding to User system:serviceaccount:team-a:...": (
        p.CLUSTER_ROLE_BINDING,
        extra_binding(
            "ClusterRole", "view", [user(f"system:serviceaccount:team-a:{TEAM_A.user_service_account}")], None
        ),
        {"no-cluster-wide-service-account-grants"},
    ),
    "user service account as a User, bound to another role": (
        p.ROLE_BINDING,
        extra_binding(
            "ClusterRole", "edit", [user(f"system:serviceaccount:team-a:{TEAM_A.user_service_account}")]
        ),
        {"service-accounts-bound-by-name", "user-bindings-read-only"},
    ),
    "user service account bound to a read-only role of its own choosing": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "view", [sa(TEAM_A.user_service_account, "team-a")]),
        {"user-bindings-read-only"},
    ),
    "user role with get on pods/exec": (
        p.CLUSTER_ROLE + "Patch",
        role(
            TEAM_A.user_cluster_role, [rule([""], ["pods/exec", "pods/attach", "pods/portforward"], ["get"])]
        ),
        {"user-roles-read-only"},
    ),
    "user role with get on nodes/proxy": (
        p.CLUSTER_ROLE,
        role("k8s-role-for-users-team-z", [rule([""], ["nodes/proxy"], ["get"])]),
        {"user-roles-read-only"},
    ),
    "package system service account bound in another namespace": (
        p.ROLE_BINDING,
        extra_binding(
            "ClusterRole",
            "k8s-role-for-parallels-lambda",
            [sa(TEAM_A.system_service_account, "team-a")],
            "team-c",
        ),
        {"package-service-accounts-in-own-namespace", "system-role-bound-only-by-the-package"},
    ),
    "the same bypasses inside a RoleBindingList": (
        p.ROLE_BINDING + "List",
        {
            "metadata": {"name": "bundle"},
            "items": [
                extra_binding("ClusterRole", "admin", [group("system:serviceaccounts:team-a")]),
                extra_binding("ClusterRole", "admin", [sa(TEAM_A.user_service_account, "team-a")], "team-c"),
            ],
        },
        {
            "service-accounts-bound-by-name",
            "package-service-accounts-in-own-namespace",
            "user-bindings-read-only",
        },
    ),
    "ClusterRoleBindingList to system:masters": (
        p.CLUSTER_ROLE_BINDING + "List",
        {
            "metadata": {"name": "bundle"},
            "items": [extra_binding("ClusterRole", "view", [group("system:masters")], None)],
        },
        {"no-cluster-wide-system-subjects"},
    ),
    "ClusterRoleList with an exec user role": (
        p.CLUSTER_ROLE + "List",
        {
            "metadata": {"name": "bundle"},
            "items": [role(TEAM_A.user_cluster_role, [rule([""], ["pods/exec"], ["create"])])],
        },
        {"user-roles-read-only"},
    ),
    "managed namespace without Pod Security labels": (
        p.NAMESPACE,
        namespace("team-z", None),
        {"managed-namespaces-pod-security"},
    ),
    "project IAM grant of roles/owner": (
        p.PROJECT_IAM_MEMBER,
        {"project": "my-project", "role": "roles/owner", "member": "user:a@example.com"},
        {"gcp-no-primitive-or-admin-roles"},
    ),
    "control plane open to 0.0.0.0/0": (
        p.GKE_CLUSTER,
        hardened_cluster(masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}),
        {"gke-authorized-networks-not-public"},
    ),
    "node pool exposing the node metadata": (
        p.GKE_NODE_POOL,
        pool("cpu", WORKER, mode="GCE_METADATA"),
        {"gke-nodes-use-gke-metadata"},
    ),
    "untainted node pool": (p.GKE_NODE_POOL, pool("extra"), {"gke-node-pools-tainted"}),
    "GPU pool without the GPU taint": (
        p.GKE_NODE_POOL,
        pool("gpu", WORKER, gpus=1),
        {"gke-gpu-pools-tainted"},
    ),
}


@pytest.mark.parametrize("bypass", list(BYPASSES))
def test_each_bypass_of_issue_8_is_a_violation(bypass: str) -> None:
    resource_type, props, expected = BYPASSES[bypass]
    resources = [*package_stack(), StackResource(resource_type, props, "urn:bypass", protect=True)]
    violations = check_stack(resources)
    assert policies_of(violations) == expected
    assert {violation.urn for violation in violations} == {"urn:bypass"}


# ---- every policy bypass of the attacker review stops the stack ---------------------------------------

REVIEW_BYPASSES: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "2: system service account bound to cluster-admin in its own namespace": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "cluster-admin", [sa(TEAM_A.system_service_account, "team-a")]),
        {"system-bindings-system-role-only"},
    ),
    "2: RoleBinding of Group system:authenticated to admin": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "admin", [group("system:authenticated")]),
        {"no-bindings-to-everyone"},
    ),
    "2: RoleBinding of Group system:unauthenticated to admin": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "admin", [group("system:unauthenticated")]),
        {"no-bindings-to-everyone"},
    ),
    "2: RoleBinding of User system:anonymous to admin": (
        p.ROLE_BINDING,
        extra_binding("ClusterRole", "admin", [user("system:anonymous")]),
        {"no-bindings-to-everyone"},
    ),
    **{
        f"3: project grant of {role}": (
            p.PROJECT_IAM_MEMBER,
            {"project": "p", "role": role, "member": "serviceAccount:a@p.iam.gserviceaccount.com"},
            {"gcp-no-primitive-or-admin-roles"},
        )
        for role in (
            "roles/iam.serviceAccountTokenCreator",
            "roles/compute.instanceAdmin.v1",
            "roles/container.developer",
            "roles/iam.serviceAccountUser",
            "roles/iam.serviceAccountKeyAdmin",
        )
    },
    "3: organization grant of roles/owner": (
        "gcp:organizations/iAMMember:IAMMember",
        {"orgId": "1", "role": "roles/owner", "member": "user:x@example.com"},
        {"gcp-no-primitive-or-admin-roles"},
    ),
    "3: folder grant of roles/owner": (
        "gcp:folder/iAMMember:IAMMember",
        {"folder": "folders/1", "role": "roles/owner", "member": "user:x@example.com"},
        {"gcp-no-primitive-or-admin-roles"},
    ),
    "3: bucket grant of roles/storage.admin": (
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {"bucket": "b", "role": "roles/storage.admin", "member": "user:x@example.com"},
        {"gcp-no-primitive-or-admin-roles"},
    ),
    "3: workloadIdentityUser on a Google service account for the system service account": (
        p.SERVICE_ACCOUNT_IAM_MEMBER,
        {
            "serviceAccountId": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com",
            "role": "roles/iam.workloadIdentityUser",
            "member": f"serviceAccount:p.svc.id.goog[team-a/{TEAM_A.system_service_account}]",
        },
        # issue 17: the grant-to-Kubernetes rule also sees that it is not the user service account
        {"gcp-no-primitive-or-admin-roles", "workload-identity-grants-to-managed-namespaces"},
    ),
    "8: authorized networks 0.0.0.0/1 and 128.0.0.0/1": (
        p.GKE_CLUSTER,
        hardened_cluster(
            masterAuthorizedNetworksConfig={
                "cidrBlocks": [{"cidrBlock": "0.0.0.0/1"}, {"cidrBlock": "128.0.0.0/1"}]
            }
        ),
        {"gke-authorized-networks-not-public"},
    ),
    "9: NamespacePatch removing the enforce label of a managed namespace": (
        p.NAMESPACE + "Patch",
        {"metadata": {"name": "team-a", "labels": {"pod-security.kubernetes.io/enforce": None}}},
        {"managed-namespace-labels-kept"},
    ),
    "9: NamespacePatch removing the managed-by label of a managed namespace": (
        p.NAMESPACE + "Patch",
        {"metadata": {"name": "team-a", "labels": {"app.kubernetes.io/managed-by": None}}},
        {"managed-namespace-labels-kept"},
    ),
}


@pytest.mark.parametrize("bypass", list(REVIEW_BYPASSES))
def test_each_policy_bypass_of_the_review_is_a_violation(bypass: str) -> None:
    resource_type, props, expected = REVIEW_BYPASSES[bypass]
    resources = [*package_stack(), StackResource(resource_type, props, "urn:bypass", protect=True)]
    violations = check_stack(resources)
    assert policies_of(violations) == expected
    assert {violation.urn for violation in violations} == {"urn:bypass"}


def test_the_gke_managed_components_pool_complies() -> None:
    assert check_stack([StackResource(p.GKE_NODE_POOL, pool("gke-managed", GKE_MANAGED), "urn:pool")]) == []


# ---- the policies the pack serves ----------------------------------------------------------------


def test_policies_have_names_descriptions_and_mandatory_enforcement() -> None:
    policies = build_policies()
    names = [policy.name for policy in policies]
    assert names == RULE_NAMES and len(set(names)) == len(names)
    assert set(names) >= POLICIES_BEFORE_THE_SPLIT
    for policy in policies:
        assert policy.name and policy.description
        assert policy.enforcement_level == EnforcementLevel.MANDATORY
    schemas = {
        policy.name: set(policy.config_schema.properties) for policy in policies if policy.config_schema
    }
    assert schemas == {
        "managed-namespaces-protected": {"unprotectedNamespaces"},
        "managed-namespaces-pod-security": {"privilegedNamespaces"},
        "gke-node-pools-tainted": {"untaintedNodePools"},
        "gcp-no-primitive-or-admin-roles": {"allowedProjectRoles"},
        "dind-only-where-allowed": {"dindNamespaces"},
        "workload-identity-grants-to-managed-namespaces": {"workloadIdentityPools"},
    }


def options(protect: bool) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def test_resource_policy_reports_through_the_engine_callback_with_config() -> None:
    [policy] = [p for p in build_policies() if p.name == "managed-namespaces-protected"]
    assert isinstance(policy, ResourceValidationPolicy)
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    props = unknown_checking_proxy(namespace("team-b"))
    for config, count in (({}, 1), ({"unprotectedNamespaces": ["team-b"]}, 0)):
        reported.clear()
        args = ResourceValidationArgs(p.NAMESPACE, props, "urn:ns", "ns", options(False), None, config)
        policy.validate(args, report)
        assert len(reported) == count


def test_stack_policy_reports_the_resource_urn_with_config() -> None:
    [policy] = [p for p in build_policies() if p.name == "dind-only-where-allowed"]
    assert isinstance(policy, StackValidationPolicy)
    deployment = {
        "metadata": {"name": "docker-dind", "namespace": "team-b"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "d", "securityContext": {"privileged": True}}]}}
        },
    }
    resource = PolicyResource(
        p.DEPLOYMENT, unknown_checking_proxy(deployment), "urn:dind", "d", options(False), None, None, [], {}
    )
    reported: list[str | None] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(urn)

    for config, urns in (({}, ["urn:dind"]), ({"dindNamespaces": ["team-b"]}, [])):
        reported.clear()
        policy.validate(StackValidationArgs([resource], config), report)
        assert reported == urns


def test_plain_turns_unknown_values_into_unknown() -> None:
    props = unknown_checking_proxy(
        {"metadata": {"name": "n", "namespace": UNKNOWN_STRING_VALUE}, "list": [UNKNOWN_BOOLEAN_VALUE, 1]}
    )
    assert plain(props) == {"metadata": {"name": "n", "namespace": p.UNKNOWN}, "list": [p.UNKNOWN, 1]}


def test_the_pack_project_file_is_valid_and_uses_the_project_virtualenv() -> None:
    import yaml

    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert isinstance(project["description"], str) and project["description"]
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}


def test_the_entry_point_is_tiny_and_leaves_the_import_path_alone() -> None:
    source = (PACK / "__main__.py").read_text()
    assert "sys.path" not in source and "import sys" not in source
    assert len([line for line in source.splitlines() if line and not line.startswith("#")]) <= 4


def test_pack_serves_the_policies_over_the_analyzer_protocol(tmp_path: Path) -> None:
    """Run ``python policy`` as the Pulumi CLI does (from another directory) and talk to it like the
    engine: the pack finds concurrent_infra installed in the virtualenv, not through sys.path edits."""
    import grpc  # type: ignore[import-untyped]
    from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    process = subprocess.Popen([sys.executable, str(PACK)], stdout=subprocess.PIPE, cwd=tmp_path)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == PACK_NAME
            assert [policy.name for policy in info.policies] == RULE_NAMES
            assert {policy.enforcementLevel for policy in info.policies} == {analyzer_pb2.MANDATORY}

            props = struct_pb2.Struct()
            props.update(namespace("team-b", "privileged"))
            request = analyzer_pb2.AnalyzeRequest(
                type=p.NAMESPACE,
                properties=props,
                urn="urn:pulumi:dev::concurrent-infra::kubernetes:core/v1:Namespace::team-b-namespace",
                name="team-b-namespace",
                options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
            )
            [diagnostic] = analyzer.Analyze(request, timeout=30).diagnostics
            assert diagnostic.policyName == "managed-namespaces-pod-security"
            assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY

            config = struct_pb2.Struct()
            config.update({"privilegedNamespaces": ["team-b"]})
            analyzer.Configure(
                analyzer_pb2.ConfigureAnalyzerRequest(
                    policyConfig={
                        "managed-namespaces-pod-security": analyzer_pb2.PolicyConfig(properties=config)
                    }
                ),
                timeout=30,
            )
            assert list(analyzer.Analyze(request, timeout=30).diagnostics) == []
    finally:
        process.kill()
        process.wait()


# ---- documentation -------------------------------------------------------------------------------


def test_config_example_documents_every_config_key_and_only_those() -> None:
    example: Mapping[str, Any] = json.loads((PACK / "config.example.json").read_text())
    documented = {
        (policy, key)
        for policy, value in example.items()
        if isinstance(value, dict)
        for key in value
        if key != "enforcementLevel"
    }
    expected = {(r.name, key.name) for r in RESOURCE_RULES for key in r.config_keys}
    expected |= {(r.name, key.name) for r in STACK_RULES for key in r.config_keys}
    assert documented == expected
    assert set(example) - {"all"} <= set(RULE_NAMES)


def test_readme_lists_every_policy() -> None:
    readme = (ROOT / "docs" / "policy-pack.md").read_text()
    missing = [name for name in RULE_NAMES if f"`{name}`" not in readme]
    assert missing == []
