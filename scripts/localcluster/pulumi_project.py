"""The project's real program run by a real Pulumi CLI, in a temporary copy with its own backend."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_BINARIES = ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes")
STACK = "e2e"


def pulumi_env(
    bin_dir: Path, workdir: Path, kubeconfig: str | None = None, *, more_path: Sequence[Path] = ()
) -> dict[str, str]:
    """The environment of a pulumi command: this toolchain first, a file backend in ``workdir``,
    no plugin downloads (the Kubernetes provider is the toolchain's, found on PATH); ``more_path``
    comes after the toolchain on PATH."""
    backend = workdir / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(bin_dir), *map(str, more_path), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(workdir / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_NO_ANALYTICS": "true",
    }
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    return env


@dataclass
class Result:
    """A finished pulumi command."""

    args: Sequence[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class PulumiProject:
    """``Pulumi.yaml`` and ``__main__.py`` copied to ``workdir``, with a file backend there.

    The copy uses the repository's ``.venv`` (where ``concurrent_infra`` is installed in editable
    mode), so the code under test is the working tree's.
    """

    def __init__(self, workdir: Path, bin_dir: Path, kubeconfig: str, context: str) -> None:
        self.dir = workdir / "project"
        self.dir.mkdir(parents=True)
        self.kubeconfig = kubeconfig
        self.context = context
        project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
        project["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
        (self.dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        shutil.copy(REPO_ROOT / "__main__.py", self.dir / "__main__.py")
        (self.dir / "stacks").mkdir()
        self.env = pulumi_env(bin_dir, workdir, kubeconfig, more_path=(REPO_ROOT / ".venv" / "bin",))
        self.run("stack", "init", STACK, "--secrets-provider", "passphrase", check=True)

    @property
    def stack_file(self) -> Path:
        return self.dir / "stacks" / f"Pulumi.{STACK}.yaml"

    def configure(self, project_config: Mapping[str, Any], **kubernetes: str) -> None:
        """Replace the stack's config: ``project_config`` keys are this project's; the target is the
        local cluster (``kubernetes`` overrides or adds ``kubernetes:*`` keys)."""
        stack = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        config: dict[str, Any] = {f"concurrent-infra:{key}": value for key, value in project_config.items()}
        config["kubernetes:kubeconfig"] = self.kubeconfig
        config["kubernetes:context"] = self.context
        config.update({f"kubernetes:{key}": value for key, value in kubernetes.items()})
        stack = {**(stack or {}), "config": config}
        self.stack_file.write_text(yaml.safe_dump(stack, sort_keys=False))

    def run(self, *args: str, check: bool = False, timeout: float = 600) -> Result:
        """``pulumi ARGS`` in the project directory, non-interactive, with output captured."""
        command = ["pulumi", *args, "--non-interactive", "--color", "never"]
        completed = subprocess.run(
            command,
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(args, completed.returncode, completed.stdout + completed.stderr)
        if check and not result.ok:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{result.output}")
        return result

    def run_live(self, *args: str) -> int:
        """``pulumi ARGS`` with its output on this terminal; returns the exit status."""
        command = ["pulumi", *args, "--non-interactive"]
        return subprocess.run(command, cwd=self.dir, env=self.env, check=False).returncode

    def popen(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """Start ``pulumi ARGS`` in the background, its output going to ``log``."""
        with log.open("wb") as out:
            return subprocess.Popen(
                ["pulumi", *args, "--non-interactive", "--color", "never"],
                cwd=self.dir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def up(self, check: bool = True) -> Result:
        return self.run("up", "--yes", "--skip-preview", check=check)

    def preview(self, *extra: str, check: bool = False) -> Result:
        return self.run("preview", *extra, check=check)

    def outputs(self) -> dict[str, Any]:
        result = self.run("stack", "output", "--json", check=True)
        start = result.output.index("{")
        parsed: dict[str, Any] = yaml.safe_load(result.output[start:])
        return parsed
