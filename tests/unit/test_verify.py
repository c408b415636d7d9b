"""Tests of ``concurrent_infra.verify`` against a fake cluster with RBAC semantics.

Each tamper of issue 8 ("verify misses extra grants") must give exit 1; a clean cluster exit 0.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest

from concurrent_infra import verify
from concurrent_infra.kube.guardrails import namespace_guard_binding_spec, namespace_guard_policy_spec
from concurrent_infra.kube.labels import MANAGED_BY_LABEL
from concurrent_infra.kube.names import (
    NAMESPACE_GUARD_POLICY,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
)
from concurrent_infra.kube.pod_security import ENFORCE_LABEL
from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, grants
from concurrent_infra.verify import (
    AccessReview,
    ExpectedAccess,
    NamespaceExpectation,
    VerifyError,
    checks,
)
from concurrent_infra.verify.api import _KINDS
from concurrent_infra.verify.expectations import default_expectation
from concurrent_infra.verify.report import WIDTH
from tests.support.fake_cluster import FakeCluster, role_ref, sa_subject
from tests.support.verify_run import (
    NAMESPACES,
    A,
    B,
    FakeAuthz,
    adapter,
    clean_cluster,
    failed,
    failures,
    group,
    results,
    run_verify,
    status,
    user,
    write_kubeconfig,
)

# ---- a clean cluster ----


def test_clean_cluster_passes(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_OK, output
    assert output.splitlines()[0].startswith("concurrent-infra-verify: OK: all ")
    assert failures(output) == []
    # SubjectAccessReviews are of the service account's user and groups.
    assert any(
        r.user == f"system:serviceaccount:team-b:{B.user_service_account}"
        and "system:serviceaccounts:team-b" in r.groups
        for r in cluster.reviews
    )


def test_every_area_is_checked() -> None:
    areas = {r.area for r in results(clean_cluster())}
    assert areas == set(checks.AREAS)  # tenancy: DinD absence is always checked


def test_kubernetes_default_bindings_are_not_flagged() -> None:
    rows = [r for r in results(clean_cluster()) if r.area == "bindings"]
    defaults = [r for r in rows if r.actual == "Kubernetes default"]
    assert {r.check.split()[1] for r in defaults} == {
        "system:basic-user",
        "system:discovery",
        "system:public-info-viewer",
        "system:service-account-issuer-discovery",
    }
    assert all(r.ok for r in rows)


def test_forged_default_label_is_flagged() -> None:
    """The rbac-defaults label on a binding that names a package service account is not trusted."""
    cluster = clean_cluster()
    cluster.add(
        "ClusterRoleBinding",
        "",
        "system:sneaky",
        {
            "metadata": {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "roleRef": role_ref("system:basic-user"),
            "subjects": [sa_subject(B.user_service_account, "team-b")],
        },
    )
    [row] = failed(cluster)
    assert row.area == "bindings" and "system:sneaky" in row.check


DEFAULTS_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}


@pytest.mark.parametrize(
    ("name", "role", "subject"),
    [
        # A made-up system: name and role with the defaults' label (the review's repro).
        ("system:agg", "system:controller:clusterrole-aggregation-controller", "system:authenticated"),
        ("system:gc-helper", "system:controller:generic-garbage-collector", "system:serviceaccounts"),
        # A default's name, recreated with another role.
        ("system:discovery", "system:controller:clusterrole-aggregation-controller", "system:authenticated"),
        ("system:basic-user", "cluster-admin", "system:unauthenticated"),
    ],
)
def test_forged_default_binding_is_flagged(name: str, role: str, subject: str) -> None:
    """Only Kubernetes' exact (name, roleRef) default pairs are accepted, whatever the label says."""
    cluster = clean_cluster()
    cluster.objects.pop(("ClusterRoleBinding", "", name), None)
    cluster.add(
        "ClusterRoleBinding",
        "",
        name,
        {
            "metadata": {"labels": dict(DEFAULTS_LABEL)},
            "roleRef": role_ref(role),
            "subjects": [group(subject)],
        },
    )
    rows = [r for r in failed(cluster) if r.area == "bindings"]
    assert [r.check for r in rows] == [f"ClusterRoleBinding {name} (ClusterRole/{role})"]


def test_default_binding_with_an_extra_subject_is_not_a_default() -> None:
    cluster = clean_cluster()
    binding = cluster.objects[("ClusterRoleBinding", "", "system:discovery")]
    binding["subjects"].append(sa_subject(B.user_service_account, "team-b"))
    [row] = failed(cluster)
    assert row.check == "ClusterRoleBinding system:discovery (ClusterRole/system:discovery)"


def test_the_defaults_of_an_old_cluster_pass() -> None:
    """Clusters created before Kubernetes 1.14 kept system:unauthenticated on these two."""
    cluster = clean_cluster()
    for name in ("system:basic-user", "system:discovery"):
        cluster.objects[("ClusterRoleBinding", "", name)]["subjects"].append(group("system:unauthenticated"))
    assert failed(cluster) == []


@pytest.mark.parametrize(
    "subject",
    [
        user("system:anonymous"),
        group("system:unauthenticated"),
        group("system:authenticated"),
        group("system:masters"),
        user("system:serviceaccount:kube-system:default"),
        group("system:serviceaccounts:other"),
    ],
)
def test_system_identity_in_a_verified_namespace_is_flagged(subject: dict[str, str]) -> None:
    cluster = clean_cluster()
    cluster.add("RoleBinding", "team-a", "open-door", {"roleRef": role_ref("admin"), "subjects": [subject]})
    [row] = failed(cluster)
    assert (row.area, row.check) == ("bindings", "RoleBinding team-a/open-door (ClusterRole/admin)")
    assert subject["name"] in row.actual


def test_system_identity_outside_the_verified_namespaces_is_not_flagged() -> None:
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        "monitoring",
        "scrapers",
        {"roleRef": role_ref("view"), "subjects": [group("system:serviceaccounts:monitoring")]},
    )
    assert failed(cluster) == []


@pytest.mark.parametrize("subject", [user("system:anonymous"), group("system:unauthenticated")])
def test_cluster_wide_grant_to_everyone_is_flagged(subject: dict[str, str]) -> None:
    cluster = clean_cluster()
    cluster.add(
        "ClusterRoleBinding", "", "anonymous-view", {"roleRef": role_ref("view"), "subjects": [subject]}
    )
    [row] = failed(cluster)
    assert row.check == "ClusterRoleBinding anonymous-view (ClusterRole/view)"
    assert f"{subject['name']} (everyone)" in row.actual


def test_kubernetes_own_bindings_of_its_components_are_not_flagged() -> None:
    cluster = clean_cluster()
    for name, subject in (
        ("cluster-admin", group("system:masters")),
        ("system:kube-controller-manager", user("system:kube-controller-manager")),
        ("system:node-proxier", user("system:kube-proxy")),
    ):
        cluster.add(
            "ClusterRoleBinding",
            "",
            name,
            {"metadata": {"labels": dict(DEFAULTS_LABEL)}, "roleRef": role_ref(name), "subjects": [subject]},
        )
    assert failed(cluster) == []


# ---- the tampers of issue 8 ----


def test_extra_cluster_wide_view_binding_fails(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    cluster.add(
        "ClusterRole",
        "",
        "view",
        {"rules": [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list"]}]},
    )
    cluster.add(
        "ClusterRoleBinding",
        "",
        "team-b-view",
        {"roleRef": role_ref("view"), "subjects": [sa_subject(B.user_service_account, "team-b")]},
    )
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH, output
    rows = failures(output)
    assert any("[bindings] ClusterRoleBinding team-b-view (ClusterRole/view)" in row for row in rows)
    assert any(f"names team-b/{B.user_service_account}" in row for row in rows)
    # The reviews confirm it: team-b's user code reads pods in team-a and cluster-wide.
    assert any(f"[access] {B.user_service_account} can get pods in team-a" in row for row in rows)
    assert any(f"[access] {B.user_service_account} can list pods cluster-wide" in row for row in rows)


def test_admin_role_binding_in_another_namespace_fails(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    cluster.add(
        "ClusterRole", "", "admin", {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    )
    cluster.add(
        "RoleBinding",
        "team-a",
        "team-b-admin",
        {"roleRef": role_ref("admin"), "subjects": [sa_subject(B.user_service_account, "team-b")]},
    )
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH, output
    rows = failures(output)
    assert any("[bindings] RoleBinding team-a/team-b-admin (ClusterRole/admin)" in row for row in rows)
    assert any(f"{B.user_service_account} can get secrets in team-a" in row for row in rows)


def test_admin_binding_in_an_unverified_namespace_is_found_by_the_scan() -> None:
    """The reviews sample namespaces; the binding scan reads every namespace."""
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        "far-away",
        "leak",
        {"roleRef": role_ref("admin"), "subjects": [sa_subject(A.system_service_account, "team-a")]},
    )
    [row] = failed(cluster)
    assert row.check == "RoleBinding far-away/leak (ClusterRole/admin)"
    assert row.actual == f"names team-a/{A.system_service_account}"


def test_extra_rules_in_the_user_role_fail(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", B.user_cluster_role)]
    role["rules"].append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH, output
    rows = failures(output)
    assert any(
        f"[rules] ClusterRole {B.user_cluster_role} rules" in row and "extra: create pods/exec" in row
        for row in rows
    )
    assert any(f"{B.user_service_account} can create pods/exec in team-b" in row for row in rows)


def test_system_anonymous_in_the_system_binding_fails(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    binding = cluster.objects[("ClusterRoleBinding", "", SYSTEM_CLUSTER_ROLE_BINDING)]
    binding["subjects"].append({"apiGroup": RBAC_API_GROUP, "kind": "User", "name": "system:anonymous"})
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH, output
    rows = failures(output)
    assert any(f"[subjects] ClusterRoleBinding {SYSTEM_CLUSTER_ROLE_BINDING} subjects" in r for r in rows)
    assert any("subject User system:anonymous" in row and "Kubernetes identity" in row for row in rows)


def test_system_authenticated_in_the_system_binding_is_also_a_binding_scan_finding() -> None:
    cluster = clean_cluster()
    binding = cluster.objects[("ClusterRoleBinding", "", SYSTEM_CLUSTER_ROLE_BINDING)]
    binding["subjects"].append({"apiGroup": RBAC_API_GROUP, "kind": "Group", "name": "system:authenticated"})
    rows = failed(cluster)
    assert {r.area for r in rows} >= {"subjects", "bindings", "access"}
    assert any(r.area == "bindings" and SYSTEM_CLUSTER_ROLE_BINDING in r.check for r in rows)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("User", f"system:serviceaccount:team-b:{B.user_service_account}"),
        ("Group", "system:serviceaccounts"),
        ("Group", "system:serviceaccounts:team-b"),
        ("Group", "system:authenticated"),
    ],
)
def test_service_accounts_named_as_users_or_groups_are_flagged(kind: str, name: str) -> None:
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        "elsewhere",
        "sneaky",
        {"roleRef": role_ref("edit"), "subjects": [{"apiGroup": RBAC_API_GROUP, "kind": kind, "name": name}]},
    )
    [row] = failed(cluster)
    assert row.area == "bindings" and row.check == "RoleBinding elsewhere/sneaky (ClusterRole/edit)"


def test_group_of_an_unverified_namespace_is_not_flagged() -> None:
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        "team-z",
        "own",
        {
            "roleRef": role_ref("edit"),
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-z"}],
        },
    )
    assert failed(cluster) == []


def test_service_account_without_namespace_in_a_role_binding_is_of_that_namespace() -> None:
    cluster = clean_cluster()
    cluster.add(
        "RoleBinding",
        "team-b",
        "extra",
        {
            "roleRef": role_ref("edit"),
            "subjects": [{"kind": "ServiceAccount", "name": B.user_service_account}],
        },
    )
    assert [r.check for r in failed(cluster) if r.area == "bindings"] == [
        "RoleBinding team-b/extra (ClusterRole/edit)"
    ]


# ---- rules, subjects, objects ----


def test_missing_and_extra_system_rules_are_listed() -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", SYSTEM_CLUSTER_ROLE)]
    role["rules"] = [dict(rule) for rule in role["rules"]]
    role["rules"][0] = {
        **role["rules"][0],
        "resources": [r for r in role["rules"][0]["resources"] if r != "secrets"],
    }
    role["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["x"]}
    )
    role["rules"].append({"nonResourceURLs": ["/metrics"], "verbs": ["get"]})
    [row] = [r for r in failed(cluster) if r.area == "rules"]
    assert row.check == f"ClusterRole {SYSTEM_CLUSTER_ROLE} rules"
    assert "missing: create secrets, delete secrets, get secrets" in row.actual
    assert "get secrets named x" in row.actual and "nonResourceURLs /metrics (get)" in row.actual


def test_aggregation_rule_fails() -> None:
    cluster = clean_cluster()
    cluster.objects[("ClusterRole", "", A.user_cluster_role)]["aggregationRule"] = {
        "clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]
    }
    [row] = failed(cluster)
    assert row.check == f"ClusterRole {A.user_cluster_role} aggregationRule"


def test_expected_rules_are_the_package_rules() -> None:
    cluster = clean_cluster()
    rows = {r.check: r for r in results(cluster) if r.area == "rules"}
    assert rows[f"ClusterRole {SYSTEM_CLUSTER_ROLE} rules"].expected == (
        f"exactly the package's {len(grants(SYSTEM_RULES))} grants"
    )
    assert rows[f"ClusterRole {B.user_cluster_role} rules"].expected == (
        f"exactly the package's {len(grants(USER_RULES))} grants"
    )


def test_configured_system_role_users_and_groups_are_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    expectation = default_expectation(
        NAMESPACES, system_role_users=("ops@example.com",), system_role_groups=("platform",)
    )
    cluster = clean_cluster(expectation)
    extra = ("--system-role-user", "ops@example.com", "--system-role-group", "platform")
    status, output = run_verify(cluster, capsys, *extra)
    assert status == verify.EXIT_OK, output
    # Without the flags, the same binding has unexpected subjects.
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [binding, outsiders, guard] = failures(output)
    assert "User ops@example.com" in binding and "Group platform" in binding
    # ... they are outsiders bound to the system role (issue 17) ...
    assert f"binds the system role {SYSTEM_CLUSTER_ROLE} only to the package's subjects" in outsiders
    assert "also Group platform, User ops@example.com" in outsiders
    # ... and the guard holds back subjects it was not told about.
    assert f"[guard] ValidatingAdmissionPolicy {NAMESPACE_GUARD_POLICY} spec" in guard
    assert "matchConditions[0].expression=" in guard


def test_system_subject_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--context", "c", "--namespace", "team-a", "--system-role-user", "system:anonymous"]
    assert verify.main(argv, api=clean_cluster()) == verify.EXIT_ERROR
    assert "system:anonymous" in capsys.readouterr().err


def test_extra_subject_in_a_namespace_binding_fails() -> None:
    cluster = clean_cluster()
    binding = cluster.objects[("RoleBinding", "team-a", A.system_role_binding)]
    binding["subjects"].append(sa_subject("default", "team-a"))
    rows = failed(cluster)
    [row] = [r for r in rows if r.area == "subjects"]
    assert row.check == f"RoleBinding team-a/{A.system_role_binding} subjects"
    assert "ServiceAccount team-a/default" in row.actual
    # Issue 17: an outsider bound to the system role, and a default service account that holds a
    # powerful role, each fail on their own.
    [outsider] = [r for r in rows if r.area == "bindings"]
    assert outsider.actual == "also ServiceAccount team-a/default"
    denied = {r.check for r in rows if r.area == "access"}
    assert {"default can get secrets in team-a", "default can create pods in team-a"} <= denied
    assert len(rows) == 2 + len(denied)


def test_wrong_role_ref_fails() -> None:
    cluster = clean_cluster()
    binding = cluster.objects[("RoleBinding", "team-b", B.user_role_binding)]
    binding["roleRef"] = role_ref(SYSTEM_CLUSTER_ROLE)
    rows = failed(cluster)
    checks_failed = {r.check for r in rows}
    assert f"RoleBinding team-b/{B.user_role_binding} roleRef" in checks_failed
    # Not the package's binding any more (name, namespace and roleRef): the scan lists it too.
    assert any(r.area == "bindings" and B.user_role_binding in r.check for r in rows)
    assert f"{B.user_service_account} can get secrets in team-b" in checks_failed


def test_missing_object_fails(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    del cluster.objects[("ServiceAccount", "team-b", B.user_service_account)]
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [row] = failures(output)
    assert row.startswith(f"FAIL  [objects] ServiceAccount team-b/{B.user_service_account} exists")
    assert row.endswith("expected exists; found missing")


def test_terminating_namespace_fails() -> None:
    cluster = clean_cluster()
    cluster.objects[("Namespace", "", "team-a")]["status"] = {"phase": "Terminating"}
    [row] = failed(cluster)
    assert (row.check, row.actual) == ("Namespace team-a is Active", "Terminating")


def test_skip_system_role(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    for kind, name in (
        ("ClusterRoleBinding", SYSTEM_CLUSTER_ROLE_BINDING),
        ("ValidatingAdmissionPolicy", NAMESPACE_GUARD_POLICY),
        ("ValidatingAdmissionPolicyBinding", NAMESPACE_GUARD_POLICY),
    ):
        del cluster.objects[(kind, "", name)]
    status, output = run_verify(cluster, capsys, "--skip-system-role")
    assert status == verify.EXIT_OK, output
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    assert len(failures(output)) == 3


# ---- Pod Security and the guard ----


def test_pod_security_labels_are_checked() -> None:
    cluster = clean_cluster()
    cluster.objects[("Namespace", "", "team-b")]["metadata"]["labels"][ENFORCE_LABEL] = "privileged"
    [row] = failed(cluster)
    assert row.check == "Namespace team-b Pod Security labels"
    assert "enforce=baseline" in row.expected and "enforce=privileged" in row.actual


def test_missing_pod_security_labels_fail() -> None:
    cluster = clean_cluster()
    cluster.objects[("Namespace", "", "team-a")]["metadata"]["labels"] = {}
    rows = failed(cluster)
    assert [r.check for r in rows] == [
        "Namespace team-a Pod Security labels",
        f"Namespace team-a label {MANAGED_BY_LABEL} (the guard selects it)",
    ]
    assert all(r.actual == "(none)" for r in rows)


@pytest.mark.parametrize("value", [None, "someone-else"])
def test_managed_by_label_removed_or_changed_fails(value: str | None) -> None:
    """Without the label the namespace leaves the guard's selector: its service accounts could
    then relabel it privileged."""
    cluster = clean_cluster()
    labels = cluster.objects[("Namespace", "", "team-a")]["metadata"]["labels"]
    if value is None:
        del labels[MANAGED_BY_LABEL]
    else:
        labels[MANAGED_BY_LABEL] = value
    [row] = failed(cluster)
    assert row.area == "pod-security"
    assert row.check == f"Namespace team-a label {MANAGED_BY_LABEL} (the guard selects it)"
    assert (row.expected, row.actual) == ("concurrent-infra", value or "(none)")


def guard_spec(kind: str, cluster: FakeCluster) -> dict[str, Any]:
    spec: dict[str, Any] = cluster.objects[(kind, "", NAMESPACE_GUARD_POLICY)]["spec"]
    return spec


POLICY, BINDING = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"


def test_the_guard_specs_are_the_packages_in_the_apis_spelling() -> None:
    rows = {r.check: r for r in results(clean_cluster()) if r.area == "guard"}
    assert rows[f"{POLICY} {NAMESPACE_GUARD_POLICY} spec"].ok
    assert rows[f"{BINDING} {NAMESPACE_GUARD_POLICY} spec"].ok
    policy = checks.api_form(namespace_guard_policy_spec(["u@example.com"], ["g"]))
    assert policy["failurePolicy"] == "Fail"
    assert policy["matchConstraints"]["objectSelector"] == {
        "matchLabels": {MANAGED_BY_LABEL: "concurrent-infra"}
    }
    assert policy["matchConstraints"]["resourceRules"][0]["apiVersions"] == ["v1"]
    assert '"u@example.com"' in policy["matchConditions"][0]["expression"]
    assert checks.api_form(namespace_guard_binding_spec()) == {
        "policyName": NAMESPACE_GUARD_POLICY,
        "validationActions": ["Deny"],
    }


def test_server_defaults_of_the_guard_are_tolerated() -> None:
    cluster = clean_cluster()
    policy, binding = guard_spec(POLICY, cluster), guard_spec(BINDING, cluster)
    policy["matchConstraints"]["objectSelector"]["matchExpressions"] = []
    policy["matchConstraints"]["resourceRules"][0]["operations"] = ["DELETE", "UPDATE"]
    policy["auditAnnotations"] = []
    binding["matchResources"] = {"namespaceSelector": {}, "objectSelector": {}, "matchPolicy": "Equivalent"}
    assert failed(cluster) == []


def _gut_validations(spec: dict[str, Any]) -> None:
    spec["validations"] = [{"expression": "true"}]


def _replace_one_validation(spec: dict[str, Any]) -> None:
    spec["validations"][1]["expression"] = "true"


def _ignore_failures(spec: dict[str, Any]) -> None:
    spec["failurePolicy"] = "Ignore"


def _never_match(spec: dict[str, Any]) -> None:
    spec["matchConditions"] = [{"name": "never", "expression": "false"}]


def _no_match_condition(spec: dict[str, Any]) -> None:
    del spec["matchConditions"]


def _only_deletes(spec: dict[str, Any]) -> None:
    spec["matchConstraints"]["resourceRules"][0]["operations"] = ["DELETE"]


def _namespaced_scope(spec: dict[str, Any]) -> None:
    spec["matchConstraints"]["resourceRules"][0]["scope"] = "Namespaced"


def _other_selector(spec: dict[str, Any]) -> None:
    spec["matchConstraints"]["objectSelector"] = {"matchLabels": {"nothing": "has-this"}}


def _exclude_namespaces(spec: dict[str, Any]) -> None:
    spec["matchConstraints"]["excludeResourceRules"] = [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["namespaces"]}
    ]


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        (_gut_validations, "validations="),
        (_replace_one_validation, 'validations[1].expression="true"'),
        (_ignore_failures, 'failurePolicy="Ignore"'),
        (_never_match, 'matchConditions[0].expression="false"'),
        (_no_match_condition, "matchConditions missing"),
        (_only_deletes, 'matchConstraints.resourceRules[0].operations=["DELETE"]'),
        (_namespaced_scope, 'matchConstraints.resourceRules[0].scope="Namespaced"'),
        (_other_selector, "matchConstraints.objectSelector.matchLabels"),
        (_exclude_namespaces, "matchConstraints.excludeResourceRules="),
    ],
)
def test_a_gutted_guard_policy_fails(tamper: Any, found: str) -> None:
    cluster = clean_cluster()
    tamper(guard_spec(POLICY, cluster))
    [row] = failed(cluster)
    assert (row.area, row.check) == ("guard", f"{POLICY} {NAMESPACE_GUARD_POLICY} spec")
    assert found in row.actual


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"validationActions": ["Audit"]}, 'validationActions=["Audit"] (expected ["Deny"])'),
        ({"validationActions": ["Warn"]}, "validationActions="),
        (
            {"matchResources": {"namespaceSelector": {"matchLabels": {"nope": "x"}}}},
            "matchResources=",
        ),
        ({"matchResources": {"objectSelector": {"matchLabels": {"nope": "x"}}}}, "matchResources="),
        ({"paramRef": {"name": "p", "parameterNotFoundAction": "Allow"}}, "paramRef="),
        ({"policyName": "something-else"}, 'policyName="something-else"'),
    ],
)
def test_a_narrowed_guard_binding_fails(change: dict[str, Any], found: str) -> None:
    cluster = clean_cluster()
    guard_spec(BINDING, cluster).update(change)
    [row] = failed(cluster)
    assert (row.area, row.check) == ("guard", f"{BINDING} {NAMESPACE_GUARD_POLICY} spec")
    assert found in row.actual


def test_guard_spec_differences_fit_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    _gut_validations(guard_spec(POLICY, cluster))
    _ignore_failures(guard_spec(POLICY, cluster))
    _never_match(guard_spec(POLICY, cluster))
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    assert max(len(line) for line in output.splitlines()) <= WIDTH
    [row] = failures(output)
    assert "failurePolicy" in row and "matchConditions" in row and "validations" in row


# ---- SubjectAccessReviews ----


def test_review_error_is_a_failure_never_denied(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    label = f"{B.user_service_account} can get secrets in team-b"
    cluster.review_errors[label] = 'clusterrole.rbac.authorization.k8s.io "gone" not found'
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [row] = failures(output)
    assert row.startswith(f"FAIL  [access] {label}")
    assert 'review error: clusterrole.rbac.authorization.k8s.io "gone" not found' in row


def test_review_error_with_an_allowed_verdict_is_a_failure() -> None:
    cluster = clean_cluster()
    label = f"{B.user_service_account} can get pods in team-b"
    cluster.review_errors[label] = "HTTP 500 Internal Server Error"
    cluster.allowed_with_error = True
    [row] = failed(cluster)
    assert (row.check, row.actual) == (label, "review error: HTTP 500 Internal Server Error")


def test_user_reading_secrets_fails() -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", B.user_cluster_role)]
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    rows = failed(cluster)
    assert {r.area for r in rows} == {"rules", "access"}
    [access] = [r for r in rows if r.area == "access"]
    assert (access.check, access.expected, access.actual) == (
        f"{B.user_service_account} can get secrets in team-b",
        "denied",
        "allowed",
    )


def test_user_matrix_allows_exactly_the_user_rules_in_its_namespace() -> None:
    reviews = verify.expected_access(default_expectation(["team-b"]))
    mine = [c for c in reviews if c.service_account == B.user_service_account]
    allowed = {(c.group, c.resource, c.verb) for c in mine if c.allowed}
    assert allowed == grants(USER_RULES)
    assert all(c.namespace == "team-b" for c in mine if c.allowed)
    denied_here = {(c.group, c.resource, c.verb) for c in mine if not c.allowed and c.namespace == "team-b"}
    assert {
        ("", "secrets", "get"),
        ("batch", "jobs", "create"),
        ("", "pods/exec", "create"),
        ("", "pods/attach", "get"),
        (RBAC_API_GROUP, "rolebindings", "create"),
    } <= denied_here
    assert {c.namespace for c in mine if not c.allowed} == {"team-b", "default", ""}


def test_system_usage_is_granted_by_system_rules() -> None:
    system_grants = grants(SYSTEM_RULES)
    for api_group, resource in checks.SYSTEM_USAGE:
        for verb in checks.SYSTEM_USAGE_VERBS:
            assert (api_group, resource, verb) in system_grants


def test_cross_namespace_targets_every_other_namespace_up_to_the_sample() -> None:
    assert checks.cross_namespace_targets(["a", "b", "c"], 0, 3) == ["b", "c", "default"]
    assert checks.cross_namespace_targets(["a", "b", "c"], 2, 3) == ["a", "b", "default"]
    assert checks.cross_namespace_targets(["a"], 0, 3) == ["default"]
    many = [f"ns-{i}" for i in range(10)]
    assert checks.cross_namespace_targets(many, 8, 3) == ["ns-9", "ns-0", "ns-1", "default"]


def test_reviews_grow_linearly_with_namespaces() -> None:
    def count(n: int) -> int:
        return len(verify.expected_access(default_expectation([f"ns-{i}" for i in range(n)])))

    per_namespace = count(10) // 10
    assert count(200) == 200 * per_namespace
    assert per_namespace < 150


def test_every_pair_is_checked_when_few_namespaces() -> None:
    expectation = default_expectation(["a1", "b1", "c1", "d1"])
    pairs = {
        (c.service_account_namespace, c.namespace)
        for c in verify.expected_access(expectation)
        if not c.allowed and c.namespace not in (c.service_account_namespace, "", "default")
    }
    assert pairs == {(x, y) for x in ("a1", "b1", "c1", "d1") for y in ("a1", "b1", "c1", "d1") if x != y}


def test_cross_namespace_leak_fails() -> None:
    """The upstream pods-reader ClusterRoleBinding lets the user service account read every namespace."""
    cluster = clean_cluster()
    cluster.add(
        "ClusterRole",
        "",
        "pods-reader",
        {
            "rules": [
                {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list"]}
            ]
        },
    )
    cluster.add(
        "ClusterRoleBinding",
        "",
        "pods-reader-team-b",
        {"roleRef": role_ref("pods-reader"), "subjects": [sa_subject(B.user_service_account, "team-b")]},
    )
    rows = failed(cluster)
    assert any(r.area == "bindings" and "pods-reader-team-b" in r.check for r in rows)
    access = {r.check for r in rows if r.area == "access"}
    assert f"{B.user_service_account} can get pods in team-a" in access
    assert f"{B.user_service_account} can get pods in default" in access


# ---- output ----


def test_text_report_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    role = cluster.objects[("ClusterRole", "", SYSTEM_CLUSTER_ROLE)]
    role["rules"].append(
        {"apiGroups": ["*"], "resources": [f"very-long-resource-name-{i}" for i in range(40)], "verbs": ["*"]}
    )
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[0].startswith("concurrent-infra-verify: FAILED: ")
    assert lines[1] == "2 namespace(s): team-a, team-b"
    assert lines[2].startswith("passed per area: objects 19/19, rules 4/5, subjects 5/5")
    # One entry per failure, cut to four lines.
    [entry] = failures(output)
    assert entry.startswith(f"FAIL  [rules] ClusterRole {SYSTEM_CLUSTER_ROLE} rules: expected exactly")
    assert entry.endswith("…")
    assert len([line for line in lines if line.startswith("      ")]) == 3


def test_verbose_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run_verify(clean_cluster(), capsys, "--verbose")
    assert status == verify.EXIT_OK
    total = len(results(clean_cluster()))
    assert sum(line.startswith("OK    [") for line in output.splitlines()) == total
    assert max(len(line) for line in output.splitlines()) <= WIDTH


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run_verify(clean_cluster(), capsys, "--json")
    report = json.loads(output)
    assert status == verify.EXIT_OK and report["ok"] is True and report["failed"] == 0
    assert report["namespaces"] == list(NAMESPACES)
    assert report["total"] == len(report["checks"])
    assert set(report["checks"][0]) == {"area", "check", "expected", "actual", "ok"}

    cluster = clean_cluster()
    del cluster.objects[("Namespace", "", "team-a")]
    status, output = run_verify(cluster, capsys, "--json")
    report = json.loads(output)
    assert status == verify.EXIT_MISMATCH and report["ok"] is False and report["failed"] == 1
    [bad] = [c for c in report["checks"] if not c["ok"]]
    assert bad == {
        "area": "objects",
        "check": "Namespace team-a exists",
        "expected": "exists",
        "actual": "missing",
        "ok": False,
    }


# ---- usage and connection errors ----


@pytest.mark.parametrize(
    "argv",
    [
        ["--namespace", "team-b"],
        ["--context", "c"],
        ["--context", "c", "--namespace", "a", "--stack-file", "x.yaml"],
        ["--context", "c", "--namespace", "b", "--cross-namespace-sample", "many"],
    ],
)
def test_argument_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        verify.main(argv, api=FakeCluster({}))
    assert exit_info.value.code == verify.EXIT_ERROR
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--namespace", "Team_B"], "not a DNS-1123 label"),
        (["--namespace", "kube-system"], "reserved"),
        (["--namespace", "a", "--namespace", "a"], "listed twice"),
        (["--namespace", "a", "--system-role-group", "system:masters"], "system:masters"),
        (["--namespace", "a", "--cross-namespace-sample", "0"], "at least 1"),
    ],
)
def test_bad_expectations_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify.main(["--context", "c", *argv], api=FakeCluster({})) == verify.EXIT_ERROR
    assert message in capsys.readouterr().err


class UnreachableCluster(FakeCluster):
    def get_object(self, kind: str, name: str, namespace: str | None) -> Any:
        raise VerifyError("cannot reach the cluster of context 'test'")


def test_connection_error_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    status = verify.main(["--context", "test", "--namespace", "team-b"], api=UnreachableCluster({}))
    captured = capsys.readouterr()
    assert status == verify.EXIT_ERROR
    assert "cannot reach the cluster" in captured.err
    assert captured.out == ""


def test_missing_kubeconfig_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = verify.main(["--context", "c", "--namespace", "team-b", "--kubeconfig", str(tmp_path / "none")])
    assert status == verify.EXIT_ERROR
    assert "cannot load context 'c'" in capsys.readouterr().err


# ---- the kubernetes client adapter ----


def test_unreachable_server_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")
    status = verify.main(["--context", "c", "--namespace", "team-b", "--kubeconfig", str(kubeconfig)])
    assert status == verify.EXIT_ERROR
    assert "cannot reach the cluster of context 'c'" in capsys.readouterr().err


def test_adapter_builds_subject_access_reviews(tmp_path: Path) -> None:
    api = adapter(tmp_path)
    authz = FakeAuthz(status(True))
    api._authz = cast(Any, authz)
    check = ExpectedAccess(B.user_service_account, "team-b", "get", "", "pods/log", "team-a", False)
    assert api.review(check) == AccessReview(True)
    spec = authz.sent[0].spec
    attributes = spec.resource_attributes
    assert (attributes.resource, attributes.subresource, attributes.namespace) == ("pods", "log", "team-a")
    assert spec.user == f"system:serviceaccount:team-b:{B.user_service_account}"
    assert spec.groups == ["system:serviceaccounts", "system:serviceaccounts:team-b", "system:authenticated"]
    cluster_wide = ExpectedAccess(B.user_service_account, "team-b", "list", "", "pods", "", False)
    api.review(cluster_wide)
    assert authz.sent[1].spec.resource_attributes.namespace is None


def test_adapter_reports_evaluation_errors_and_http_errors(tmp_path: Path) -> None:
    from kubernetes.client.exceptions import ApiException

    check = ExpectedAccess(B.user_service_account, "team-b", "get", "", "pods", "team-b", True)
    api = adapter(tmp_path)
    api._authz = cast(Any, FakeAuthz(status(False, "role not found")))
    assert api.review(check) == AccessReview(False, "role not found")
    api._authz = cast(Any, FakeAuthz(error=ApiException(status=500, reason="Internal Server Error")))
    assert api.review(check) == AccessReview(False, "HTTP 500 Internal Server Error")
    api._authz = cast(Any, FakeAuthz(error=ApiException(status=403, reason="Forbidden")))
    with pytest.raises(VerifyError, match="not allowed to create SubjectAccessReviews"):
        api.review(check)


def test_adapter_pages_lists(tmp_path: Path) -> None:
    api = adapter(tmp_path)
    pages = [
        {"items": [{"metadata": {"name": "a"}}], "metadata": {"continue": "next"}},
        {"items": [{"metadata": {"name": "b"}}], "metadata": {}},
    ]
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def fetch(what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((method.__name__, args, kwargs))
        return pages[len(calls) - 1]

    api._fetch = fetch  # type: ignore[method-assign]
    items = api.list_objects("RoleBinding", None)
    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert calls[0] == ("list_role_binding_for_all_namespaces", (), {"limit": 500})
    assert calls[1][2] == {"limit": 500, "_continue": "next"}
    calls.clear()
    pages[:] = [{"items": []}]
    api.list_objects("ServiceAccount", "team-a")
    assert calls == [("list_namespaced_service_account", ("team-a",), {"limit": 500})]


def test_adapter_reads_every_kind_with_an_existing_client_method(tmp_path: Path) -> None:
    api = adapter(tmp_path)
    for kind, (_, _, namespaced) in _KINDS.items():
        read = api._method(kind, "read_namespaced_{}" if namespaced else "read_{}")
        listing = api._method(kind, "list_{}_for_all_namespaces" if namespaced else "list_{}")
        assert callable(read) and callable(listing)


def test_namespace_expectation_validates() -> None:
    with pytest.raises(verify.ExpectationError, match="dind needs podSecurity 'privileged'"):
        NamespaceExpectation("team-a", dind=True)
    with pytest.raises(verify.ExpectationError, match=re.escape("quota requests.cpu='lots'")):
        NamespaceExpectation("team-a", quota={"requests.cpu": "lots"})
    with pytest.raises(verify.ExpectationError, match="googleServiceAccount"):
        NamespaceExpectation("team-a", workload_identity_email="not-an-email")
