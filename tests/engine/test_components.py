"""The components under Pulumi's mock engine: names, rules, subjects, wiring and options."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from concurrent_infra import ConcurrentNamespace, ConcurrentNamespaceArgs, SystemRole
from concurrent_infra.kube.guardrails import guard_token, probe_expression
from concurrent_infra.kube.labels import COMMON_LABELS
from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, PolicyRule
from tests.support.mocks import Run, resolve, run_program

NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def wire_rules(rules: tuple[PolicyRule, ...]) -> list[dict[str, list[str]]]:
    """Rules as the engine receives them (camelCase field names)."""
    return [
        {"apiGroups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
        for r in rules
    ]


def namespace_run(**kwargs: Any) -> tuple[ConcurrentNamespace, Run]:
    args: ConcurrentNamespaceArgs = {"namespace": "parallelsns", **kwargs}  # type: ignore[typeddict-item]
    return run_program(lambda: ConcurrentNamespace("parallelsns", args))


def test_system_role_objects_rules_and_binding() -> None:
    _, run = run_program(lambda: SystemRole("system-role", {}))
    component = run.of_type("concurrent-infra:index:SystemRole")[0]
    role = run.named(CLUSTER_ROLE, "k8s-role-for-parallels-lambda")
    binding = run.named(CLUSTER_ROLE_BINDING, "k8s-role-for-parallels-lambda-binding")
    assert role.inputs["rules"] == wire_rules(SYSTEM_RULES)
    assert binding.inputs["roleRef"] == {
        "apiGroup": RBAC_API_GROUP,
        "kind": "ClusterRole",
        "name": "k8s-role-for-parallels-lambda",
    }
    assert binding.inputs["subjects"] == [
        {"kind": "Group", "name": "k8s-role-for-parallels-lambda-group", "apiGroup": RBAC_API_GROUP}
    ]
    assert role.urn in binding.dependencies
    assert {role.parent, binding.parent} == {component.urn}
    assert (role.name, binding.name) == ("system-role-cluster-role", "system-role-cluster-role-binding")
    assert len(run.registrations) == 5  # the component, role, binding, namespace guard and its binding


def test_system_role_extra_users_and_groups() -> None:
    _, run = run_program(
        lambda: SystemRole(
            "sr", {"extra_users": ["ctrl@proj.iam.gserviceaccount.com"], "extra_groups": ["ops@example.com"]}
        )
    )
    subjects = run.of_type(CLUSTER_ROLE_BINDING)[0].inputs["subjects"]
    assert subjects[1:] == [
        {"kind": "User", "name": "ctrl@proj.iam.gserviceaccount.com", "apiGroup": RBAC_API_GROUP},
        {"kind": "Group", "name": "ops@example.com", "apiGroup": RBAC_API_GROUP},
    ]


def test_namespace_objects_have_the_reference_names() -> None:
    _, run = namespace_run()
    found = {(r.type, r.k8s_name, r.k8s_namespace) for r in run.registrations if r.custom}
    assert found == {
        (NAMESPACE, "parallelsns", None),
        (SERVICE_ACCOUNT, "k8s-serviceaccount-for-parallels-parallelsns", "parallelsns"),
        (ROLE_BINDING, "k8s-service-account-binding-parallelsns", "parallelsns"),
        (CLUSTER_ROLE, "k8s-role-for-users-parallelsns", None),
        (SERVICE_ACCOUNT, "k8s-serviceaccount-for-users-parallelsns", "parallelsns"),
        (ROLE_BINDING, "k8s-serviceaccount-for-users-parallelsns-binding", "parallelsns"),
    }


def test_namespace_bindings_subjects_and_role_refs() -> None:
    _, run = namespace_run()
    system = run.named(ROLE_BINDING, "k8s-service-account-binding-parallelsns")
    user = run.named(ROLE_BINDING, "k8s-serviceaccount-for-users-parallelsns-binding")
    assert system.inputs["roleRef"] == {
        "apiGroup": RBAC_API_GROUP,
        "kind": "ClusterRole",
        "name": "k8s-role-for-parallels-lambda",
    }
    assert system.inputs["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "k8s-serviceaccount-for-parallels-parallelsns",
            "namespace": "parallelsns",
        }
    ]
    assert user.inputs["roleRef"] == {
        "apiGroup": RBAC_API_GROUP,
        "kind": "ClusterRole",
        "name": "k8s-role-for-users-parallelsns",
    }
    assert user.inputs["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "k8s-serviceaccount-for-users-parallelsns",
            "namespace": "parallelsns",
        }
    ]
    assert run.named(CLUSTER_ROLE, "k8s-role-for-users-parallelsns").inputs["rules"] == wire_rules(USER_RULES)
    assert not run.of_type(CLUSTER_ROLE_BINDING), "a namespace must never bind anything cluster-wide"


def test_bindings_depend_on_what_they_bind() -> None:
    _, run = run_program(
        lambda: ConcurrentNamespace(
            "ns", {"namespace": "ns", "system_role_name": SystemRole("sr", {}).cluster_role_name}
        )
    )
    system_cluster_role = run.named(CLUSTER_ROLE, "k8s-role-for-parallels-lambda")
    system_sa = run.named(SERVICE_ACCOUNT, "k8s-serviceaccount-for-parallels-ns")
    user_sa = run.named(SERVICE_ACCOUNT, "k8s-serviceaccount-for-users-ns")
    user_role = run.named(CLUSTER_ROLE, "k8s-role-for-users-ns")
    namespace = run.named(NAMESPACE, "ns")
    assert set(run.named(ROLE_BINDING, "k8s-service-account-binding-ns").dependencies) >= {
        system_sa.urn,
        system_cluster_role.urn,
        namespace.urn,
    }
    assert set(run.named(ROLE_BINDING, "k8s-serviceaccount-for-users-ns-binding").dependencies) >= {
        user_sa.urn,
        user_role.urn,
        namespace.urn,
    }
    assert namespace.urn in system_sa.dependencies and namespace.urn in user_sa.dependencies


def test_every_object_has_the_common_labels_and_an_explicit_name() -> None:
    _, run = namespace_run(labels={"team": "ml"}, annotations={"owner": "me"})
    for registration in run.registrations:
        if registration.custom:
            assert registration.k8s_name, registration.name
            assert registration.inputs["metadata"]["labels"].items() >= COMMON_LABELS.items()
    namespace = run.named(NAMESPACE, "parallelsns")
    assert namespace.inputs["metadata"]["labels"]["team"] == "ml"
    assert namespace.inputs["metadata"]["annotations"] == {"owner": "me"}


def test_children_are_parented_and_named_from_the_component() -> None:
    _, run = namespace_run()
    component = run.of_type("concurrent-infra:index:ConcurrentNamespace")[0]
    for registration in run.registrations:
        if registration.custom:
            assert registration.parent == component.urn
            assert registration.name.startswith("parallelsns-")


def test_namespace_is_protected_and_retained_by_default() -> None:
    _, run = namespace_run()
    namespace = run.named(NAMESPACE, "parallelsns")
    assert namespace.protect and namespace.retain_on_delete
    others = [r for r in run.registrations if r.type != NAMESPACE]
    assert len(others) == 6 and all(r.protect for r in others), "the component and all its objects"
    assert not any(r.retain_on_delete for r in others)


def test_protection_is_an_explicit_opt_out() -> None:
    _, run = namespace_run(protect=False)
    namespace = run.named(NAMESPACE, "parallelsns")
    assert not namespace.protect and not namespace.retain_on_delete
    assert not any(r.protect for r in run.registrations)


def test_a_provider_passed_to_a_component_reaches_every_child() -> None:
    def program() -> None:
        provider = k8s.Provider("target", context="other-cluster")
        opts = pulumi.ResourceOptions(provider=provider)
        SystemRole("sr", {}, opts)
        ConcurrentNamespace("ns", {"namespace": "ns"}, opts)

    _, run = run_program(program)
    provider_urn = run.of_type("pulumi:providers:kubernetes")[0].urn
    children = [r for r in run.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert len(children) == 10  # role, binding, the namespace guard and its binding, six namespace objects
    assert all(r.provider.startswith(provider_urn + "::") for r in children)


def test_outputs_resolve_to_the_names() -> None:
    component, _ = namespace_run()
    assert resolve(component.namespace_name) == "parallelsns"
    assert resolve(component.system_service_account_name) == "k8s-serviceaccount-for-parallels-parallelsns"
    assert resolve(component.user_service_account_name) == "k8s-serviceaccount-for-users-parallelsns"
    role, _ = run_program(lambda: SystemRole("sr", {}))
    assert resolve(role.cluster_role_name) == "k8s-role-for-parallels-lambda"


def test_an_invalid_namespace_is_refused_before_anything_is_registered() -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        run_program(lambda: ConcurrentNamespace("bad", {"namespace": "Bad_Name"}))


def test_the_narrower_option_binds_the_system_group_in_each_namespace_only() -> None:
    def program() -> None:
        role = SystemRole("sr", {"cluster_wide_binding": False})
        ConcurrentNamespace(
            "ns",
            {
                "namespace": "ns",
                "system_role_name": role.cluster_role_name,
                "namespaced_system_binding": {"users": ["ctrl@proj.iam.gserviceaccount.com"]},
            },
        )

    _, run = run_program(program)
    assert not run.of_type(CLUSTER_ROLE_BINDING), "no cluster-wide binding in the narrower option"
    binding = run.named(ROLE_BINDING, "k8s-role-for-parallels-lambda-binding")
    assert binding.k8s_namespace == "ns"
    assert binding.inputs["roleRef"]["name"] == "k8s-role-for-parallels-lambda"
    assert binding.inputs["subjects"] == [
        {"kind": "Group", "name": "k8s-role-for-parallels-lambda-group", "apiGroup": RBAC_API_GROUP},
        {"kind": "User", "name": "ctrl@proj.iam.gserviceaccount.com", "apiGroup": RBAC_API_GROUP},
    ]


def test_the_guard_holds_back_service_accounts_and_the_system_roles_subjects() -> None:
    _, run = run_program(
        lambda: SystemRole(
            "sr", {"cluster_wide_binding": False, "extra_users": ["ctrl@p.iam.gserviceaccount.com"]}
        )
    )
    assert not run.of_type(CLUSTER_ROLE_BINDING)
    policy = run.of_type("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")[0]
    (condition,) = policy.inputs["spec"]["matchConditions"]
    assert condition["expression"] == (
        "(request.userInfo.username.startsWith('system:serviceaccount:') && "
        "!request.userInfo.username.startsWith('system:serviceaccount:kube-system:'))"
        ' || request.userInfo.username in ["ctrl@p.iam.gserviceaccount.com"]'
        " || (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in "
        '["k8s-role-for-parallels-lambda-group"]))'
        f" || {probe_expression(guard_token(['ctrl@p.iam.gserviceaccount.com']))}"
    )


@pytest.mark.parametrize("user", ["system:masters", "system:serviceaccount:team-a:default"])
def test_the_namespaced_binding_refuses_kubernetes_identities(user: str) -> None:
    with pytest.raises(ValueError, match=r"namespaced_system_binding\.users"):
        run_program(
            lambda: ConcurrentNamespace(
                "ns", {"namespace": "ns", "namespaced_system_binding": {"users": [user]}}
            )
        )


def test_the_system_binding_names_the_system_role_whatever_output_is_passed() -> None:
    _, run = run_program(
        lambda: ConcurrentNamespace(
            "ns", {"namespace": "ns", "system_role_name": pulumi.Output.from_input("cluster-admin")}
        )
    )
    binding = run.named(ROLE_BINDING, "k8s-service-account-binding-ns")
    assert binding.inputs["roleRef"]["name"] == "k8s-role-for-parallels-lambda"
