"""The checks of ``verify``: pure comparisons of what the cluster holds with the expectations.

Areas, in report order:

- ``objects``: every object exists with its exact name; bindings have their exact ``roleRef``.
- ``rules``: the system ClusterRole's and each user ClusterRole's rules, flattened to
  ``(api group, resource, verb)``, equal ``rbac.SYSTEM_RULES`` / ``rbac.USER_RULES`` exactly; an
  ``aggregationRule``, ``resourceNames`` or ``nonResourceURLs`` is an extra too; the system role
  carries no ``aggregate-to-*`` label (:func:`aggregation_label_results`) and no ClusterRole
  aggregates it (:func:`aggregation_scan`).
- ``subjects``: each per-namespace RoleBinding has exactly its ServiceAccount; the system
  ClusterRoleBinding exactly Group ``k8s-role-for-parallels-lambda-group`` plus the configured
  users and groups, and never a ``system:`` subject or a ServiceAccount.
- ``bindings``: every RoleBinding (all namespaces) and ClusterRoleBinding that names a package
  service account, or a group containing it, is the package's own; no binding in a verified
  namespace names a ``system:`` user or group, and no ClusterRoleBinding but Kubernetes' own
  defaults names an identity everyone has (see :func:`binding_scan`); every binding of the system
  role names only the package's own subjects (see :func:`system_role_binding_results`).
- ``pod-security``, ``guard``, ``tenancy``: Namespace labels (Pod Security and managed-by), the
  namespace guard policy and binding (their specs exactly), the Namespace fields the guard holds
  (:func:`namespace_metadata_results`), quota, LimitRange, NetworkPolicy, Workload Identity
  annotation, DinD.
- ``access``: SubjectAccessReviews of both service accounts (see :func:`expected_access`), and of
  every identity that could escalate: the package's subjects, each namespace's ``default`` service
  account and the identities everyone is, asked about impersonation, token requests and (``default``)
  what a powerful role grants (see :func:`expected_escalation_access`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..kube.guardrails import (
    GUARDED_ANNOTATIONS,
    namespace_guard_binding_spec,
    namespace_guard_policy_spec,
)
from ..kube.labels import COMMON_LABELS, MANAGED_BY_LABEL
from ..kube.names import (
    DIND_NAME,
    LIMIT_RANGE,
    NAMESPACE_GUARD_POLICY,
    NETWORK_POLICY,
    RESERVED_NAMESPACES,
    RESOURCE_QUOTA,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from ..kube.pod_security import LABEL_PREFIX, pod_security_labels
from ..kube.rbac import RBAC_API_GROUP, READ_VERBS, SYSTEM_RULES, USER_RULES, WRITE_VERBS, PolicyRule, grants
from ..kube.selectors import selector_matches
from ..kube.subjects import RESERVED_PREFIX, names_service_accounts
from ..quantity import same_quantity
from .api import AccessReview, ClusterApi, ExpectedAccess, Identity, KubeObject
from .expectations import ClusterExpectation, NamespaceExpectation

WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
BOOTSTRAP_LABEL = "kubernetes.io/bootstrapping"
BOOTSTRAP_VALUE = "rbac-defaults"
BROAD_GROUPS = frozenset({"system:authenticated", "system:serviceaccounts"})
"""Groups that contain every service account of every namespace."""
EVERYONE: frozenset[tuple[str, str]] = frozenset(
    {
        ("Group", "system:authenticated"),
        ("Group", "system:unauthenticated"),
        ("Group", "system:serviceaccounts"),
        ("User", "system:anonymous"),
    }
)
"""Subjects that every caller (or every workload) is: a grant to one is a grant to all."""
KUBERNETES_DEFAULT_BINDINGS: frozenset[tuple[str, str]] = frozenset(
    (name, f"ClusterRole/{name}")
    for name in (
        "system:basic-user",
        "system:discovery",
        "system:public-info-viewer",
        "system:service-account-issuer-discovery",
    )
)
"""``(ClusterRoleBinding name, roleRef)`` of Kubernetes' default bindings to :data:`EVERYONE`
(see :func:`is_kubernetes_default`)."""
DEFAULT_GROUPS = frozenset({"system:authenticated", "system:unauthenticated", "system:serviceaccounts"})
"""The only subjects of those default bindings."""

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


Grant = tuple[str, str, str]


def show_grant(grant: Grant) -> str:
    group, resource, verb = grant
    return f"{verb} {resource}.{group}" if group else f"{verb} {resource}"


def show_grants(items: Iterable[Grant]) -> str:
    return ", ".join(show_grant(grant) for grant in sorted(items, key=lambda g: (g[1], g[0], g[2])))


# ---- objects ----


@dataclass(frozen=True)
class Subject:
    """An RBAC subject (``namespace`` only for ServiceAccounts)."""

    kind: str
    name: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ExpectedObject:
    """An object that must exist; for a binding, also its exact ``roleRef`` and subjects."""

    kind: str
    name: str
    namespace: str | None = None
    role_ref: str | None = None
    """``ClusterRole/<name>`` for a binding."""
    subjects: frozenset[Subject] = frozenset()

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def system_binding_subjects(expectation: ClusterExpectation) -> frozenset[Subject]:
    """The exact subjects of the system ClusterRoleBinding: the group plus the configured extras."""
    return frozenset(
        {Subject("Group", SYSTEM_GROUP)}
        | {Subject("User", user) for user in expectation.system_role_users}
        | {Subject("Group", group) for group in expectation.system_role_groups}
    )


def expected_objects(expectation: ClusterExpectation) -> list[ExpectedObject]:
    """Every RBAC object and Namespace of the expectation, with its exact name."""
    objects: list[ExpectedObject] = []
    namespaced = expectation.system_role_scope == "namespaces"
    if expectation.include_system_role:
        objects.append(ExpectedObject("ClusterRole", SYSTEM_CLUSTER_ROLE))
        if not namespaced:
            objects.append(
                ExpectedObject(
                    "ClusterRoleBinding",
                    SYSTEM_CLUSTER_ROLE_BINDING,
                    role_ref=f"ClusterRole/{SYSTEM_CLUSTER_ROLE}",
                    subjects=system_binding_subjects(expectation),
                )
            )
    for namespace in expectation.namespaces:
        names = namespace_object_names(namespace.name)
        ns = names.namespace
        if namespaced:
            objects.append(
                ExpectedObject(
                    "RoleBinding",
                    SYSTEM_CLUSTER_ROLE_BINDING,
                    ns,
                    role_ref=f"ClusterRole/{SYSTEM_CLUSTER_ROLE}",
                    subjects=system_binding_subjects(expectation),
                )
            )
        objects += [
            ExpectedObject("Namespace", ns),
            ExpectedObject("ServiceAccount", names.system_service_account, ns),
            ExpectedObject(
                "RoleBinding",
                names.system_role_binding,
                ns,
                role_ref=f"ClusterRole/{SYSTEM_CLUSTER_ROLE}",
                subjects=frozenset({Subject("ServiceAccount", names.system_service_account, ns)}),
            ),
            ExpectedObject("ClusterRole", names.user_cluster_role),
            ExpectedObject("ServiceAccount", names.user_service_account, ns),
            ExpectedObject(
                "RoleBinding",
                names.user_role_binding,
                ns,
                role_ref=f"ClusterRole/{names.user_cluster_role}",
                subjects=frozenset({Subject("ServiceAccount", names.user_service_account, ns)}),
            ),
        ]
    return objects


def binding_subjects(binding: KubeObject) -> frozenset[Subject]:
    """A binding's subjects; a RoleBinding's ServiceAccount without a namespace is in the
    binding's namespace (as the RBAC authorizer reads it)."""
    own_namespace = str((binding.get("metadata") or {}).get("namespace") or "")
    subjects = set()
    for subject in binding.get("subjects") or ():
        kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
        namespace = str(subject.get("namespace") or "")
        if kind == "ServiceAccount" and not namespace:
            namespace = own_namespace
        subjects.add(Subject(kind, name, namespace if kind == "ServiceAccount" else ""))
    return frozenset(subjects)


def role_ref_of(binding: KubeObject) -> str:
    role_ref = binding.get("roleRef") or {}
    return f"{role_ref.get('kind')}/{role_ref.get('name')}"


def _show(subjects: Iterable[Subject]) -> str:
    return ", ".join(sorted(map(str, subjects))) or "(none)"


def object_results(expected: ExpectedObject, actual: KubeObject | None) -> list[CheckResult]:
    """Compare one expected object with the object read from the cluster (None: not found)."""
    found = actual is not None
    results = [
        CheckResult("objects", f"{expected.label} exists", "exists", "exists" if found else "missing", found)
    ]
    if actual is None:
        return results
    phase = (actual.get("status") or {}).get("phase")
    if expected.kind == "Namespace" and phase not in (None, "Active"):
        results.append(CheckResult("objects", f"{expected.label} is Active", "Active", str(phase), False))
    if expected.role_ref is None:
        return results
    role_ref = actual.get("roleRef") or {}
    actual_ref = role_ref_of(actual)
    ref_ok = actual_ref == expected.role_ref and role_ref.get("apiGroup", RBAC_API_GROUP) == RBAC_API_GROUP
    results.append(CheckResult("objects", f"{expected.label} roleRef", expected.role_ref, actual_ref, ref_ok))
    subjects = binding_subjects(actual)
    results.append(
        CheckResult(
            "subjects",
            f"{expected.label} subjects",
            f"exactly {_show(expected.subjects)}",
            _show(subjects),
            subjects == expected.subjects,
        )
    )
    if expected.kind == "ClusterRoleBinding":
        for subject in sorted(subjects, key=str):
            reserved = subject.name.lower().startswith(RESERVED_PREFIX)
            if reserved or subject.kind not in ("User", "Group"):
                why = "a Kubernetes identity (system:)" if reserved else "not a User or Group"
                results.append(
                    CheckResult(
                        "subjects",
                        f"{expected.label} subject {subject}",
                        "no system: subject, no ServiceAccount",
                        why,
                        False,
                    )
                )
    return results


# ---- rules ----


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


AGGREGATE_TO_PREFIX = "rbac.authorization.k8s.io/aggregate-to-"
"""Labels that make the aggregation controller copy a ClusterRole's rules into ``admin``, ``edit``,
``view`` (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles)."""


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


# ---- bindings that name the package's service accounts ----


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
    role_ref = binding.get("roleRef") or {}
    pair = (str(metadata.get("name", "")), role_ref_of(binding))
    return (
        not metadata.get("namespace")
        and labels.get(BOOTSTRAP_LABEL) == BOOTSTRAP_VALUE
        and pair in KUBERNETES_DEFAULT_BINDINGS
        and role_ref.get("apiGroup", RBAC_API_GROUP) == RBAC_API_GROUP
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
    (:data:`EVERYONE`), whose grant covers the verified namespaces too."""
    reached = subject_reaches(subject, accounts)
    if reached:
        return reached
    if (subject.kind, subject.name) in system_subjects:
        return [system_subject_exposure(subject.kind, subject.name)]
    reserved = subject.kind in ("User", "Group") and subject.name.lower().startswith(RESERVED_PREFIX)
    if kind == "RoleBinding" and namespace in verified and reserved:
        return [f"{subject.kind} {subject.name} in {namespace}"]
    if kind == "ClusterRoleBinding" and (subject.kind, subject.name.lower()) in EVERYONE:
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
            metadata = binding.get("metadata") or {}
            namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name", ""))
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
            label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
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
            role_ref = binding.get("roleRef") or {}
            if (
                role_ref_of(binding) != system_role
                or role_ref.get("apiGroup", RBAC_API_GROUP) != RBAC_API_GROUP
            ):
                continue
            scanned += 1
            metadata = binding.get("metadata") or {}
            namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name", ""))
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
                label = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
                results.append(
                    CheckResult(
                        "bindings",
                        f"{label} binds the system role {SYSTEM_CLUSTER_ROLE} only to the package's subjects",
                        f"only {_show(own)}",
                        f"also {_show(outsiders)}{_reserved_note(outsiders)}",
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


# ---- Pod Security, the guard, tenancy ----


def _show_labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{key.removeprefix(LABEL_PREFIX)}={value}" for key, value in sorted(labels.items()))


def pod_security_results(expected: NamespaceExpectation, namespace: KubeObject | None) -> list[CheckResult]:
    """The four Pod Security labels of the Namespace, exactly, and its managed-by label: without
    it the namespace guard (which selects ``app.kubernetes.io/managed-by=concurrent-infra``) no
    longer holds the namespace, so its service accounts could relabel it ``privileged``."""
    if namespace is None:
        return []
    want = pod_security_labels(expected.pod_security)  # type: ignore[arg-type]
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    have = {key: str(labels[key]) for key in want if key in labels}
    managed_by = labels.get(MANAGED_BY_LABEL)
    return [
        CheckResult(
            "pod-security",
            f"Namespace {expected.name} Pod Security labels",
            _show_labels(want),
            _show_labels(have) or "(none)",
            have == want,
        ),
        CheckResult(
            "pod-security",
            f"Namespace {expected.name} label {MANAGED_BY_LABEL} (the guard selects it)",
            COMMON_LABELS[MANAGED_BY_LABEL],
            str(managed_by) if managed_by is not None else "(none)",
            managed_by == COMMON_LABELS[MANAGED_BY_LABEL],
        ),
    ]


KUBERNETES_FINALIZER = "kubernetes"
"""The finalizer the API server puts in every Namespace's ``spec.finalizers`` when it is created (and
then lets only the ``namespaces/finalize`` subresource change): the namespace controller deletes
the namespace's content, then removes it (``PrepareForCreate`` in kubernetes/kubernetes
pkg/registry/core/namespace/strategy.go)."""


def _remove_with_patch(namespace: str, path: str) -> str:
    return (
        f"remove it as a cluster admin: kubectl patch namespace {namespace} --type=json "
        f"""-p '[{{"op":"remove","path":"{path}"}}]'"""
    )


def _owner(reference: Mapping[str, Any]) -> str:
    return f"{reference.get('kind', '?')} {reference.get('name', '?')} (uid {reference.get('uid', '?')})"


def _shown_value(value: object) -> str:
    return "(none)" if value is None else json.dumps(value)


def namespace_metadata_results(
    expected: NamespaceExpectation, namespace: KubeObject | None
) -> list[CheckResult]:
    """The Namespace's fields that make the control plane delete it, block its deletion, or move its
    pods, as the package leaves them (:data:`~concurrent_infra.kube.guardrails.DELETING_FIELDS`,
    :data:`~concurrent_infra.kube.guardrails.GUARDED_ANNOTATIONS`): no ``metadata.ownerReferences``
    (the garbage collector deletes a namespace whose owners are all gone: a Node it names, say),
    no ``metadata.finalizers`` (a finalizer nobody removes keeps it ``Terminating``),
    ``spec.finalizers`` exactly ``[kubernetes]`` (without it a deleted namespace's content stays
    behind, for the next namespace of that name), and the node-placement annotations exactly as
    configured (absent when not). Today's guard refuses changing any of them to the namespace's
    service accounts and the system role's subjects; what an earlier guard let them plant stays, and
    the guard then refuses removing it too: only verify sees it, and a cluster admin removes it."""
    if namespace is None:
        return []
    ns = expected.name
    metadata = namespace.get("metadata") or {}
    owners = [_owner(reference) for reference in metadata.get("ownerReferences") or ()]
    finalizers = [str(finalizer) for finalizer in metadata.get("finalizers") or ()]
    spec_finalizers = [str(finalizer) for finalizer in (namespace.get("spec") or {}).get("finalizers") or ()]
    spec_ok = spec_finalizers == [KUBERNETES_FINALIZER]
    restore = (
        f"restore it as a cluster admin: kubectl get namespace {ns} -o json | jq "
        f"""'.spec.finalizers=["{KUBERNETES_FINALIZER}"]' | kubectl replace --raw """
        f"/api/v1/namespaces/{ns}/finalize -f -"
    )
    results = [
        CheckResult(
            "guard",
            f"Namespace {ns} has no ownerReferences (the garbage collector deletes it with its owners)",
            "none",
            f"{', '.join(owners)}; {_remove_with_patch(ns, '/metadata/ownerReferences')}"
            if owners
            else "none",
            not owners,
        ),
        CheckResult(
            "guard",
            f"Namespace {ns} has no metadata.finalizers (they hold its deletion)",
            "none",
            f"{', '.join(finalizers)}; {_remove_with_patch(ns, '/metadata/finalizers')}"
            if finalizers
            else "none",
            not finalizers,
        ),
        CheckResult(
            "guard",
            f"Namespace {ns} spec.finalizers (the namespace controller deletes its content)",
            KUBERNETES_FINALIZER,
            (", ".join(spec_finalizers) or "(none)") + ("" if spec_ok else f"; {restore}"),
            spec_ok,
        ),
    ]
    annotations = metadata.get("annotations") or {}
    for key in GUARDED_ANNOTATIONS:
        want, have = expected.annotations.get(key), annotations.get(key)
        if want is None and have is None:
            fix = ""
        elif want is None:
            fix = f"; remove it as a cluster admin: kubectl annotate namespace {ns} {key}-"
        else:
            setting = shlex.quote(f"{key}={want}")
            fix = f"; restore it as a cluster admin: kubectl annotate --overwrite namespace {ns} {setting}"
        results.append(
            CheckResult(
                "guard",
                f"Namespace {ns} annotation {key} (where its pods may run)",
                _shown_value(want) + ("" if want is not None else ": not configured"),
                _shown_value(have) + ("" if have == want else fix),
                have == want,
            )
        )
    return results


_LABEL_MAPS = frozenset({"match_labels"})
"""Argument names whose map keys are label keys, kept as they are by :func:`api_form`."""


def api_form(value: Any, key: str = "") -> Any:
    """``value`` with pulumi_kubernetes argument names (``failure_policy``) spelled as the API
    spells them (``failurePolicy``), recursively; label keys under ``match_labels`` unchanged."""
    if isinstance(value, Mapping):
        if key in _LABEL_MAPS:
            return {str(k): api_form(v) for k, v in value.items()}
        return {_camel(str(k)): api_form(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [api_form(item) for item in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


SERVER_DEFAULTS: Mapping[str, str] = {"matchPolicy": "Equivalent", "scope": "*"}
"""Fields the API server sets on an admission policy or binding when they are unset (the
package sets neither): ``matchConstraints.matchPolicy`` and a resource rule's ``scope``."""


def without_defaults(value: Any) -> Any:
    """``value`` as it means: :data:`SERVER_DEFAULTS` and empty values (``namespaceSelector: {}``
    matches everything, as unset does; an empty ``auditAnnotations`` is none) dropped, and lists
    of strings (``operations``, ``validationActions``) sorted, their order meaning nothing."""
    if isinstance(value, Mapping):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            item = without_defaults(item)
            if item is None or item == {} or item == [] or SERVER_DEFAULTS.get(str(key)) == item:
                continue
            kept[str(key)] = item
        return kept
    if isinstance(value, (list, tuple)):
        items = [without_defaults(item) for item in value]
        return sorted(items) if all(isinstance(item, str) for item in items) else items
    return value


def _brief(value: Any, width: int = 48) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def spec_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from ``expected``, as paths (``validations[0].expression="true"``)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        differences: list[str] = []
        for key in sorted(expected.keys() | actual.keys()):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                differences.append(f"{where} missing")
            elif key not in expected:
                differences.append(f"{where}={_brief(actual[key])} (not the package's)")
            else:
                differences += spec_differences(expected[key], actual[key], where)
        return differences
    if isinstance(expected, list) and isinstance(actual, list) and expected != actual:
        if all(isinstance(item, str) for item in (*expected, *actual)):
            return [f"{path}={_brief(actual)} (expected {_brief(expected)})"]
        if len(expected) != len(actual):
            return [f"{path}={_brief(actual)} ({len(actual)} item(s), expected {len(expected)})"]
        return [
            difference
            for index, (want, have) in enumerate(zip(expected, actual, strict=True))
            for difference in spec_differences(want, have, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path or 'spec'}={_brief(actual)}"]


def guard_results(api: ClusterApi, expectation: ClusterExpectation) -> list[CheckResult]:
    """The ValidatingAdmissionPolicy and its binding (same name) that guard managed namespaces,
    each spec exactly as :mod:`concurrent_infra.kube.guardrails` builds it for the system role's
    users and groups (in the API's spelling; :data:`SERVER_DEFAULTS` and empty fields tolerated):
    a policy whose ``failurePolicy`` is ``Ignore``, whose match condition or validation is
    ``true``/``false``, or a binding narrowed by ``matchResources`` or given a ``paramRef``, guards
    nothing while it exists."""
    policy = api.get_object("ValidatingAdmissionPolicy", NAMESPACE_GUARD_POLICY, None)
    binding = api.get_object("ValidatingAdmissionPolicyBinding", NAMESPACE_GUARD_POLICY, None)
    results: list[CheckResult] = []
    for kind, obj, spec in (
        (
            "ValidatingAdmissionPolicy",
            policy,
            namespace_guard_policy_spec(expectation.system_role_users, expectation.system_role_groups),
        ),
        ("ValidatingAdmissionPolicyBinding", binding, namespace_guard_binding_spec()),
    ):
        label = f"{kind} {NAMESPACE_GUARD_POLICY}"
        results.append(
            CheckResult(
                "guard",
                f"{label} exists",
                "exists",
                "exists" if obj is not None else "missing",
                obj is not None,
            )
        )
        if obj is None:
            continue
        want = without_defaults(api_form(spec))
        differences = spec_differences(want, without_defaults(obj.get("spec") or {}))
        summary = f"exactly the package's spec ({', '.join(sorted(want))})"
        results.append(
            CheckResult("guard", f"{label} spec", summary, "; ".join(differences) or summary, not differences)
        )
    return results


def _exists(kind: str, namespace: str, name: str, obj: KubeObject | None, want: bool = True) -> CheckResult:
    found = obj is not None
    return CheckResult(
        "tenancy",
        f"{kind} {namespace}/{name} {'exists' if want else 'is absent'}",
        "exists" if want else "absent",
        "exists" if found else "missing" if want else "absent",
        found == want,
    )


def tenancy_results(
    api: ClusterApi, expected: NamespaceExpectation, service_accounts: Sequence[KubeObject]
) -> list[CheckResult]:
    """Quota, LimitRange and NetworkPolicy when configured; Workload Identity and DinD both ways."""
    ns = expected.name
    results: list[CheckResult] = []
    if expected.quota is not None:
        quota = api.get_object("ResourceQuota", RESOURCE_QUOTA, ns)
        results.append(_exists("ResourceQuota", ns, RESOURCE_QUOTA, quota))
        if quota is not None:
            hard = {str(k): str(v) for k, v in ((quota.get("spec") or {}).get("hard") or {}).items()}
            same = hard.keys() == expected.quota.keys() and all(
                same_quantity(hard[key], value) for key, value in expected.quota.items()
            )
            results.append(
                CheckResult(
                    "tenancy",
                    f"ResourceQuota {ns}/{RESOURCE_QUOTA} hard limits",
                    ", ".join(f"{k}={v}" for k, v in sorted(expected.quota.items())),
                    ", ".join(f"{k}={v}" for k, v in sorted(hard.items())) or "(none)",
                    same,
                )
            )
    if expected.container_defaults:
        results.append(_exists("LimitRange", ns, LIMIT_RANGE, api.get_object("LimitRange", LIMIT_RANGE, ns)))
    if expected.network_isolation:
        policy = api.get_object("NetworkPolicy", NETWORK_POLICY, ns)
        results.append(_exists("NetworkPolicy", ns, NETWORK_POLICY, policy))
    user = namespace_object_names(ns).user_service_account
    for account in service_accounts:
        metadata = account.get("metadata") or {}
        name = str(metadata.get("name", ""))
        email = (metadata.get("annotations") or {}).get(WORKLOAD_IDENTITY_ANNOTATION)
        if name == user:
            want = expected.workload_identity_email
            if want is None and email is None:
                continue
            results.append(
                CheckResult(
                    "tenancy",
                    f"ServiceAccount {ns}/{name} {WORKLOAD_IDENTITY_ANNOTATION}",
                    want or "(none)",
                    str(email) if email is not None else "(none)",
                    email == want,
                )
            )
        elif email is not None:
            results.append(
                CheckResult(
                    "tenancy",
                    f"ServiceAccount {ns}/{name} {WORKLOAD_IDENTITY_ANNOTATION}",
                    "(none): only the package's user service account",
                    str(email),
                    False,
                )
            )
    dind = api.get_object("Deployment", DIND_NAME, ns)
    results.append(_exists("Deployment", ns, DIND_NAME, dind, want=expected.dind))
    if expected.dind:
        results.append(_exists("Service", ns, DIND_NAME, api.get_object("Service", DIND_NAME, ns)))
    return results


# ---- SubjectAccessReviews ----

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
        f"system:serviceaccounts:{namespace}",
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


# ---- all of it ----

REVIEW_WORKERS = 8
"""SubjectAccessReviews in flight at once (each is one small POST)."""


def run_checks(
    api: ClusterApi,
    expectation: ClusterExpectation,
    workers: int = REVIEW_WORKERS,
    progress: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Every check of ``expectation`` against ``api``, in :data:`AREAS` order."""
    note = progress or (lambda _: None)
    results: list[CheckResult] = []
    fetched: dict[tuple[str, str | None, str], KubeObject | None] = {}
    note("reading objects")
    for expected in expected_objects(expectation):
        obj = api.get_object(expected.kind, expected.name, expected.namespace)
        fetched[(expected.kind, expected.namespace, expected.name)] = obj
        results += object_results(expected, obj)
    if expectation.system_role_scope == "namespaces":
        cluster_wide = api.get_object("ClusterRoleBinding", SYSTEM_CLUSTER_ROLE_BINDING, None)
        results.append(
            CheckResult(
                "subjects",
                f"ClusterRoleBinding {SYSTEM_CLUSTER_ROLE_BINDING} is absent (systemRoleScope: namespaces)",
                "absent",
                "exists" if cluster_wide is not None else "absent",
                cluster_wide is None,
            )
        )
    if expectation.include_system_role:
        system_role = fetched[("ClusterRole", None, SYSTEM_CLUSTER_ROLE)]
        results += rules_results(f"ClusterRole {SYSTEM_CLUSTER_ROLE}", system_role, SYSTEM_RULES)
        results += aggregation_label_results(f"ClusterRole {SYSTEM_CLUSTER_ROLE}", system_role)
        results += aggregation_scan(api.list_objects("ClusterRole", None), system_role)
    for namespace in expectation.namespaces:
        role = namespace_object_names(namespace.name).user_cluster_role
        results += rules_results(f"ClusterRole {role}", fetched[("ClusterRole", None, role)], USER_RULES)
    note("scanning bindings")
    role_bindings = api.list_objects("RoleBinding", None)
    cluster_role_bindings = api.list_objects("ClusterRoleBinding", None)
    results += binding_scan(expectation, role_bindings, cluster_role_bindings)
    results += system_role_binding_results(expectation, role_bindings, cluster_role_bindings)
    for namespace in expectation.namespaces:
        results += pod_security_results(namespace, fetched[("Namespace", None, namespace.name)])
        results += namespace_metadata_results(namespace, fetched[("Namespace", None, namespace.name)])
    guard = (
        guard_results(api, expectation)
        if expectation.include_system_role and expectation.namespace_guard
        else []
    )
    results += guard
    if all(result.ok for result in guard) and (
        expectation.namespace_guard or not expectation.include_system_role
    ):
        # Whom the guard holds back, once it is the package's (a wrong guard fails above).
        from .guard_coverage import guard_coverage_results  # it imports this module

        results += guard_coverage_results(api, expectation)
    for namespace in expectation.namespaces:
        results += tenancy_results(api, namespace, api.list_objects("ServiceAccount", namespace.name))
    checks = expected_access(expectation) + expected_escalation_access(expectation)
    note(f"{len(checks)} SubjectAccessReviews")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reviews = list(pool.map(api.review, checks))
    results += [access_result(check, review) for check, review in zip(checks, reviews, strict=True)]
    order = {area: index for index, area in enumerate(AREAS)}
    return sorted(results, key=lambda result: order[result.area])
