"""Pod Security Admission labels of each managed Namespace.

``enforce`` is the level the API server applies to every pod of the namespace (``baseline`` by
default: no privileged containers, host namespaces or host paths); ``warn`` and ``audit`` are
always ``restricted``, so users see what a stricter level would refuse. ``privileged`` disables
enforcement: only as an explicit opt-in, which the policy pack flags unless allowed.
"""

from typing import Literal

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
POD_SECURITY_LEVELS: tuple[PodSecurityLevel, ...] = ("restricted", "baseline", "privileged")
DEFAULT_POD_SECURITY: PodSecurityLevel = "baseline"

LABEL_PREFIX = "pod-security.kubernetes.io/"
ENFORCE_LABEL = f"{LABEL_PREFIX}enforce"
ENFORCE_VERSION_LABEL = f"{LABEL_PREFIX}enforce-version"
WARN_LABEL = f"{LABEL_PREFIX}warn"
AUDIT_LABEL = f"{LABEL_PREFIX}audit"


def pod_security_labels(level: PodSecurityLevel) -> dict[str, str]:
    """The Namespace labels that make Pod Security admission enforce ``level``."""
    return {
        ENFORCE_LABEL: level,
        ENFORCE_VERSION_LABEL: "latest",
        WARN_LABEL: "restricted",
        AUDIT_LABEL: "restricted",
    }


def pod_security_level_problem(level: object) -> str | None:
    """Why ``level`` is not a Pod Security level, or None if it is."""
    if level in POD_SECURITY_LEVELS:
        return None
    return f"one of {', '.join(POD_SECURITY_LEVELS)} (privileged only for a namespace that needs it)"


_LEVELS: dict[str, PodSecurityLevel] = {level: level for level in POD_SECURITY_LEVELS}


def as_level(value: str | None, default: PodSecurityLevel = DEFAULT_POD_SECURITY) -> PodSecurityLevel:
    """``value`` as a level when it is one, else ``default`` (its problem is reported elsewhere)."""
    return _LEVELS.get(value or "", default)
