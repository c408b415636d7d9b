"""RBAC subjects: the one :class:`Subject` type, the identities everyone is (:data:`EVERYONE`), and who
may be bound to the cluster-wide system role: plain Users and Groups, never Kubernetes' own.

Kubernetes reserves the ``system:`` prefix for its own identities: ``system:anonymous`` (every
unauthenticated request), ``system:authenticated`` and ``system:unauthenticated``,
``system:masters`` (cluster-admin that RBAC cannot revoke), nodes, the control plane's
components, and every service account (User ``system:serviceaccount:<ns>:<name>``, Groups
``system:serviceaccounts`` and ``system:serviceaccounts:<ns>``). Binding any of them to a
cluster-wide role grants it to far more than one person or team, so the package refuses them.
"""

import re
from dataclasses import dataclass

from .names import namespace_object_names

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


ANONYMOUS = "system:anonymous"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
SERVICE_ACCOUNTS = "system:serviceaccounts"


def names_service_accounts(kind: str, name: str) -> bool:
    """Whether a subject written as a User or Group names Kubernetes service accounts."""
    lowered = name.lower()
    if kind == "User":
        return lowered.startswith("system:serviceaccount:")
    if kind == "Group":
        return lowered == SERVICE_ACCOUNTS or lowered.startswith(f"{SERVICE_ACCOUNTS}:")
    return kind == "ServiceAccount"


EVERYONE: frozenset[tuple[str, str]] = frozenset(
    {
        ("Group", AUTHENTICATED),
        ("Group", UNAUTHENTICATED),
        ("Group", SERVICE_ACCOUNTS),
        ("User", ANONYMOUS),
    }
)
"""``(kind, name)`` of the subjects every caller, or every workload, is: a grant to one is a grant to
all. Every authenticated identity (every service account of every tenant included) is in Group
``system:authenticated``, every unauthenticated request in ``system:unauthenticated`` with the User
``system:anonymous``, and every service account of every namespace in ``system:serviceaccounts``
("For all service accounts everywhere" / "For all authenticated users" / "For all unauthenticated
users" in "Referring to subjects", https://kubernetes.io/docs/reference/access-authn-authz/rbac/;
"Anonymous requests", https://kubernetes.io/docs/reference/access-authn-authz/authentication/).
Tenants run their code as service accounts, so ``system:serviceaccounts`` is everyone a tenant can
be. A namespace's group ``system:serviceaccounts:<ns>`` is not everyone: it is checked as the
service accounts it names (:meth:`Subject.service_accounts`)."""


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """The groups a service account of ``namespace`` authenticates with (Kubernetes adds them to
    every service account token's user): all service accounts, those of its namespace, and every
    authenticated identity."""
    return (SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{namespace}", AUTHENTICATED)


@dataclass(frozen=True, order=True)
class Subject:
    """A subject of an RBAC binding, as written: a User, a Group or a ServiceAccount (``namespace``
    only for a ServiceAccount, the binding's when the subject omits it; "" when not known)."""

    kind: str
    name: str
    namespace: str = ""

    @classmethod
    def in_binding(cls, kind: str, name: str, namespace: str, binding_namespace: str) -> "Subject":
        """A subject as a binding writes it: a ServiceAccount without a namespace is in the
        binding's namespace (as the RBAC authorizer reads it); a User or Group has none."""
        if kind != "ServiceAccount":
            return cls(kind, name)
        return cls(kind, name, namespace or binding_namespace)

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace or '?'}/{self.name}"
        return f"{self.kind} {self.name}"

    @property
    def stands_for_everyone(self) -> bool:
        """Whether it is one of :data:`EVERYONE` (the name compared in lower case)."""
        return (self.kind, self.name.lower()) in EVERYONE

    @property
    def names_service_accounts(self) -> bool:
        return names_service_accounts(self.kind, self.name)

    @property
    def service_accounts(self) -> tuple[str | None, str | None]:
        """``(namespace, name)`` of the service accounts it names: namespace None means every
        namespace (or, for a ServiceAccount, one not known), name None every service account of
        the namespace (a Group)."""
        if self.kind == "ServiceAccount":
            return self.namespace or None, self.name
        parts = self.name.split(":")
        namespace = parts[2] if len(parts) > 2 and parts[2] else None
        if self.kind == "User" and len(parts) == 4 and parts[3]:
            return namespace, parts[3]
        return namespace, None

    @property
    def package_service_account(self) -> str | None:
        """``user`` or ``system`` if it names exactly one of the package's service accounts."""
        if not self.names_service_accounts:
            return None
        namespace, account = self.service_accounts
        if namespace is None or account is None:
            return None
        names = namespace_object_names(namespace)
        if account == names.user_service_account:
            return "user"
        if account == names.system_service_account:
            return "system"
        return None

    def describe(self) -> str:
        """The subject for a message, saying which service accounts it stands for."""
        if self.kind == "ServiceAccount" or not self.names_service_accounts:
            return str(self)
        namespace, account = self.service_accounts
        if account is not None:
            return f"{self.kind} {self.name} (the service account {namespace}/{account})"
        if namespace is not None:
            return f"{self.kind} {self.name} (every service account of namespace {namespace})"
        return f"{self.kind} {self.name} (every service account of the cluster)"
