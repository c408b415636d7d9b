"""The ``pod-security`` area: each Namespace's Pod Security labels and its managed-by label."""

from __future__ import annotations

from collections.abc import Mapping

from ...kube.labels import COMMON_LABELS, MANAGED_BY_LABEL
from ...kube.pod_security import LABEL_PREFIX, pod_security_labels
from ..api import KubeObject
from ..expectations import NamespaceExpectation
from .result import CheckResult


def _show_labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{key.removeprefix(LABEL_PREFIX)}={value}" for key, value in sorted(labels.items()))


def pod_security_results(expected: NamespaceExpectation, namespace: KubeObject | None) -> list[CheckResult]:
    """The four Pod Security labels of the Namespace, exactly, and its managed-by label: without
    it the namespace guard (which selects ``app.kubernetes.io/managed-by=concurrent-infra``) no
    longer holds the namespace, so its service accounts could relabel it ``privileged``."""
    if namespace is None:
        return []
    want = pod_security_labels(expected.pod_security)  # type: ignore[arg-type]
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    have = {key: str(labels[key]) for key in want if key in labels}
    managed_by = labels.get(MANAGED_BY_LABEL)
    return [
        CheckResult(
            "pod-security",
            f"Namespace {expected.name} Pod Security labels",
            _show_labels(want),
            _show_labels(have) or "(none)",
            have == want,
        ),
        CheckResult(
            "pod-security",
            f"Namespace {expected.name} label {MANAGED_BY_LABEL} (the guard selects it)",
            COMMON_LABELS[MANAGED_BY_LABEL],
            str(managed_by) if managed_by is not None else "(none)",
            managed_by == COMMON_LABELS[MANAGED_BY_LABEL],
        ),
    ]
