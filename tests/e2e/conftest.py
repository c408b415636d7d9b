"""Fixtures of the end-to-end suite: the toolchain, a fresh local cluster and project per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.localcluster.cluster import CLUSTER_BINARIES, ClusterError, find_bin_dir
from scripts.localcluster.pulumi_project import E2E_BINARIES, PulumiProject
from tests.support.cluster import Cluster


@pytest.fixture(scope="session")
def toolchain_bin() -> Path:
    """The toolchain's bin dir; a missing toolchain is a failure, never a silent skip."""
    try:
        return find_bin_dir((*CLUSTER_BINARIES, *E2E_BINARIES))
    except ClusterError as error:
        pytest.fail(f"the e2e toolchain is incomplete: {error}")


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
