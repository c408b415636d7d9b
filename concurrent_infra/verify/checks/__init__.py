"""The checks of ``verify``: pure comparisons of what the cluster holds with the expectations.

Areas, in report order (:data:`AREAS`):

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

One module a concern: ``objects`` (the objects and subjects areas), ``rules``, ``bindings``,
``pod_security``, ``namespace_metadata``, ``guard`` and ``guard_coverage`` (the guard area),
``tenancy``, ``access`` and ``escalation`` (the access area); ``result`` holds :class:`CheckResult`
and :data:`AREAS`. This package runs them all (:func:`run_checks`) and names the entry points that
``verify`` and its tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ...kube.names import SYSTEM_CLUSTER_ROLE, SYSTEM_CLUSTER_ROLE_BINDING, namespace_object_names
from ...kube.rbac import SYSTEM_RULES, USER_RULES
from ..api import ClusterApi, KubeObject
from ..expectations import ClusterExpectation
from .access import (
    SYSTEM_USAGE,
    SYSTEM_USAGE_VERBS,
    access_result,
    cross_namespace_targets,
    expected_access,
)
from .bindings import binding_scan, system_role_binding_results
from .escalation import everyone_in, expected_escalation_access
from .guard import api_form, guard_results
from .guard_coverage import guard_coverage_results
from .namespace_metadata import namespace_metadata_results
from .objects import expected_objects, object_results
from .pod_security import pod_security_results
from .result import AREAS, CheckResult
from .rules import aggregation_label_results, aggregation_scan, rules_results
from .tenancy import WORKLOAD_IDENTITY_ANNOTATION, tenancy_results

__all__ = [
    "AREAS",
    "SYSTEM_USAGE",
    "SYSTEM_USAGE_VERBS",
    "WORKLOAD_IDENTITY_ANNOTATION",
    "CheckResult",
    "api_form",
    "cross_namespace_targets",
    "everyone_in",
    "expected_access",
    "expected_escalation_access",
    "expected_objects",
    "namespace_metadata_results",
    "run_checks",
    "system_role_binding_results",
]

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
