"""What every check of ``verify`` returns, and the areas of the report in their order."""

from __future__ import annotations

from dataclasses import dataclass

AREAS: tuple[str, ...] = (
    "objects",
    "rules",
    "subjects",
    "bindings",
    "pod-security",
    "guard",
    "tenancy",
    "access",
)


@dataclass(frozen=True)
class CheckResult:
    """One check: what was expected, what the cluster holds, and whether they agree."""

    area: str
    check: str
    expected: str
    actual: str
    ok: bool
