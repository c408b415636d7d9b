"""End to end: ``verify`` on a real API server after a real ``pulumi up`` of two namespaces.

The clean cluster passes (Kubernetes' own default bindings and the server's defaults of the guard
policy included); each tamper of issue 8 ("verify misses extra grants"), of the attacker
review (a gutted or narrowed namespace guard, a removed managed-by label, a grant to anonymous
callers) and of issue 17 (the system role bound to an outsider or to a namespace's ``default``
service account, impersonation added to a default role everyone holds), made with kubectl as
the cluster administrator (and metadata planted on a namespace), fails with exit status 1 and names
what is wrong; undone, the cluster passes again.

The local cluster does not run the ClusterRole aggregation controller, so the built-in ``view``
and ``admin`` roles have no rules there and the SubjectAccessReviews see nothing: the bindings to
them are caught by the binding scan alone, which is what it is for (on a real cluster the reviews
flag them too). The reviews are exercised by the user-role tamper.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from concurrent_infra.kube.guardrails import namespace_guard_policy_spec
from concurrent_infra.kube.labels import COMMON_LABELS, MANAGED_BY_LABEL
from concurrent_infra.kube.names import (
    NAMESPACE_GUARD_POLICY,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    namespace_object_names,
)
from concurrent_infra.kube.pod_security import ENFORCE_LABEL
from concurrent_infra.kube.rbac import USER_RULES
from concurrent_infra.verify.checks import api_form
from scripts.localcluster.pulumi_project import PulumiProject
from tests.support.cluster import Cluster
from tests.support.verify_run import failures as failure_entries

pytestmark = pytest.mark.e2e

B = namespace_object_names("team-b")
USER_SA = f"team-b:{B.user_service_account}"
GUARD_SPEC: dict[str, Any] = api_form(namespace_guard_policy_spec())
"""The guard policy's spec in the API's spelling (to undo a tamper)."""


@dataclass(frozen=True)
class Tamper:
    """kubectl commands that change the cluster, the failure entries they must cause (substrings
    of the text report), and the commands that undo them."""

    name: str
    apply: tuple[tuple[str, ...], ...]
    expected: tuple[str, ...]
    undo: tuple[tuple[str, ...], ...]


def json_patch(kind: str, name: str, operations: list[dict[str, object]]) -> tuple[str, ...]:
    return ("patch", kind, name, "--type=json", "-p", json.dumps(operations))


TAMPERS = (
    Tamper(
        "extra cluster-wide view binding",
        (
            (
                "create",
                "clusterrolebinding",
                "team-b-view",
                "--clusterrole=view",
                f"--serviceaccount={USER_SA}",
            ),
        ),
        ("[bindings] ClusterRoleBinding team-b-view (ClusterRole/view)",),
        (("delete", "clusterrolebinding", "team-b-view"),),
    ),
    Tamper(
        "admin RoleBinding in another namespace",
        (
            (
                "create",
                "rolebinding",
                "team-b-admin",
                "-n",
                "team-a",
                "--clusterrole=admin",
                f"--serviceaccount={USER_SA}",
            ),
        ),
        ("[bindings] RoleBinding team-a/team-b-admin (ClusterRole/admin)",),
        (("delete", "rolebinding", "team-b-admin", "-n", "team-a"),),
    ),
    Tamper(
        "create pods/exec added to the user role",
        (
            json_patch(
                "clusterrole",
                B.user_cluster_role,
                [
                    {
                        "op": "add",
                        "path": "/rules/-",
                        "value": {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                    }
                ],
            ),
        ),
        (
            f"[rules] ClusterRole {B.user_cluster_role} rules: expected exactly the package's",
            "found extra: create pods/exec",
            f"[access] {B.user_service_account} can create pods/exec in team-b: expected denied",
        ),
        (
            json_patch(
                "clusterrole", B.user_cluster_role, [{"op": "remove", "path": f"/rules/{len(USER_RULES)}"}]
            ),
        ),
    ),
    Tamper(
        "system:anonymous added to the system binding",
        (
            json_patch(
                "clusterrolebinding",
                SYSTEM_CLUSTER_ROLE_BINDING,
                [
                    {
                        "op": "add",
                        "path": "/subjects/-",
                        "value": {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "User",
                            "name": "system:anonymous",
                        },
                    }
                ],
            ),
        ),
        (
            f"[subjects] ClusterRoleBinding {SYSTEM_CLUSTER_ROLE_BINDING} subjects",
            f"[subjects] ClusterRoleBinding {SYSTEM_CLUSTER_ROLE_BINDING} subject User system:anonymous",
        ),
        (
            json_patch(
                "clusterrolebinding", SYSTEM_CLUSTER_ROLE_BINDING, [{"op": "remove", "path": "/subjects/1"}]
            ),
        ),
    ),
    Tamper(
        "namespace relabelled privileged",
        (("label", "namespace", "team-a", f"{ENFORCE_LABEL}=privileged", "--overwrite"),),
        ("[pod-security] Namespace team-a Pod Security labels: expected audit=restricted, enforce=baseline",),
        (("label", "namespace", "team-a", f"{ENFORCE_LABEL}=baseline", "--overwrite"),),
    ),
    Tamper(
        "namespace guard gutted: failures ignored, the delete validation always true",
        (
            json_patch(
                "validatingadmissionpolicy",
                NAMESPACE_GUARD_POLICY,
                [
                    {"op": "replace", "path": "/spec/failurePolicy", "value": "Ignore"},
                    {"op": "replace", "path": "/spec/validations/0/expression", "value": "true"},
                ],
            ),
        ),
        (
            f"[guard] ValidatingAdmissionPolicy {NAMESPACE_GUARD_POLICY} spec: expected exactly",
            'failurePolicy="Ignore"',
            'validations[0].expression="true"',
        ),
        (
            json_patch(
                "validatingadmissionpolicy",
                NAMESPACE_GUARD_POLICY,
                [
                    {"op": "replace", "path": "/spec/failurePolicy", "value": GUARD_SPEC["failurePolicy"]},
                    {
                        "op": "replace",
                        "path": "/spec/validations/0/expression",
                        "value": GUARD_SPEC["validations"][0]["expression"],
                    },
                ],
            ),
        ),
    ),
    Tamper(
        "namespace guard binding narrowed to namespaces no one has",
        (
            json_patch(
                "validatingadmissionpolicybinding",
                NAMESPACE_GUARD_POLICY,
                [
                    {
                        "op": "add",
                        "path": "/spec/matchResources",
                        "value": {"namespaceSelector": {"matchLabels": {"nothing": "has-this"}}},
                    }
                ],
            ),
        ),
        (f"[guard] ValidatingAdmissionPolicyBinding {NAMESPACE_GUARD_POLICY} spec", "matchResources="),
        (
            json_patch(
                "validatingadmissionpolicybinding",
                NAMESPACE_GUARD_POLICY,
                [{"op": "remove", "path": "/spec/matchResources"}],
            ),
        ),
    ),
    Tamper(
        "managed-by label removed (the namespace leaves the guard's selector)",
        (("label", "namespace", "team-a", f"{MANAGED_BY_LABEL}-"),),
        (f"[pod-security] Namespace team-a label {MANAGED_BY_LABEL} (the guard selects it)",),
        (("label", "namespace", "team-a", f"{MANAGED_BY_LABEL}={COMMON_LABELS[MANAGED_BY_LABEL]}"),),
    ),
    Tamper(
        "admin for anonymous callers in a managed namespace",
        (
            (
                "create",
                "rolebinding",
                "open-door",
                "-n",
                "team-a",
                "--clusterrole=admin",
                "--user=system:anonymous",
                "--group=system:unauthenticated",
            ),
        ),
        ("[bindings] RoleBinding team-a/open-door (ClusterRole/admin)", "User system:anonymous in team-a"),
        (("delete", "rolebinding", "open-door", "-n", "team-a"),),
    ),
    Tamper(
        "the system role bound to an outsider (issue 17)",
        (
            (
                "create",
                "rolebinding",
                "lambda-too",
                "-n",
                "team-a",
                f"--clusterrole={SYSTEM_CLUSTER_ROLE}",
                "--user=mallory@example.com",
            ),
        ),
        (f"[bindings] RoleBinding team-a/lambda-too binds the system role {SYSTEM_CLUSTER_ROLE}",),
        (("delete", "rolebinding", "lambda-too", "-n", "team-a"),),
    ),
    Tamper(
        "a namespace's default service account bound to a powerful role (issue 17)",
        (
            (
                "create",
                "rolebinding",
                "default-lambda",
                "-n",
                "team-a",
                f"--clusterrole={SYSTEM_CLUSTER_ROLE}",
                "--serviceaccount=team-a:default",
            ),
        ),
        (
            "[bindings] RoleBinding team-a/default-lambda binds the system role",
            "[access] default can get secrets in team-a: expected denied",
            "[access] default can create pods in team-a: expected denied",
        ),
        (("delete", "rolebinding", "default-lambda", "-n", "team-a"),),
    ),
    Tamper(
        "impersonation added to a default role bound to everyone (issue 17)",
        (
            json_patch(
                "clusterrole",
                "system:basic-user",
                [
                    {
                        "op": "add",
                        "path": "/rules/0",
                        "value": {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]},
                    }
                ],
            ),
        ),
        (
            "[access] everyone (system:anonymous,",
            "[access] default can impersonate users cluster-wide: expected denied",
        ),
        (json_patch("clusterrole", "system:basic-user", [{"op": "remove", "path": "/rules/0"}]),),
    ),
)


def run_verify(cluster: Cluster, project: PulumiProject, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "concurrent_infra.verify", "--kubeconfig", cluster.kubeconfig_path,
        "--context", cluster.context, "--stack-file", str(project.stack_file), *extra,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


def test_verify_catches_each_tamper(cluster: Cluster, project: PulumiProject) -> None:
    project.configure({"namespaces": ["team-a", "team-b"]})
    project.up()

    clean = run_verify(cluster, project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("concurrent-infra-verify: OK: all ")
    assert max(len(line) for line in clean.stdout.splitlines()) <= 100
    # The real API server's default bindings (to system:authenticated) are seen and not flagged.
    report = json.loads(run_verify(cluster, project, "--json").stdout)
    defaults = {c["check"].split()[1] for c in report["checks"] if c["actual"] == "Kubernetes default"}
    assert {"system:basic-user", "system:discovery", "system:public-info-viewer"} <= defaults

    for tamper in TAMPERS:
        for command in tamper.apply:
            cluster.kubectl(*command)
        tampered = run_verify(cluster, project)
        assert tampered.returncode == 1, f"{tamper.name}:\n{tampered.stdout}{tampered.stderr}"
        entries = "\n".join(failure_entries(tampered.stdout))
        for expected in tamper.expected:
            assert expected in entries, f"{tamper.name}: {expected!r} not in\n{tampered.stdout}"
        assert max(len(line) for line in tampered.stdout.splitlines()) <= 100
        for command in tamper.undo:
            cluster.kubectl(*command)
        undone = run_verify(cluster, project)
        assert undone.returncode == 0, f"after undoing {tamper.name}:\n{undone.stdout}{undone.stderr}"

    # Issue 17 (review): metadata the earlier guard let a guarded identity plant stays once the new
    # guard refuses removing it; verify reports it. Planted here as the administrator, with a live
    # owner (a missing one would make the garbage collector delete the namespace).
    owner = cluster.get("namespace", "kube-public")
    assert owner is not None
    reference = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "name": "kube-public",
        "uid": owner["metadata"]["uid"],
    }
    planted = {
        "metadata": {
            "ownerReferences": [reference],
            "finalizers": ["example.com/planted"],
            "annotations": {"scheduler.alpha.kubernetes.io/node-selector": ""},
        }
    }
    cluster.kubectl("patch", "namespace", "team-b", "--type=merge", "-p", json.dumps(planted))
    tampered = run_verify(cluster, project)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    entries = "\n".join(failure_entries(tampered.stdout))
    for expected in (
        "[guard] Namespace team-b has no ownerReferences",
        "[guard] Namespace team-b has no metadata.finalizers",
        "[guard] Namespace team-b annotation scheduler.alpha.kubernetes.io/node-selector",
    ):
        assert expected in entries, f"{expected!r} not in\n{tampered.stdout}"
    cluster.kubectl(
        *json_patch(
            "namespace",
            "team-b",
            [
                {"op": "remove", "path": "/metadata/ownerReferences"},
                {"op": "remove", "path": "/metadata/finalizers"},
                {
                    "op": "remove",
                    "path": "/metadata/annotations/scheduler.alpha.kubernetes.io~1node-selector",
                },
            ],
        )
    )
    undone = run_verify(cluster, project)
    assert undone.returncode == 0, undone.stdout + undone.stderr
