"""RBAC rules of the policy pack, and the RBAC bypasses of issue 8 (pure functions over props)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from concurrent_infra.kube.labels import with_common_labels
from concurrent_infra.kube.names import (
    RESERVED_NAMESPACES,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, PolicyRule
from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.rule import StackResource
from policy.concurrent_infra_policy.rules import rbac
from tests.support.policy_objects import binding, group, role, rule, sa, user

NAMES = namespace_object_names("team-b")
OTHER = namespace_object_names("team-c")
NO_CONFIG: dict[str, Any] = {}
CRB, RB, CR, R = p.CLUSTER_ROLE_BINDING, p.ROLE_BINDING, p.CLUSTER_ROLE, p.ROLE


def camel_rules(rules: Sequence[PolicyRule]) -> list[dict[str, list[str]]]:
    """Rules as the engine passes them to the pack (camelCase, as the provider's schema names them)."""
    return [
        {"apiGroups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
        for r in rules
    ]


def check(
    policy: str, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] = NO_CONFIG
) -> list[str]:
    [found] = [r for r in rbac.RULES if r.name == policy]
    return found.check(resource_type, props, False, config)


def package_bindings() -> list[tuple[str, dict[str, Any]]]:
    """The bindings ConcurrentNamespace and SystemRole create for team-b (as plain props)."""
    return [
        (
            CRB,
            binding(SYSTEM_CLUSTER_ROLE_BINDING, "ClusterRole", SYSTEM_CLUSTER_ROLE, [group(SYSTEM_GROUP)]),
        ),
        (
            RB,
            binding(
                NAMES.system_role_binding,
                "ClusterRole",
                SYSTEM_CLUSTER_ROLE,
                [sa(NAMES.system_service_account)],
                "team-b",
            ),
        ),
        (
            RB,
            binding(
                NAMES.user_role_binding,
                "ClusterRole",
                NAMES.user_cluster_role,
                [sa(NAMES.user_service_account)],
                "team-b",
            ),
        ),
    ]


def every_violation(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    return [message for r in rbac.RULES for message in r.check(resource_type, props, False, NO_CONFIG)]


# ---- names and subjects ----------------------------------------------------------------------------


def test_prefixes_come_from_names_py() -> None:
    assert NAMES.user_cluster_role == rbac.USER_ROLE_PREFIX + "team-b"
    assert NAMES.user_service_account == rbac.USER_SERVICE_ACCOUNT_PREFIX + "team-b"
    assert NAMES.system_service_account == rbac.SYSTEM_SERVICE_ACCOUNT_PREFIX + "team-b"


@pytest.mark.parametrize(
    ("subject", "accounts", "package"),
    [
        (sa(NAMES.user_service_account), ("team-b", NAMES.user_service_account), "user"),
        (
            user(f"system:serviceaccount:team-b:{NAMES.user_service_account}"),
            ("team-b", NAMES.user_service_account),
            "user",
        ),
        (
            user(f"system:serviceaccount:team-b:{NAMES.system_service_account}"),
            ("team-b", NAMES.system_service_account),
            "system",
        ),
        (group("system:serviceaccounts:team-b"), ("team-b", None), None),
        (group("system:serviceaccounts"), (None, None), None),
        (sa(NAMES.user_service_account, "team-c"), ("team-c", NAMES.user_service_account), None),
    ],
)
def test_subjects_are_normalised_to_the_service_accounts_they_name(
    subject: dict[str, str], accounts: tuple[str | None, str | None], package: str | None
) -> None:
    [found] = rbac.subjects({"subjects": [subject]}, "team-b")
    assert found.names_service_accounts
    assert found.service_accounts == accounts
    assert found.package_service_account == package


def test_service_account_subject_without_namespace_takes_the_bindings() -> None:
    [found] = rbac.subjects({"subjects": [{"kind": "ServiceAccount", "name": "x"}]}, "team-b")
    assert found.service_accounts == ("team-b", "x")


def test_the_package_bindings_comply_with_every_rbac_rule() -> None:
    for resource_type, props in package_bindings():
        assert every_violation(resource_type, props) == []


# ---- no-cluster-wide-service-account-grants ------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "described"),
    [
        (sa(NAMES.user_service_account), f"ServiceAccount team-b/{NAMES.user_service_account}"),
        (group("system:serviceaccounts"), "every service account of the cluster"),
        (group("system:serviceaccounts:team-b"), "every service account of namespace team-b"),
        (user("system:serviceaccount:team-b:x"), "the service account team-b/x"),
    ],
)
def test_cluster_role_binding_to_service_account_is_a_violation(
    subject: dict[str, str], described: str
) -> None:
    props = binding("pods-reader-team-b", "ClusterRole", "pods-reader", [subject])
    for resource_type in (CRB, CRB + "Patch"):
        [message] = check("no-cluster-wide-service-account-grants", resource_type, props)
        assert described in message and "pods-reader-team-b" in message
        assert "RoleBinding in the service account's own namespace" in message


def test_role_binding_of_service_account_is_not_cluster_wide() -> None:
    _, props = package_bindings()[1]
    assert check("no-cluster-wide-service-account-grants", RB, props) == []


# ---- no-cluster-wide-system-subjects -------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        group("system:authenticated"),
        group("system:unauthenticated"),
        group("system:masters"),
        group("system:nodes"),
        user("system:anonymous"),
        user("system:kube-controller-manager"),
        {"kind": "Robot", "name": "r2"},
    ],
)
def test_cluster_role_binding_to_a_system_subject_is_a_violation(subject: dict[str, str]) -> None:
    props = binding("everyone", "ClusterRole", SYSTEM_CLUSTER_ROLE, [group(SYSTEM_GROUP), subject])
    [message] = check("no-cluster-wide-system-subjects", CRB, props)
    assert f"{subject['kind']} {subject['name']}" in message
    assert "everyone" in message and "named people or teams" in message
    # A service account subject is reported once, by the service-account rule.
    assert check("no-cluster-wide-system-subjects", CRB, binding("b", "ClusterRole", "r", [sa("x")])) == []


def test_cluster_role_binding_to_people_complies() -> None:
    props = binding("ops", "ClusterRole", "view", [user("alice@example.com"), group("ml-platform")])
    assert check("no-cluster-wide-system-subjects", CRB, props) == []


# ---- service-accounts-bound-by-name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "fix"),
    [
        (group("system:serviceaccounts:team-b"), "its own subject of kind ServiceAccount"),
        (group("system:serviceaccounts"), "its own subject of kind ServiceAccount"),
        (
            user("system:serviceaccount:team-b:runner"),
            "{kind: ServiceAccount, name: runner, namespace: team-b}",
        ),
    ],
)
def test_role_binding_to_a_service_account_written_as_user_or_group_is_a_violation(
    subject: dict[str, str], fix: str
) -> None:
    props = binding("b", "ClusterRole", "admin", [subject], "team-b")
    [message] = check("service-accounts-bound-by-name", RB, props)
    assert fix in message and "RoleBinding b in namespace team-b grants ClusterRole admin" in message


def test_role_binding_to_service_account_subjects_complies() -> None:
    props = binding("b", "Role", "runner", [sa("runner"), user("alice@example.com")], "team-b")
    assert check("service-accounts-bound-by-name", RB, props) == []


# ---- package-service-accounts-in-own-namespace ---------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        sa(NAMES.system_service_account),
        sa(NAMES.user_service_account),
        user(f"system:serviceaccount:team-b:{NAMES.system_service_account}"),
    ],
)
def test_package_service_account_bound_in_another_namespace_is_a_violation(subject: dict[str, str]) -> None:
    props = binding("borrow", "ClusterRole", "view", [subject], "team-c")
    [message] = check("package-service-accounts-in-own-namespace", RB, props)
    assert "RoleBinding borrow in namespace team-c" in message and "of namespace team-b" in message


def test_package_service_account_binding_without_namespace_is_a_violation() -> None:
    props = binding("nowhere", "ClusterRole", "view", [sa(NAMES.system_service_account)])
    [message] = check("package-service-accounts-in-own-namespace", RB, props)
    assert "provider's default namespace" in message


def test_other_service_accounts_may_be_bound_anywhere() -> None:
    props = binding("b", "ClusterRole", "view", [sa("ci-runner", "team-b")], "team-c")
    assert check("package-service-accounts-in-own-namespace", RB, props) == []


# ---- user-bindings-read-only ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_kind", "role_name"),
    [
        ("ClusterRole", "admin"),
        ("ClusterRole", "view"),
        ("Role", "reader"),
        ("ClusterRole", OTHER.user_cluster_role),
    ],
)
def test_user_service_account_bound_to_another_role_is_a_violation(role_kind: str, role_name: str) -> None:
    for subject in (
        sa(NAMES.user_service_account),
        user(f"system:serviceaccount:team-b:{NAMES.user_service_account}"),
    ):
        props = binding("extra", role_kind, role_name, [subject], "team-b")
        [message] = check("user-bindings-read-only", RB, props)
        assert f"to {role_kind} {role_name}" in message
        assert f"ClusterRole {NAMES.user_cluster_role}" in message


def test_user_service_account_bound_to_its_user_role_complies() -> None:
    _, props = package_bindings()[2]
    assert check("user-bindings-read-only", RB, props) == []
    props = binding(
        "again", "ClusterRole", NAMES.user_cluster_role, [sa(NAMES.user_service_account)], "team-b"
    )
    assert check("user-bindings-read-only", RB, props) == []


def test_user_service_account_bound_to_a_role_of_the_user_roles_name_is_a_violation() -> None:
    # Issue 17: the Role team-b/k8s-role-for-users-team-b is not the user ClusterRole; it may be
    # created outside the stack with any rules, where user-roles-read-only never sees it.
    props = binding("again", "Role", NAMES.user_cluster_role, [sa(NAMES.user_service_account)], "team-b")
    [message] = check("user-bindings-read-only", RB, props)
    assert f"to Role {NAMES.user_cluster_role} (a Role of the user role's name" in message


def test_system_service_account_is_not_a_user_service_account() -> None:
    _, props = package_bindings()[1]
    assert check("user-bindings-read-only", RB, props) == []


# ---- system-bindings-system-role-only (review finding 2) -------------------------------------------


@pytest.mark.parametrize(
    ("role_kind", "role_name"),
    [
        ("ClusterRole", "cluster-admin"),
        ("ClusterRole", "admin"),
        ("Role", SYSTEM_CLUSTER_ROLE),
        ("ClusterRole", NAMES.user_cluster_role),
    ],
)
def test_system_service_account_bound_to_another_role_is_a_violation(role_kind: str, role_name: str) -> None:
    for subject in (
        sa(NAMES.system_service_account),
        user(f"system:serviceaccount:team-b:{NAMES.system_service_account}"),
    ):
        props = binding("more", role_kind, role_name, [subject], "team-b")
        for resource_type in (RB, RB + "Patch"):
            [message] = check("system-bindings-system-role-only", resource_type, props)
            assert f"to {role_kind} {role_name}" in message
            assert f"only to ClusterRole {SYSTEM_CLUSTER_ROLE}" in message
            assert NAMES.system_role_binding in message


def test_system_service_account_bound_to_the_system_role_complies() -> None:
    _, props = package_bindings()[1]
    assert check("system-bindings-system-role-only", RB, props) == []
    others = binding(
        "b", "ClusterRole", "cluster-admin", [sa("ci"), sa(OTHER.user_service_account)], "team-b"
    )
    assert check("system-bindings-system-role-only", RB, others) == []
    unknown_role = binding("b", "ClusterRole", p.UNKNOWN, [sa(NAMES.system_service_account)], "team-b")  # type: ignore[arg-type]
    assert check("system-bindings-system-role-only", RB, unknown_role) == []
    subjects_only = {
        "metadata": {"name": "b", "namespace": "team-b"},
        "subjects": [sa(NAMES.system_service_account)],
    }
    assert check("system-bindings-system-role-only", RB + "Patch", subjects_only) == []


# ---- no-bindings-to-everyone (review finding 2) ----------------------------------------------------


@pytest.mark.parametrize(
    "subject", [group("system:authenticated"), group("system:unauthenticated"), user("system:anonymous")]
)
def test_role_binding_to_everyone_is_a_violation(subject: dict[str, str]) -> None:
    props = binding("open", "ClusterRole", "admin", [sa("ci"), subject], "team-b")
    for resource_type in (RB, RB + "Patch", RB + "List"):
        in_list = {"metadata": {"name": "l"}, "items": [props]}
        [message] = check(
            "no-bindings-to-everyone", resource_type, in_list if "List" in resource_type else props
        )
        assert (
            f"RoleBinding open in namespace team-b grants ClusterRole admin to {subject['kind']}" in message
        )
        assert subject["name"] in message and "every client of the cluster" in message


def test_role_bindings_to_named_subjects_are_not_bindings_to_everyone() -> None:
    props = binding("b", "ClusterRole", "admin", [sa("ci"), user("alice@example.com"), group("ml")], "team-b")
    assert check("no-bindings-to-everyone", RB, props) == []
    unknown = binding("b", "ClusterRole", "admin", [{"kind": "Group", "name": p.UNKNOWN}], "team-b")
    assert check("no-bindings-to-everyone", RB, unknown) == []


# ---- user-roles-read-only ------------------------------------------------------------------------


def test_user_role_from_user_rules_complies() -> None:
    for resource_type in (CR, R):
        assert (
            check(
                "user-roles-read-only", resource_type, role(NAMES.user_cluster_role, camel_rules(USER_RULES))
            )
            == []
        )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (rule(["batch"], ["jobs"], ["get", "create", "delete"]), "the verbs create, delete"),
        (rule([""], ["secrets"], ["get"]), "'secrets', which includes secrets"),
        (rule([""], ["*"], ["get"]), "'*'"),
        (rule([""], ["pods"], ["*"]), "the verbs *"),
        (rule([""], ["pods/exec"], ["get"]), "'pods/exec'"),
        (rule([""], ["pods/attach"], ["get"]), "'pods/attach'"),
        (rule([""], ["pods/portforward"], ["get"]), "'pods/portforward'"),
        (rule([""], ["nodes/proxy"], ["get"]), "'nodes/proxy'"),
        (rule([""], ["services/proxy"], ["list"]), "'services/proxy'"),
        (rule([""], ["configmaps"], ["get"]), "it also grants get configmaps"),
    ],
)
def test_user_role_with_more_than_the_user_rules_is_a_violation(
    extra: dict[str, list[str]], expected: str
) -> None:
    for resource_type in (CR, R, CR + "Patch"):
        props = role(NAMES.user_cluster_role, [*camel_rules(USER_RULES), extra])
        [message] = check("user-roles-read-only", resource_type, props)
        assert expected in message
        assert NAMES.user_cluster_role in message and "USER_RULES" in message


def test_user_role_missing_a_user_rule_is_a_violation() -> None:
    props = role(NAMES.user_cluster_role, camel_rules(USER_RULES[:1]))
    [message] = check("user-roles-read-only", CR, props)
    assert "it lacks get events" in message and "watch pods/log" in message


@pytest.mark.parametrize("field", ["resourceNames", "nonResourceURLs"])
def test_user_role_with_resource_names_or_urls_is_a_violation(field: str) -> None:
    rules = camel_rules(USER_RULES)
    rules[0] = {**rules[0], field: ["x"]}
    [message] = check("user-roles-read-only", CR, role(NAMES.user_cluster_role, rules))
    assert field in message


def test_user_role_with_aggregation_rule_is_a_violation() -> None:
    props = role(
        NAMES.user_cluster_role, camel_rules(USER_RULES), aggregationRule={"clusterRoleSelectors": [{}]}
    )
    [message] = check("user-roles-read-only", CR, props)
    assert "aggregationRule" in message


def test_user_rule_only_applies_to_user_roles() -> None:
    assert check("user-roles-read-only", CR, role(SYSTEM_CLUSTER_ROLE, camel_rules(SYSTEM_RULES))) == []


def test_patch_of_user_role_without_rules_is_not_judged_on_rules() -> None:
    patch = {"metadata": {"name": NAMES.user_cluster_role, "annotations": {"a": "b"}}}
    assert check("user-roles-read-only", CR + "Patch", patch) == []
    assert len(check("user-roles-read-only", CR, patch)) == 1  # a full object with no rules lacks them


# ---- system-role-bound-only-by-the-package ----------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "name", "namespace", "subject"),
    [
        (RB, "lambda-too", "team-b", user("mallory@example.com")),
        (CRB, "lambda-too", None, group("contractors")),
        (RB, NAMES.system_role_binding, "team-b", user("mallory@example.com")),
        (RB, NAMES.system_role_binding, "team-b", sa(OTHER.system_service_account, "team-c")),
        (RB, SYSTEM_CLUSTER_ROLE_BINDING, "team-b", sa("ci", "team-b")),
    ],
)
def test_the_system_role_bound_to_an_outsider_is_a_violation(
    resource_type: str, name: str, namespace: str | None, subject: dict[str, str]
) -> None:
    # Issue 17: a binding of the system role beside the package's gives its rights to anyone.
    props = binding(name, "ClusterRole", SYSTEM_CLUSTER_ROLE, [subject], namespace)
    [message] = check("system-role-bound-only-by-the-package", resource_type, props)
    assert f"grants ClusterRole {SYSTEM_CLUSTER_ROLE}" in message and subject["name"] in message


def test_a_patch_that_adds_a_subject_to_a_system_role_binding_is_a_violation() -> None:
    patch = {
        "metadata": {"name": NAMES.system_role_binding, "namespace": "team-b"},
        "subjects": [sa(NAMES.system_service_account), user("mallory@example.com")],
    }
    [message] = check("system-role-bound-only-by-the-package", RB + "Patch", patch)
    assert (
        "User mallory@example.com" in message
        and f"only ServiceAccount team-b/{NAMES.system_service_account}" in message
    )
    labels_only = {
        "metadata": {"name": NAMES.system_role_binding, "namespace": "team-b", "labels": {"a": "b"}}
    }
    assert check("system-role-bound-only-by-the-package", RB + "Patch", labels_only) == []


@pytest.mark.parametrize("namespace", sorted(RESERVED_NAMESPACES))
def test_the_package_pattern_in_a_reserved_namespace_is_a_violation(namespace: str) -> None:
    """Review of issue 17, finding 7: ``k8s-service-account-binding-kube-system`` giving the system
    role to ``kube-system/k8s-serviceaccount-for-parallels-kube-system`` matched the pattern; the
    package binds nothing in a reserved namespace, and kube-system's accounts are exempt from the guard."""
    names = namespace_object_names(namespace)
    account = sa(names.system_service_account, namespace)
    props = binding(names.system_role_binding, "ClusterRole", SYSTEM_CLUSTER_ROLE, [account], namespace)
    [message] = check("system-role-bound-only-by-the-package", RB, props)
    assert f"to ServiceAccount {namespace}/{names.system_service_account};" in message
    assert f"it binds nothing in {namespace}, a namespace Kubernetes reserves" in message
    patch = {"metadata": {"name": names.system_role_binding, "namespace": namespace}, "subjects": [account]}
    assert len(check("system-role-bound-only-by-the-package", RB + "Patch", patch)) == 1
    # The namespaced form of the system binding, to the system group and an outsider (finding 8).
    subjects = [group(SYSTEM_GROUP), user("outsider@evil.example")]
    props = binding(SYSTEM_CLUSTER_ROLE_BINDING, "ClusterRole", SYSTEM_CLUSTER_ROLE, subjects, namespace)
    [message] = check("system-role-bound-only-by-the-package", RB, props)
    assert f"Group {SYSTEM_GROUP}, User outsider@evil.example;" in message


@pytest.mark.parametrize(("resource_type", "namespace"), [(CRB, None), (RB, "team-b")])
def test_a_patch_that_sets_the_system_bindings_subjects_is_a_violation(
    resource_type: str, namespace: str | None
) -> None:
    """Review of issue 17, finding 8: a patch of k8s-role-for-parallels-lambda-binding that adds a
    User gives it the system role without the namespace guard knowing it (only systemRoleUsers are
    held back)."""
    metadata = {"name": SYSTEM_CLUSTER_ROLE_BINDING, **({"namespace": namespace} if namespace else {})}
    patch = {"metadata": metadata, "subjects": [group(SYSTEM_GROUP), user("outsider@evil.example")]}
    [message] = check("system-role-bound-only-by-the-package", resource_type + "Patch", patch)
    assert "User outsider@evil.example" in message and "nobody through a patch" in message
    labels_only = {"metadata": {**metadata, "labels": {"a": "b"}}}
    assert check("system-role-bound-only-by-the-package", resource_type + "Patch", labels_only) == []


def stack_check(*resources: tuple[str, dict[str, Any]]) -> list[str]:
    stack = [StackResource(t, props, f"urn:{i}") for i, (t, props) in enumerate(resources)]
    return [message for _, message in rbac.system_role_bindings_in_managed_namespaces(stack, NO_CONFIG)]


def managed_namespace(name: str) -> tuple[str, dict[str, Any]]:
    return p.NAMESPACE, {"metadata": {"name": name, "labels": with_common_labels()}}


@pytest.mark.parametrize(
    ("name", "subjects"),
    [
        (OTHER.system_role_binding, [sa(OTHER.system_service_account, "team-c")]),
        (SYSTEM_CLUSTER_ROLE_BINDING, [group(SYSTEM_GROUP), user("outsider@evil.example")]),
    ],
)
def test_the_package_binding_names_outside_the_stacks_namespaces_are_a_violation(
    name: str, subjects: list[dict[str, str]]
) -> None:
    """Review of issue 17, findings 7 and 8: the package's binding names, in a namespace the stack
    does not manage, pass as the package's; the stack sees which namespaces it manages."""
    rolebinding = binding(name, "ClusterRole", SYSTEM_CLUSTER_ROLE, subjects, "team-c")
    [message] = stack_check(managed_namespace("team-b"), (RB, rolebinding))
    assert f"RoleBinding {name} in namespace team-c grants ClusterRole {SYSTEM_CLUSTER_ROLE}" in message
    assert "this stack does not manage namespace team-c" in message
    patch = {"metadata": {"name": name, "namespace": "team-c"}, "subjects": subjects}
    [message] = stack_check(managed_namespace("team-b"), (RB + "Patch", patch))
    assert message.startswith(f"A patch of RoleBinding {name} in namespace team-c")
    # Managed by the stack (or a NamespacePatch, or unlabelled: not), another role, unknown: not judged.
    assert stack_check(managed_namespace("team-c"), (RB, rolebinding)) == []
    patched = (p.NAMESPACE + "Patch", managed_namespace("team-c")[1])
    unlabelled = (p.NAMESPACE, {"metadata": {"name": "team-c"}})
    assert len(stack_check(patched, unlabelled, (RB, rolebinding))) == 1
    view = binding(name, "ClusterRole", "view", subjects, "team-c")
    assert stack_check((RB, view)) == []
    unknown = binding(name, "ClusterRole", SYSTEM_CLUSTER_ROLE, subjects, "team-c")
    unknown["metadata"]["namespace"] = p.UNKNOWN
    assert stack_check((RB, unknown)) == []


def test_the_package_bindings_of_the_system_role_comply() -> None:
    for resource_type, props in package_bindings():
        assert check("system-role-bound-only-by-the-package", resource_type, props) == []
    extra_users = binding(
        SYSTEM_CLUSTER_ROLE_BINDING,
        "ClusterRole",
        SYSTEM_CLUSTER_ROLE,
        [group(SYSTEM_GROUP), user("ops@example.com")],
        "team-b",
    )
    assert check("system-role-bound-only-by-the-package", RB, extra_users) == []
    other_role = binding("lambda-too", "ClusterRole", "view", [user("mallory@example.com")], "team-b")
    assert check("system-role-bound-only-by-the-package", RB, other_role) == []
    unknown = binding("lambda-too", "ClusterRole", SYSTEM_CLUSTER_ROLE, [user("m")], "team-b")
    unknown["metadata"]["namespace"] = p.UNKNOWN
    assert check("system-role-bound-only-by-the-package", RB, unknown) == []


# ---- system-role-grants-only-system-rules ----------------------------------------------------------


def test_the_system_role_from_system_rules_complies() -> None:
    for resource_type in (CR, CR + "Patch"):
        props = role(SYSTEM_CLUSTER_ROLE, camel_rules(SYSTEM_RULES))
        assert check("system-role-grants-only-system-rules", resource_type, props) == []
    narrower = role(SYSTEM_CLUSTER_ROLE, [{**rule([""], ["secrets"], ["get"]), "resourceNames": ["x"]}])
    assert check("system-role-grants-only-system-rules", CR, narrower) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (rule([""], ["users", "groups"], ["impersonate"]), "impersonate users (acts as any user)"),
        (rule([""], ["serviceaccounts"], ["impersonate"]), "impersonate serviceaccounts"),
        (
            rule([RBAC_API_GROUP], ["clusterroles"], ["escalate"]),
            "escalate rbac.authorization.k8s.io/clusterroles",
        ),
        (rule([RBAC_API_GROUP], ["clusterroles"], ["bind"]), "bind rbac.authorization.k8s.io/clusterroles"),
        (rule([""], ["serviceaccounts/token"], ["create"]), "create serviceaccounts/token (mints tokens"),
        (rule(["*"], ["*"], ["*"]), "* */* (its '*' covers impersonate, escalate, bind"),
        (rule([""], ["pods"], ["*"]), "it also grants * pods"),
        ({**rule([""], ["users"], ["impersonate"]), "resourceNames": ["admin"]}, "impersonate users"),
        ({"nonResourceURLs": ["*"], "verbs": ["get"]}, "the non-resource URLs *"),
        (rule([""], ["services"], ["get"]), "it also grants get services"),
    ],
)
def test_a_patch_or_redefinition_of_the_system_role_that_adds_grants_is_a_violation(
    extra: dict[str, Any], expected: str
) -> None:
    # Issue 17: a ClusterRolePatch (or another ClusterRole of the same name, or a list item) of
    # k8s-role-for-parallels-lambda gave its subjects impersonate, escalate, bind or '*'.
    props = role(SYSTEM_CLUSTER_ROLE, [*camel_rules(SYSTEM_RULES), extra], managed=False)
    for resource_type in (CR, CR + "Patch"):
        [message] = check("system-role-grants-only-system-rules", resource_type, props)
        assert expected in message and SYSTEM_GROUP in message and "SYSTEM_RULES" in message
    listed = {
        "metadata": {"name": "roles"},
        "items": [{"apiVersion": f"{RBAC_API_GROUP}/v1", "kind": "ClusterRolePatch", **props}],
    }
    [message] = check("system-role-grants-only-system-rules", CR + "List", listed)
    assert message.startswith("item 0 of ClusterRoleList roles: A patch of ClusterRole")


def test_an_aggregation_rule_on_the_system_role_is_a_violation() -> None:
    # Issue 17: an aggregationRule makes the controller copy in the rules of matching ClusterRoles
    # (e.g. ones labelled to feed it that grant impersonate).
    selectors = {"clusterRoleSelectors": [{"matchLabels": {"feeds-lambda": "true"}}]}
    patch = {"metadata": {"name": SYSTEM_CLUSTER_ROLE}, "aggregationRule": selectors}
    [message] = check("system-role-grants-only-system-rules", CR + "Patch", patch)
    assert "aggregationRule" in message and "every ClusterRole whose labels match" in message


def test_an_aggregate_to_label_on_the_system_role_is_a_violation() -> None:
    # Issue 17: the label copies the system role's rules into admin, edit or view.
    patch = {
        "metadata": {
            "name": SYSTEM_CLUSTER_ROLE,
            "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
        }
    }
    [message] = check("system-role-grants-only-system-rules", CR + "Patch", patch)
    assert "its label rbac.authorization.k8s.io/aggregate-to-view=true" in message


def test_other_roles_and_unknown_rules_are_not_judged_as_the_system_role() -> None:
    wild = [rule(["*"], ["*"], ["*"])]
    assert check("system-role-grants-only-system-rules", CR, role("cluster-admin-copy", wild)) == []
    assert check("system-role-grants-only-system-rules", CRB, role(SYSTEM_CLUSTER_ROLE, wild)) == []
    assert check("system-role-grants-only-system-rules", R, role(SYSTEM_CLUSTER_ROLE, wild)) == []
    unknown = role(
        SYSTEM_CLUSTER_ROLE, [{"apiGroups": [""], "resources": [p.UNKNOWN], "verbs": ["impersonate"]}]
    )
    assert check("system-role-grants-only-system-rules", CR, unknown) == []
    labels_only = {"metadata": {"name": SYSTEM_CLUSTER_ROLE, "labels": {"a": "b"}}}
    assert check("system-role-grants-only-system-rules", CR + "Patch", labels_only) == []


# ---- no-aggregation-of-package-roles --------------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    [
        {},
        {"matchLabels": {"app.kubernetes.io/managed-by": "concurrent-infra"}},
        {"matchExpressions": [{"key": "app.kubernetes.io/part-of", "operator": "Exists"}]},
        {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]},
        {
            "matchExpressions": [
                {"key": "app.kubernetes.io/managed-by", "operator": "In", "values": ["concurrent-infra"]}
            ]
        },
    ],
)
def test_an_aggregation_rule_that_selects_the_package_roles_is_a_violation(selector: dict[str, Any]) -> None:
    # Issue 17: aggregation copies the system role's rules into a role the stack binds to anyone.
    props = {
        "metadata": {"name": "steal"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}, selector]},
    }
    for resource_type in (CR, CR + "Patch"):
        [message] = check("no-aggregation-of-package-roles", resource_type, props)
        assert (
            "ClusterRole steal: clusterRoleSelectors[1] of its aggregationRule selects the roles" in message
        )
        assert SYSTEM_CLUSTER_ROLE in message


@pytest.mark.parametrize(
    "selector",
    [
        {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
        {"matchExpressions": [{"key": "app.kubernetes.io/managed-by", "operator": "DoesNotExist"}]},
        {
            "matchExpressions": [
                {"key": "app.kubernetes.io/managed-by", "operator": "NotIn", "values": ["concurrent-infra"]}
            ]
        },
        {"matchLabels": {"app.kubernetes.io/managed-by": p.UNKNOWN}},
        {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
    ],
)
def test_aggregation_rules_that_leave_the_package_roles_out_comply(selector: dict[str, Any]) -> None:
    props = {"metadata": {"name": "monitoring"}, "aggregationRule": {"clusterRoleSelectors": [selector]}}
    assert check("no-aggregation-of-package-roles", CR, props) == []


# ---- no-wildcards-in-managed-roles ---------------------------------------------------------------


@pytest.mark.parametrize("rules", [SYSTEM_RULES, USER_RULES])
def test_package_roles_have_no_wildcards(rules: tuple[PolicyRule, ...]) -> None:
    assert check("no-wildcards-in-managed-roles", CR, role("r", camel_rules(rules))) == []


@pytest.mark.parametrize("field", ["apiGroups", "resources", "verbs"])
def test_wildcard_in_managed_role_is_a_violation(field: str) -> None:
    wild = rule(["batch"], ["jobs"], ["get"])
    wild[field] = ["*"]
    for resource_type in (CR, R):
        [message] = check("no-wildcards-in-managed-roles", resource_type, role("r", [wild]))
        assert f"in {field} of rule 0" in message


def test_wildcards_in_roles_of_others_are_not_checked() -> None:
    props = role("cluster-admin-copy", [rule(["*"], ["*"], ["*"])], managed=False)
    assert check("no-wildcards-in-managed-roles", CR, props) == []


# ---- *List kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_type", "item", "policy"),
    [
        (
            RB + "List",
            binding(
                "admin-for-all", "ClusterRole", "admin", [group("system:serviceaccounts:team-b")], "team-b"
            ),
            "service-accounts-bound-by-name",
        ),
        (
            CRB + "List",
            binding("anyone", "ClusterRole", "view", [group("system:authenticated")]),
            "no-cluster-wide-system-subjects",
        ),
        (
            CR + "List",
            role(NAMES.user_cluster_role, [rule([""], ["pods/exec"], ["get"])]),
            "user-roles-read-only",
        ),
        (
            R + "List",
            role(NAMES.user_cluster_role, [rule([""], ["secrets"], ["get"])]),
            "user-roles-read-only",
        ),
    ],
)
def test_items_of_list_kinds_are_checked_one_by_one(
    list_type: str, item: dict[str, Any], policy: str
) -> None:
    props = {"metadata": {"name": "bundle"}, "items": [item]}
    [message] = check(policy, list_type, props)
    assert message.startswith(f"item 0 of {list_type.rpartition(':')[2]} bundle: ")


def test_list_items_are_checked_as_the_kind_they_declare() -> None:
    item = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        **binding("x", "ClusterRole", "view", [sa("a")]),
    }
    props = {"metadata": {"name": "mixed"}, "items": [item]}
    assert len(check("no-cluster-wide-service-account-grants", "kubernetes:core/v1:List", props)) == 1


# ---- unknown values ------------------------------------------------------------------------------


def test_unknown_values_are_not_violations() -> None:
    unknown_subject = binding("b", "ClusterRole", "r", [{"kind": "User", "name": p.UNKNOWN}])
    assert every_violation(CRB, unknown_subject) == []
    unknown_namespace = binding("b", "ClusterRole", NAMES.user_cluster_role, [sa(NAMES.user_service_account)])
    unknown_namespace["metadata"]["namespace"] = p.UNKNOWN
    assert every_violation(RB, unknown_namespace) == []
    unknown_role = binding("b", "ClusterRole", p.UNKNOWN, [sa(NAMES.user_service_account)], "team-b")  # type: ignore[arg-type]
    assert every_violation(RB, unknown_role) == []
    unknown_rules = role(NAMES.user_cluster_role, [rule([""], ["pods"], [p.UNKNOWN])])  # type: ignore[list-item]
    assert every_violation(CR, unknown_rules) == []
    assert every_violation(RB + "List", {"metadata": {"name": "l"}, "items": p.UNKNOWN}) == []


# ---- *Patch kinds --------------------------------------------------------------------------------


def test_patches_of_bindings_are_judged_on_the_fields_they_set() -> None:
    patch = {
        "metadata": {"name": NAMES.user_role_binding, "namespace": "team-b"},
        "subjects": [sa(NAMES.user_service_account), group("system:serviceaccounts:team-b")],
    }
    # No roleRef in the patch: only the added Group subject is judged.
    violations = [m for r in rbac.RULES for m in r.check(RB + "Patch", patch, False, NO_CONFIG)]
    assert len(violations) == 1 and "Group system:serviceaccounts:team-b" in violations[0]
    crb_patch = {"metadata": {"name": SYSTEM_CLUSTER_ROLE_BINDING}, "subjects": [user("system:anonymous")]}
    assert len(check("no-cluster-wide-system-subjects", CRB + "Patch", crb_patch)) == 1


@pytest.mark.parametrize("resource_type", [RB, CRB])
def test_the_system_group_bound_to_another_role_is_a_violation(resource_type: str) -> None:
    subjects = [group("k8s-role-for-parallels-lambda-group")]
    namespace = "team-b" if resource_type == RB else None
    bad = binding("ops", "ClusterRole", "cluster-admin", subjects, namespace)
    good = binding("ops", "ClusterRole", "k8s-role-for-parallels-lambda", subjects, namespace)
    [message] = check("system-group-system-role-only", resource_type, bad)
    assert "k8s-role-for-parallels-lambda-group" in message and "cluster-admin" in message
    assert check("system-group-system-role-only", resource_type, good) == []


# ---- no-aggregation-of-the-system-roles-labels ----------------------------------------------------


def aggregation_check(*resources: tuple[str, dict[str, Any]]) -> list[str]:
    stack = [StackResource(t, props, f"urn:{i}") for i, (t, props) in enumerate(resources)]
    return [message for _, message in rbac.no_aggregation_of_the_system_roles_labels(stack, NO_CONFIG)]


AGGREGATOR = {
    "metadata": {"name": "steal"},
    "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/agg": "true"}}]},
}


@pytest.mark.parametrize("system_role_type", [CR, CR + "Patch"])
def test_a_label_the_stack_adds_to_the_system_role_cannot_be_aggregated(system_role_type: str) -> None:
    """Issue 17 (review): a patch labels the system role, another ClusterRole aggregates that label,
    and whoever holds the aggregate gets the system role's rules."""
    labelled = {"metadata": {"name": SYSTEM_CLUSTER_ROLE, "labels": {"example.com/agg": "true"}}}
    [message] = aggregation_check((system_role_type, labelled), (CR, AGGREGATOR))
    assert "ClusterRole steal: clusterRoleSelectors[0]" in message
    assert "example.com/agg=true" in message and SYSTEM_CLUSTER_ROLE in message


def test_aggregation_by_other_labels_or_of_an_unlabelled_system_role_complies() -> None:
    plain = {"metadata": {"name": SYSTEM_CLUSTER_ROLE, "labels": with_common_labels()}}
    assert aggregation_check((CR, plain), (CR, AGGREGATOR)) == []
    labelled = {"metadata": {"name": SYSTEM_CLUSTER_ROLE, "labels": {"example.com/team": "ml"}}}
    assert aggregation_check((CR, labelled), (CR, AGGREGATOR)) == []
    # The package's own labels are no-aggregation-of-package-roles' (one message, not two).
    by_package_label = {
        "metadata": {"name": "steal"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": with_common_labels()}]},
    }
    assert aggregation_check((CR, labelled), (CR, by_package_label)) == []
