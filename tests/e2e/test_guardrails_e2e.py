"""End to end: guardrails the system service account cannot undo (issue 8).

After ``pulumi up`` of two namespaces on the local API server, the system service account of
``team-b`` (which RBAC lets update and delete its own Namespace, through the RoleBinding of the
system role) tries what an attacker holding its token would: relabel its namespace
``privileged``, delete it, run a privileged pod. The namespace guard (a ValidatingAdmissionPolicy)
and Pod Security admission refuse; the namespace stays ``Active``. Admission runs without a
kubelet, so a plain pod is admitted (and stays Pending) while a privileged one is refused.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from concurrent_infra.kube.labels import MANAGED_BY_LABEL
from concurrent_infra.kube.names import NAMESPACE_GUARD_POLICY, SYSTEM_GROUP, namespace_object_names
from concurrent_infra.kube.pod_security import (
    AUDIT_LABEL,
    ENFORCE_LABEL,
    ENFORCE_VERSION_LABEL,
    WARN_LABEL,
)
from scripts.localcluster.pulumi_project import PulumiProject
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

NAMESPACE = "team-b"
NAMES = namespace_object_names(NAMESPACE)
AS_SYSTEM = f"--as=system:serviceaccount:{NAMESPACE}:{NAMES.system_service_account}"
CONTROL_PLANE = "concurrent@my-project.iam.gserviceaccount.com"
"""A systemRoleUsers entry: Concurrent's control plane, bound to the system role cluster-wide."""
GUARD_READY_TIMEOUT = 120.0
"""How long the API server may take to load a new admission policy (a wait, not an assertion)."""


def pod(name: str, security_context: dict[str, Any] | None = None) -> str:
    """A pod manifest (JSON) that satisfies ``baseline`` unless ``security_context`` says otherwise.

    It runs as the namespace's user service account (which exists: the default one may not yet)
    without a mounted token, so only Pod Security decides.
    """
    container: dict[str, Any] = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    if security_context:
        container["securityContext"] = security_context
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "serviceAccountName": NAMES.user_service_account,
            "automountServiceAccountToken": False,
            "containers": [container],
        },
    }
    return json.dumps(manifest)


def kubectl_stdin(cluster: Cluster, stdin: str, *args: str) -> tuple[int, str]:
    """``kubectl ARGS`` with ``stdin``: (exit status, stdout + stderr)."""
    kubectl = cluster.bin_dir / "kubectl"
    completed = subprocess.run(
        [str(kubectl), "--kubeconfig", cluster.kubeconfig_path, "--context", cluster.context, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def rbac_allows(cluster: Cluster, verb: str) -> bool:
    """Whether RBAC lets the system account ``verb`` its own Namespace object.

    A SubjectAccessReview with the attributes the API server uses for a Namespace object
    (namespace = its own name), which ``kubectl auth can-i`` cannot express for a cluster-scoped
    resource.
    """
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": AS_SYSTEM.removeprefix("--as="),
            "groups": [
                "system:serviceaccounts",
                f"system:serviceaccounts:{NAMESPACE}",
                "system:authenticated",
            ],
            "resourceAttributes": {
                "namespace": NAMESPACE,
                "verb": verb,
                "resource": "namespaces",
                "name": NAMESPACE,
            },
        },
    }
    status, output = kubectl_stdin(cluster, json.dumps(review), "create", "-o", "json", "-f", "-")
    assert status == 0, output
    allowed: bool = json.loads(output)["status"].get("allowed", False)
    return allowed


def namespace(cluster: Cluster) -> dict[str, Any]:
    found = cluster.get("namespace", NAMESPACE)
    assert found is not None, f"namespace {NAMESPACE} is gone"
    return found


def assert_active_and_baseline(cluster: Cluster) -> None:
    found = namespace(cluster)
    assert found["status"]["phase"] == "Active"
    assert "deletionTimestamp" not in found["metadata"]
    assert found["metadata"]["labels"][ENFORCE_LABEL] == "baseline"


def wait_for_guard(cluster: Cluster) -> None:
    """Wait until the API server applies the namespace guard (probed with a server-side dry run,
    which runs admission but changes nothing)."""
    deadline = time.monotonic() + GUARD_READY_TIMEOUT
    while True:
        probe = cluster.kubectl(
            "label", "namespace", NAMESPACE, f"{ENFORCE_LABEL}=privileged", "--overwrite",
            "--dry-run=server", AS_SYSTEM, check=False,
        )  # fmt: skip
        if probe.returncode != 0 and NAMESPACE_GUARD_POLICY in probe.stderr:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the namespace guard is not applied after {GUARD_READY_TIMEOUT}s; last probe: "
                f"{probe.returncode} {probe.stdout}{probe.stderr}"
            )
        time.sleep(1)


def test_the_system_service_account_cannot_undo_the_guardrails(
    cluster: Cluster, project: PulumiProject
) -> None:
    project.configure({"namespaces": ["parallelsns", NAMESPACE], "systemRoleUsers": [CONTROL_PLANE]})
    project.up()

    # Every managed Namespace carries the Pod Security labels.
    for name in ("parallelsns", NAMESPACE):
        found = cluster.get("namespace", name)
        assert found is not None
        labels = found["metadata"]["labels"]
        assert {
            key: labels.get(key) for key in (ENFORCE_LABEL, ENFORCE_VERSION_LABEL, WARN_LABEL, AUDIT_LABEL)
        } == {
            ENFORCE_LABEL: "baseline",
            ENFORCE_VERSION_LABEL: "latest",
            WARN_LABEL: "restricted",
            AUDIT_LABEL: "restricted",
        }
        assert labels[MANAGED_BY_LABEL] == "concurrent-infra"
    assert cluster.get("validatingadmissionpolicy", NAMESPACE_GUARD_POLICY) is not None
    assert cluster.get("validatingadmissionpolicybinding", NAMESPACE_GUARD_POLICY) is not None

    # RBAC alone would let the system account do all of this: the guard is what stops it.
    for verb in ("update", "patch", "delete"):
        assert rbac_allows(cluster, verb), f"RBAC does not let the system account {verb} its namespace"
    wait_for_guard(cluster)

    relabel = cluster.kubectl(
        "label", "namespace", NAMESPACE, f"{ENFORCE_LABEL}=privileged", "--overwrite", AS_SYSTEM, check=False
    )
    assert relabel.returncode != 0
    assert NAMESPACE_GUARD_POLICY in relabel.stderr and "Pod Security labels" in relabel.stderr, (
        relabel.stderr
    )
    assert_active_and_baseline(cluster)

    for label in (f"{WARN_LABEL}-", f"{MANAGED_BY_LABEL}-", f"{ENFORCE_VERSION_LABEL}=v1.0"):
        changed = cluster.kubectl(
            "label", "namespace", NAMESPACE, label, "--overwrite", AS_SYSTEM, check=False
        )
        assert changed.returncode != 0 and NAMESPACE_GUARD_POLICY in changed.stderr, (label, changed.stderr)

    delete = cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", AS_SYSTEM, check=False)
    assert delete.returncode != 0
    assert NAMESPACE_GUARD_POLICY in delete.stderr and "may not delete" in delete.stderr, delete.stderr
    assert_active_and_baseline(cluster)

    # The system role's own subjects (a configured user, a member of its group) hold it
    # cluster-wide, so RBAC lets them delete any namespace: the guard holds them back too.
    for as_subject in ([f"--as={CONTROL_PLANE}"], ["--as=someone@example.com", f"--as-group={SYSTEM_GROUP}"]):
        for attempt in (
            ("delete", "namespace", NAMESPACE, "--wait=false"),
            ("label", "namespace", NAMESPACE, f"{ENFORCE_LABEL}=privileged", "--overwrite"),
        ):
            refused = cluster.kubectl(*attempt, *as_subject, check=False)
            assert refused.returncode != 0, (as_subject, attempt, refused.stdout)
            assert NAMESPACE_GUARD_POLICY in refused.stderr, (as_subject, refused.stderr)
    assert_active_and_baseline(cluster)

    # Other labels stay the system account's to change: the guard is no wider than it must be.
    cluster.kubectl("label", "namespace", NAMESPACE, "example.com/cost-center=ml", AS_SYSTEM)

    # Pod Security admission: a privileged pod is refused, a plain (baseline) pod admitted.
    status, output = kubectl_stdin(
        cluster, pod("privileged", {"privileged": True}), "create", "-f", "-", AS_SYSTEM
    )
    assert status != 0, output
    assert "violates PodSecurity" in output and "baseline" in output, output
    assert cluster.get("pod", "privileged", "-n", NAMESPACE) is None
    status, output = kubectl_stdin(cluster, pod("plain"), "create", "-f", "-", AS_SYSTEM)
    assert status == 0, output
    assert cluster.get("pod", "plain", "-n", NAMESPACE) is not None

    # A person (the admin user) can still relabel: the guard applies to service accounts only.
    cluster.kubectl("label", "namespace", NAMESPACE, f"{ENFORCE_LABEL}=privileged", "--overwrite")
    assert namespace(cluster)["metadata"]["labels"][ENFORCE_LABEL] == "privileged"
    status, output = kubectl_stdin(
        cluster, pod("privileged", {"privileged": True}), "create", "-f", "-", AS_SYSTEM
    )
    assert status == 0, output


OWNER = {"apiVersion": "v1", "kind": "Node", "name": "gone", "uid": "7c4e0f6e-0000-4000-8000-000000000000"}
"""An owner that does not exist: the garbage collector would delete the namespace (issue 17)."""
SIDE_DOORS: dict[str, dict[str, Any]] = {
    "relabel privileged": {"metadata": {"labels": {ENFORCE_LABEL: "privileged"}}},
    "ownerReferences": {"metadata": {"ownerReferences": [OWNER]}},
    "finalizers": {"metadata": {"finalizers": ["example.com/never"]}},
    "node-selector annotation": {
        "metadata": {"annotations": {"scheduler.alpha.kubernetes.io/node-selector": "pool=gpu"}}
    },
    # Empty is not absent: it turns the cluster's default whitelist off (extractNSTolerations).
    "empty tolerations whitelist": {
        "metadata": {"annotations": {"scheduler.alpha.kubernetes.io/tolerationsWhitelist": ""}}
    },
}


def test_right_after_up_every_guarded_identity_is_refused_every_side_door(
    cluster: Cluster, project: PulumiProject
) -> None:
    """Issue 17: ``pulumi up`` returns only once the guard is enforced (no wait here), and the guard
    refuses each change that makes the control plane delete, block or free the namespace."""
    project.configure({"namespaces": [NAMESPACE], "systemRoleUsers": [CONTROL_PLANE]})
    project.up()
    identities = {
        "system service account": [AS_SYSTEM],
        "extra system-role user": [f"--as={CONTROL_PLANE}"],
        "system-group member": ["--as=someone@example.com", f"--as-group={SYSTEM_GROUP}"],
    }
    for who, as_subject in identities.items():
        for door, patch in SIDE_DOORS.items():
            refused = cluster.kubectl(
                "patch",
                "namespace",
                NAMESPACE,
                "--type=merge",
                "-p",
                json.dumps(patch),
                *as_subject,
                check=False,
            )
            assert refused.returncode != 0, (who, door, refused.stdout)
            assert NAMESPACE_GUARD_POLICY in refused.stderr, (who, door, refused.stderr)
    found = namespace(cluster)
    assert "ownerReferences" not in found["metadata"] and "finalizers" not in found["metadata"]
    assert_active_and_baseline(cluster)

    # deletionTimestamp cannot be set by an update at all: the API server keeps the stored value.
    cluster.kubectl(
        "patch", "namespace", NAMESPACE, "--type=merge", AS_SYSTEM,
        "-p", json.dumps({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}), check=False,
    )  # fmt: skip
    assert_active_and_baseline(cluster)

    # The finalize and status subresources, once RBAC allows them (the system role does not; an
    # operator's role might): the guard refuses.
    grant = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "finalize", "namespace": NAMESPACE},
        "rules": [
            {"apiGroups": [""], "resources": ["namespaces/finalize"], "verbs": ["update"]},
            {"apiGroups": [""], "resources": ["namespaces/status"], "verbs": ["get", "patch", "update"]},
        ],
    }
    status, output = kubectl_stdin(cluster, json.dumps(grant), "apply", "-f", "-")
    assert status == 0, output
    cluster.kubectl(
        "create", "rolebinding", "finalize", "-n", NAMESPACE, "--role=finalize",
        f"--serviceaccount={NAMESPACE}:{NAMES.system_service_account}",
    )  # fmt: skip
    finalized = namespace(cluster)
    finalized["spec"]["finalizers"] = []
    status, output = kubectl_stdin(
        cluster, json.dumps(finalized), "replace", "--raw", f"/api/v1/namespaces/{NAMESPACE}/finalize",
        "-f", "-", AS_SYSTEM,
    )  # fmt: skip
    assert status != 0 and NAMESPACE_GUARD_POLICY in output, output
    assert namespace(cluster)["spec"]["finalizers"] == ["kubernetes"]
    for door, patch in SIDE_DOORS.items():
        refused = cluster.kubectl(
            "patch", "namespace", NAMESPACE, "--subresource=status", "--type=merge",
            "-p", json.dumps(patch), AS_SYSTEM, check=False,
        )  # fmt: skip
        assert refused.returncode != 0, (door, refused.stdout)
        assert NAMESPACE_GUARD_POLICY in refused.stderr, (door, refused.stderr)
    found = namespace(cluster)
    assert "ownerReferences" not in found["metadata"] and "finalizers" not in found["metadata"]
    assert_active_and_baseline(cluster)
