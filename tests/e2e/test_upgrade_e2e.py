"""End to end: a stack created by the previous release upgrades in place (issues 8, 9, 11, 12).

The previous release's program (a git worktree of :data:`PREVIOUS_RELEASE`) runs ``pulumi up`` on
the local API server; then the same project and stack switch to the working tree's program. Its
preview must show no delete and no replace: the Namespaces' labels change in place and only new
objects (the namespace guard) are created. ``pulumi up`` then keeps every object (same UID).

How the old code is imported: the project's virtualenv is the repository's ``.venv``, where
``concurrent_infra`` is installed in editable mode by a meta-path finder that setuptools appends
after the path-based finder. ``PYTHONPATH`` entries come before site-packages on ``sys.path``, and
the stand-in language host passes its environment (the Pulumi CLI's) on to the program, so with
the worktree on ``PYTHONPATH`` the program imports the old package. The test asserts it did (the
old release put no Pod Security labels on Namespaces).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra.kube.names import NAMESPACE_GUARD_POLICY, namespace_object_names
from concurrent_infra.kube.pod_security import ENFORCE_LABEL, pod_security_labels
from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

PREVIOUS_RELEASE = "b5dff32"
"""The last commit before the TypedDict components, Pod Security labels and the namespace guard."""
LAST_RELEASE = "41c6570"
"""The second release: the guard without its ownerReferences/finalizers rules and without the probe
that makes grants wait for it (issue 17)."""
NAMESPACES = ("parallelsns", "team-b")
CONFIG = {"namespaces": ["parallelsns", {"name": "team-b", "protect": False}]}

GUARD_TYPES = frozenset(
    {
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    }
)
"""The only kinds the upgrade may create: the guard is new; every other object already exists."""
ALLOWED_OPS = frozenset({"same", "update", "create"})
"""Anything else (delete, replace, create-replacement, delete-replaced, discard...) loses an object."""


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=True, timeout=120
    )


def release_worktree(tmp_path: Path, commit: str) -> Iterator[Path]:
    """A detached git worktree of ``commit``, removed afterwards."""
    worktree = tmp_path / f"release-{commit}"
    git("worktree", "add", "--detach", str(worktree), commit)
    try:
        yield worktree
    finally:
        subprocess.run(
            ["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(worktree)],
            capture_output=True,
            check=False,
        )


@pytest.fixture
def previous_release(tmp_path: Path) -> Iterator[Path]:
    """A detached git worktree of the first release."""
    yield from release_worktree(tmp_path, PREVIOUS_RELEASE)


@pytest.fixture
def last_release(tmp_path: Path) -> Iterator[Path]:
    """A detached git worktree of the second release."""
    yield from release_worktree(tmp_path, LAST_RELEASE)


def use_program(project: PulumiProject, source: Path, pythonpath: Path | None) -> None:
    """Make ``project`` run the program of ``source`` (a checkout), importing ``concurrent_infra``
    from ``pythonpath`` when given (else from the repository's .venv: the working tree)."""
    program = yaml.safe_load((source / "Pulumi.yaml").read_text())
    program["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
    (project.dir / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    shutil.copy(source / "__main__.py", project.dir / "__main__.py")
    project.env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        project.env["PYTHONPATH"] = str(pythonpath)


def preview_steps(project: PulumiProject) -> list[dict[str, Any]]:
    """``pulumi preview --json``'s steps (stdout only: diagnostics go to stderr)."""
    completed = subprocess.run(
        ["pulumi", "preview", "--json", "--non-interactive", "--color", "never"],
        cwd=project.dir,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, f"preview failed:\n{completed.stdout}\n{completed.stderr}"
    steps: list[dict[str, Any]] = json.loads(completed.stdout).get("steps", [])
    assert steps, completed.stdout
    return steps


def resource_type(urn: str) -> str:
    """The resource's own type from its URN (the part after the last '$' of the type chain)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def object_uids(cluster: Cluster) -> dict[str, str]:
    """The UID of every object the old release created (kind/namespace/name -> uid)."""
    uids: dict[str, str] = {}
    for name in NAMESPACES:
        names = namespace_object_names(name)
        for kind, object_name, namespace in (
            ("namespace", name, None),
            ("serviceaccount", names.system_service_account, name),
            ("serviceaccount", names.user_service_account, name),
            ("rolebinding", names.system_role_binding, name),
            ("rolebinding", names.user_role_binding, name),
            ("clusterrole", names.user_cluster_role, None),
        ):
            args = (kind, object_name, *(("-n", namespace) if namespace else ()))
            found = cluster.get(*args)
            assert found is not None, args
            uids["/".join(a for a in (kind, namespace, object_name) if a)] = found["metadata"]["uid"]
    return uids


def preview_the_upgrade(project: PulumiProject) -> list[dict[str, Any]]:
    """Switch ``project`` to the working tree's program and preview: its steps, none of which
    deletes or replaces anything."""
    use_program(project, REPO_ROOT, pythonpath=None)
    steps = preview_steps(project)
    lost = [(step["op"], step["urn"]) for step in steps if step["op"] not in ALLOWED_OPS]
    assert lost == [], f"the upgrade would delete or replace: {lost}"
    return steps


def test_a_stack_of_the_previous_release_upgrades_with_no_delete_or_replace(
    cluster: Cluster, project: PulumiProject, previous_release: Path
) -> None:
    use_program(project, previous_release, pythonpath=previous_release)
    project.configure(CONFIG)
    project.up()
    # The old code ran: the previous release set no Pod Security labels and no guard.
    for name in NAMESPACES:
        found = cluster.get("namespace", name)
        assert found is not None
        assert ENFORCE_LABEL not in found["metadata"].get("labels", {}), "the program imported the new code"
    assert cluster.get("validatingadmissionpolicy", NAMESPACE_GUARD_POLICY) is None
    before = object_uids(cluster)

    steps = preview_the_upgrade(project)
    created = sorted(resource_type(step["urn"]) for step in steps if step["op"] == "create")
    assert created == sorted(GUARD_TYPES), f"the upgrade creates more than the guard: {created}"
    updated = {resource_type(step["urn"]) for step in steps if step["op"] == "update"}
    assert "kubernetes:core/v1:Namespace" in updated, updated

    project.up()
    assert object_uids(cluster) == before, "an object was recreated"
    for name in NAMESPACES:
        found = cluster.get("namespace", name)
        assert found is not None
        labels = found["metadata"]["labels"]
        assert {key: labels.get(key) for key in pod_security_labels("baseline")} == pod_security_labels(
            "baseline"
        )
    assert cluster.get("validatingadmissionpolicy", NAMESPACE_GUARD_POLICY) is not None
    project.preview("--expect-no-changes", check=True)


def guard_expressions(cluster: Cluster) -> str:
    """The namespace guard's validation expressions, joined (what the guard compares)."""
    found = cluster.get("validatingadmissionpolicy", NAMESPACE_GUARD_POLICY)
    assert found is not None
    return "\n".join(validation["expression"] for validation in found["spec"]["validations"])


def test_a_stack_of_the_last_release_upgrades_with_no_delete_or_replace(
    cluster: Cluster, project: PulumiProject, last_release: Path
) -> None:
    use_program(project, last_release, pythonpath=last_release)
    project.configure(CONFIG)
    project.up()
    # The old code ran: its guard did not compare ownerReferences (issue 17, class 1).
    assert "ownerReferences" not in guard_expressions(cluster), "the program imported the new code"
    before = object_uids(cluster)

    preview_the_upgrade(project)
    project.up()
    assert object_uids(cluster) == before, "an object was recreated"
    assert "ownerReferences" in guard_expressions(cluster)
    project.preview("--expect-no-changes", check=True)
