"""Whether the namespace guard holds back everyone the system role is bound to (issue 17).

The guard lists the users and groups of the stack that made it; another stack (or a person) may
bind the system role to others, in the verified namespaces or cluster-wide, and those could then
delete or relabel the namespaces freely. This check reads the live guard's subjects back from its
match condition, accepts them only if regenerating the package's spec from them gives the live
spec exactly (so no hand-edited guard is trusted), and lists every User and Group bound to the
system role that it does not hold back. Service accounts (held back unless in ``kube-system``, which
the bindings scan reports) and the system group (always listed) are the guard's fixed part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ...kube.guardrails import namespace_guard_policy_spec
from ...kube.names import NAMESPACE_GUARD_POLICY, SYSTEM_CLUSTER_ROLE, SYSTEM_GROUP
from ..api import ClusterApi, KubeObject
from ..expectations import ClusterExpectation
from .guard import api_form, spec_differences, without_defaults
from .result import CheckResult

_USERS = re.compile(r"request\.userInfo\.username in (\[[^\]]*\])")
_GROUPS = re.compile(r"\.exists\(g, g in (\[[^\]]*\])\)")


def guarded_subjects(policy: KubeObject | None) -> tuple[frozenset[str], frozenset[str]] | None:
    """The users and groups the live guard ``policy`` holds back, or None when it is missing or is
    not exactly the package's guard for some list of users and groups."""
    if policy is None:
        return None
    spec: Mapping[str, Any] = policy.get("spec") or {}
    conditions = spec.get("matchConditions") or []
    expression = str(conditions[0].get("expression", "")) if conditions else ""
    users, groups = _USERS.search(expression), _GROUPS.search(expression)
    if users is None or groups is None:
        return None
    try:
        user_list, group_list = json.loads(users.group(1)), json.loads(groups.group(1))
    except json.JSONDecodeError:
        return None
    extra_groups = [group for group in group_list if group != SYSTEM_GROUP]
    want = without_defaults(api_form(namespace_guard_policy_spec(user_list, extra_groups)))
    if spec_differences(want, without_defaults(spec)):
        return None
    return frozenset(user_list), frozenset(group_list)


def _system_role_subjects(bindings: Iterable[KubeObject]) -> set[tuple[str, str, str]]:
    """``(kind, name, where)`` of each User and Group bound to the system role by ``bindings``."""
    found: set[tuple[str, str, str]] = set()
    for binding in bindings:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") != "ClusterRole" or ref.get("name") != SYSTEM_CLUSTER_ROLE:
            continue
        metadata = binding.get("metadata") or {}
        namespace = metadata.get("namespace")
        where = (
            f"RoleBinding {namespace}/{metadata.get('name')}"
            if namespace
            else (f"ClusterRoleBinding {metadata.get('name')}")
        )
        for subject in binding.get("subjects") or []:
            if subject.get("kind") in ("User", "Group"):
                found.add((str(subject["kind"]), str(subject.get("name", "")), where))
    return found


def guard_coverage_results(api: ClusterApi, expectation: ClusterExpectation) -> list[CheckResult]:
    """One ``guard`` check: every User and Group bound to the system role, cluster-wide or in a
    verified namespace, is held back by the live namespace guard (none bound: nothing to check)."""
    bindings = [
        *api.list_objects("ClusterRoleBinding", None),
        *(binding for ns in expectation.namespaces for binding in api.list_objects("RoleBinding", ns.name)),
    ]
    subjects = _system_role_subjects(bindings)
    if not subjects:
        return []
    guarded = guarded_subjects(api.get_object("ValidatingAdmissionPolicy", NAMESPACE_GUARD_POLICY, None))
    users, groups = guarded or (frozenset(), frozenset())
    loose = sorted(
        f"{kind} {name} ({where})"
        for kind, name, where in subjects
        if guarded is None or not (name in users if kind == "User" else name in groups)
    )
    why = "" if guarded is not None else f"no package guard {NAMESPACE_GUARD_POLICY}: "
    return [
        CheckResult(
            "guard",
            f"every user and group bound to {SYSTEM_CLUSTER_ROLE} is held back by the namespace guard",
            "all held back",
            f"{why}unguarded: {', '.join(loose)}" if loose else "all held back",
            not loose,
        )
    ]
