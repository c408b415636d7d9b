"""Tests of ``concurrent_infra.verify`` against a fake cluster with RBAC semantics."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from concurrent_infra import verify
from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    namespace_object_names,
)
from concurrent_infra.kube.namespace import ConcurrentNamespace, ConcurrentNamespaceArgs
from concurrent_infra.kube.rbac import RBAC_API_GROUP, READ_VERBS, SYSTEM_RULES, USER_RULES, grants
from concurrent_infra.kube.system_role import SystemRole
from concurrent_infra.verify import ExpectedAccess, VerifyError
from tests.harness import run_program

NAMESPACES = ("team-a", "team-b")
A, B = (namespace_object_names(ns) for ns in NAMESPACES)
Key = tuple[str, str, str]  # kind, namespace ("" if cluster-scoped), name


class FakeCluster:
    """Objects by kind and name, and an authorizer with RBAC's semantics over them."""

    def __init__(self, objects: Mapping[Key, dict[str, Any]]) -> None:
        self.objects = {key: copy.deepcopy(obj) for key, obj in objects.items()}
        self.reviews: list[ExpectedAccess] = []

    def get_object(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        return self.objects.get((kind, namespace or "", name))

    def _subject_matches(self, subject: Mapping[str, Any], user: str, groups: tuple[str, ...]) -> bool:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "ServiceAccount":
            return user == f"system:serviceaccount:{subject.get('namespace')}:{name}"
        return (kind == "User" and name == user) or (kind == "Group" and name in groups)

    @staticmethod
    def _rule_matches(rule: Mapping[str, Any], check: ExpectedAccess) -> bool:
        def has(field: str, value: str) -> bool:
            return value in rule.get(field, []) or "*" in rule.get(field, [])

        return has("verbs", check.verb) and has("apiGroups", check.group) and has("resources", check.resource)

    def _role_rules(self, role_ref: Mapping[str, Any], namespace: str) -> list[Mapping[str, Any]]:
        kind = role_ref["kind"]
        role = self.objects.get((kind, namespace if kind == "Role" else "", role_ref["name"]))
        return list(role.get("rules") or []) if role else []

    def is_allowed(self, check: ExpectedAccess) -> bool:
        self.reviews.append(check)
        for (kind, namespace, _), binding in self.objects.items():
            applies = kind == "ClusterRoleBinding" or (kind == "RoleBinding" and namespace == check.namespace)
            if not applies or not any(
                self._subject_matches(s, check.user, check.groups) for s in binding.get("subjects") or []
            ):
                continue
            if any(
                self._rule_matches(r, check) for r in self._role_rules(binding["roleRef"], check.namespace)
            ):
                return True
        return False


def package_objects(namespaces: tuple[str, ...] = NAMESPACES) -> dict[Key, dict[str, Any]]:
    """The Kubernetes objects the package's components register (run under Pulumi mocks)."""

    def program() -> None:
        system_role = SystemRole("system-role")
        for namespace in namespaces:
            ConcurrentNamespace(
                namespace, ConcurrentNamespaceArgs(namespace=namespace, system_role=system_role)
            )

    _, run = run_program(program)
    objects: dict[Key, dict[str, Any]] = {}
    for registration in run.registrations:
        if registration.type.startswith("kubernetes:"):
            kind = registration.type.rpartition(":")[2]
            metadata = registration.inputs["metadata"]
            objects[(kind, metadata.get("namespace", ""), metadata["name"])] = registration.inputs
    return objects


@pytest.fixture(scope="module")
def good_objects() -> dict[Key, dict[str, Any]]:
    return package_objects()


def run_verify(
    cluster: FakeCluster,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
    namespaces: tuple[str, ...] = NAMESPACES,
) -> tuple[int, str]:
    argv = ["--context", "test", *[arg for ns in namespaces for arg in ("--namespace", ns)], *extra]
    status = verify.main(argv, api=cluster)
    return status, capsys.readouterr().out


def failed_rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.rstrip().endswith("FAIL")]


# ---- expectations come from names.py and rbac.py ----------------------------------------------------


def test_system_usage_is_granted_by_system_rules() -> None:
    system_grants = grants(SYSTEM_RULES)
    for group, resource in verify.SYSTEM_USAGE:
        for verb in verify.SYSTEM_USAGE_VERBS:
            assert (group, resource, verb) in system_grants


def test_user_matrix_allows_exactly_the_user_rules_in_its_namespace() -> None:
    checks = [c for c in verify.expected_access(["team-b"]) if c.service_account == B.user_service_account]
    allowed = {(c.group, c.resource, c.verb) for c in checks if c.allowed}
    assert allowed == grants(USER_RULES)
    assert all(c.namespace == "team-b" for c in checks if c.allowed)
    denied_here = {(c.group, c.resource, c.verb) for c in checks if not c.allowed and c.namespace == "team-b"}
    assert {("", "secrets", "get"), ("batch", "jobs", "create"), ("", "pods", "delete")} <= denied_here
    assert {c.namespace for c in checks if not c.allowed} == {"team-b", verify.FALLBACK_OTHER_NAMESPACE}


def test_cross_namespace_checks_use_the_next_listed_namespace() -> None:
    assert verify.other_namespace(["a", "b", "c"], 0) == "b"
    assert verify.other_namespace(["a", "b", "c"], 2) == "a"
    assert verify.other_namespace(["a"], 0) == "default"


def test_expected_objects_have_the_exact_names() -> None:
    labels = {o.label for o in verify.expected_objects(["team-b"])}
    assert labels == {
        f"ClusterRole {SYSTEM_CLUSTER_ROLE}",
        f"ClusterRoleBinding {SYSTEM_CLUSTER_ROLE_BINDING}",
        "Namespace team-b",
        f"ServiceAccount team-b/{B.system_service_account}",
        f"RoleBinding team-b/{B.system_role_binding}",
        f"ClusterRole {B.user_cluster_role}",
        f"ServiceAccount team-b/{B.user_service_account}",
        f"RoleBinding team-b/{B.user_role_binding}",
    }
    assert len(verify.expected_objects(["team-b"], include_system_role=False)) == 6


# ---- all good --------------------------------------------------------------------------------------


def test_cluster_prepared_by_the_package_passes(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(good_objects)
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_OK, output
    assert failed_rows(output) == []
    assert output.splitlines()[0].split() == ["CHECK", "EXPECTED", "ACTUAL", "RESULT"]
    assert f"RoleBinding team-b/{B.user_role_binding} roleRef" in output
    # SubjectAccessReviews are of the service account's user and groups.
    assert any(
        r.user == f"system:serviceaccount:team-b:{B.user_service_account}"
        and "system:serviceaccounts:team-b" in r.groups
        for r in cluster.reviews
    )


def test_single_namespace_checks_default_as_the_other_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cluster = FakeCluster(package_objects(("team-b",)))
    status, output = run_verify(cluster, capsys, namespaces=("team-b",))
    assert status == verify.EXIT_OK, output
    assert f"{B.user_service_account} can get pods in default" in output


def test_skip_system_role(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    objects = dict(good_objects)
    del objects[("ClusterRoleBinding", "", SYSTEM_CLUSTER_ROLE_BINDING)]
    status, output = run_verify(FakeCluster(objects), capsys, "--skip-system-role")
    assert status == verify.EXIT_OK, output
    assert SYSTEM_CLUSTER_ROLE_BINDING not in output
    status, output = run_verify(FakeCluster(objects), capsys)
    assert status == verify.EXIT_MISMATCH
    assert failed_rows(output) == [
        line for line in failed_rows(output) if SYSTEM_CLUSTER_ROLE_BINDING in line
    ]


# ---- mismatches --------------------------------------------------------------------------------------


def test_missing_object_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    objects = dict(good_objects)
    del objects[("ServiceAccount", "team-b", B.user_service_account)]
    status, output = run_verify(FakeCluster(objects), capsys)
    assert status == verify.EXIT_MISMATCH
    [row] = failed_rows(output)
    assert row.startswith(f"ServiceAccount team-b/{B.user_service_account} exists")
    assert "missing" in row
    assert "1 FAILED" in output


def test_wrong_role_ref_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(good_objects)
    binding = cluster.objects[("RoleBinding", "team-b", B.user_role_binding)]
    binding["roleRef"] = {"apiGroup": RBAC_API_GROUP, "kind": "ClusterRole", "name": SYSTEM_CLUSTER_ROLE}
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    rows = failed_rows(output)
    assert any(row.startswith(f"RoleBinding team-b/{B.user_role_binding} roleRef") for row in rows)
    assert f"ClusterRole/{SYSTEM_CLUSTER_ROLE}" in output
    # The user service account now has the system role's permissions: the matrix catches it too.
    assert any(row.startswith(f"{B.user_service_account} can get secrets in team-b") for row in rows)


def test_extra_subject_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(good_objects)
    binding = cluster.objects[("RoleBinding", "team-a", A.system_role_binding)]
    binding["subjects"].append({"kind": "ServiceAccount", "name": "default", "namespace": "team-a"})
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [row] = failed_rows(output)
    assert row.startswith(f"RoleBinding team-a/{A.system_role_binding} subjects")
    assert "ServiceAccount team-a/default" in row


def test_user_reading_secrets_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(good_objects)
    role = cluster.objects[("ClusterRole", "", B.user_cluster_role)]
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [row] = failed_rows(output)
    assert row.split()[:6] == [B.user_service_account, "can", "get", "secrets", "in", "team-b"]
    assert row.split()[-3:] == ["denied", "allowed", "FAIL"]


def test_missing_permission_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(good_objects)
    role = cluster.objects[("ClusterRole", "", B.user_cluster_role)]
    for rule in role["rules"]:
        rule["resources"] = [r for r in rule["resources"] if r != "pods/log"]
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    rows = failed_rows(output)
    assert sorted(row.split()[2] for row in rows) == sorted(READ_VERBS)
    assert all(
        row.startswith(f"{B.user_service_account} can ") and " pods/log in team-b " in row for row in rows
    )
    assert all(row.split()[-3:] == ["allowed", "denied", "FAIL"] for row in rows)


def test_cross_namespace_leak_fails(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The upstream pods-reader ClusterRoleBinding lets the user service account read every namespace."""
    cluster = FakeCluster(good_objects)
    cluster.objects[("ClusterRole", "", "pods-reader")] = {
        "metadata": {"name": "pods-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list"]}],
    }
    cluster.objects[("ClusterRoleBinding", "", "pods-reader-team-b")] = {
        "metadata": {"name": "pods-reader-team-b"},
        "roleRef": {"apiGroup": RBAC_API_GROUP, "kind": "ClusterRole", "name": "pods-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": B.user_service_account, "namespace": "team-b"}],
    }
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    rows = failed_rows(output)
    assert rows
    assert all(row.startswith(f"{B.user_service_account} can ") and " in team-a " in row for row in rows)
    assert f"{B.user_service_account} can get pods in team-a" in "\n".join(rows)


def test_json_output_parses(
    good_objects: dict[Key, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_verify(FakeCluster(good_objects), capsys, "--json")
    report = json.loads(output)
    assert status == verify.EXIT_OK and report["ok"] is True
    assert {"check", "expected", "actual", "ok"} == set(report["checks"][0])

    objects = dict(good_objects)
    del objects[("Namespace", "", "team-a")]
    status, output = run_verify(FakeCluster(objects), capsys, "--json")
    report = json.loads(output)
    assert status == verify.EXIT_MISMATCH and report["ok"] is False
    [failed] = [c for c in report["checks"] if not c["ok"]]
    assert failed == {
        "check": "Namespace team-a exists",
        "expected": "exists",
        "actual": "missing",
        "ok": False,
    }


# ---- usage and connection errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--namespace", "team-b"],
        ["--context", "c"],
        ["--context", "c", "--namespace", "Team_B"],
        ["--context", "c", "--namespace", "kube-system"],
        ["--context", "c", "--namespace", "a", "--namespace", "a"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        verify.main(argv, api=FakeCluster({}))
    assert exit_info.value.code == verify.EXIT_ERROR
    assert "error:" in capsys.readouterr().err


class UnreachableCluster(FakeCluster):
    def get_object(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
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


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


def test_unreachable_server_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")
    status = verify.main(["--context", "c", "--namespace", "team-b", "--kubeconfig", str(kubeconfig)])
    assert status == verify.EXIT_ERROR
    assert "cannot reach the cluster of context 'c'" in capsys.readouterr().err


def test_adapter_builds_subject_access_reviews(tmp_path: Path) -> None:
    api = verify.KubernetesApi("c", str(write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")))
    sent: list[Any] = []

    class FakeAuthz:
        def create_subject_access_review(self, body: Any, _request_timeout: int) -> Any:
            sent.append(body)
            return type("Review", (), {"status": type("Status", (), {"allowed": True})()})()

    api._authz = cast(Any, FakeAuthz())
    check = ExpectedAccess(B.user_service_account, "team-b", "get", "", "pods/log", "team-a", False)
    assert api.is_allowed(check) is True
    attributes = sent[0].spec.resource_attributes
    assert (attributes.resource, attributes.subresource, attributes.namespace) == ("pods", "log", "team-a")
    assert sent[0].spec.user == f"system:serviceaccount:team-b:{B.user_service_account}"
    assert sent[0].spec.groups == [
        "system:serviceaccounts",
        "system:serviceaccounts:team-b",
        "system:authenticated",
    ]
