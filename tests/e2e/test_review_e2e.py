"""The access review of a real ``pulumi preview --json`` on the local cluster (README, "Reviewing
changes"): after a deploy, a change that adds a namespace and a user of the system role, piped into
``python -m concurrent_infra.review``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from scripts.localcluster.record_previews import json_preview

pytestmark = pytest.mark.e2e

USER = "concurrent@my-project.iam.gserviceaccount.com"


def review(preview_json: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "concurrent_infra.review", "--project", "concurrent-infra"],
        input=preview_json,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        timeout=60,
    )


def test_review_of_a_real_preview_names_who_gains_what(project: PulumiProject) -> None:
    project.configure({"namespaces": ["team-a"]})
    project.up()

    status, stdout, stderr = json_preview(project)
    assert status == 0, stderr
    unchanged = review(stdout)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "No access changes." in unchanged.stdout
    assert "Nothing needs attention" in unchanged.stdout

    project.configure(
        {"namespaces": ["team-a", {"name": "team-b", "quota": {"pods": "10"}}], "systemRoleUsers": [USER]}
    )
    status, stdout, stderr = json_preview(project)
    assert status == 0, stderr
    result = review(stdout)
    assert result.returncode == 0, result.stderr
    summary = result.stdout
    print(summary)  # the README's example comes from this run

    attention, _, rest = summary.partition("**Access**")
    assert "**Needs attention**" in attention
    assert (
        f"**New subject of the system role** `k8s-role-for-parallels-lambda` cluster-wide: User `{USER}`"
        in attention
    )
    assert "Delete" not in attention and "Replace" not in attention
    assert "`team-b` (new namespace):" in rest
    assert (
        "ServiceAccount `k8s-serviceaccount-for-users-team-b` **gains** get, list, watch on events, "
        "jobs.batch, pods, pods/log (via `ClusterRole k8s-role-for-users-team-b`)"
    ) in rest
    assert "ServiceAccount `k8s-serviceaccount-for-parallels-team-b` **gains**" in rest
    assert f"cluster-wide: User `{USER}` **gains**" in rest
    assert "team-a" not in rest  # nothing of team-a changes
    assert "**Namespaces**: + `team-b`" in rest
    assert "- `team-b` (new namespace): quota set: pods — → 10" in rest
