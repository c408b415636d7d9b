"""A stand-in for the namespace guard's readiness probe client (no unit test reaches a cluster)."""

from __future__ import annotations

from collections.abc import Callable

from concurrent_infra.kube.guard_probe import ProbeAnswer


class ProbeRecorder:
    """Stands in for the Kubernetes client of the guard's readiness probe: each probe is refused
    by the guard (it is enforced at once), and each sender made is recorded."""

    def __init__(self) -> None:
        self.senders: list[tuple[str, str | None, str | None, str | None]] = []

    def __call__(
        self,
        token: str,
        kubeconfig: str | None = None,
        context: str | None = None,
        cluster: str | None = None,
    ) -> Callable[[], ProbeAnswer]:
        self.senders.append((token, kubeconfig, context, cluster))
        return lambda: ProbeAnswer(403, f"denied request: {token}")
