"""Fixtures of the end-to-end suite: the toolchain, a fresh local cluster and project per test."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.localcluster import BUILD_TOOLCHAIN, LocalCluster
from tests.e2e.pulumi_project import PulumiProject

E2E_BINARIES = ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes")


@pytest.fixture(scope="session")
def toolchain_bin() -> Path:
    """The toolchain's bin dir; a missing toolchain is a failure, never a silent skip."""
    proc = subprocess.run(
        [str(BUILD_TOOLCHAIN), "--print-bin-dir"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"the e2e toolchain is incomplete; run scripts/build-toolchain first\n{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


class Cluster(LocalCluster):
    """LocalCluster with JSON reads for assertions."""

    def get(self, *args: str) -> dict[str, Any] | None:
        """``kubectl get ARGS -o json``, or None when the object does not exist."""
        result = self.kubectl("get", *args, "-o", "json", check=False)
        if result.returncode != 0:
            if "NotFound" in result.stderr or "not found" in result.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}: {result.stderr}")
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def wait_gone(self, *args: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.get(*args) is not None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{' '.join(args)} still exists after {timeout}s")
            time.sleep(1)


@pytest.fixture
def cluster(toolchain_bin: Path, tmp_path: Path) -> Iterator[Cluster]:
    local = Cluster(toolchain_bin, tmp_path / "cluster")
    local.up()
    try:
        yield local
    finally:
        local.close()


@pytest.fixture
def project(toolchain_bin: Path, tmp_path: Path, cluster: Cluster) -> PulumiProject:
    missing = [name for name in E2E_BINARIES if not (toolchain_bin / name).exists()]
    assert not missing, f"toolchain lacks {missing}"
    return PulumiProject(tmp_path, toolchain_bin, cluster.kubeconfig_path, cluster.context)
