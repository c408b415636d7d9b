"""``verify`` and the tenancy objects (issue 11), and expectations read from stack files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concurrent_infra import verify
from concurrent_infra.kube.names import (
    DIND_NAME,
    LIMIT_RANGE,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
    namespace_object_names,
)
from concurrent_infra.quantity import quantity_value, same_quantity
from concurrent_infra.verify import ClusterExpectation, NamespaceExpectation, expectations_from_stack_file
from concurrent_infra.verify.checks import WORKLOAD_IDENTITY_ANNOTATION
from concurrent_infra.verify.expectations import ExpectationError
from tests.support.fake_cluster import FakeCluster, clean_objects

EMAIL = "team-a-data@my-project.iam.gserviceaccount.com"
A = namespace_object_names("team-a")
B = namespace_object_names("team-b")

TENANCY = ClusterExpectation(
    namespaces=(
        NamespaceExpectation(
            "team-a",
            pod_security="restricted",
            quota={"requests.cpu": "8", "requests.memory": "32Gi", "requests.nvidia.com/gpu": "2"},
            container_defaults=True,
            network_isolation=True,
            workload_identity_email=EMAIL,
        ),
        NamespaceExpectation("team-b", pod_security="privileged", dind=True),
    )
)


def failed(cluster: FakeCluster, expectation: ClusterExpectation = TENANCY) -> list[verify.CheckResult]:
    return [r for r in verify.run_checks(cluster, expectation) if not r.ok]


def test_configured_tenancy_passes() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    results = verify.run_checks(cluster, TENANCY)
    assert [r for r in results if not r.ok] == []
    tenancy = {r.check for r in results if r.area == "tenancy"}
    assert {
        f"ResourceQuota team-a/{RESOURCE_QUOTA} hard limits",
        f"LimitRange team-a/{LIMIT_RANGE} exists",
        f"NetworkPolicy team-a/{NETWORK_POLICY} exists",
        f"ServiceAccount team-a/{A.user_service_account} {WORKLOAD_IDENTITY_ANNOTATION}",
        f"Deployment team-a/{DIND_NAME} is absent",
        f"Deployment team-b/{DIND_NAME} exists",
        f"Service team-b/{DIND_NAME} exists",
    } <= tenancy


@pytest.mark.parametrize(
    ("kind", "namespace", "name"),
    [
        ("ResourceQuota", "team-a", RESOURCE_QUOTA),
        ("LimitRange", "team-a", LIMIT_RANGE),
        ("NetworkPolicy", "team-a", NETWORK_POLICY),
        ("Deployment", "team-b", DIND_NAME),
    ],
)
def test_missing_configured_object_fails(kind: str, namespace: str, name: str) -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    del cluster.objects[(kind, namespace, name)]
    [row] = failed(cluster)
    assert (row.area, row.check, row.actual) == ("tenancy", f"{kind} {namespace}/{name} exists", "missing")


def test_unconfigured_quota_is_not_checked() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    cluster.add("ResourceQuota", "team-b", RESOURCE_QUOTA, {"spec": {"hard": {"pods": "1"}}})
    assert failed(cluster) == []


def test_quota_limits_compared_by_value() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    hard = cluster.objects[("ResourceQuota", "team-a", RESOURCE_QUOTA)]["spec"]["hard"]
    # The API server's canonical forms of the same quantities.
    hard.update({"requests.cpu": "8000m", "requests.memory": "32768Mi"})
    assert failed(cluster) == []
    hard["requests.nvidia.com/gpu"] = "4"
    [row] = failed(cluster)
    assert row.check == f"ResourceQuota team-a/{RESOURCE_QUOTA} hard limits"
    assert "requests.nvidia.com/gpu=2" in row.expected and "requests.nvidia.com/gpu=4" in row.actual
    del hard["requests.nvidia.com/gpu"]
    hard["pods"] = "100"
    assert len(failed(cluster)) == 1


def test_quantities() -> None:
    assert same_quantity("1", "1000m") and same_quantity("1Gi", "1024Mi") and same_quantity("1k", "1000")
    assert same_quantity("1e3", "1k") and not same_quantity("1G", "1Gi")
    assert quantity_value("lots") is None and not same_quantity("lots", "1")


def test_dind_where_not_configured_fails() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    cluster.add("Deployment", "team-a", DIND_NAME, {})
    [row] = failed(cluster)
    assert (row.check, row.expected, row.actual) == (
        f"Deployment team-a/{DIND_NAME} is absent",
        "absent",
        "exists",
    )


def test_workload_identity_annotation_only_on_the_configured_user_account() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    cluster.objects[("ServiceAccount", "team-a", A.system_service_account)]["metadata"]["annotations"] = {
        WORKLOAD_IDENTITY_ANNOTATION: EMAIL
    }
    cluster.objects[("ServiceAccount", "team-b", B.user_service_account)]["metadata"]["annotations"] = {
        WORKLOAD_IDENTITY_ANNOTATION: EMAIL
    }
    cluster.objects[("ServiceAccount", "team-a", "default")]["metadata"]["annotations"] = {
        WORKLOAD_IDENTITY_ANNOTATION: EMAIL
    }
    rows = {r.check: r for r in failed(cluster)}
    assert set(rows) == {
        f"ServiceAccount team-a/{A.system_service_account} {WORKLOAD_IDENTITY_ANNOTATION}",
        f"ServiceAccount team-a/default {WORKLOAD_IDENTITY_ANNOTATION}",
        f"ServiceAccount team-b/{B.user_service_account} {WORKLOAD_IDENTITY_ANNOTATION}",
    }
    assert rows[
        f"ServiceAccount team-b/{B.user_service_account} {WORKLOAD_IDENTITY_ANNOTATION}"
    ].expected == ("(none)")


def test_workload_identity_annotation_missing_or_different_fails() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    annotations = cluster.objects[("ServiceAccount", "team-a", A.user_service_account)]["metadata"][
        "annotations"
    ]
    annotations[WORKLOAD_IDENTITY_ANNOTATION] = "other@my-project.iam.gserviceaccount.com"
    [row] = failed(cluster)
    assert (row.expected, row.actual) == (EMAIL, "other@my-project.iam.gserviceaccount.com")
    del annotations[WORKLOAD_IDENTITY_ANNOTATION]
    [row] = failed(cluster)
    assert row.actual == "(none)"


def test_pod_security_level_per_namespace() -> None:
    cluster = FakeCluster(clean_objects(TENANCY))
    default = ClusterExpectation(namespaces=(NamespaceExpectation("team-a"), NamespaceExpectation("team-b")))
    rows = [r for r in failed(cluster, default) if r.area == "pod-security"]
    assert [(r.check, r.actual.split(",")[1].strip()) for r in rows] == [
        ("Namespace team-a Pod Security labels", "enforce=restricted"),
        ("Namespace team-b Pod Security labels", "enforce=privileged"),
    ]


# ---- stack files ----

STACK = """\
config:
  kubernetes:context: dev
  gcp:project: my-project
  concurrent-infra:podSecurity: restricted
  concurrent-infra:networkIsolation: true
  concurrent-infra:quota:
    pods: "50"
  concurrent-infra:systemRoleUsers:
    - ops@example.com
  concurrent-infra:systemRoleGroups: [platform]
  concurrent-infra:namespaces:
    - team-a
    - name: team-b
      podSecurity: privileged
      dind: true
      quota:
        requests.cpu: "8"
      containerDefaults:
        requests: {cpu: 500m}
      workloadIdentity:
        googleServiceAccount: team-b@my-project.iam.gserviceaccount.com
    - name: team-c
      networkIsolation: false
      workloadIdentity:
        roles: [roles/storage.objectViewer]
"""


ONE_NAMESPACE = "config:\n  concurrent-infra:namespaces: [a1]\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    return path


def test_expectations_from_stack_file(tmp_path: Path) -> None:
    expectation = expectations_from_stack_file(write(tmp_path, STACK))
    assert expectation == ClusterExpectation(
        namespaces=(
            NamespaceExpectation(
                "team-a", pod_security="restricted", quota={"pods": "50"}, network_isolation=True
            ),
            NamespaceExpectation(
                "team-b",
                pod_security="privileged",
                quota={"requests.cpu": "8"},
                container_defaults=True,
                network_isolation=True,
                workload_identity_email="team-b@my-project.iam.gserviceaccount.com",
                dind=True,
            ),
            NamespaceExpectation("team-c", pod_security="restricted", quota={"pods": "50"}),
        ),
        include_system_role=True,
        system_role_users=("ops@example.com",),
        system_role_groups=("platform",),
    )


def test_create_system_role_false(tmp_path: Path) -> None:
    text = "config:\n  concurrent-infra:namespaces: [a1]\n  concurrent-infra:createSystemRole: false\n"
    assert expectations_from_stack_file(write(tmp_path, text)).include_system_role is False
    text = "config:\n  concurrent-infra:namespaces: [a1]\n  concurrent-infra:createSystemRole: 'false'\n"
    assert expectations_from_stack_file(write(tmp_path, text)).include_system_role is False


def test_the_repository_stack_files_are_read() -> None:
    stacks = Path(__file__).resolve().parents[2] / "stacks"
    for path in sorted(stacks.glob("Pulumi.*.yaml")):
        expectation = expectations_from_stack_file(path)
        assert expectation.namespaces, path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: {}\n", "required: the namespaces"),
        ("just a string\n", "no 'config:' map"),
        ("config: [\n", "not valid YAML"),
        ("config:\n  concurrent-infra:namespaces: [Team_A]\n", "not a DNS-1123 label"),
        ("config:\n  concurrent-infra:namespaces: [{labels: {}}]\n", "namespaces[0]"),
        (ONE_NAMESPACE + "  concurrent-infra:systemRoleUsers: [system:anonymous]\n", "system:anonymous"),
        ("config:\n  concurrent-infra:namespaces: [{name: a1, dind: true}]\n", "podSecurity: privileged"),
        (ONE_NAMESPACE + "  concurrent-infra:createSystemRole: maybe\n", "createSystemRole"),
    ],
)  # fmt: skip
def test_bad_stack_files_are_usage_errors(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ExpectationError, match=r".*") as error:
        expectations_from_stack_file(path)
    assert message in str(error.value) and str(path) in str(error.value)
    assert (
        verify.main(["--context", "c", "--stack-file", str(path)], api=FakeCluster({})) == verify.EXIT_ERROR
    )
    assert message in capsys.readouterr().err


def test_missing_stack_file(tmp_path: Path) -> None:
    with pytest.raises(ExpectationError, match="cannot read it"):
        expectations_from_stack_file(tmp_path / "nope.yaml")


def test_stack_file_drives_the_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, STACK)
    expectation = expectations_from_stack_file(path)
    cluster = FakeCluster(clean_objects(expectation))
    assert verify.main(["--context", "c", "--stack-file", str(path), "--json"], api=cluster) == verify.EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["namespaces"] == ["team-a", "team-b", "team-c"]
    del cluster.objects[("NetworkPolicy", "team-a", NETWORK_POLICY)]
    assert verify.main(["--context", "c", "--stack-file", str(path)], api=cluster) == verify.EXIT_MISMATCH
    assert f"NetworkPolicy team-a/{NETWORK_POLICY} exists" in capsys.readouterr().out
    # --skip-system-role overrides the stack's createSystemRole.
    argv = ["--context", "c", "--stack-file", str(path), "--skip-system-role"]
    assert verify.main(argv, api=cluster) == verify.EXIT_MISMATCH
    assert "k8s-role-for-parallels-lambda-binding" not in capsys.readouterr().out
