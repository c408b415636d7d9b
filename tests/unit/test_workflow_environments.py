"""Every stack has exactly its named environments, and nothing accepts one by pattern (issue 17,
class 8): the workload identity conditions of README's setup list `<stack>`, `preview-<stack>` and
`drift-<stack>` for exactly the stacks of stacks/, and preview.yml previews only the base branch's
stacks, so a pull request that adds a stack file names no new (unreviewed) environment."""

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "docs" / "ci-cd.md").read_text(encoding="utf-8")
PREVIEW = yaml.safe_load((ROOT / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
STACKS = sorted(
    path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml")
)


def setup_list(variable: str) -> list[str]:
    """The CEL list ``variable="[...]"`` of README's one-time setup."""
    match = re.search(rf"^{variable}=\"(\[[^\]\n]*\])\"", README, re.M)
    assert match is not None, f"README's setup defines no {variable}"
    names = ast.literal_eval(match.group(1))
    assert isinstance(names, list) and all(isinstance(name, str) for name in names)
    return names


def conditions() -> dict[str, str]:
    """Each workload identity pool of README's setup -> its provider's attribute condition."""
    found = re.findall(
        r"providers create-oidc \S+ .*?--workload-identity-pool=(\S+).*?--attribute-condition=\"([^\"]*)\"",
        README,
        re.S,
    )
    return dict(found)


def test_each_stack_has_exactly_its_named_environments() -> None:
    assert STACKS
    assert sorted(setup_list("STACK_ENVS")) == STACKS
    assert sorted(setup_list("PREVIEW_ENVS")) == sorted(f"preview-{stack}" for stack in STACKS)
    assert sorted(setup_list("DRIFT_ENVS")) == sorted(f"drift-{stack}" for stack in STACKS)
    environments = re.search(r"^  - `<stack>` \(([^)]*)\)", README, re.M)
    assert environments is not None and sorted(re.findall(r"`([^`]+)`", environments.group(1))) == STACKS


def test_the_pools_accept_only_the_named_environments() -> None:
    assert set(conditions()) == {"github", "github-preview"}
    for pool, listed in (("github", "$STACK_ENVS"), ("github-preview", "$PREVIEW_ENVS")):
        condition = conditions()[pool]
        assert f"assertion.environment in {listed}" in condition, pool
        assert not re.search(r"startsWith|endsWith|matches|contains|\*", condition), (pool, condition)
    preview = conditions()["github-preview"]
    assert "(assertion.event_name == 'pull_request' && assertion.environment in $PREVIEW_ENVS)" in preview
    # drift.yml's jobs: main only, scheduled or manual, in a named drift-<stack> environment.
    assert (
        "(assertion.ref == 'refs/heads/main' && assertion.event_name in ['schedule', 'workflow_dispatch']"
        " && assertion.environment in $DRIFT_ENVS)"
    ) in preview


def run_list_step(tmp_path: Path, pr: list[str], base: list[str]) -> dict[str, list[str]]:
    """Run the `stacks` job's list step of preview.yml on a PR tree with ``pr`` stack files and a
    base checkout (.base/) with ``base``; its outputs."""
    for directory, names in ((tmp_path / "stacks", pr), (tmp_path / ".base" / "stacks", base)):
        directory.mkdir(parents=True)
        for name in names:
            (directory / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    step = next(step for step in PREVIEW["jobs"]["stacks"]["steps"] if step.get("id") == "list")
    output = tmp_path / "output"
    subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    return {
        key: json.loads(value)
        for key, _, value in (line.partition("=") for line in output.read_text().splitlines())
    }


@pytest.mark.parametrize(
    ("pr", "base", "previewed", "new"),
    [
        (["dev", "prod"], ["dev", "prod"], ["dev", "prod"], []),
        (["dev", "evil", "prod"], ["dev", "prod"], ["dev", "prod"], ["evil"]),
        (["dev"], ["dev", "prod"], ["dev"], []),
    ],
    ids=["same", "pr-adds-a-stack", "pr-removes-a-stack"],
)
def test_a_stack_only_the_pr_adds_is_not_previewed(
    tmp_path: Path, pr: list[str], base: list[str], previewed: list[str], new: list[str]
) -> None:
    assert run_list_step(tmp_path, pr, base) == {"stacks": previewed, "new": new}


def test_the_preview_job_names_only_environments_of_previewed_stacks() -> None:
    stacks_job = PREVIEW["jobs"]["stacks"]
    base = next(step for step in stacks_job["steps"] if step.get("with", {}).get("path") == ".base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    preview = PREVIEW["jobs"]["preview"]
    assert preview["environment"] == "preview-${{ matrix.stack }}"
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    new_stacks = PREVIEW["jobs"]["new-stacks"]
    assert "environment" not in new_stacks and new_stacks["permissions"] == {}
    assert new_stacks["if"] == "needs.stacks.outputs.new != '[]'"
    assert [job for job in PREVIEW["jobs"].values() if "environment" in job] == [preview]
