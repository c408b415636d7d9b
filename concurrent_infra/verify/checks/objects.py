"""The ``objects`` and ``subjects`` areas: every object of the expectation exists with its exact
name; each binding has its exact ``roleRef`` and exactly its subjects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ...kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from ...kube.rbac import RBAC_API_GROUP
from ...kube.subjects import RESERVED_PREFIX, Subject
from ..api import KubeObject
from ..expectations import ClusterExpectation
from .result import CheckResult


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


def _account_binding(name: str, cluster_role: str, account: str, namespace: str) -> ExpectedObject:
    """RoleBinding ``namespace/name`` of ClusterRole ``cluster_role`` to exactly ServiceAccount
    ``namespace/account``."""
    return ExpectedObject(
        "RoleBinding",
        name,
        namespace,
        role_ref=f"ClusterRole/{cluster_role}",
        subjects=frozenset({Subject("ServiceAccount", account, namespace)}),
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
            _account_binding(
                names.system_role_binding, SYSTEM_CLUSTER_ROLE, names.system_service_account, ns
            ),
            ExpectedObject("ClusterRole", names.user_cluster_role),
            ExpectedObject("ServiceAccount", names.user_service_account, ns),
            _account_binding(
                names.user_role_binding, names.user_cluster_role, names.user_service_account, ns
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
        subjects.add(Subject.in_binding(kind, name, str(subject.get("namespace") or ""), own_namespace))
    return frozenset(subjects)


def role_ref_of(binding: KubeObject) -> str:
    role_ref = binding.get("roleRef") or {}
    return f"{role_ref.get('kind')}/{role_ref.get('name')}"


def refers_to(binding: KubeObject, role_ref: str) -> bool:
    """Whether the binding's ``roleRef`` is ``role_ref`` (``ClusterRole/<name>``) of the RBAC API group
    (an unset ``apiGroup`` is it)."""
    api_group = (binding.get("roleRef") or {}).get("apiGroup", RBAC_API_GROUP)
    return role_ref_of(binding) == role_ref and api_group == RBAC_API_GROUP


def binding_where(kind: str, binding: KubeObject) -> tuple[str, str, str]:
    """``(namespace, name, label)`` of a binding of ``kind``: the label ``RoleBinding <ns>/<name>``
    or ``ClusterRoleBinding <name>``."""
    metadata = binding.get("metadata") or {}
    namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name", ""))
    return namespace, name, f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def show_subjects(subjects: Iterable[Subject]) -> str:
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
    actual_ref = role_ref_of(actual)
    ref_ok = refers_to(actual, expected.role_ref)
    results.append(CheckResult("objects", f"{expected.label} roleRef", expected.role_ref, actual_ref, ref_ok))
    subjects = binding_subjects(actual)
    results.append(
        CheckResult(
            "subjects",
            f"{expected.label} subjects",
            f"exactly {show_subjects(expected.subjects)}",
            show_subjects(subjects),
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
