"""Start a local cluster, `pulumi up` the dev stack onto it, verify it, and keep it for a look.

Run through ``scripts/up-local`` (which builds the toolchain first). ``--no-wait`` tears the
cluster down right after the checks instead of waiting for Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
LARGE_STACK_ENV = REPO_ROOT / "scripts" / "large-stack.env"

from scripts.localcluster.cluster import LocalCluster, find_bin_dir  # noqa: E402
from scripts.localcluster.pulumi_project import PulumiProject  # noqa: E402


def large_stack_env() -> dict[str, str]:
    """The large-stack mode's variables (docs/operations.md): the local backend is a DIY one."""
    lines = (line.strip() for line in LARGE_STACK_ENV.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="dev", help="the stack file to apply (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--no-wait", action="store_true", help="tear down right after the checks")
    parser.add_argument(
        "--default-mode", action="store_true", help="Pulumi's defaults instead of the large-stack mode"
    )
    args = parser.parse_args()

    stack_config = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{args.stack}.yaml").read_text())["config"]
    project_config = {
        key.split(":", 1)[1]: value
        for key, value in stack_config.items()
        if key.startswith("concurrent-infra:")
    }
    if "cluster" in project_config:
        print(f"stack {args.stack} creates a GKE cluster; the local run takes stacks for existing clusters")
        return 2
    bin_dir = find_bin_dir(
        ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes", "kube-apiserver")
    )
    with (
        tempfile.TemporaryDirectory(prefix="concurrent-up-local-") as tmp,
        LocalCluster(bin_dir, Path(tmp) / "cluster") as cluster,
    ):
        workdir = Path(tmp)
        print(f"local cluster up: export KUBECONFIG={cluster.kubeconfig_path}")
        project = PulumiProject(workdir, bin_dir, cluster.kubeconfig_path, cluster.context)
        if not args.default_mode:
            project.env.update(large_stack_env())
        project.configure(project_config)
        status = project.run_live("up", "--yes")
        if status != 0:
            return status
        namespaces = [ns if isinstance(ns, str) else ns["name"] for ns in project_config["namespaces"]]
        verify = [sys.executable, "-m", "concurrent_infra.verify", "--kubeconfig", cluster.kubeconfig_path,
                  "--context", cluster.context]  # fmt: skip
        verify += [arg for namespace in namespaces for arg in ("--namespace", namespace)]
        status = subprocess.run(verify, check=False).returncode
        if not args.no_wait and sys.stdin.isatty():
            print(f"\nthe cluster runs until Ctrl-C: export KUBECONFIG={cluster.kubeconfig_path}")
            print(f"the project and its state: cd {project.dir}")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        return status


if __name__ == "__main__":
    sys.exit(main())
