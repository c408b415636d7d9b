"""SubjectAccessReviews (``access`` area) of what lets an identity gain more than its role:
token requests and impersonation, for the package's service accounts, each namespace's ``default``
account, everyone and the system role's subjects."""

from __future__ import annotations

from ...kube.names import (
    namespace_object_names,
)
from ...kube.rbac import RBAC_API_GROUP
from ...kube.subjects import EVERYONE, SERVICE_ACCOUNTS
from ..api import ExpectedAccess, Identity
from ..expectations import ClusterExpectation
from .objects import system_binding_subjects

IMPERSONATION: tuple[tuple[str, str, str], ...] = (
    ("", "users", "impersonate"),
    ("", "groups", "impersonate"),
    ("", "serviceaccounts", "impersonate"),
    ("authentication.k8s.io", "uids", "impersonate"),
)
"""Acting as another identity, cluster-wide (https://kubernetes.io/docs/reference/access-authn-authz/
authentication/#user-impersonation): denied to every identity verify asks about."""
TOKEN_REQUEST = ("", "serviceaccounts/token", "create")
"""Minting a token of a service account (``kubectl create token``): as good as being it."""
DEFAULT_ACCOUNT_DENIALS: tuple[tuple[str, str, str], ...] = (
    ("", "secrets", "get"),
    ("", "secrets", "list"),
    ("", "pods", "create"),
    ("", "pods/exec", "create"),
    ("batch", "jobs", "create"),
    ("apps", "deployments", "create"),
    (RBAC_API_GROUP, "rolebindings", "create"),
)
"""What a namespace's ``default`` service account (every pod that names no other) must not do in its
namespace: read secrets, start workloads, exec into pods, grant roles. Kubernetes binds it to
nothing; a powerful role bound to it is a grant to every such pod."""
DEFAULT_SERVICE_ACCOUNT = "default"


def escalation_identities(expectation: ClusterExpectation) -> list[Identity]:
    """The identities asked about escalation besides the service accounts: each subject of the
    system role (its group, users and groups)."""
    return [
        Identity(
            subject.name if subject.kind == "User" else "",
            () if subject.kind == "User" else (subject.name,),
            str(subject),
        )
        for subject in sorted(system_binding_subjects(expectation), key=str)
    ]


def everyone_in(namespace: str) -> Identity:
    """One identity that is every identity of :data:`EVERYONE` at once, and every service account of
    ``namespace``: a grant to any of them shows in its reviews."""
    users = sorted(name for kind, name in EVERYONE if kind == "User")
    groups = (
        *sorted(name for kind, name in EVERYONE if kind == "Group"),
        f"{SERVICE_ACCOUNTS}:{namespace}",
    )
    return Identity(users[0], groups, f"everyone ({', '.join((*users, *groups))})")


def _denied(
    account: str, namespace: str, grant: tuple[str, str, str], where: str, name: str, who: Identity | None
) -> ExpectedAccess:
    """A denied review of ServiceAccount ``namespace/account``, or of ``who`` (account "")."""
    group, resource, verb = grant
    return ExpectedAccess(
        account, namespace if account else "", verb, group, resource, where, False, name, who
    )


def expected_escalation_access(expectation: ClusterExpectation) -> list[ExpectedAccess]:
    """Reviews, all denied, of what lets an identity gain more than its role.

    Per verified namespace, for both package service accounts, the namespace's ``default`` account,
    everyone (:func:`everyone_in`) and the system role's subjects (:func:`escalation_identities`):
    requesting a token of, or impersonating, each package service account of the namespace (by name,
    so a grant narrowed by ``resourceNames`` shows too). Cluster-wide, for each of them (the system
    role's subjects once): impersonating users, groups, service accounts and UIDs
    (:data:`IMPERSONATION`). And the ``default`` account's :data:`DEFAULT_ACCOUNT_DENIALS`.
    """
    identities = escalation_identities(expectation)
    checks: list[ExpectedAccess] = []
    for index, namespace in enumerate(expectation.namespaces):
        ns = namespace.name
        names = namespace_object_names(ns)
        askers: list[tuple[str, Identity | None]] = [
            (account, None)
            for account in (names.system_service_account, names.user_service_account, DEFAULT_SERVICE_ACCOUNT)
        ]
        askers.append(("", everyone_in(ns)))
        cluster_wide = list(askers) + ([("", identity) for identity in identities] if index == 0 else [])
        askers += [("", identity) for identity in identities]

        checks += [
            _denied(account, ns, probe, ns, target, who)
            for account, who in askers
            for target in (names.system_service_account, names.user_service_account)
            for probe in (TOKEN_REQUEST, ("", "serviceaccounts", "impersonate"))
        ]
        checks += [
            _denied(account, ns, probe, "", "", who)
            for account, who in cluster_wide
            for probe in IMPERSONATION
        ]
        checks += [
            _denied(DEFAULT_SERVICE_ACCOUNT, ns, probe, ns, "", None) for probe in DEFAULT_ACCOUNT_DENIALS
        ]
    return checks
