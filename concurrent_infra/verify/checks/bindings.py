"""The ``bindings`` area: every binding in the cluster that names a package service account, a
``system:`` identity in a verified namespace or everyone, and every binding of the system role, is
the package's own (or one of Kubernetes' defaults)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...kube.names import (
    RESERVED_NAMESPACES,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    namespace_object_names,
)
from ...kube.subjects import (
    AUTHENTICATED,
    RESERVED_PREFIX,
    SERVICE_ACCOUNTS,
    UNAUTHENTICATED,
    Subject,
    names_service_accounts,
)
from ..api import KubeObject
from ..expectations import ClusterExpectation
from .objects import (
    binding_subjects,
    binding_where,
    refers_to,
    role_ref_of,
    show_subjects,
    system_binding_subjects,
)
from .result import CheckResult

BOOTSTRAP_LABEL = "kubernetes.io/bootstrapping"
BOOTSTRAP_VALUE = "rbac-defaults"
BROAD_GROUPS = frozenset({AUTHENTICATED, SERVICE_ACCOUNTS})
"""Groups that contain every service account of every namespace."""
KUBERNETES_DEFAULT_BINDINGS: frozenset[tuple[str, str]] = frozenset(
    (name, f"ClusterRole/{name}")
    for name in (
        "system:basic-user",
        "system:discovery",
        "system:public-info-viewer",
        "system:service-account-issuer-discovery",
    )
)
"""``(ClusterRoleBinding name, roleRef)`` of Kubernetes' default bindings to everyone
(:data:`~concurrent_infra.kube.subjects.EVERYONE`; see :func:`is_kubernetes_default`)."""
DEFAULT_GROUPS = frozenset({AUTHENTICATED, UNAUTHENTICATED, SERVICE_ACCOUNTS})
"""The only subjects of those default bindings."""


def package_service_accounts(expectation: ClusterExpectation) -> frozenset[tuple[str, str]]:
    """``(namespace, name)`` of both service accounts of every verified namespace."""
    accounts = set()
    for namespace in expectation.namespaces:
        names = namespace_object_names(namespace.name)
        accounts |= {
            (namespace.name, names.system_service_account),
            (namespace.name, names.user_service_account),
        }
    return frozenset(accounts)


def system_subject_exposure(kind: str, name: str) -> str:
    """How the binding scan names a subject of the system role."""
    return f"{kind} {name} (a subject of the system role)"


def package_bindings(expectation: ClusterExpectation) -> dict[tuple[str, str, str, str], frozenset[str]]:
    """Every binding the package creates, ``(kind, namespace, name, roleRef)``, with what it may
    expose (as :func:`exposed_identities` names it): each service account's RoleBinding that
    account, the system role's binding its own subjects. Anything more it names is flagged."""
    system_role = f"ClusterRole/{SYSTEM_CLUSTER_ROLE}"
    system_subjects = frozenset(
        system_subject_exposure(subject.kind, subject.name)
        for subject in system_binding_subjects(expectation)
    )
    bindings: dict[tuple[str, str, str, str], frozenset[str]] = {}
    if expectation.system_role_scope == "cluster":  # this stack's, or the one creating the system role
        bindings[("ClusterRoleBinding", "", SYSTEM_CLUSTER_ROLE_BINDING, system_role)] = system_subjects
    for namespace in expectation.namespaces:
        names = namespace_object_names(namespace.name)
        ns = namespace.name
        if expectation.system_role_scope == "namespaces":
            bindings[("RoleBinding", ns, SYSTEM_CLUSTER_ROLE_BINDING, system_role)] = system_subjects
        bindings[("RoleBinding", ns, names.system_role_binding, system_role)] = frozenset(
            {f"{ns}/{names.system_service_account}"}
        )
        bindings[("RoleBinding", ns, names.user_role_binding, f"ClusterRole/{names.user_cluster_role}")] = (
            frozenset({f"{ns}/{names.user_service_account}"})
        )
    return bindings


def subject_reaches(subject: Subject, accounts: frozenset[tuple[str, str]]) -> list[str]:
    """Which package service accounts ``subject`` names or contains (normalised with
    :func:`names_service_accounts`): a ServiceAccount, User ``system:serviceaccount:<ns>:<sa>``,
    Group ``system:serviceaccounts`` / ``system:serviceaccounts:<ns>``, or ``system:authenticated``."""
    namespaces = {ns for ns, _ in accounts}
    if subject.kind == "ServiceAccount":
        return (
            [f"{subject.namespace}/{subject.name}"] if (subject.namespace, subject.name) in accounts else []
        )
    lowered = subject.name.lower()
    if subject.kind == "Group" and lowered in BROAD_GROUPS:
        return [f"every service account ({subject.name})"]
    if not names_service_accounts(subject.kind, subject.name):
        return []
    if subject.kind == "User":
        namespace, _, name = lowered.removeprefix("system:serviceaccount:").partition(":")
        return [f"{namespace}/{name}"] if (namespace, name) in accounts else []
    namespace = lowered.removeprefix("system:serviceaccounts:")
    return [f"every service account of {namespace}"] if namespace in namespaces else []


def is_kubernetes_default(binding: KubeObject) -> bool:
    """A ClusterRoleBinding of Kubernetes' own default policy that binds the groups everyone is in.

    Kubernetes' bootstrap policy (``ClusterRoleBindings()`` in
    ``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go``, and its fixture
    ``testdata/cluster-role-bindings.yaml``) creates, and reconciles at every API server start,
    exactly four bindings to ``system:authenticated`` / ``system:unauthenticated`` /
    ``system:serviceaccounts``, each to the ClusterRole of its own name, labelled
    ``kubernetes.io/bootstrapping=rbac-defaults``: ``system:basic-user`` and ``system:discovery``
    (``system:authenticated``; clusters from before 1.14 also kept ``system:unauthenticated``),
    ``system:public-info-viewer`` (both) and ``system:service-account-issuer-discovery``
    (``system:serviceaccounts``). They let an identity discover the API, read the version and the
    OIDC issuer, and review its own access: nothing of a namespace's data (the CIS GKE Benchmark
    likewise accepts only ``system:basic-user``, ``system:discovery`` and
    ``system:public-info-viewer`` as bindings of ``system:authenticated``).

    The label alone is forgeable, so only these exact ``(name, roleRef)`` pairs
    (:data:`KUBERNETES_DEFAULT_BINDINGS`) qualify, cluster-scoped, with no subject but the three
    groups (:data:`DEFAULT_GROUPS`). A binding ``system:agg`` labelled ``rbac-defaults`` that gives
    ``system:authenticated`` ``system:controller:clusterrole-aggregation-controller`` is not a
    default. Whatever the default roles really grant (a person may add rules to them) is still
    seen by the SubjectAccessReviews.
    """
    metadata = binding.get("metadata") or {}
    labels = metadata.get("labels") or {}
    pair = (str(metadata.get("name", "")), role_ref_of(binding))
    return (
        not metadata.get("namespace")
        and labels.get(BOOTSTRAP_LABEL) == BOOTSTRAP_VALUE
        and pair in KUBERNETES_DEFAULT_BINDINGS
        and refers_to(binding, pair[1])
        and all(
            subject.kind == "Group" and subject.name in DEFAULT_GROUPS
            for subject in binding_subjects(binding)
        )
    )


def exposed_identities(
    kind: str,
    namespace: str,
    subject: Subject,
    verified: frozenset[str],
    accounts: frozenset[tuple[str, str]],
    system_subjects: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """What a binding's ``subject`` exposes: the package service accounts it names or contains
    (:func:`subject_reaches`); the system role's own subjects (its group, the extra users and
    groups: ``system_subjects``, as ``(kind, name)``), which the package binds to nothing else;
    in a RoleBinding of a verified namespace, any ``system:`` user or group (``system:anonymous``,
    ``system:unauthenticated``, another namespace's service account: Kubernetes identities the
    package never binds there); in a ClusterRoleBinding, an identity everyone is
    (:data:`~concurrent_infra.kube.subjects.EVERYONE`), whose grant covers the verified namespaces too."""
    reached = subject_reaches(subject, accounts)
    if reached:
        return reached
    if (subject.kind, subject.name) in system_subjects:
        return [system_subject_exposure(subject.kind, subject.name)]
    reserved = subject.kind in ("User", "Group") and subject.name.lower().startswith(RESERVED_PREFIX)
    if kind == "RoleBinding" and namespace in verified and reserved:
        return [f"{subject.kind} {subject.name} in {namespace}"]
    if kind == "ClusterRoleBinding" and subject.stands_for_everyone:
        return [f"{subject.kind} {subject.name} (everyone)"]
    return []


def binding_scan(
    expectation: ClusterExpectation,
    role_bindings: Sequence[KubeObject],
    cluster_role_bindings: Sequence[KubeObject],
) -> list[CheckResult]:
    """Every binding in the cluster that exposes something (:func:`exposed_identities`: names a
    package service account or a group containing it; a ``system:`` user or group in a verified
    namespace; everyone, cluster-wide), flagged unless it is exactly one the package creates
    (kind, namespace, name, roleRef) or a Kubernetes default (:func:`is_kubernetes_default`). This
    is what catches a grant to a package service account anywhere in the cluster, whichever
    namespace or role it uses, and a grant of a verified namespace to anonymous callers."""
    accounts = package_service_accounts(expectation)
    verified = frozenset(ns.name for ns in expectation.namespaces)
    own = package_bindings(expectation)
    system_subjects = frozenset(
        (subject.kind, subject.name) for subject in system_binding_subjects(expectation)
    )
    results: list[CheckResult] = []
    foreign = 0
    for kind, bindings in (("ClusterRoleBinding", cluster_role_bindings), ("RoleBinding", role_bindings)):
        for binding in bindings:
            namespace, name, label = binding_where(kind, binding)
            reached = sorted(
                {
                    who
                    for subject in binding_subjects(binding)
                    for who in exposed_identities(
                        kind, namespace, subject, verified, accounts, system_subjects
                    )
                }
            )
            if not reached:
                continue
            role_ref = role_ref_of(binding)
            expected = own.get((kind, namespace, name, role_ref))
            if expected is not None and set(reached) <= expected:
                continue
            if kind == "ClusterRoleBinding" and is_kubernetes_default(binding):
                results.append(
                    CheckResult(
                        "bindings", f"{label} ({role_ref})", "Kubernetes default", "Kubernetes default", True
                    )
                )
                continue
            foreign += 1
            results.append(
                CheckResult(
                    "bindings",
                    f"{label} ({role_ref})",
                    "no package service account nor system: identity (not a binding of the package)",
                    f"names {', '.join(reached)}",
                    False,
                )
            )
    scanned = f"{len(role_bindings)} RoleBindings, {len(cluster_role_bindings)} ClusterRoleBindings"
    if not foreign:
        results.append(
            CheckResult(
                "bindings",
                f"only the package's bindings name its service accounts or expose its namespaces "
                f"({scanned} scanned)",
                "none other",
                "none other",
                True,
            )
        )
    return results


def _reserved_note(subjects: Iterable[Subject]) -> str:
    """Why a service account of a namespace Kubernetes reserves is never the package's."""
    reserved = sorted({s.namespace for s in subjects if s.kind == "ServiceAccount"} & RESERVED_NAMESPACES)
    if not reserved:
        return ""
    exempt = (
        " (the namespace guard exempts kube-system's service accounts)" if "kube-system" in reserved else ""
    )
    return f"; a service account of {', '.join(reserved)}, where the package binds nothing{exempt}"


def system_role_binding_results(
    expectation: ClusterExpectation,
    role_bindings: Sequence[KubeObject],
    cluster_role_bindings: Sequence[KubeObject],
) -> list[CheckResult]:
    """Every binding of ClusterRole ``k8s-role-for-parallels-lambda``, anywhere in the cluster, names
    only the package's own subjects: the system role's group, users and groups
    (:func:`system_binding_subjects`), and, in a RoleBinding ``k8s-service-account-binding-<ns>`` of
    namespace ``<ns>``, ServiceAccount ``<ns>/k8s-serviceaccount-for-parallels-<ns>`` (that pattern
    also accepts the namespaces of other shards of the environment), except in the namespaces
    Kubernetes reserves (``names.RESERVED_NAMESPACES``, which the config refuses: the package binds
    nothing there, and kube-system's service accounts are exempt from the namespace guard). Anyone
    else bound to it holds the system role's rights: Concurrent's access to every namespace's
    secrets and pods."""
    system_role = f"ClusterRole/{SYSTEM_CLUSTER_ROLE}"
    own_subjects = system_binding_subjects(expectation)
    results: list[CheckResult] = []
    scanned = 0
    for kind, bindings in (("ClusterRoleBinding", cluster_role_bindings), ("RoleBinding", role_bindings)):
        for binding in bindings:
            if not refers_to(binding, system_role):
                continue
            scanned += 1
            namespace, name, label = binding_where(kind, binding)
            own = set(own_subjects)
            if (
                kind == "RoleBinding"
                and name == namespace_object_names(namespace).system_role_binding
                and namespace not in RESERVED_NAMESPACES
            ):
                own.add(
                    Subject(
                        "ServiceAccount", namespace_object_names(namespace).system_service_account, namespace
                    )
                )
            outsiders = sorted(binding_subjects(binding) - own, key=str)
            if outsiders:
                results.append(
                    CheckResult(
                        "bindings",
                        f"{label} binds the system role {SYSTEM_CLUSTER_ROLE} only to the package's subjects",
                        f"only {show_subjects(own)}",
                        f"also {show_subjects(outsiders)}{_reserved_note(outsiders)}",
                        False,
                    )
                )
    if not results:
        results.append(
            CheckResult(
                "bindings",
                f"every binding of the system role {SYSTEM_CLUSTER_ROLE} names only the package's subjects "
                f"({scanned} binding(s) of it)",
                "none other",
                "none other",
                True,
            )
        )
    return results
