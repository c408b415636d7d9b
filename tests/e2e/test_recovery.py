"""End to end: the `pulumi` process killed in the middle of an update, then the documented recovery.

A CI runner that dies takes `pulumi`, its language host, the program and the provider with it:
the test starts `pulumi up` of 50 namespaces in its own process group and SIGKILLs the group once
the API server holds ``KILL_AFTER`` of the namespaces. Then it runs the recovery the README's
"Scale" section documents (``scripts/pulumi-large-stack recover``: repair a file backend's cut
sidecars, `pulumi cancel --yes`, then `pulumi up` with ``adoptExisting``) and checks that every
reference object exists, ``verify`` passes and a following preview has nothing to do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from tests.support.cluster import Cluster
from tests.support.e2e_asserts import assert_namespace_objects, assert_system_role

pytestmark = pytest.mark.e2e

NAMESPACES = [f"kill-{index}" for index in range(50)]
KILL_AFTER = 10  # namespaces the API server holds when the update is killed
MANAGED = "app.kubernetes.io/managed-by=concurrent-infra"
LARGE_STACK = REPO_ROOT / "scripts" / "pulumi-large-stack"
RESOURCES_PER_NAMESPACE = 7  # the component and its six objects


def large_stack_env() -> dict[str, str]:
    """The variables of the large-stack mode, as ``scripts/pulumi-large-stack`` sets them."""
    printed = subprocess.run([str(LARGE_STACK), "--print-env"], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in printed.stdout.splitlines())


def managed_namespaces(cluster: Cluster) -> set[str]:
    status, body = cluster.api_get(f"/api/v1/namespaces?labelSelector={MANAGED}")
    assert status == 200, body
    return {item["metadata"]["name"] for item in json.loads(body)["items"]}


def state_resources(project: PulumiProject) -> list[dict[str, Any]]:
    exported = project.run("stack", "export", check=True).output
    state = json.loads(exported[exported.index("{") :])
    resources: list[dict[str, Any]] = state["deployment"].get("resources") or []
    return resources


def kill_update_part_way(cluster: Cluster, project: PulumiProject, log: Path) -> None:
    """Start `pulumi up` of every namespace; SIGKILL its process group at ``KILL_AFTER`` namespaces."""
    with log.open("wb") as out:
        update = subprocess.Popen(
            ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--color", "never"],
            cwd=project.dir,
            env=project.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # pulumi and every plugin it starts: one group to kill
        )
    deadline = time.monotonic() + 600
    while len(managed_namespaces(cluster)) < KILL_AFTER:
        assert update.poll() is None, f"pulumi up ended before the kill:\n{log.read_text()}"
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    os.killpg(update.pid, signal.SIGKILL)
    assert update.wait(timeout=60) == -signal.SIGKILL
    time.sleep(1)  # let the killed group's sockets close before reading the cluster
    present = managed_namespaces(cluster)
    assert KILL_AFTER <= len(present) < len(NAMESPACES), f"not killed part-way: {sorted(present)}"


def assert_converged(cluster: Cluster, project: PulumiProject) -> None:
    assert_system_role(cluster)
    for namespace in NAMESPACES:
        assert_namespace_objects(cluster, namespace)
    verify = subprocess.run(
        [sys.executable, "-m", "concurrent_infra.verify", "--kubeconfig", cluster.kubeconfig_path,
         "--context", cluster.context, *(arg for ns in NAMESPACES for arg in ("--namespace", ns))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    managed = [
        r for r in state_resources(project) if r["type"].startswith(("kubernetes:core", "kubernetes:rbac"))
    ]
    assert len(managed) == 6 * len(NAMESPACES) + 2, "every object is in the state, once"
    assert not any(r.get("pending_operations") for r in state_resources(project))
    project.preview("--expect-no-changes", "--diff", check=True)


def assert_locked_by_the_killed_process(project: PulumiProject) -> None:
    """The dead process's lock stays in the DIY backend: a plain `pulumi up` is refused."""
    refused = project.up(check=False)
    assert not refused.ok and "locked" in refused.output, refused.output


def stack_files(project: PulumiProject) -> Path:
    return project.dir.parent / "backend" / ".pulumi" / "stacks" / "concurrent-infra"


def recover(project: PulumiProject) -> None:
    """The README's recovery command."""
    recovered = subprocess.run(
        [str(LARGE_STACK), "recover"], cwd=project.dir, env=project.env,
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr


def test_killed_update_in_the_default_mode_recovers_with_one_command(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    project.configure({"namespaces": NAMESPACES})
    kill_update_part_way(cluster, project, tmp_path / "up.log")
    # Default mode: the state was written after every step, so it holds what was created. Read
    # from the file: the kill may also have cut its .attrs sidecar (see the next test).
    checkpoint = json.loads((stack_files(project) / "e2e.json").read_text())["checkpoint"]
    in_state = {r["urn"].rsplit("::", 1)[1] for r in checkpoint["latest"]["resources"]}
    assert f"{NAMESPACES[0]}-namespace" in in_state
    refused = project.up(check=False)  # the dead process's lock, or its cut sidecar
    assert not refused.ok and ("locked" in refused.output or "checkpoint: EOF" in refused.output)

    recover(project)
    assert_converged(cluster, project)


def test_a_sidecar_cut_by_a_kill_is_repaired(toolchain_bin: Path, tmp_path: Path) -> None:
    """gocloud's fileblob rewrites a state file's .attrs sidecar in place; a kill at that moment
    leaves it empty and every command fails. The recovery's repair-state step removes it."""
    project = PulumiProject(tmp_path, toolchain_bin, kubeconfig="unused", context="unused")
    sidecars = sorted(stack_files(project).glob("*.attrs"))
    assert sidecars, "the file backend keeps a sidecar per state file"
    sidecars[0].write_text("")
    broken = project.run("stack", "export")
    assert not broken.ok and "EOF" in broken.output, broken.output
    repaired = subprocess.run(
        [str(LARGE_STACK), "repair-state"], cwd=project.dir, env=project.env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert repaired.returncode == 0 and f"removing the damaged sidecar {sidecars[0]}" in repaired.stderr
    project.run("stack", "export", check=True)


def test_killed_update_in_the_large_stack_mode_recovers_with_one_command(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    project.env.update(large_stack_env())
    project.configure({"namespaces": NAMESPACES})
    kill_update_part_way(cluster, project, tmp_path / "up.log")
    # The risk of the mode: the state is still the one before the update (here: empty), so it
    # knows none of the objects the killed update created.
    assert [r for r in state_resources(project) if not r["type"].startswith("pulumi:")] == []
    assert_locked_by_the_killed_process(project)

    recover(project)
    assert_converged(cluster, project)
    state = stack_files(project) / "e2e.json.gz"
    assert state.exists(), "the large-stack mode writes the state compressed"
