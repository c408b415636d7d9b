"""Running verify against the fake cluster and reading its results, shared by the verify test modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from concurrent_infra import verify
from concurrent_infra.kube.names import (
    namespace_object_names,
)
from concurrent_infra.kube.rbac import RBAC_API_GROUP
from concurrent_infra.verify import (
    ClusterExpectation,
)
from concurrent_infra.verify.expectations import default_expectation
from tests.support.fake_cluster import FakeCluster, clean_objects

NAMESPACES = ("team-a", "team-b")

A, B = (namespace_object_names(ns) for ns in NAMESPACES)

DEFAULT = default_expectation(NAMESPACES)


def clean_cluster(expectation: ClusterExpectation = DEFAULT) -> FakeCluster:
    return FakeCluster(clean_objects(expectation))


def run_verify(
    cluster: FakeCluster,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
    namespaces: tuple[str, ...] = NAMESPACES,
) -> tuple[int, str]:
    argv = ["--context", "test", *[arg for ns in namespaces for arg in ("--namespace", ns)], *extra]
    status = verify.main(argv, api=cluster)
    return status, capsys.readouterr().out


def failures(output: str) -> list[str]:
    """The failure entries of the text report, continuation lines joined."""
    entries: list[str] = []
    for line in output.splitlines():
        if line.startswith("FAIL  "):
            entries.append(line)
        elif line.startswith("      ") and entries:
            entries[-1] += " " + line.strip()
    return entries


def results(cluster: FakeCluster, expectation: ClusterExpectation = DEFAULT) -> list[verify.CheckResult]:
    return verify.run_checks(cluster, expectation)


def failed(cluster: FakeCluster, expectation: ClusterExpectation = DEFAULT) -> list[verify.CheckResult]:
    return [r for r in results(cluster, expectation) if not r.ok]


def group(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC_API_GROUP, "kind": "Group", "name": name}


def user(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC_API_GROUP, "kind": "User", "name": name}


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


def adapter(tmp_path: Path) -> verify.KubernetesApi:
    return verify.KubernetesApi("c", str(write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")))


class FakeAuthz:
    def __init__(self, status: Any = None, error: Exception | None = None) -> None:
        self.sent: list[Any] = []
        self.status, self.error = status, error

    def create_subject_access_review(self, body: Any, _request_timeout: int) -> Any:
        self.sent.append(body)
        if self.error:
            raise self.error
        return type("Review", (), {"status": self.status})()


def status(allowed: bool, evaluation_error: str | None = None) -> Any:
    return type("Status", (), {"allowed": allowed, "evaluation_error": evaluation_error})()
