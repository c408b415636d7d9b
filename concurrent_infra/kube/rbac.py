"""RBAC rules, as plain data.

The system rules are the union of everything the seed-era and the latest upstream
``k8s-role-for-parallels-lambda`` grant, with the upstream defects removed: the verb ``post``
(not a Kubernetes verb) and duplicated verbs. The user rules are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi_kubernetes.rbac.v1 import PolicyRuleArgsDict

RBAC_API_GROUP = "rbac.authorization.k8s.io"
"""The API group of Role, ClusterRole and their bindings; every ``roleRef`` names it."""
AGGREGATE_TO_PREFIX = f"{RBAC_API_GROUP}/aggregate-to-"
"""The labels that make the aggregation controller copy a ClusterRole's rules into Kubernetes'
``admin``, ``edit`` and ``view`` (and any role that selects them):
https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles."""

READ_VERBS: tuple[str, ...] = ("get", "list", "watch")
WRITE_VERBS: tuple[str, ...] = ("create", "update", "patch", "delete")
KUBERNETES_VERBS: frozenset[str] = frozenset(
    {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)
"""The verbs the API server authorizes for resources (``post`` is not one of them)."""

ESCALATING_GRANTS: dict[tuple[str, str, str], str] = {
    ("", "users", "impersonate"): "acts as any user",
    ("", "groups", "impersonate"): "acts as a member of any group (system:masters included)",
    ("", "serviceaccounts", "impersonate"): "acts as any service account",
    ("authentication.k8s.io", "uids", "impersonate"): "acts as any user's UID",
    ("authentication.k8s.io", "userextras", "impersonate"): "acts with any user's extra attributes",
    (RBAC_API_GROUP, "roles", "escalate"): "writes roles with more than it holds",
    (RBAC_API_GROUP, "clusterroles", "escalate"): "writes cluster roles with more than it holds",
    (RBAC_API_GROUP, "roles", "bind"): "binds roles it does not hold",
    (RBAC_API_GROUP, "clusterroles", "bind"): "binds cluster roles it does not hold (cluster-admin)",
    ("", "serviceaccounts/token", "create"): "mints tokens of service accounts",
    ("certificates.k8s.io", "certificatesigningrequests/approval", "update"): (
        "approves client certificates for any user"
    ),
    ("certificates.k8s.io", "signers", "approve"): "approves client certificates for any user",
    ("certificates.k8s.io", "signers", "sign"): "signs certificates for any user",
}
"""Grants that let a subject gain more than its role: impersonation, ``escalate`` and ``bind`` on
roles, token requests, certificate approval and signing ("Privilege escalation risks" in
https://kubernetes.io/docs/concepts/security/rbac-good-practices/, and
https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation). A
``*`` in a rule covers them too. Neither package role grants any."""


@dataclass(frozen=True)
class PolicyRule:
    """One RBAC rule: ``verbs`` on ``resources`` of ``api_groups``."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]

    def as_k8s(self) -> PolicyRuleArgsDict:
        """The rule in the form pulumi_kubernetes and the Kubernetes API take it."""
        return {
            "api_groups": list(self.api_groups),
            "resources": list(self.resources),
            "verbs": list(self.verbs),
        }


SYSTEM_RULES: tuple[PolicyRule, ...] = (
    PolicyRule(
        api_groups=("",),
        resources=(
            "nodes",
            "namespaces",
            "pods",
            "pods/attach",
            "pods/log",
            "secrets",
            "events",
            "configmaps",
        ),
        verbs=READ_VERBS + WRITE_VERBS,
    ),
    PolicyRule(
        api_groups=("apps",),
        resources=("deployments", "daemonsets", "statefulsets", "replicasets"),
        verbs=READ_VERBS + WRITE_VERBS,
    ),
    PolicyRule(api_groups=("batch",), resources=("jobs",), verbs=READ_VERBS + WRITE_VERBS),
    PolicyRule(
        api_groups=("events.k8s.io",),
        resources=("events",),
        verbs=READ_VERBS + WRITE_VERBS + ("deletecollection",),
    ),
)
"""Rules of the cluster-wide system ClusterRole ``k8s-role-for-parallels-lambda``."""

USER_RULES: tuple[PolicyRule, ...] = (
    PolicyRule(api_groups=("batch",), resources=("jobs",), verbs=READ_VERBS),
    PolicyRule(api_groups=("",), resources=("pods", "pods/log", "events"), verbs=READ_VERBS),
)
"""Rules of each namespace's user ClusterRole: read jobs, and the sidecar's own pod, logs, events."""


def grants(rules: Iterable[PolicyRule]) -> frozenset[tuple[str, str, str]]:
    """Flatten rules into the set of ``(api_group, resource, verb)`` they allow."""
    return frozenset(
        (group, resource, verb)
        for rule in rules
        for group in rule.api_groups
        for resource in rule.resources
        for verb in rule.verbs
    )


def k8s_rules(rules: Iterable[PolicyRule]) -> list[PolicyRuleArgsDict]:
    """Convert rules to the list of dicts a ClusterRole's ``rules`` takes."""
    return [rule.as_k8s() for rule in rules]
