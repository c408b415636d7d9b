"""Two shards of one cluster, on the real Pulumi CLI and API server (README, "Goals and sharding").

The harness's stack ``e2e`` holds the system role and two namespaces; stack ``shard-b`` of the same
project holds a third. Each deploys on its own, ``verify --stack-file`` of either expects the whole
environment, and a namespace listed in both is refused by the preview of each shard.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.localcluster.pulumi_project import STACK, PulumiProject
from tests.support.cluster import Cluster
from tests.support.e2e_asserts import assert_namespace_objects

pytestmark = pytest.mark.e2e

SHARD_B = "shard-b"
SHARDS = [STACK, SHARD_B]


def write_shard_b(project: PulumiProject, namespaces: list[str]) -> Path:
    """Stack ``shard-b``'s file: the same cluster as ``e2e``, without the system role."""
    path = project.dir / "stacks" / f"Pulumi.{SHARD_B}.yaml"
    config: dict[str, Any] = {
        "concurrent-infra:shards": SHARDS,
        "concurrent-infra:createSystemRole": False,
        "concurrent-infra:namespaces": namespaces,
        "kubernetes:kubeconfig": project.kubeconfig,
        "kubernetes:context": project.context,
    }
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def verify_environment(cluster: Cluster, stack_file: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "concurrent_infra.verify", "--kubeconfig", cluster.kubeconfig_path,
        "--context", cluster.context, "--stack-file", str(stack_file), "--json",
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


def test_two_shards_deploy_verify_and_refuse_an_overlap(cluster: Cluster, project: PulumiProject) -> None:
    project.configure({"shards": SHARDS, "namespaces": ["shard-a-1", "shard-a-2"]})
    project.run("stack", "init", SHARD_B, "--secrets-provider", "passphrase", check=True)
    shard_b_file = write_shard_b(project, ["shard-b-1", "shard-b-2"])

    project.run("up", "--yes", "--skip-preview", "--stack", STACK, check=True)
    project.run("up", "--yes", "--skip-preview", "--stack", SHARD_B, check=True)
    for namespace in ("shard-a-1", "shard-a-2", "shard-b-1", "shard-b-2"):
        assert_namespace_objects(cluster, namespace)
    assert cluster.get("clusterrolebinding", "k8s-role-for-parallels-lambda-binding") is not None

    for stack_file in (project.stack_file, shard_b_file):  # either shard's file: the environment
        verified = verify_environment(cluster, stack_file)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        report = json.loads(verified.stdout)
        assert sorted(report["namespaces"]) == ["shard-a-1", "shard-a-2", "shard-b-1", "shard-b-2"]
        checked = " ".join(check["check"] for check in report["checks"])
        assert "shard-b-1" in checked and "k8s-role-for-parallels-lambda" in checked

    # shard-a-2 also in shard-b: each shard's preview refuses it, naming the other shard
    write_shard_b(project, ["shard-b-1", "shard-b-2", "shard-a-2"])
    refused_b = project.run("preview", "--stack", SHARD_B)
    assert not refused_b.ok
    assert "namespaces[2] = \"shard-a-2\": also in shard 'e2e'" in refused_b.output
    refused_a = project.run("preview", "--stack", STACK)
    assert not refused_a.ok
    assert "namespaces[1] = \"shard-a-2\": also in shard 'shard-b'" in refused_a.output

    write_shard_b(project, ["shard-b-1", "shard-b-2"])
    for stack in SHARDS:
        project.run("preview", "--expect-no-changes", "--stack", stack, check=True)


def test_a_namespace_moves_between_shards_without_being_deleted(
    cluster: Cluster, project: PulumiProject
) -> None:
    """docs/operations.md, "Moving a namespace between shards": forget it in the old shard's state, then
    adopt it in the new one; the Namespace (and so everything in it) is never deleted."""
    project.configure({"shards": SHARDS, "namespaces": ["shard-a-1"]})
    project.run("stack", "init", SHARD_B, "--secrets-provider", "passphrase", check=True)
    write_shard_b(project, ["shard-b-1", "moving"])
    for stack in SHARDS:
        project.run("up", "--yes", "--skip-preview", "--stack", stack, check=True)
    namespace = cluster.get("namespace", "moving")
    assert namespace is not None
    cluster.kubectl("create", "configmap", "team-data", "-n", "moving", "--from-literal=keep=me")

    # Without step 1, the old shard's up is refused (the Namespace is protected) and deletes nothing.
    write_shard_b(project, ["shard-b-1"])
    skipped = project.run("up", "--yes", "--skip-preview", "--stack", SHARD_B)
    assert not skipped.ok and "protected" in skipped.output
    assert_namespace_objects(cluster, "moving")
    write_shard_b(project, ["shard-b-1", "moving"])
    project.run("preview", "--expect-no-changes", "--stack", SHARD_B, check=True)

    component = f"urn:pulumi:{SHARD_B}::concurrent-infra::concurrent-infra:index:ConcurrentNamespace::moving"
    forget = ("state", "delete", "--stack", SHARD_B, "--force", "--target-dependents", "--yes", component)
    project.run(*forget, check=True)
    write_shard_b(project, ["shard-b-1"])
    project.configure({"shards": SHARDS, "namespaces": ["shard-a-1", "moving"], "adoptExisting": True})
    project.run("preview", "--expect-no-changes", "--stack", SHARD_B, check=True)
    project.run("up", "--yes", "--skip-preview", "--stack", STACK, check=True)

    moved = cluster.get("namespace", "moving")
    assert moved is not None and moved["metadata"]["uid"] == namespace["metadata"]["uid"]
    assert cluster.get("configmap", "team-data", "-n", "moving") is not None
    assert_namespace_objects(cluster, "moving")
    for stack in SHARDS:
        project.run("preview", "--expect-no-changes", "--stack", stack, check=True)
