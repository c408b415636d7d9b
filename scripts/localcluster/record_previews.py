"""Record real ``pulumi preview --json`` output for the review's unit tests (tests/fixtures/previews/).

``.venv/bin/python -m scripts.localcluster.record_previews`` starts a local cluster, deploys the project's
program there, then previews one change at a time (each from the same deployed state) and saves
each preview, scrubbed of this machine's paths and ports. Re-run it after a Pulumi or provider
upgrade and review the diff of the fixtures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scripts.localcluster.cluster import CLUSTER_BINARIES, LocalCluster, find_bin_dir
from scripts.localcluster.pulumi_project import E2E_BINARIES, REPO_ROOT, STACK, PulumiProject

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "previews"
SYSTEM_ROLE_USER = "concurrent@my-project.iam.gserviceaccount.com"
SHARD = "shard-b"

BASE: dict[str, Any] = {
    "shards": [STACK, SHARD],
    "namespaces": [
        {"name": "team-a"},
        {"name": "team-b", "protect": False},
    ],
}
"""The deployed state every change is previewed from."""

USER_PROGRAM = '''"""A user's own program: a ConcurrentNamespace and a binding of its own."""
import pulumi
import pulumi_kubernetes as k8s

from concurrent_infra import ConcurrentNamespace

config = pulumi.Config("demo")
ml = ConcurrentNamespace("ml", {"namespace": "ml", "protect": False})
k8s.rbac.v1.RoleBinding(
    "ml-readers",
    metadata={"name": "ml-readers", "namespace": "ml"},
    role_ref={
        "api_group": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": config.require("role"),
    },
    subjects=[{"kind": "Group", "name": "ml-team", "api_group": "rbac.authorization.k8s.io"}],
    opts=pulumi.ResourceOptions(depends_on=[ml]),
)
'''

OTHER_PROGRAM = '''"""A program with nothing the review reads."""
import pulumi_kubernetes as k8s

k8s.core.v1.ConfigMap("settings", metadata={"name": "settings", "namespace": "default"}, data={"a": "b"})
'''


def with_namespace(change: Mapping[str, Any], name: str) -> dict[str, Any]:
    """BASE with namespace ``name``'s settings updated by ``change``."""
    namespaces = [dict(ns, **change) if ns["name"] == name else ns for ns in BASE["namespaces"]]
    return {**BASE, "namespaces": namespaces}


def scrub(text: str, workdir: Path, cluster: LocalCluster) -> str:
    """The preview without this machine's paths, ports and timestamps (and without the program's
    source positions and stack traces, which name this machine's files)."""
    text = re.sub(r',?\s*"(sourcePosition|stackTrace)": ("[^"]*"|\[[^\]]*\])', "", text)
    text = text.replace(str(workdir), "/tmp/e2e").replace(str(REPO_ROOT), "/repo")
    text = re.sub(r"/[^\s\"]*/toolchain/[0-9a-f]+/bin", "/toolchain/bin", text)
    text = re.sub(r"/[^\s\"]*/python3\.\d+/", "/python/", text)
    text = text.replace(f"127.0.0.1:{cluster.apiserver_port}", "127.0.0.1:6443")
    text = re.sub(r'"(created|modified)": "[^"]+"', r'"\1": "2026-01-01T00:00:00.000000Z"', text)
    return re.sub(r'"duration": \d+', '"duration": 1000000000', text)


def json_preview(project: PulumiProject, *args: str, streaming: bool = False) -> tuple[int, str, str]:
    """``pulumi preview --json ARGS``: exit status, stdout (the JSON) and stderr, kept apart. With
    ``streaming``, stdout is one engine event per line (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW``)."""
    env = {**project.env, "PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"} if streaming else project.env
    completed = subprocess.run(
        ["pulumi", "preview", "--json", *args, "--non-interactive", "--color", "never"],
        cwd=project.dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


def record(
    cluster: LocalCluster, project: PulumiProject, name: str, *args: str, events: bool = False
) -> None:
    """``pulumi preview --json ARGS`` (and with ``events`` its streamed events) saved as fixtures."""
    workdir = project.dir.parent.parent
    status, stdout, stderr = json_preview(project, *args)
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        raise SystemExit(
            f"{name}: the preview printed no JSON (exit {status}):\n{stdout}\n{stderr}"
        ) from None
    text = json.dumps(document, indent=4, ensure_ascii=False) + "\n"
    (FIXTURES / f"{name}.json").write_text(scrub(text, workdir, cluster))
    if events:
        lines = [
            line for line in json_preview(project, *args, streaming=True)[1].splitlines() if line.strip()
        ]
        (FIXTURES / f"{name}.events.json").write_text(scrub("\n".join(lines) + "\n", workdir, cluster))
    print(f"{name}: exit {status}, {len(document.get('steps', []))} steps", file=sys.stderr)


def write_stack(project: PulumiProject, stack: str, config: Mapping[str, Any]) -> None:
    """A stack file for another stack of ``project``, on the same cluster."""
    full = {f"concurrent-infra:{key}": value for key, value in config.items()}
    full["kubernetes:kubeconfig"] = project.kubeconfig
    full["kubernetes:context"] = project.context
    path = project.dir / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": full}, sort_keys=False))


def main() -> int:
    bin_dir = find_bin_dir((*CLUSTER_BINARIES, *E2E_BINARIES))
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="record-previews-") as temp:
        workdir = Path(temp)
        cluster = LocalCluster(bin_dir, workdir / "cluster")
        cluster.up()
        try:
            project = PulumiProject(workdir / "main", bin_dir, cluster.kubeconfig_path, cluster.context)
            project.run("stack", "init", SHARD, "--secrets-provider", "passphrase", check=True)
            project.run("stack", "select", STACK, check=True)
            write_stack(
                project,
                SHARD,
                {"shards": [STACK, SHARD], "createSystemRole": False, "namespaces": ["team-s"]},
            )
            project.configure(BASE)
            record(cluster, project, "create-stack")
            project.up()
            record(cluster, project, "no-changes")
            project.configure({**BASE, "namespaces": [*BASE["namespaces"], "team-c"]})
            record(cluster, project, "create-namespace")
            project.configure(with_namespace({"quota": {"pods": "50"}, "networkIsolation": True}, "team-a"))
            record(cluster, project, "update-quota-isolation")
            project.configure({**BASE, "namespaces": BASE["namespaces"][:1]})
            record(cluster, project, "delete-namespace")
            project.configure(with_namespace({"protect": False}, "team-a"))
            record(cluster, project, "protection-removed")
            project.configure(with_namespace({"podSecurity": "privileged"}, "team-a"))
            record(
                cluster,
                project,
                "pod-security-privileged",
                "--policy-pack",
                str(REPO_ROOT / "policy"),
                events=True,
            )
            project.configure({**BASE, "systemRoleUsers": [SYSTEM_ROLE_USER]})
            record(cluster, project, "system-role-user")
            project.configure(BASE)
            cluster.kubectl(
                "label", "namespace", "team-a", "pod-security.kubernetes.io/enforce=privileged", "--overwrite"
            )
            someone = {
                "op": "add",
                "path": "/subjects/-",
                "value": {"kind": "User", "name": "someone@example.com"},
            }
            cluster.kubectl(
                "patch", "rolebinding", "k8s-serviceaccount-for-users-team-a-binding", "-n", "team-a",
                "--type=json", "-p", json.dumps([someone]),
            )  # fmt: skip
            record(cluster, project, "drift", "--refresh", "--expect-no-changes")

            record(cluster, project, "sharded-stack", "--stack", SHARD)

            user = PulumiProject(workdir / "user", bin_dir, cluster.kubeconfig_path, cluster.context)
            (user.dir / "__main__.py").write_text(USER_PROGRAM)
            user.configure({})
            user.run("config", "set", "demo:role", "view", check=True)
            user.up()
            user.run("config", "set", "demo:role", "edit", check=True)
            record(cluster, user, "user-program-replace")

            other = PulumiProject(workdir / "other", bin_dir, cluster.kubeconfig_path, cluster.context)
            (other.dir / "__main__.py").write_text(OTHER_PROGRAM)
            other.configure({})
            record(cluster, other, "other-program")
        finally:
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
