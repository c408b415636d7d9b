"""End to end, tenancy (issue 11): what a local API server can show.

The local cluster has no scheduler and no kubelet, but admission runs: a pod over the quota is
refused when it is created, and the LimitRange fills in the requests of a pod that sets none. The
ResourceQuota admission plugin enforces the limits in the quota's status, which the resourcequota
controller copies from its spec (without it, even ``pods: "0"`` admits a pod: measured on the local
kube-apiserver), so the quota test runs that controller as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra.kube.names import (
    DIND_NAME,
    DIND_PRIORITY_CLASS,
    LIMIT_RANGE,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
    namespace_object_names,
)
from scripts.localcluster.cluster import DEFAULT_CONTROLLERS
from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

QUOTA = {"requests.cpu": "1", "pods": "10"}
CONTAINER_DEFAULTS = {"requests": {"cpu": "500m"}, "limits": {"memory": "256Mi"}}


@pytest.fixture
def quota_cluster(toolchain_bin: Path, tmp_path: Path) -> Iterator[Cluster]:
    """A local cluster that also runs the resourcequota controller (it computes quota usage)."""
    local = Cluster(
        toolchain_bin, tmp_path / "cluster", controllers=(*DEFAULT_CONTROLLERS, "resourcequota-controller")
    )
    local.up()
    try:
        yield local
    finally:
        local.close()


def wait_for(what: str, found: Any, timeout: float = 120) -> None:
    """Poll ``found()`` until it is truthy (a wait for a controller, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(1)


def pod_manifest(path: Path, name: str, namespace: str, cpu: str | None) -> Path:
    container: dict[str, Any] = {"name": "main", "image": "busybox", "command": ["sleep", "3600"]}
    if cpu is not None:
        container["resources"] = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container], "automountServiceAccountToken": False},
    }
    file = path / f"{name}.yaml"
    file.write_text(yaml.safe_dump(pod))
    return file


def test_quota_refuses_a_pod_over_it_and_container_defaults_fill_in_requests(
    quota_cluster: Cluster, toolchain_bin: Path, tmp_path: Path
) -> None:
    cluster = quota_cluster
    project = PulumiProject(tmp_path, toolchain_bin, cluster.kubeconfig_path, cluster.context)
    project.configure(
        {
            "namespaces": [
                {
                    "name": "team-a",
                    "quota": QUOTA,
                    "containerDefaults": CONTAINER_DEFAULTS,
                    "networkIsolation": True,
                },
                "team-b",
            ]
        }
    )
    project.up()

    quota = cluster.get("resourcequota", RESOURCE_QUOTA, "-n", "team-a")
    assert quota is not None and quota["spec"]["hard"] == QUOTA
    limit_range = cluster.get("limitrange", LIMIT_RANGE, "-n", "team-a")
    assert limit_range is not None
    assert limit_range["spec"]["limits"] == [
        {
            "type": "Container",
            "defaultRequest": {"cpu": "500m", "memory": "256Mi"},  # the API server defaults
            "default": {"memory": "256Mi"},  # an unset request to the limit
        }
    ]
    policy = cluster.get("networkpolicy", NETWORK_POLICY, "-n", "team-a")
    assert policy is not None
    assert policy["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    }
    # Nothing in the namespace that asked for none.
    for kind in ("resourcequota", "limitrange", "networkpolicy"):
        listed = cluster.get(kind, "-n", "team-b")
        assert listed is not None and listed["items"] == [], kind

    wait_for(
        "the quota controller records usage",
        lambda: (
            "requests.cpu"
            in (
                (cluster.get("resourcequota", RESOURCE_QUOTA, "-n", "team-a") or {})
                .get("status", {})
                .get("used", {})
            )
        ),
    )
    wait_for("the default service account", lambda: cluster.get("serviceaccount", "default", "-n", "team-a"))

    over = cluster.kubectl("create", "-f", str(pod_manifest(tmp_path, "too-big", "team-a", "2")), check=False)
    assert over.returncode != 0
    assert "exceeded quota: concurrent-quota" in over.stderr and "requests.cpu=2" in over.stderr, over.stderr
    assert cluster.get("pod", "too-big", "-n", "team-a") is None

    # No resources: the LimitRange gives it 500m, so two fit in the quota of 1 CPU and a third not.
    for name in ("plain-1", "plain-2"):
        cluster.kubectl("create", "-f", str(pod_manifest(tmp_path, name, "team-a", None)))
    pod = cluster.get("pod", "plain-1", "-n", "team-a")
    assert pod is not None
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "256Mi"}
    third = cluster.kubectl(
        "create", "-f", str(pod_manifest(tmp_path, "plain-3", "team-a", None)), check=False
    )
    assert third.returncode != 0 and "exceeded quota: concurrent-quota" in third.stderr, third.stderr

    # The same pod is admitted in the namespace without a quota.
    cluster.kubectl("create", "-f", str(pod_manifest(tmp_path, "big-elsewhere", "team-b", "2")))


def rendered_files(directory: Path) -> dict[str, dict[str, Any]]:
    """Every rendered manifest, by its path relative to ``directory``."""
    return {
        str(path.relative_to(directory)): yaml.safe_load(path.read_text())
        for path in sorted(directory.rglob("*.yaml"))
    }


def test_render_writes_manifests_touches_no_cluster_and_the_applied_files_pass_verify(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    rendered = tmp_path / "rendered"
    project.configure(
        {
            "namespaces": [
                {
                    "name": "team-a",
                    "quota": QUOTA,
                    "containerDefaults": CONTAINER_DEFAULTS,
                    "networkIsolation": True,
                    "podSecurity": "privileged",
                    "dind": True,
                },
                "team-b",
            ]
        },
        renderYamlToDirectory=str(rendered),
    )
    result = project.up()
    assert "kubernetes:renderYamlToDirectory is ignored" not in result.output

    # Nothing reached the cluster.
    assert cluster.get("namespace", "team-a") is None
    assert cluster.get("clusterrole", "k8s-role-for-parallels-lambda") is None

    files = rendered_files(rendered)
    assert all(path.startswith("1-manifest/") for path in files), list(files)
    by_object = {
        (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]) for doc in files.values()
    }
    names = namespace_object_names("team-a")
    for expected in (
        ("Namespace", None, "team-a"),
        ("Namespace", None, "team-b"),
        ("ResourceQuota", "team-a", RESOURCE_QUOTA),
        ("LimitRange", "team-a", LIMIT_RANGE),
        ("NetworkPolicy", "team-a", NETWORK_POLICY),
        ("Deployment", "team-a", DIND_NAME),
        ("Service", "team-a", DIND_NAME),
        ("PriorityClass", None, DIND_PRIORITY_CLASS),
        ("ServiceAccount", "team-a", names.user_service_account),
        ("ClusterRole", None, "k8s-role-for-parallels-lambda"),
    ):
        assert expected in by_object, expected
    assert not any(kind in ("ResourceQuota", "Deployment") and ns == "team-b" for kind, ns, _ in by_object)
    assert "1-manifest/v1-namespace-default-team-a.yaml" in files, "the provider's file naming"

    # Outputs in render mode are the inputs: the names are known.
    outputs = project.outputs()
    assert outputs["serviceAccounts"]["team-a"]["user"] == names.user_service_account

    # A GitOps tool applies Namespaces first; here kubectl does the same in two steps.
    manifests = rendered / "1-manifest"
    namespaces = sorted(str(path) for path in manifests.glob("v1-namespace-*.yaml"))
    cluster.kubectl("apply", *(arg for path in namespaces for arg in ("-f", path)))
    applied = cluster.kubectl("apply", "-f", str(manifests), check=False)
    assert applied.returncode == 0, applied.stderr

    verify = subprocess.run(
        [
            sys.executable, "-m", "concurrent_infra.verify",
            "--context", cluster.context, "--kubeconfig", cluster.kubeconfig_path,
            "--stack-file", str(project.stack_file),
        ],
        capture_output=True, text=True, check=False, timeout=300, cwd=REPO_ROOT,
        env={**os.environ, "KUBECONFIG": cluster.kubeconfig_path},
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # Rendering again with the same config changes nothing.
    project.preview("--expect-no-changes", check=True)
