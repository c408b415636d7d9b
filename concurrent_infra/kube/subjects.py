"""Who may be bound to the cluster-wide system role: plain Users and Groups, never Kubernetes' own.

Kubernetes reserves the ``system:`` prefix for its own identities: ``system:anonymous`` (every
unauthenticated request), ``system:authenticated`` and ``system:unauthenticated``,
``system:masters`` (cluster-admin that RBAC cannot revoke), nodes, the control plane's
components, and every service account (User ``system:serviceaccount:<ns>:<name>``, Groups
``system:serviceaccounts`` and ``system:serviceaccounts:<ns>``). Binding any of them to a
cluster-wide role grants it to far more than one person or team, so the package refuses them.
"""

import re

RESERVED_PREFIX = "system:"
SUBJECT_NAME_MAX_LENGTH = 253
_PRINTABLE = re.compile(r"[!-~]+")
"""Visible ASCII, no whitespace: an RBAC name that an operator can read and type."""


def cluster_subject_problem(kind: str, name: str) -> str | None:
    """Why a User or Group named ``name`` must not get a cluster-wide role, or None if it may."""
    if kind not in ("User", "Group"):
        return f"a {kind} cannot be bound cluster-wide; bind only a User or a Group"
    if not name:
        return "the name is empty"
    if len(name) > SUBJECT_NAME_MAX_LENGTH:
        return f"the name has {len(name)} characters; at most {SUBJECT_NAME_MAX_LENGTH}"
    if not _PRINTABLE.fullmatch(name):
        return "the name has whitespace or characters that are not printable ASCII"
    if name.lower().startswith(RESERVED_PREFIX):
        if "serviceaccount" in name.lower():
            return (
                f"'{name}' names Kubernetes service accounts; service accounts get the system role "
                "only through the RoleBinding in their own namespace (ConcurrentNamespace)"
            )
        return (
            f"'{name}' is one of Kubernetes' own identities (the '{RESERVED_PREFIX}' prefix: anonymous, "
            "authenticated, masters, nodes, service accounts...), which covers far more than one "
            "person or team"
        )
    return None


def names_service_accounts(kind: str, name: str) -> bool:
    """Whether a subject written as a User or Group names Kubernetes service accounts."""
    lowered = name.lower()
    if kind == "User":
        return lowered.startswith("system:serviceaccount:")
    if kind == "Group":
        return lowered == "system:serviceaccounts" or lowered.startswith("system:serviceaccounts:")
    return kind == "ServiceAccount"
