"""End to end: the real Pulumi engine applies the real program to a real local API server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    namespace_object_names,
)
from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from tests.support.cluster import Cluster
from tests.support.e2e_asserts import assert_namespace_objects, assert_system_role

pytestmark = pytest.mark.e2e

SEED_ERA = REPO_ROOT / "tests" / "fixtures" / "upstream" / "seed-era"


def test_up_creates_exactly_the_reference_objects_and_a_second_run_changes_nothing(
    cluster: Cluster, project: PulumiProject
) -> None:
    project.configure({"namespaces": ["parallelsns", "team-b"]})
    project.up()
    assert_system_role(cluster)
    for namespace in ("parallelsns", "team-b"):
        assert_namespace_objects(cluster, namespace)
    # Nothing else of ours: no ClusterRoleBinding to any service account, no pods-reader.
    bindings = cluster.get("clusterrolebindings", "-l", "app.kubernetes.io/managed-by=concurrent-infra")
    assert bindings is not None
    assert [item["metadata"]["name"] for item in bindings["items"]] == [SYSTEM_CLUSTER_ROLE_BINDING]
    assert cluster.get("clusterrole", "pods-reader") is None

    outputs = project.outputs()
    assert outputs["namespaces"] == ["parallelsns", "team-b"]
    assert outputs["serviceAccounts"]["team-b"] == {
        "system": "k8s-serviceaccount-for-parallels-team-b",
        "user": "k8s-serviceaccount-for-users-team-b",
    }
    assert '"kube-namespace": "team-b"' in outputs["testCommands"]["team-b"]

    project.preview("--expect-no-changes", check=True)
    project.run("refresh", "--yes", check=True)
    project.preview("--expect-no-changes", check=True)


def can(
    cluster: Cluster, verb: str, resource: str, namespace: str, service_account: str, sa_namespace: str
) -> bool:
    result = cluster.kubectl(
        "auth", "can-i", verb, resource, "-n", namespace,
        f"--as=system:serviceaccount:{sa_namespace}:{service_account}",
        check=False,
    )  # fmt: skip
    return result.stdout.strip() == "yes"


def test_permissions_are_what_concurrent_uses_and_no_more(cluster: Cluster, project: PulumiProject) -> None:
    project.configure({"namespaces": ["team-a", "team-b"]})
    project.up()
    a = namespace_object_names("team-a")
    system = (a.system_service_account, "team-a")
    user = (a.user_service_account, "team-a")

    # The system account creates and deletes what Concurrent's control plane needs, in its namespace.
    as_system = [f"--as=system:serviceaccount:team-a:{a.system_service_account}"]
    cluster.kubectl("create", "secret", "generic", "s1", "--from-literal=k=v", "-n", "team-a", *as_system)
    cluster.kubectl("create", "configmap", "c1", "--from-literal=k=v", "-n", "team-a", *as_system)
    cluster.kubectl("create", "job", "j1", "--image=busybox", "-n", "team-a", *as_system)
    cluster.kubectl("create", "deployment", "d1", "--image=busybox", "-n", "team-a", *as_system)
    for kind, name in (("secret", "s1"), ("configmap", "c1"), ("job", "j1"), ("deployment", "d1")):
        cluster.kubectl("delete", kind, name, "-n", "team-a", *as_system)
    denied = cluster.kubectl(
        "create", "secret", "generic", "s2", "--from-literal=k=v", "-n", "team-b", *as_system, check=False
    )
    assert denied.returncode != 0 and "forbidden" in denied.stderr
    for verb, resource in (("create", "jobs.batch"), ("get", "secrets"), ("delete", "configmaps")):
        assert not can(cluster, verb, resource, "team-b", *system)

    # The user account reads jobs, pods, pod logs and events of its namespace, nothing else.
    for resource in ("jobs.batch", "pods", "pods/log", "events"):
        for verb in ("get", "list", "watch"):
            assert can(cluster, verb, resource, "team-a", *user), (verb, resource)
        assert not can(cluster, "get", resource, "team-b", *user), resource
    forbidden_to_user = (
        ("get", "secrets"), ("list", "secrets"), ("create", "jobs.batch"), ("delete", "pods"),
        ("create", "configmaps"), ("update", "jobs.batch"),
    )  # fmt: skip
    for verb, resource in forbidden_to_user:
        assert not can(cluster, verb, resource, "team-a", *user), (verb, resource)
    as_user = [f"--as=system:serviceaccount:team-a:{a.user_service_account}"]
    assert cluster.kubectl("get", "jobs", "-n", "team-a", *as_user).returncode == 0
    forbidden = cluster.kubectl("get", "secrets", "-n", "team-a", *as_user, check=False)
    assert forbidden.returncode != 0 and "forbidden" in forbidden.stderr

    # The verify command agrees (SubjectAccessReviews and objects).
    verify = subprocess.run(
        [sys.executable, "-m", "concurrent_infra.verify", "--kubeconfig", cluster.kubeconfig_path,
         "--context", cluster.context, "--namespace", "team-a", "--namespace", "team-b"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_migration_adopts_a_cluster_prepared_by_hand(cluster: Cluster, project: PulumiProject) -> None:
    cluster.kubectl("create", "namespace", "parallelsns")
    for manifest in sorted(SEED_ERA.glob("*.yaml")):
        cluster.kubectl("apply", "-f", str(manifest))
    seeded = cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE)
    assert seeded is not None and any("post" in rule["verbs"] for rule in seeded["rules"])

    project.configure({"namespaces": ["parallelsns"]})
    refused = project.up(check=False)
    # Without adoptExisting nothing is taken over: a 4.29+ provider answers AlreadyExists; the
    # 4.25 provider the toolchain builds upserts, and stops at the conflict with kubectl's fields.
    assert not refused.ok
    assert "already exists" in refused.output or "field conflict" in refused.output, refused.output
    unchanged = cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE)
    assert unchanged is not None and unchanged["rules"] == seeded["rules"]

    project.configure({"namespaces": ["parallelsns"], "adoptExisting": True})
    project.up()
    assert_system_role(cluster)
    assert_namespace_objects(cluster, "parallelsns")
    converged = cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE)
    assert converged is not None and not any("post" in rule["verbs"] for rule in converged["rules"])
    project.preview("--expect-no-changes", check=True)


def test_namespaces_are_protected_unless_opted_out(cluster: Cluster, project: PulumiProject) -> None:
    project.configure({"namespaces": ["keep", "drop"]})
    project.up()

    project.configure({"namespaces": ["keep"]})
    refused = project.preview()
    assert not refused.ok and "protected" in refused.output
    assert not project.up(check=False).ok  # --skip-preview, as a deploy job runs it
    assert_namespace_objects(cluster, "drop")  # the namespace and every object of it

    project.configure({"namespaces": ["keep", {"name": "drop", "protect": False}]})
    project.up()
    project.configure({"namespaces": ["keep"]})
    project.up()
    cluster.wait_gone("namespace", "drop")  # the namespace controller finishes the deletion

    destroy = project.run("destroy", "--yes")
    assert not destroy.ok and "protected" in destroy.output
    assert cluster.get("namespace", "keep") is not None
    project.run("destroy", "--yes", "--exclude-protected", check=True)
    assert_namespace_objects(cluster, "keep")  # pulumi destroy leaves protected namespaces in place


def test_api_server_failure_mid_update_then_recovery(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    namespaces = [f"fault-{index}" for index in range(20)]  # a window wide enough to stop the server in
    project.configure({"namespaces": namespaces})
    log = tmp_path / "up.log"
    update = project.popen("up", "--yes", "--skip-preview", log=log)
    deadline = time.monotonic() + 300
    while cluster.get("namespace", "fault-0") is None:  # the update is under way
        assert update.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    cluster.stop(graceful=False)
    returncode = update.wait(timeout=900)
    output = log.read_text()
    assert returncode != 0, output
    # The error names the API server and what went wrong with the connection.
    assert f"127.0.0.1:{cluster.apiserver_port}" in output, output
    connection_errors = ("connection refused", "connection reset", "EOF", "unreachable")
    assert any(why in output for why in connection_errors), output

    cluster.start()
    project.up()
    assert_system_role(cluster)
    for namespace in namespaces:
        assert_namespace_objects(cluster, namespace)
    project.preview("--expect-no-changes", check=True)


def test_bad_input_fails_preview_with_the_programs_message_and_creates_nothing(
    cluster: Cluster, project: PulumiProject
) -> None:
    before = cluster.get("namespaces")
    assert before is not None
    project.configure({"namespaces": ["Bad_Name"]})
    preview = project.preview()
    assert not preview.ok
    assert 'concurrent-infra:namespaces[0] = "Bad_Name": not a valid namespace name' in preview.output
    assert "fix: use a name such as 'bad-name'" in preview.output
    assert not project.up(check=False).ok
    after = cluster.get("namespaces")
    assert after is not None and len(after["items"]) == len(before["items"])
    assert cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE) is None
    state = yaml.safe_load(project.run("stack", "export", check=True).output)
    resources = state.get("deployment", {}).get("resources") or []
    assert [r for r in resources if not r["type"].startswith("pulumi:")] == []


def test_policy_pack_passes_the_defaults_and_stops_an_unprotected_namespace(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    policy = ["--policy-pack", str(REPO_ROOT / "policy")]
    project.configure({"namespaces": ["parallelsns"]})
    project.preview(*policy, check=True)

    project.configure({"namespaces": ["parallelsns"], "protectNamespaces": False})
    refused = project.preview(*policy)
    assert not refused.ok
    assert "[mandatory]  managed-namespaces-protected" in refused.output
    assert "Namespace parallelsns is managed by concurrent-infra but not protected" in refused.output

    # The explicit opt-out in the policy config (README, "Reviewing changes").
    config = tmp_path / "policy-config.json"
    config.write_text('{"managed-namespaces-protected": {"unprotectedNamespaces": ["parallelsns"]}}')
    project.preview(*policy, "--policy-pack-config", str(config), check=True)
