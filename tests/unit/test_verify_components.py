"""``verify`` agrees with the components: what the stack program registers (under Pulumi mocks)
for a stack file passes ``verify --stack-file`` of that same file, and a tamper still fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra import verify
from concurrent_infra.kube.names import NAMESPACE_GUARD_POLICY, RESOURCE_QUOTA, namespace_object_names
from concurrent_infra.program.stack import main as stack_main
from concurrent_infra.verify import expectations_from_stack_file
from tests.support.fake_cluster import FakeCluster, Key, kubernetes_defaults
from tests.support.mocks import run_program

STACK = {
    "config": {
        "gcp:project": "my-project",
        "concurrent-infra:systemRoleUsers": ["ops@example.com"],
        "concurrent-infra:namespaces": [
            "team-a",
            {
                "name": "team-b",
                "podSecurity": "privileged",
                "annotations": {"scheduler.alpha.kubernetes.io/node-selector": "pool=team-b"},
                "dind": True,
                "quota": {"requests.cpu": "8", "pods": "50"},
                "containerDefaults": {"requests": {"cpu": "500m"}},
                "networkIsolation": True,
                "workloadIdentity": {"googleServiceAccount": "team-b@my-project.iam.gserviceaccount.com"},
            },
        ],
    }
}


def registered_objects(stack: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    """The Kubernetes objects the stack program registers for ``stack``'s config (API form)."""
    raw = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in stack["config"].items()
    }
    _, run = run_program(stack_main, raw)
    objects: dict[Key, dict[str, Any]] = {}
    for registration in run.registrations:
        if registration.custom and registration.type.startswith("kubernetes:"):
            kind = registration.type.rpartition(":")[2]
            metadata = registration.inputs["metadata"]
            obj = registration.inputs
            if kind == "Namespace":  # the API server's PrepareForCreate adds the finalizer
                obj = {**obj, "spec": {"finalizers": ["kubernetes"]}}
            objects[(kind, metadata.get("namespace", ""), metadata["name"])] = obj
    return objects


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stack") / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(STACK))
    return path


@pytest.fixture(scope="module")
def objects() -> dict[Key, dict[str, Any]]:
    return {**kubernetes_defaults(), **registered_objects(STACK)}


def test_the_stack_programs_objects_pass_verify(objects: dict[Key, dict[str, Any]], stack_file: Path) -> None:
    expectation = expectations_from_stack_file(stack_file)
    results = verify.run_checks(FakeCluster(objects), expectation)
    assert [r for r in results if not r.ok] == []
    # Every area was really checked, tenancy included.
    checked = {r.check for r in results}
    assert f"ResourceQuota team-b/{RESOURCE_QUOTA} hard limits" in checked
    assert "Namespace team-a Pod Security labels" in checked
    # The guard's specs as registered (pulumi's own spelling of the arguments) are what verify
    # expects: the policy names the configured system role user in its match condition.
    assert f"ValidatingAdmissionPolicy {NAMESPACE_GUARD_POLICY} spec" in checked
    assert f"ValidatingAdmissionPolicyBinding {NAMESPACE_GUARD_POLICY} spec" in checked
    policy = objects[("ValidatingAdmissionPolicy", "", NAMESPACE_GUARD_POLICY)]
    assert '"ops@example.com"' in policy["spec"]["matchConditions"][0]["expression"]


def test_a_tamper_of_the_registered_objects_fails(
    objects: dict[Key, dict[str, Any]], stack_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster(objects)
    user_role = namespace_object_names("team-a").user_cluster_role
    cluster.objects[("ClusterRole", "", user_role)]["rules"].append(
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}
    )
    status = verify.main(["--context", "c", "--stack-file", str(stack_file)], api=cluster)
    assert status == verify.EXIT_MISMATCH
    assert f"ClusterRole {user_role} rules" in capsys.readouterr().out


NAMESPACED_STACK = {
    "config": {
        "concurrent-infra:systemRoleScope": "namespaces",
        "concurrent-infra:systemRoleUsers": ["ops@example.com"],
        "concurrent-infra:namespaces": ["team-a", "team-b"],
    }
}


def test_the_narrower_scope_passes_verify_and_a_cluster_wide_binding_fails(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.narrow.yaml"
    path.write_text(yaml.safe_dump(NAMESPACED_STACK))
    expectation = expectations_from_stack_file(path)
    assert expectation.system_role_scope == "namespaces"
    assert expectation.system_role_users == ("ops@example.com",)
    cluster = FakeCluster({**kubernetes_defaults(), **registered_objects(NAMESPACED_STACK)})
    results = verify.run_checks(cluster, expectation)
    assert [r for r in results if not r.ok] == []
    assert "RoleBinding team-b/k8s-role-for-parallels-lambda-binding subjects" in {r.check for r in results}

    cluster.objects[("ClusterRoleBinding", "", "k8s-role-for-parallels-lambda-binding")] = {
        "metadata": {"name": "k8s-role-for-parallels-lambda-binding"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "k8s-role-for-parallels-lambda",
        },
        "subjects": [
            {
                "kind": "Group",
                "name": "k8s-role-for-parallels-lambda-group",
                "apiGroup": "rbac.authorization.k8s.io",
            }
        ],
    }
    failed = [r.check for r in verify.run_checks(cluster, expectation) if not r.ok]
    assert (
        "ClusterRoleBinding k8s-role-for-parallels-lambda-binding is absent (systemRoleScope: namespaces)"
        in failed
    )
    # The binding scan sees it too: it binds the system role's subjects, and is not the package's here.
    assert any(
        check.startswith("ClusterRoleBinding k8s-role-for-parallels-lambda-binding (") for check in failed
    )


def test_a_binding_of_the_system_group_to_another_role_fails(
    objects: dict[Key, dict[str, Any]], stack_file: Path
) -> None:
    cluster = FakeCluster(objects)
    cluster.objects[("ClusterRoleBinding", "", "ops-admin")] = {
        "metadata": {"name": "ops-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [
            {
                "kind": "Group",
                "name": "k8s-role-for-parallels-lambda-group",
                "apiGroup": "rbac.authorization.k8s.io",
            }
        ],
    }
    failed = [r for r in verify.run_checks(cluster, expectations_from_stack_file(stack_file)) if not r.ok]
    assert [r.check for r in failed] == ["ClusterRoleBinding ops-admin (ClusterRole/cluster-admin)"]
    assert "a subject of the system role" in failed[0].actual
