"""The ``access`` area: SubjectAccessReviews of both service accounts of every namespace, allowed
and denied, and how a review's answer becomes a result."""

from __future__ import annotations

from collections.abc import Sequence

from ...kube.names import (
    namespace_object_names,
)
from ...kube.rbac import RBAC_API_GROUP, READ_VERBS, USER_RULES, WRITE_VERBS, grants
from ..api import AccessReview, ExpectedAccess
from ..expectations import ClusterExpectation
from .result import CheckResult

SYSTEM_USAGE: tuple[tuple[str, str], ...] = (
    ("batch", "jobs"),
    ("", "secrets"),
    ("", "configmaps"),
    ("apps", "deployments"),
)
"""``(api group, resource)`` the system service account creates, reads and deletes (Concurrent's
control plane does so through it); a subset of what ``rbac.SYSTEM_RULES`` grants."""
SYSTEM_USAGE_VERBS: tuple[str, ...] = ("create", "get", "delete")

REMOTE_ACCESS: tuple[tuple[str, str, str], ...] = tuple(
    ("", subresource, verb) for subresource in ("pods/exec", "pods/portforward") for verb in ("create", "get")
)
"""Running commands in, or tunnelling to, a pod: denied to both service accounts whatever the verb
(older API servers authorized ``get`` on ``pods/exec`` for WebSocket clients). The system role
grants ``pods/attach`` (upstream), so only user code is also denied attaching."""
USER_ONLY_DENIALS: tuple[tuple[str, str, str], ...] = (
    ("", "pods/attach", "create"),
    ("", "pods/attach", "get"),
)
ESCALATION: tuple[tuple[str, str, str], ...] = ((RBAC_API_GROUP, "rolebindings", "create"),)
"""Granting itself more in its own namespace: denied to both service accounts."""

CROSS_NAMESPACE_PROBES: tuple[tuple[str, str, str], ...] = (
    ("", "pods", "get"),
    ("", "pods", "create"),
    ("", "secrets", "get"),
    ("batch", "jobs", "list"),
    ("", "pods/exec", "create"),
)
"""What each service account is asked to do in another namespace (all must be denied)."""

CLUSTER_WIDE_PROBES: tuple[tuple[str, str, str], ...] = (
    ("", "pods", "list"),
    ("", "secrets", "list"),
    ("", "namespaces", "list"),
    ("", "nodes/proxy", "get"),
    (RBAC_API_GROUP, "clusterrolebindings", "create"),
)
"""Cluster-wide requests (``namespace`` ""), all denied: a RoleBinding grants nothing cluster-wide."""

OUTSIDE_NAMESPACE = "default"
"""A namespace no package service account may touch, checked for every namespace: a grant in every
namespace (a ClusterRoleBinding) shows there."""


def cross_namespace_targets(namespaces: Sequence[str], index: int, sample: int) -> list[str]:
    """The namespaces whose denials ``namespaces[index]``'s service accounts are checked against.

    Every other verified namespace when there are at most ``sample + 1``; otherwise the next
    ``sample`` in list order (cyclic, so each namespace is also a target of ``sample`` others);
    plus ``default``. This keeps SubjectAccessReviews linear in the number of namespaces (200
    namespaces: about 100 reviews each, not 40,000 pairs). It loses nothing that matters:
    a cross-namespace grant needs a binding, and :func:`binding_scan` reads every binding in the
    cluster, so the reviews are the end-to-end confirmation, not the only net.
    """
    others = [*namespaces[index + 1 :], *namespaces[:index]]
    return [*others[:sample], OUTSIDE_NAMESPACE]


def expected_access(expectation: ClusterExpectation) -> list[ExpectedAccess]:
    """The reviews of both service accounts of every namespace, allowed and denied."""
    user_grants = sorted(grants(USER_RULES))
    user_resources = sorted({(group, resource) for group, resource, _ in user_grants})
    names_list = [ns.name for ns in expectation.namespaces]
    checks: list[ExpectedAccess] = []
    for index, namespace in enumerate(names_list):
        names = namespace_object_names(namespace)
        system, user = names.system_service_account, names.user_service_account

        def review(account: str, grant: tuple[str, str, str], where: str, allowed: bool) -> ExpectedAccess:
            group, resource, verb = grant
            return ExpectedAccess(account, namespace, verb, group, resource, where, allowed)  # noqa: B023

        # In its namespace: what each needs is allowed; user code reads no secret, writes nothing.
        checks += [
            review(system, (g, r, v), namespace, True) for g, r in SYSTEM_USAGE for v in SYSTEM_USAGE_VERBS
        ]
        checks += [review(user, grant, namespace, True) for grant in user_grants]
        checks += [review(user, ("", "secrets", verb), namespace, False) for verb in READ_VERBS]
        checks += [
            review(user, (group, resource, verb), namespace, False)
            for group, resource in user_resources
            for verb in WRITE_VERBS
        ]
        checks += [
            review(account, probe, namespace, False)
            for account in (system, user)
            for probe in (*REMOTE_ACCESS, *ESCALATION)
        ]
        checks += [review(user, probe, namespace, False) for probe in USER_ONLY_DENIALS]
        # Elsewhere: nothing.
        for other in cross_namespace_targets(names_list, index, expectation.cross_namespace_sample):
            checks += [
                review(account, probe, other, False)
                for account in (system, user)
                for probe in CROSS_NAMESPACE_PROBES
            ]
        checks += [
            review(account, probe, "", False) for account in (system, user) for probe in CLUSTER_WIDE_PROBES
        ]
    return checks


def _verdict(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def access_result(expected: ExpectedAccess, review: AccessReview) -> CheckResult:
    """Compare one expected permission with the SubjectAccessReview's answer; a review with an
    error is a failure whatever its verdict (an RBAC evaluation error can hide a grant)."""
    if review.error:
        return CheckResult(
            "access", expected.label, _verdict(expected.allowed), f"review error: {review.error}", False
        )
    return CheckResult(
        "access",
        expected.label,
        _verdict(expected.allowed),
        _verdict(review.allowed),
        review.allowed == expected.allowed,
    )
