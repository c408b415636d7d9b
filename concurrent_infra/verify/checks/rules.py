"""The ``rules`` area: the package's ClusterRoles grant exactly the package's rules, and no
ClusterRole aggregates the system role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...kube.names import (
    SYSTEM_CLUSTER_ROLE,
)
from ...kube.rbac import AGGREGATE_TO_PREFIX, PolicyRule, grants
from ...kube.selectors import selector_matches
from ..api import KubeObject
from .result import CheckResult

Grant = tuple[str, str, str]


def show_grant(grant: Grant) -> str:
    group, resource, verb = grant
    return f"{verb} {resource}.{group}" if group else f"{verb} {resource}"


def show_grants(items: Iterable[Grant]) -> str:
    return ", ".join(show_grant(grant) for grant in sorted(items, key=lambda g: (g[1], g[0], g[2])))


def flatten_rules(rules: Iterable[Mapping[str, Any]]) -> tuple[frozenset[Grant], list[str]]:
    """A role's rules as ``(group, resource, verb)`` grants, and the parts that grants cannot
    express (``resourceNames``, ``nonResourceURLs``), each described."""
    flat: set[Grant] = set()
    other: list[str] = []
    for rule in rules:
        verbs = [str(v) for v in rule.get("verbs") or ()]
        if rule.get("nonResourceURLs"):
            other.append(f"nonResourceURLs {','.join(map(str, rule['nonResourceURLs']))} ({','.join(verbs)})")
        resource_names = rule.get("resourceNames")
        for group in rule.get("apiGroups") or ():
            for resource in rule.get("resources") or ():
                for verb in verbs:
                    grant = (str(group), str(resource), verb)
                    if resource_names:
                        other.append(f"{show_grant(grant)} named {','.join(map(str, resource_names))}")
                    else:
                        flat.add(grant)
    return frozenset(flat), other


def rules_results(label: str, role: KubeObject | None, expected: Sequence[PolicyRule]) -> list[CheckResult]:
    """The role's rules compared with ``expected`` exactly (nothing if the role is missing)."""
    if role is None:
        return []
    want = grants(expected)
    have, other = flatten_rules(role.get("rules") or ())
    extra, missing = have - want, want - have
    parts = []
    if extra:
        parts.append(f"extra: {show_grants(extra)}")
    if other:
        parts.append(f"extra: {'; '.join(other)}")
    if missing:
        parts.append(f"missing: {show_grants(missing)}")
    results = [
        CheckResult(
            "rules",
            f"{label} rules",
            f"exactly the package's {len(want)} grants",
            "; ".join(parts) or f"exactly the package's {len(want)} grants",
            not parts,
        )
    ]
    if role.get("aggregationRule"):
        results.append(
            CheckResult(
                "rules", f"{label} aggregationRule", "none", "present (rules come from other roles)", False
            )
        )
    return results


def aggregation_label_results(label: str, role: KubeObject | None) -> list[CheckResult]:
    """The role carries no ``aggregate-to-*`` label: the system role's rules (every namespace's
    secrets and pods) would reach everyone bound to ``admin``, ``edit`` or ``view``."""
    if role is None:
        return []
    labels = (role.get("metadata") or {}).get("labels") or {}
    feeds = sorted(
        f"{key}={value}" for key, value in labels.items() if str(key).startswith(AGGREGATE_TO_PREFIX)
    )
    return [
        CheckResult(
            "rules",
            f"{label} is aggregated into no other role",
            "no aggregate-to label",
            ", ".join(feeds) or "none",
            not feeds,
        )
    ]


def aggregation_scan(
    cluster_roles: Sequence[KubeObject], system_role: KubeObject | None
) -> list[CheckResult]:
    """No ClusterRole's ``aggregationRule`` selects the system role (by the labels it has in the
    cluster; an empty selector selects every role): the aggregation controller would copy its rules
    (every namespace's secrets and pods) into that role, for whoever holds it."""
    if system_role is None:
        return []
    labels = (system_role.get("metadata") or {}).get("labels") or {}
    results = []
    for role in cluster_roles:
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if any(isinstance(s, Mapping) and selector_matches(s, labels) for s in selectors):
            name = str((role.get("metadata") or {}).get("name", ""))
            results.append(
                CheckResult(
                    "rules",
                    f"ClusterRole {name} aggregates no package role",
                    f"no selector that selects ClusterRole {SYSTEM_CLUSTER_ROLE}",
                    f"its aggregationRule selects ClusterRole {SYSTEM_CLUSTER_ROLE}",
                    False,
                )
            )
    return results or [
        CheckResult(
            "rules",
            f"no ClusterRole aggregates ClusterRole {SYSTEM_CLUSTER_ROLE} ({len(cluster_roles)} scanned)",
            "none",
            "none",
            True,
        )
    ]
