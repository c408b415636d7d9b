"""verify and the side doors of issue 17: bindings of the system role to outsiders, impersonation
and token requests through a default role bound to everyone, and a namespace's ``default`` service
account bound to a powerful role (against the fake cluster with RBAC semantics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from concurrent_infra.kube.names import (
    RESERVED_NAMESPACES,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.verify import ExpectedAccess, checks
from concurrent_infra.verify.api import Identity
from concurrent_infra.verify.expectations import default_expectation
from tests.support.fake_cluster import role_ref, sa_subject
from tests.support.verify_run import (
    DEFAULT,
    A,
    FakeAuthz,
    adapter,
    clean_cluster,
    failed,
    group,
    status,
    user,
)


def rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


# ---- the system role fed into other roles ----


def test_an_aggregate_to_label_on_the_system_role_fails() -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", SYSTEM_CLUSTER_ROLE)]
    role["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] = "true"
    [row] = failed(cluster)
    assert row.check == f"ClusterRole {SYSTEM_CLUSTER_ROLE} is aggregated into no other role"
    assert row.actual == "rbac.authorization.k8s.io/aggregate-to-view=true"


def test_a_cluster_role_that_aggregates_the_system_role_fails() -> None:
    cluster = clean_cluster()
    selector = {"matchLabels": {"app.kubernetes.io/managed-by": "concurrent-infra"}}
    cluster.add(
        "ClusterRole", "", "steal", {"aggregationRule": {"clusterRoleSelectors": [selector]}, "rules": []}
    )
    cluster.add(
        "ClusterRole",
        "",
        "monitoring",
        {"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"m": "1"}}]}},
    )
    [row] = failed(cluster)
    assert row.check == "ClusterRole steal aggregates no package role"
    assert row.actual == f"its aggregationRule selects ClusterRole {SYSTEM_CLUSTER_ROLE}"


# ---- bindings of the system role ----


@pytest.mark.parametrize(
    ("kind", "namespace", "subject"),
    [
        ("RoleBinding", "team-a", user("mallory@example.com")),
        ("RoleBinding", "sandbox", group("contractors")),
        ("ClusterRoleBinding", "", user("mallory@example.com")),
        ("RoleBinding", "team-a", sa_subject("ci", "team-a")),
    ],
)
def test_the_system_role_bound_to_an_outsider_fails(
    kind: str, namespace: str, subject: dict[str, str]
) -> None:
    cluster = clean_cluster()
    cluster.add(
        kind, namespace, "lambda-too", {"roleRef": role_ref(SYSTEM_CLUSTER_ROLE), "subjects": [subject]}
    )
    [row] = [r for r in failed(cluster) if r.area == "bindings" and "lambda-too" in r.check]
    assert f"binds the system role {SYSTEM_CLUSTER_ROLE} only to the package's subjects" in row.check
    assert row.actual.startswith("also ") and subject["name"] in row.actual


def test_the_package_bindings_of_the_system_role_and_other_shards_pass() -> None:
    results = checks.system_role_binding_results(DEFAULT, *_bindings(clean_cluster()))
    assert [r.ok for r in results] == [True]
    assert "(3 binding(s) of it)" in results[0].check  # the ClusterRoleBinding and one per namespace
    # Another shard's namespace, bound as the package binds it, is not an outsider.
    cluster = clean_cluster()
    other = "team-z"
    names = namespace_object_names(other)
    cluster.add(
        "RoleBinding",
        other,
        names.system_role_binding,
        {
            "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
            "subjects": [sa_subject(names.system_service_account, other)],
        },
    )
    assert [r.ok for r in checks.system_role_binding_results(DEFAULT, *_bindings(cluster))] == [True]
    # The same name in another namespace does not make a service account the package's.
    cluster.add(
        "RoleBinding",
        "team-a",
        names.system_role_binding,
        {
            "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
            "subjects": [sa_subject(names.system_service_account, other)],
        },
    )
    assert [r.ok for r in checks.system_role_binding_results(DEFAULT, *_bindings(cluster))] == [False]


@pytest.mark.parametrize("namespace", sorted(RESERVED_NAMESPACES))
def test_the_package_pattern_in_a_reserved_namespace_fails(namespace: str) -> None:
    """``k8s-service-account-binding-kube-system`` giving the system role to
    ``kube-system/k8s-serviceaccount-for-parallels-kube-system`` looks like the package's, but the
    package binds nothing in a namespace Kubernetes reserves, and kube-system's service accounts are
    exempt from the namespace guard (review of issue 17, finding 7)."""
    names = namespace_object_names(namespace)
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        namespace,
        names.system_role_binding,
        {
            "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
            "subjects": [sa_subject(names.system_service_account, namespace)],
        },
    )
    [row] = failed(cluster)
    assert row.check.startswith(f"RoleBinding {namespace}/{names.system_role_binding} binds the system role")
    assert row.actual.startswith(f"also ServiceAccount {namespace}/{names.system_service_account}; ")
    assert f"a service account of {namespace}, where the package binds nothing" in row.actual
    assert ("exempts kube-system" in row.actual) == (namespace == "kube-system")


def _bindings(cluster: Any) -> tuple[list[Any], list[Any]]:
    return cluster.list_objects("RoleBinding", None), cluster.list_objects("ClusterRoleBinding", None)


# ---- impersonation and token requests ----


def test_impersonation_through_a_default_role_bound_to_everyone_fails() -> None:
    # system:basic-user is bound to system:authenticated by Kubernetes' own default binding, which
    # the binding scan accepts; rules added to its role reach every identity.
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", "system:basic-user")]
    role["rules"].append(rule([""], ["users", "groups"], ["impersonate"]))
    checks_failed = {r.check for r in failed(cluster)}
    everyone = checks.everyone_in("team-a").description
    assert f"{everyone} can impersonate users cluster-wide" in checks_failed
    assert f"{A.system_service_account} can impersonate groups cluster-wide" in checks_failed
    assert "default can impersonate users cluster-wide" in checks_failed
    assert not any("bindings" in check for check in checks_failed)  # only the reviews see it


def test_token_requests_through_a_default_role_bound_to_every_service_account_fail() -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", "system:service-account-issuer-discovery")]
    role["rules"].append(rule([""], ["serviceaccounts/token"], ["create"]))
    checks_failed = {r.check for r in failed(cluster)}
    everyone = checks.everyone_in("team-a").description
    assert everyone.endswith("system:serviceaccounts:team-a)")
    token = f"serviceaccounts/token {A.system_service_account} in team-a"
    assert f"{everyone} can create {token}" in checks_failed
    assert f"{A.user_service_account} can create {token}" in checks_failed


def test_a_token_grant_narrowed_to_one_account_is_found_by_name() -> None:
    cluster = clean_cluster()
    cluster.add(
        "Role",
        "team-a",
        "mint",
        {
            "rules": [
                rule([""], ["serviceaccounts/token"], ["create"], resourceNames=[A.system_service_account])
            ]
        },
    )
    cluster.add(
        "RoleBinding",
        "team-a",
        "mint",
        {"roleRef": role_ref("mint", "Role"), "subjects": [group("system:serviceaccounts:team-a")]},
    )
    checks_failed = {r.check for r in failed(cluster)}
    assert f"default can create serviceaccounts/token {A.system_service_account} in team-a" in checks_failed
    assert f"default can create serviceaccounts/token {A.user_service_account} in team-a" not in checks_failed


def test_the_system_role_subjects_are_asked_about_impersonation() -> None:
    expectation = default_expectation(("team-a", "team-b"), system_role_users=("ops@example.com",))
    labels = {check.label for check in checks.expected_escalation_access(expectation)}
    assert f"Group {SYSTEM_GROUP} can impersonate users cluster-wide" in labels
    assert "User ops@example.com can impersonate serviceaccounts cluster-wide" in labels
    assert (
        f"User ops@example.com can create serviceaccounts/token {A.user_service_account} in team-a" in labels
    )
    cluster = clean_cluster(expectation)
    cluster.add("ClusterRole", "", "sudo", {"rules": [rule([""], ["users"], ["impersonate"])]})
    cluster.add(
        "ClusterRoleBinding", "", "sudo", {"roleRef": role_ref("sudo"), "subjects": [user("ops@example.com")]}
    )
    rows = failed(cluster, expectation)
    assert "User ops@example.com can impersonate users cluster-wide" in {r.check for r in rows}


def test_escalation_reviews_grow_linearly_with_namespaces() -> None:
    def count(n: int) -> int:
        return len(checks.expected_escalation_access(default_expectation([f"ns-{i}" for i in range(n)])))

    assert count(20) - count(10) == count(30) - count(20)
    assert all(not check.allowed for check in checks.expected_escalation_access(DEFAULT))


# ---- the default service account ----


def test_the_default_service_account_bound_to_a_powerful_role_fails() -> None:
    cluster = clean_cluster()
    cluster.add(
        "ClusterRole",
        "",
        "edit",
        {
            "rules": [
                rule(
                    ["", "apps", "batch"],
                    ["pods", "secrets", "deployments", "jobs"],
                    ["get", "list", "create"],
                )
            ]
        },
    )
    cluster.add(
        "RoleBinding",
        "team-a",
        "default-edit",
        {"roleRef": role_ref("edit"), "subjects": [sa_subject("default", "team-a")]},
    )
    rows = failed(cluster)
    assert {r.area for r in rows} == {"access"}
    assert {r.check for r in rows} == {
        "default can get secrets in team-a",
        "default can list secrets in team-a",
        "default can create pods in team-a",
        "default can create jobs.batch in team-a",
        "default can create deployments.apps in team-a",
    }


# ---- the adapter ----


def test_adapter_asks_about_an_identity_and_an_object_name(tmp_path: Path) -> None:
    api = adapter(tmp_path)
    authz = FakeAuthz(status(False))
    api._authz = cast(Any, authz)
    who = Identity("", (SYSTEM_GROUP,), f"Group {SYSTEM_GROUP}")
    check = ExpectedAccess("", "", "create", "", "serviceaccounts/token", "team-a", False, "sa", who)
    api.review(check)
    spec = authz.sent[0].spec
    assert (spec.user, spec.groups) == (None, [SYSTEM_GROUP])
    attributes = spec.resource_attributes
    assert (attributes.resource, attributes.subresource, attributes.name) == (
        "serviceaccounts",
        "token",
        "sa",
    )
