"""Shared fixtures: no unit test reaches a cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from concurrent_infra.kube import guard_probe
from tests.support.probes import ProbeRecorder


@pytest.fixture(autouse=True, scope="session")
def guard_probes() -> Iterator[ProbeRecorder]:
    """Every readiness probe of the namespace guard, answered without a cluster (the e2e tests'
    programs run in their own processes, with the real client)."""
    recorder = ProbeRecorder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guard_probe, "kubernetes_sender", recorder)
        yield recorder
