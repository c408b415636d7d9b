"""The real engine at scale: `pulumi up` of N namespaces beside the manual procedure, in one run.

For each size N (default 50, 200 and 500) and each mode (default: Pulumi's defaults; large: the
large-stack mode of ``scripts/large-stack.env``), on a fresh local cluster and a fresh file
backend each (scripts/localcluster/cluster.py, scripts/localcluster/pulumi_project.py), it times:

- ``up``: ``pulumi up`` of a fresh stack with N namespaces (the last one ``protect: false``);
- ``preview``: a no-change ``pulumi preview --expect-no-changes``;
- ``add``: ``pulumi up`` after adding one namespace;
- ``remove``: ``pulumi up`` after removing the unprotected namespace (waits for its deletion);

and, on a fresh cluster per size, the same objects the way the README's users do it today:

- ``manual``: the manual procedure, ``kubectl create namespace`` + ``kubectl apply`` of the two
  upstream per-namespace files (``sed`` of ``parallelsns``) per namespace, after the system role;
- ``apply``: one ``kubectl apply`` of all of those objects in one file;
- ``manual-add`` / ``manual-remove``: the same for one more namespace / ``kubectl delete``.

With ``--shard-size S``, for each size N > S and each mode of ``--shard-modes`` (default: large),
it also splits the same namespaces in order across K = ceil(N / S) stacks of one project on one
fresh cluster and file backend (``shard-0`` .. ``shard-{K-1}``, config key
``concurrent-infra:shards``; ``shard-0`` creates the system role, the others set
``createSystemRole: false``; the last namespace of the last shard ``protect: false``) and times:

- ``up``: ``pulumi up`` of every shard, one after another (the sum, and the slowest shard: in CI
  each shard is its own job, running in parallel);
- ``preview``, ``add``, ``remove``: as above, of one shard (the last).

Prints a table with wall times, the CPU time of the child processes, the state's bytes per
resource, and the ratios of the issue's goals; ``--json`` writes every figure. A sharded row
(its mode names K shards of at most S namespaces) gives its shards' ``up`` as the sum and the
slowest one; its ``preview`` and ``add`` ratios and its ``Σ up / single up`` are against the single
stack's ``up`` of the same N and mode in the same run (so run that mode too).

    .venv/bin/python benchmarks/bench_engine.py                      # 50 200 500, default + large
    .venv/bin/python benchmarks/bench_engine.py --sizes 50 --modes large
    .venv/bin/python benchmarks/bench_engine.py --sizes 200 --cases up \\
        --mode skip:PULUMI_SKIP_CHECKPOINTS=true --mode gzip:PULUMI_DIY_BACKEND_GZIP=true
    .venv/bin/python benchmarks/bench_engine.py --sizes 200 --tracing /tmp/traces   # engine traces
    .venv/bin/python benchmarks/bench_engine.py --sizes 200 500 --modes large --shard-size 100 \\
        --json /tmp/bench-shards.json                                 # single stack and 100-shards
    .venv/bin/python benchmarks/bench_engine.py --sizes 200 --shard-size 100 --no-shards-key
        # shards as separate stacks with createSystemRole: false only (a program without the key)

Slow on purpose (the default mode at 500 namespaces takes many minutes): run it in the background
with a log, one run at a time on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.localcluster.cluster import LocalCluster, find_bin_dir  # noqa: E402
from scripts.localcluster.pulumi_project import PulumiProject  # noqa: E402

UPSTREAM = ROOT / "tests" / "fixtures" / "upstream" / "seed-era"
SYSTEM_ROLE_FILE = UPSTREAM / "k8s-role-for-parallels.yaml"
PER_NAMESPACE_FILES = (UPSTREAM / "k8s-service-role.yaml", UPSTREAM / "user-role.yaml")
TEMPLATE_NAMESPACE = "parallelsns"
LARGE_STACK_ENV = ROOT / "scripts" / "large-stack.env"
BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-resource-kubernetes",
    "kubectl",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
)
ENGINE_CASES = ("up", "preview", "add", "remove")
TIMEOUT = 3 * 3600.0
PROFILED_MAIN = """import cProfile, os, threading, time

_profile = cProfile.Profile()
_out = f"{os.environ['BENCH_PROFILE_OUT']}-{int(time.time())}.prof"


def _dump_every_second():  # the host may end the process before atexit: keep a recent dump
    while True:
        time.sleep(1)
        _profile.disable()
        _profile.dump_stats(_out)
        _profile.enable()


threading.Thread(target=_dump_every_second, daemon=True).start()
_profile.enable()

from concurrent_infra.program.stack import main

main()
"""


def read_env_file(path: Path) -> dict[str, str]:
    """``VAR=value`` lines of ``path`` (comments and blank lines skipped)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def parse_mode(text: str) -> tuple[str, dict[str, str]]:
    """``name:VAR=value,VAR=value`` (or ``default``, ``large``) -> (name, environment)."""
    if text == "default":
        return text, {}
    if text == "large":
        return text, read_env_file(LARGE_STACK_ENV)
    name, _, assignments = text.partition(":")
    env = {}
    for assignment in filter(None, assignments.split(",")):
        key, sep, value = assignment.partition("=")
        if not sep:
            raise SystemExit(
                f"--mode {text!r}: {assignment!r} is not VAR=value; "
                "fix: e.g. skip:PULUMI_SKIP_CHECKPOINTS=true"
            )
        env[key] = value
    return name, env


def namespace_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index}" for index in range(count)]


def per_namespace_yaml(namespace: str) -> str:
    """The two upstream per-namespace files with ``parallelsns`` replaced (what users ``sed``)."""
    return "\n---\n".join(
        path.read_text().replace(TEMPLATE_NAMESPACE, namespace) for path in PER_NAMESPACE_FILES
    )


def namespace_yaml(namespace: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"


@dataclass
class Timing:
    wall: float
    cpu: float  # user + system time of the child processes
    by_process: dict[str, float] = field(default_factory=dict)  # CPU seconds per program (--cpu-breakdown)


PROGRAMS = {  # command-line fragment -> name in the CPU breakdown
    "pulumi-language-python-exec": "python program",
    "pulumi-resource-kubernetes": "kubernetes provider",
    "pulumi-language-python ": "language host",
    "kube-apiserver": "kube-apiserver",
    "etcd": "etcd",
    "kube-controller-manager": "controller-manager",
    "pulumi ": "pulumi CLI (engine)",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """CPU time per program of the processes that run during a case, from /proc, sampled."""

    def __init__(self, scope: str) -> None:
        self.scope = scope  # only processes run in, or naming, this directory (not other users' runs)
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid -> (program, cpu at start, last cpu)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                cwd = os.readlink(Path(entry.path, "cwd"))
            except OSError:
                continue
            if self.scope not in cmdline and not cwd.startswith(self.scope):
                continue
            cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            program = next((name for key, name in PROGRAMS.items() if key in cmdline), None)
            if program is None:
                continue
            _, start, _ = self.seen.get(pid, (program, cpu, cpu))
            self.seen[pid] = (program, start, cpu)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for program, start, last in self.seen.values():
            totals[program] = totals.get(program, 0.0) + last - start
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


CPU_BREAKDOWN: list[str] = []  # --cpu-breakdown: the benchmark's temporary directory


@contextlib.contextmanager
def timed(into: dict[str, Timing], case: str) -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = CpuSampler(CPU_BREAKDOWN[0]) if CPU_BREAKDOWN else contextlib.nullcontext()
    start = time.monotonic()
    with sampler:
        yield
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    by_process = sampler.totals() if isinstance(sampler, CpuSampler) else {}
    into[case] = Timing(wall, cpu, by_process)
    print(f"    {case:<14} {wall:8.1f} s wall {cpu:8.1f} s cpu", flush=True)
    if by_process:
        print(
            "      " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in by_process.items()),
            flush=True,
        )


class Kubectl:
    """kubectl of the toolchain against one local cluster."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.prefix = [
            str(cluster.bin_dir / "kubectl"),
            "--kubeconfig",
            cluster.kubeconfig_path,
            "--context",
            cluster.context,
        ]

    def __call__(self, *args: str, stdin: str | None = None) -> None:
        result = subprocess.run(
            [*self.prefix, *args], input=stdin, capture_output=True, text=True, check=False, timeout=TIMEOUT
        )
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr}")


def manual_namespace(kubectl: Kubectl, namespace: str) -> None:
    """The manual procedure for one namespace: create it, apply the two files."""
    kubectl("create", "namespace", namespace)
    for path in PER_NAMESPACE_FILES:
        kubectl("apply", "-f", "-", stdin=path.read_text().replace(TEMPLATE_NAMESPACE, namespace))


def measure_kubectl(bin_dir: Path, workdir: Path, count: int) -> dict[str, Timing]:
    """Manual procedure, one apply, manual add and remove, each on its own fresh cluster."""
    timings: dict[str, Timing] = {}
    with LocalCluster(bin_dir, workdir / "manual") as cluster:
        kubectl = Kubectl(cluster)
        names = namespace_names("ns", count)
        with timed(timings, "manual"):
            kubectl("apply", "-f", str(SYSTEM_ROLE_FILE))
            for namespace in names:
                manual_namespace(kubectl, namespace)
        with timed(timings, "manual-add"):
            manual_namespace(kubectl, f"ns-{count}")
        with timed(timings, "manual-remove"):
            kubectl("delete", "namespace", names[-1])  # waits until it is gone
            kubectl("delete", "clusterrole", f"k8s-role-for-users-{names[-1]}")
    with LocalCluster(bin_dir, workdir / "apply") as cluster:
        kubectl = Kubectl(cluster)
        documents = [SYSTEM_ROLE_FILE.read_text()]
        for namespace in namespace_names("ns", count):
            documents += [namespace_yaml(namespace), per_namespace_yaml(namespace)]
        everything = workdir / "all.yaml"
        everything.write_text("\n---\n".join(documents))
        with timed(timings, "apply"):
            kubectl("apply", "-f", str(everything))
    return timings


@dataclass
class EngineRun:
    timings: dict[str, Timing] = field(default_factory=dict)
    resources: int = 0
    state_bytes: int = 0  # `pulumi stack export`, as compact JSON
    capped: list[str] = field(default_factory=list)  # cases stopped at --cap
    stored_bytes: int = 0  # the stack's file in the backend (gzip in the large-stack mode)


@dataclass
class ShardRun(EngineRun):
    """A sharded environment: ``timings`` has ``up-shard-<i>`` per shard, ``up-sum`` (the shards'
    ups one after another), ``up-slowest`` (the slowest shard's) and the cases of the last shard;
    ``resources`` and the bytes are over all shards."""

    shards: list[str] = field(default_factory=list)
    shard_size: int = 0
    shards_key: bool = True  # False: --no-shards-key (createSystemRole: false only)


def stack_config(count: int, extra: Sequence[str] = (), drop_last: bool = False) -> dict[str, Any]:
    names: list[Any] = namespace_names("ns", count)
    names[-1] = {"name": names[-1], "protect": False}
    if drop_last:
        names = names[:-1]
    return {"namespaces": [*names, *extra]}


def shard_names(count: int, shard_size: int) -> list[str]:
    return [f"shard-{index}" for index in range(math.ceil(count / shard_size))]


def shard_config(
    count: int,
    shard_size: int,
    index: int,
    extra: Sequence[str] = (),
    drop_last: bool = False,
    shards_key: bool = True,
) -> dict[str, Any]:
    """Config of shard ``index``: its slice of ``stack_config(count)`` in order; ``extra`` and
    ``drop_last`` apply to the last shard, which holds the unprotected namespace."""
    stacks = shard_names(count, shard_size)
    namespaces: list[Any] = stack_config(count)["namespaces"][index * shard_size : (index + 1) * shard_size]
    if index == len(stacks) - 1:
        namespaces = [*(namespaces[:-1] if drop_last else namespaces), *extra]
    config: dict[str, Any] = {"namespaces": namespaces}
    if shards_key:
        config["shards"] = stacks
    if index:
        config["createSystemRole"] = False
    return config


def write_stack_file(project: PulumiProject, stack: str, project_config: Mapping[str, Any]) -> None:
    """``PulumiProject.configure`` for the stack file of ``stack`` (the e2e helper knows one stack)."""
    path = project.dir / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) if path.exists() else {}
    config: dict[str, Any] = {f"concurrent-infra:{key}": value for key, value in project_config.items()}
    config["kubernetes:kubeconfig"] = project.kubeconfig
    config["kubernetes:context"] = project.context
    path.write_text(yaml.safe_dump({**(document or {}), "config": config}, sort_keys=False))


def new_project(
    workdir: Path,
    bin_dir: Path,
    cluster: LocalCluster,
    env: Mapping[str, str],
    profile: Path | None,
    label: str,
) -> PulumiProject:
    """The project copy with its file backend and the ``e2e`` stack, in the mode's environment."""
    with mock.patch.dict(os.environ, env):  # the project's environment, stack init included
        project = PulumiProject(workdir, bin_dir, cluster.kubeconfig_path, cluster.context)
    if profile is not None:  # the copy's __main__.py under cProfile (the program's main thread)
        (project.dir / "__main__.py").write_text(PROFILED_MAIN)
        project.env["BENCH_PROFILE_OUT"] = str(profile / label)
    return project


@dataclass
class Pulumi:
    """Runs and times the cases of one project into ``run``."""

    project: PulumiProject
    workdir: Path
    run: EngineRun
    extra_args: Sequence[str]
    tracing: Path | None
    label: str
    cap: float

    def __call__(self, case: str, *args: str, stack: str | None = None) -> bool:
        """Run and time one case; False when it hit ``cap`` (then killed, with its plugins)."""
        trace = ["--tracing", f"file:{self.tracing / f'{self.label}-{case}.trace'}"] if self.tracing else []
        selected = ["--stack", stack] if stack else []
        log = self.workdir / f"{case}.log"
        command = [
            "pulumi",
            *args,
            *selected,
            *self.extra_args,
            *trace,
            "--non-interactive",
            "--color",
            "never",
        ]
        with timed(self.run.timings, case), log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=self.project.dir,
                env=self.project.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                returncode = process.wait(timeout=self.cap)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                self.run.capped.append(case)
                return False
        if returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{log.read_text()[-4000:]}")
        return True

    def measure_state(self, stacks: Sequence[str | None]) -> None:
        """Resources and state bytes of ``stacks`` (summed), and the bytes of the backend's files."""
        for stack in stacks:
            selected = ["--stack", stack] if stack else []
            exported = self.project.run("stack", "export", *selected, check=True).output
            state = json.loads(exported[exported.index("{") :])
            self.run.resources += len(state["deployment"].get("resources") or [])
            self.run.state_bytes += len(json.dumps(state, separators=(",", ":")).encode())
        stacks_dir = self.workdir / "backend" / ".pulumi" / "stacks"
        stored = [p for p in stacks_dir.rglob("*") if p.name.endswith((".json", ".json.gz", ".json.zst"))]
        self.run.stored_bytes = sum(p.stat().st_size for p in stored)


def measure_engine(
    bin_dir: Path,
    workdir: Path,
    count: int,
    env: Mapping[str, str],
    cases: Sequence[str],
    extra_args: Sequence[str],
    tracing: Path | None,
    label: str,
    cap: float,
    profile: Path | None = None,
) -> EngineRun:
    run = EngineRun()
    with LocalCluster(bin_dir, workdir / "cluster") as cluster:
        project = new_project(workdir, bin_dir, cluster, env, profile, label)
        pulumi = Pulumi(project, workdir, run, extra_args, tracing, label, cap)
        project.configure(stack_config(count))
        if not pulumi("up", "up", "--yes", "--skip-preview"):
            print(f"    up capped at {cap} s: the other cases skipped", flush=True)
            return run
        pulumi.measure_state([None])
        if "preview" in cases:
            pulumi("preview", "preview", "--expect-no-changes")
        if "add" in cases:
            project.configure(stack_config(count, extra=[f"ns-{count}"]))
            pulumi("add", "up", "--yes", "--skip-preview")
        if "remove" in cases:
            project.configure(
                stack_config(count, extra=[f"ns-{count}"] if "add" in cases else [], drop_last=True)
            )
            pulumi("remove", "up", "--yes", "--skip-preview")
    return run


def measure_shards(
    bin_dir: Path,
    workdir: Path,
    count: int,
    shard_size: int,
    shards_key: bool,
    env: Mapping[str, str],
    cases: Sequence[str],
    extra_args: Sequence[str],
    tracing: Path | None,
    label: str,
    cap: float,
    profile: Path | None = None,
) -> ShardRun:
    """The same cases for ``count`` namespaces split across ``ceil(count / shard_size)`` stacks."""
    stacks = shard_names(count, shard_size)
    run = ShardRun(shards=stacks, shard_size=shard_size, shards_key=shards_key)
    with LocalCluster(bin_dir, workdir / "cluster") as cluster:
        project = new_project(workdir, bin_dir, cluster, env, profile, label)
        pulumi = Pulumi(project, workdir, run, extra_args, tracing, label, cap)
        for stack in stacks:  # every stack file first: each shard's program reads the others'
            project.run("stack", "init", stack, "--secrets-provider", "passphrase", check=True)
        for index, stack in enumerate(stacks):
            write_stack_file(project, stack, shard_config(count, shard_size, index, shards_key=shards_key))
        for stack in stacks:  # shard-0 first: it creates the system role
            if not pulumi(f"up-{stack}", "up", "--yes", "--skip-preview", stack=stack):
                print(f"    up of {stack} capped at {cap} s: the other cases skipped", flush=True)
                return run
        ups = [run.timings[f"up-{stack}"] for stack in stacks]
        run.timings["up-sum"] = Timing(sum(t.wall for t in ups), sum(t.cpu for t in ups))
        run.timings["up-slowest"] = max(ups, key=lambda t: t.wall)
        print(
            f"    up, {len(stacks)} shards: {run.timings['up-sum'].wall:.1f} s in all, "
            f"slowest {run.timings['up-slowest'].wall:.1f} s",
            flush=True,
        )
        pulumi.measure_state(stacks)
        last, index = stacks[-1], len(stacks) - 1
        if "preview" in cases:
            pulumi("preview", "preview", "--expect-no-changes", stack=last)
        if "add" in cases:
            added = [f"ns-{count}"]
            write_stack_file(
                project, last, shard_config(count, shard_size, index, extra=added, shards_key=shards_key)
            )
            pulumi("add", "up", "--yes", "--skip-preview", stack=last)
        if "remove" in cases:
            kept = [f"ns-{count}"] if "add" in cases else []
            config = shard_config(count, shard_size, index, extra=kept, drop_last=True, shards_key=shards_key)
            write_stack_file(project, last, config)
            pulumi("remove", "up", "--yes", "--skip-preview", stack=last)
    return run


def quotient(a: Timing | None, b: Timing | None) -> float | None:
    return a.wall / b.wall if a and b and b.wall else None


def shard_ratios(
    shards: ShardRun, single: EngineRun | None, kube: Mapping[str, Timing]
) -> dict[str, float | None]:
    """The sharded figures against the single stack's ``up`` of the same N and mode, and kubectl."""
    t = shards.timings
    up = single.timings.get("up") if single and "up" not in single.capped else None
    return {
        "preview / single up": quotient(t.get("preview"), up),
        "add / single up": quotient(t.get("add"), up),
        "sum of ups / single up": quotient(t.get("up-sum"), up),
        "slowest up / one apply": quotient(t.get("up-slowest"), kube.get("apply")),
        "sum of ups / one apply": quotient(t.get("up-sum"), kube.get("apply")),
        "slowest up / manual": quotient(t.get("up-slowest"), kube.get("manual")),
        "sum of ups / manual": quotient(t.get("up-sum"), kube.get("manual")),
    }


def ratio(a: Timing | None, b: Timing | None) -> str:
    value = quotient(a, b)
    return "-" if value is None else f"{value:.2f}"


def fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def both(total: float | None, slowest: float | None) -> str:
    """A sharded ratio: of the sum of the shards' ups, and of the slowest shard's."""
    return "-" if total is None or slowest is None else f"Σ {total:.2f}, slowest {slowest:.2f}"


def seconds(t: Timing | None, capped: bool = False) -> str:
    return "-" if t is None else f"> {t.wall:.0f} s" if capped else f"{t.wall:.1f} s"


def shard_label(mode: str, run: ShardRun) -> str:
    return f"{mode}, {len(run.shards)}\N{MULTIPLICATION SIGN}{run.shard_size}" + (
        "" if run.shards_key else " (no shards key)"
    )


def report(results: dict[str, Any], sizes: Sequence[int], modes: Sequence[str]) -> None:
    print(
        "\n| N | mode | manual | one apply | up | up / manual | up / apply | preview | preview / up "
        "| add | add / up | remove | manual remove | state B/resource | stored B/resource "
        "| Σ up / single up |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        kube = results["kubectl"].get(size, {})
        for mode in modes:
            run: EngineRun | None = results["engine"].get((size, mode))
            if run is None:
                continue
            t = run.timings
            per = max(run.resources, 1)
            at_least = "> " if "up" in run.capped else ""  # a capped up: its ratios are lower bounds
            print(
                f"| {size} | {mode} | {seconds(kube.get('manual'))} | {seconds(kube.get('apply'))} "
                f"| {seconds(t.get('up'), bool(at_least))} "
                f"| {at_least}{ratio(t.get('up'), kube.get('manual'))} "
                f"| {at_least}{ratio(t.get('up'), kube.get('apply'))} | {seconds(t.get('preview'))} "
                f"| {ratio(t.get('preview'), t.get('up'))} | {seconds(t.get('add'))} "
                f"| {ratio(t.get('add'), t.get('up'))} | {seconds(t.get('remove'))} "
                f"| {seconds(kube.get('manual-remove'))} "
                f"| {run.state_bytes // per or '-'} | {run.stored_bytes // per or '-'} | - |"
            )
        for mode in modes:
            shards: ShardRun | None = results["shards"].get((size, mode))
            if shards is None:
                continue
            t = shards.timings
            r = shard_ratios(shards, results["engine"].get((size, mode)), kube)
            per = max(shards.resources, 1)
            if shards.capped:
                up = f"> {sum(case.wall for case in t.values()):.0f} s ({', '.join(shards.capped)} capped)"
            else:
                up = f"Σ {seconds(t.get('up-sum'))}, slowest {seconds(t.get('up-slowest'))}"
            print(
                f"| {size} | {shard_label(mode, shards)} | {seconds(kube.get('manual'))} "
                f"| {seconds(kube.get('apply'))} | {up} "
                f"| {both(r['sum of ups / manual'], r['slowest up / manual'])} "
                f"| {both(r['sum of ups / one apply'], r['slowest up / one apply'])} "
                f"| {seconds(t.get('preview'))} | {fraction(r['preview / single up'])} "
                f"| {seconds(t.get('add'))} | {fraction(r['add / single up'])} | {seconds(t.get('remove'))} "
                f"| {seconds(kube.get('manual-remove'))} "
                f"| {shards.state_bytes // per or '-'} | {shards.stored_bytes // per or '-'} "
                f"| {fraction(r['sum of ups / single up'])} |"
            )
    if results["shards"]:
        print(
            "\nSharded rows (mode, K\N{MULTIPLICATION SIGN}S: K stacks of at most S namespaces on one "
            "cluster): `up` is every shard's up one after another (Σ) and the slowest shard's (in CI "
            "each shard is its own parallel job); preview, add and remove are of one shard (the last); "
            "their `/ up` ratios and Σ up / single up are against the single stack's `up` of the same "
            "N and mode."
        )
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(f"\n`up` at {large} / `up` at {small} (linear: {large / small:.0f}):")
        for mode in modes:
            a, b = results["engine"].get((large, mode)), results["engine"].get((small, mode))
            if a and b:
                at_least = "> " if "up" in a.capped else ""
                print(f"  {mode}: {at_least}{ratio(a.timings.get('up'), b.timings.get('up'))}")
        a_kube, b_kube = results["kubectl"].get(large, {}), results["kubectl"].get(small, {})
        print(f"  manual: {ratio(a_kube.get('manual'), b_kube.get('manual'))}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500], help="namespace counts")
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["default", "large"],
        help="default, large, or name:VAR=value,... (repeatable with --mode)",
    )
    parser.add_argument("--mode", action="append", default=[], help="one more mode, name:VAR=value,...")
    parser.add_argument(
        "--cases",
        nargs="+",
        default=list(ENGINE_CASES),
        choices=ENGINE_CASES,
        help="engine cases (up always runs)",
    )
    parser.add_argument(
        "--no-kubectl", action="store_true", help="skip the manual procedure and the one apply"
    )
    parser.add_argument("--parallel", type=int, help="pulumi --parallel")
    parser.add_argument("--tracing", type=Path, help="write engine traces (--tracing file:...) to this dir")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument(
        "--cap",
        type=float,
        default=TIMEOUT,
        help="stop a pulumi command after this many seconds (reported as '> cap')",
    )
    parser.add_argument(
        "--shard-size",
        type=int,
        help="also split each size N > S across ceil(N/S) stacks of at most S namespaces (sharding)",
    )
    parser.add_argument(
        "--shard-modes",
        nargs="+",
        default=["large"],
        help="modes (of --modes/--mode) in which to measure the shards (default: large)",
    )
    parser.add_argument(
        "--no-shards-key",
        action="store_true",
        help="shards without concurrent-infra:shards (only createSystemRole: false), for a program "
        "that does not know the key",
    )
    parser.add_argument("--cpu-breakdown", action="store_true", help="CPU seconds per program, from /proc")
    parser.add_argument(
        "--profile-program", type=Path, help="cProfile the program's main thread into this dir"
    )
    args = parser.parse_args(argv)
    if args.profile_program:
        args.profile_program.mkdir(parents=True, exist_ok=True)

    modes = dict(parse_mode(m) for m in [*args.modes, *args.mode])
    shard_modes = list(args.shard_modes) if args.shard_size else []
    if args.shard_size is not None and args.shard_size < 1:
        raise SystemExit(f"--shard-size {args.shard_size}: give at least 1, e.g. --shard-size 100")
    unknown = [mode for mode in shard_modes if mode not in modes]
    if unknown:
        raise SystemExit(
            f"--shard-modes {' '.join(unknown)}: not among the measured modes ({' '.join(modes)}); "
            "fix: add them to --modes, or choose others with --shard-modes (the sharded ratios need "
            "the single stack of the same mode)"
        )
    extra_args = ["--parallel", str(args.parallel)] if args.parallel else []
    if args.tracing:
        args.tracing.mkdir(parents=True, exist_ok=True)
    bin_dir = find_bin_dir(BINARIES)
    results: dict[str, Any] = {"kubectl": {}, "engine": {}, "shards": {}}
    with tempfile.TemporaryDirectory(prefix="concurrent-bench-") as tmp:
        if args.cpu_breakdown:
            CPU_BREAKDOWN.append(tmp)
        for size in args.sizes:
            print(f"== {size} namespaces", flush=True)
            if not args.no_kubectl:
                print("  kubectl", flush=True)
                results["kubectl"][size] = measure_kubectl(bin_dir, Path(tmp) / f"kubectl-{size}", size)
            for name, env in modes.items():
                print(f"  pulumi, mode {name} {env or ''}", flush=True)
                workdir = Path(tmp) / f"engine-{size}-{name}"
                workdir.mkdir()
                results["engine"][(size, name)] = run = measure_engine(
                    bin_dir,
                    workdir,
                    size,
                    env,
                    args.cases,
                    extra_args,
                    args.tracing,
                    f"{name}-{size}",
                    args.cap,
                    args.profile_program,
                )
                print(
                    f"    {run.resources} resources, state {run.state_bytes} B, stored {run.stored_bytes} B",
                    flush=True,
                )
            for name in shard_modes if size > args.shard_size else []:
                count = math.ceil(size / args.shard_size)
                print(f"  pulumi, {count} shards of at most {args.shard_size}, mode {name}", flush=True)
                workdir = Path(tmp) / f"shards-{size}-{name}"
                workdir.mkdir()
                results["shards"][(size, name)] = shards = measure_shards(
                    bin_dir,
                    workdir,
                    size,
                    args.shard_size,
                    not args.no_shards_key,
                    modes[name],
                    args.cases,
                    extra_args,
                    args.tracing,
                    f"{name}-{size}-shards",
                    args.cap,
                    args.profile_program,
                )
                print(
                    f"    {shards.resources} resources, state {shards.state_bytes} B, "
                    f"stored {shards.stored_bytes} B",
                    flush=True,
                )
    report(results, args.sizes, list(modes))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "modes": modes,
                    "kubectl": {
                        str(size): {case: vars(t) for case, t in cases.items()}
                        for size, cases in results["kubectl"].items()
                    },
                    "engine": {
                        f"{size}/{mode}": {
                            **vars(run),
                            "timings": {c: vars(t) for c, t in run.timings.items()},
                        }
                        for (size, mode), run in results["engine"].items()
                    },
                    "shards": {
                        f"{size}/{mode}": {
                            **vars(shards),
                            "label": shard_label(mode, shards),
                            "timings": {c: vars(t) for c, t in shards.timings.items()},
                            "ratios": shard_ratios(
                                shards,
                                results["engine"].get((size, mode)),
                                results["kubectl"].get(size, {}),
                            ),
                        }
                        for (size, mode), shards in results["shards"].items()
                    },
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
