"""Fixtures of the end-to-end suite: the toolchain, a fresh local cluster and project per test."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.localcluster import CLUSTER_BINARIES, ClusterError, LocalCluster, find_bin_dir
from tests.e2e.pulumi_project import PulumiProject

E2E_BINARIES = ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes")


@pytest.fixture(scope="session")
def toolchain_bin() -> Path:
    """The toolchain's bin dir; a missing toolchain is a failure, never a silent skip."""
    try:
        return find_bin_dir((*CLUSTER_BINARIES, *E2E_BINARIES))
    except ClusterError as error:
        pytest.fail(f"the e2e toolchain is incomplete: {error}")


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
    return PulumiProject(tmp_path, toolchain_bin, cluster.kubeconfig_path, cluster.context)
