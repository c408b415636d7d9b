"""``verify``: check a live cluster against what Concurrent for MLflow needs.

For each namespace: every object exists with its exact name (and the bindings have the right
``roleRef`` and subjects), and SubjectAccessReviews of both service accounts show exactly the
expected permissions: what each may do in its namespace is allowed, and what it must not do
(user code reading secrets or writing, anything in another namespace) is denied.

Usage::

    python -m concurrent_infra.verify --context CTX --namespace NS [--namespace NS2 ...]
        [--kubeconfig PATH] [--skip-system-role] [--json]

Exit status: 0 when every check passes, 1 when one fails, 2 on a usage or connection error.
The expectations derive from :mod:`concurrent_infra.kube.names` and :mod:`concurrent_infra.kube.rbac`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from .kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_name_problem,
    namespace_object_names,
)
from .kube.rbac import RBAC_API_GROUP, READ_VERBS, USER_RULES, WRITE_VERBS, grants

SYSTEM_USAGE: tuple[tuple[str, str], ...] = (
    ("batch", "jobs"),
    ("", "secrets"),
    ("", "configmaps"),
    ("apps", "deployments"),
)
"""``(api group, resource)`` the system service account creates, reads and deletes (Concurrent's
control plane does so through it); a subset of what ``rbac.SYSTEM_RULES`` grants."""
SYSTEM_USAGE_VERBS: tuple[str, ...] = ("create", "get", "delete")

SECRETS = ("", "secrets")
FALLBACK_OTHER_NAMESPACE = "default"
"""The namespace cross-namespace checks use when only one namespace is verified."""

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2


class VerifyError(Exception):
    """A usage or connection problem: verification could not run (exit status 2)."""


# ---- expectations ----------------------------------------------------------------------------


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
    """An object that must exist; for a binding, also its ``roleRef`` and subjects.

    ``exact_subjects``: the binding's subjects must be exactly ``subjects`` (a per-namespace
    binding); otherwise it must contain them (the system binding may have extra users).
    """

    kind: str
    name: str
    namespace: str | None = None
    role_ref: str | None = None
    """``ClusterRole/<name>`` for a binding."""
    subjects: frozenset[Subject] = frozenset()
    exact_subjects: bool = True

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class ExpectedAccess:
    """A SubjectAccessReview of a service account and whether it must be allowed."""

    service_account: str
    service_account_namespace: str
    verb: str
    group: str
    resource: str
    """May name a subresource: ``pods/log``."""
    namespace: str
    allowed: bool

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.service_account_namespace}:{self.service_account}"

    @property
    def groups(self) -> tuple[str, ...]:
        return (
            "system:serviceaccounts",
            f"system:serviceaccounts:{self.service_account_namespace}",
            "system:authenticated",
        )

    @property
    def label(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.service_account} can {self.verb} {resource} in {self.namespace}"


def _binding_subjects(service_account: str, namespace: str) -> frozenset[Subject]:
    return frozenset({Subject("ServiceAccount", service_account, namespace)})


def expected_objects(namespaces: Sequence[str], include_system_role: bool = True) -> list[ExpectedObject]:
    """Every object of the namespaces (and the cluster-wide system role), with its exact name."""
    objects: list[ExpectedObject] = []
    if include_system_role:
        objects += [
            ExpectedObject("ClusterRole", SYSTEM_CLUSTER_ROLE),
            ExpectedObject(
                "ClusterRoleBinding",
                SYSTEM_CLUSTER_ROLE_BINDING,
                role_ref=f"ClusterRole/{SYSTEM_CLUSTER_ROLE}",
                subjects=frozenset({Subject("Group", SYSTEM_GROUP)}),
                exact_subjects=False,
            ),
        ]
    for namespace in namespaces:
        names = namespace_object_names(namespace)
        objects += [
            ExpectedObject("Namespace", names.namespace),
            ExpectedObject("ServiceAccount", names.system_service_account, namespace),
            ExpectedObject(
                "RoleBinding",
                names.system_role_binding,
                namespace,
                role_ref=f"ClusterRole/{SYSTEM_CLUSTER_ROLE}",
                subjects=_binding_subjects(names.system_service_account, namespace),
            ),
            ExpectedObject("ClusterRole", names.user_cluster_role),
            ExpectedObject("ServiceAccount", names.user_service_account, namespace),
            ExpectedObject(
                "RoleBinding",
                names.user_role_binding,
                namespace,
                role_ref=f"ClusterRole/{names.user_cluster_role}",
                subjects=_binding_subjects(names.user_service_account, namespace),
            ),
        ]
    return objects


def other_namespace(namespaces: Sequence[str], index: int) -> str:
    """The namespace the cross-namespace checks of ``namespaces[index]`` use: the next one listed."""
    if len(namespaces) > 1:
        return namespaces[(index + 1) % len(namespaces)]
    return FALLBACK_OTHER_NAMESPACE


def expected_access(namespaces: Sequence[str]) -> list[ExpectedAccess]:
    """The permission matrix of both service accounts of every namespace, allowed and denied."""
    user_grants = sorted(grants(USER_RULES))
    user_resources = sorted({(group, resource) for group, resource, _ in user_grants})
    checks: list[ExpectedAccess] = []
    for index, namespace in enumerate(namespaces):
        names = namespace_object_names(namespace)
        other = other_namespace(namespaces, index)

        system, user = names.system_service_account, names.user_service_account
        for group, resource in SYSTEM_USAGE:
            for verb in SYSTEM_USAGE_VERBS:
                checks.append(ExpectedAccess(system, namespace, verb, group, resource, namespace, True))
                checks.append(ExpectedAccess(system, namespace, verb, group, resource, other, False))
        for group, resource, verb in user_grants:
            checks.append(ExpectedAccess(user, namespace, verb, group, resource, namespace, True))
            checks.append(ExpectedAccess(user, namespace, verb, group, resource, other, False))
        checks += [ExpectedAccess(user, namespace, verb, *SECRETS, namespace, False) for verb in READ_VERBS]
        checks += [
            ExpectedAccess(user, namespace, verb, group, resource, namespace, False)
            for group, resource in user_resources
            for verb in WRITE_VERBS
        ]
    return checks


# ---- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    check: str
    expected: str
    actual: str
    ok: bool


def _subjects_of(obj: Mapping[str, Any]) -> frozenset[Subject]:
    return frozenset(
        Subject(str(s.get("kind", "")), str(s.get("name", "")), str(s.get("namespace") or ""))
        for s in obj.get("subjects") or ()
    )


def _show(subjects: Iterable[Subject]) -> str:
    return ", ".join(sorted(map(str, subjects))) or "(none)"


def object_results(expected: ExpectedObject, actual: Mapping[str, Any] | None) -> list[CheckResult]:
    """Compare one expected object with the object read from the cluster (None: not found)."""
    found = actual is not None
    results = [CheckResult(f"{expected.label} exists", "exists", "exists" if found else "missing", found)]
    if actual is None or expected.role_ref is None:
        return results
    role_ref = actual.get("roleRef") or {}
    actual_ref = f"{role_ref.get('kind')}/{role_ref.get('name')}"
    ref_ok = actual_ref == expected.role_ref and role_ref.get("apiGroup", RBAC_API_GROUP) == RBAC_API_GROUP
    results.append(CheckResult(f"{expected.label} roleRef", expected.role_ref, actual_ref, ref_ok))
    subjects = _subjects_of(actual)
    if expected.exact_subjects:
        subjects_ok, wanted = subjects == expected.subjects, _show(expected.subjects)
    else:
        subjects_ok, wanted = expected.subjects <= subjects, f"includes {_show(expected.subjects)}"
    results.append(CheckResult(f"{expected.label} subjects", wanted, _show(subjects), subjects_ok))
    return results


def _verdict(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def access_result(expected: ExpectedAccess, allowed: bool) -> CheckResult:
    """Compare one expected permission with the SubjectAccessReview's answer."""
    ok = allowed == expected.allowed
    return CheckResult(expected.label, _verdict(expected.allowed), _verdict(allowed), ok)


class ClusterApi(Protocol):
    """What verification needs of a cluster (the kubernetes client adapter, or a fake)."""

    def get_object(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        """The object as the API returns it (camelCase keys), or None if it does not exist."""

    def is_allowed(self, check: ExpectedAccess) -> bool:
        """The SubjectAccessReview verdict for ``check``'s user, groups and resource attributes."""


def run_checks(
    api: ClusterApi, namespaces: Sequence[str], include_system_role: bool = True
) -> list[CheckResult]:
    """Every check of ``namespaces`` against ``api``: objects first, then permissions."""
    results: list[CheckResult] = []
    for expected in expected_objects(namespaces, include_system_role):
        results += object_results(expected, api.get_object(expected.kind, expected.name, expected.namespace))
    results += [access_result(check, api.is_allowed(check)) for check in expected_access(namespaces)]
    return results


# ---- the kubernetes client adapter ----------------------------------------------------------------


class KubernetesApi:
    """:class:`ClusterApi` over the official ``kubernetes`` client, for one kubeconfig context."""

    REQUEST_TIMEOUT_SECONDS = 15

    def __init__(self, context: str, kubeconfig: str | None = None) -> None:
        try:
            from kubernetes import client, config
        except ImportError as error:
            raise VerifyError(
                "verify needs the kubernetes Python client: pip install 'kubernetes>=30'"
            ) from error
        try:
            new_client: Any = config.new_client_from_config
            self._api_client = new_client(config_file=kubeconfig, context=context)
        except (config.ConfigException, OSError) as error:
            where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
            raise VerifyError(f"cannot load context {context!r} from {where}: {error}") from error
        self._client = client
        self._core = client.CoreV1Api(self._api_client)
        self._rbac = client.RbacAuthorizationV1Api(self._api_client)
        self._authz = client.AuthorizationV1Api(self._api_client)
        self._context = context

    def _call(self, what: str, function: Any, *args: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return function(*args, _request_timeout=self.REQUEST_TIMEOUT_SECONDS)
        except ApiException as error:
            if error.status == 404:
                return None
            if error.status in (401, 403):
                raise VerifyError(
                    f"context {self._context!r} is not allowed to {what} (HTTP {error.status}); "
                    "verify with an identity that may read RBAC objects and create SubjectAccessReviews"
                ) from error
            raise VerifyError(f"cannot {what}: HTTP {error.status} {error.reason}") from error
        except Exception as error:  # urllib3 connection errors, timeouts, TLS errors
            raise VerifyError(
                f"cannot reach the cluster of context {self._context!r} to {what}: {error}"
            ) from error

    def get_object(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        readers: dict[str, tuple[Any, ...]] = {
            "Namespace": (self._core.read_namespace, name),
            "ServiceAccount": (self._core.read_namespaced_service_account, name, namespace),
            "RoleBinding": (self._rbac.read_namespaced_role_binding, name, namespace),
            "ClusterRole": (self._rbac.read_cluster_role, name),
            "ClusterRoleBinding": (self._rbac.read_cluster_role_binding, name),
        }
        function, *args = readers[kind]
        obj = self._call(f"read {kind} {name}", function, *args)
        if obj is None:
            return None
        serialized: Mapping[str, Any] = self._api_client.sanitize_for_serialization(obj)
        return serialized

    def is_allowed(self, check: ExpectedAccess) -> bool:
        resource, _, subresource = check.resource.partition("/")
        review = self._client.V1SubjectAccessReview(
            spec=self._client.V1SubjectAccessReviewSpec(
                user=check.user,
                groups=list(check.groups),
                resource_attributes=self._client.V1ResourceAttributes(
                    namespace=check.namespace,
                    verb=check.verb,
                    group=check.group,
                    resource=resource,
                    subresource=subresource or None,
                ),
            )
        )
        response = self._call("create SubjectAccessReviews", self._authz.create_subject_access_review, review)
        return bool(response is not None and response.status is not None and response.status.allowed)


# ---- output and the command -------------------------------------------------------------------------


def render_table(results: Sequence[CheckResult]) -> str:
    """A plain-text table: check, expected, actual, OK/FAIL; then a summary line."""
    rows = [("CHECK", "EXPECTED", "ACTUAL", "RESULT")]
    rows += [(r.check, r.expected, r.actual, "OK" if r.ok else "FAIL") for r in results]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    failed = sum(not r.ok for r in results)
    summary = f"{len(results) - failed} of {len(results)} checks passed"
    lines.append(summary + (f", {failed} FAILED" if failed else ""))
    return "\n".join(lines)


def render_json(results: Sequence[CheckResult]) -> str:
    """``{"ok": bool, "checks": [{check, expected, actual, ok}, ...]}``."""
    return json.dumps({"ok": all(r.ok for r in results), "checks": [asdict(r) for r in results]}, indent=2)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="concurrent-infra-verify",
        description="Check that a cluster's Concurrent namespaces have every object and exactly the "
        "expected permissions (exit 0: all good, 1: a check failed, 2: usage or connection error).",
    )
    parser.add_argument("--context", required=True, help="kubeconfig context of the cluster")
    parser.add_argument(
        "--namespace",
        action="append",
        required=True,
        dest="namespaces",
        metavar="NAMESPACE",
        help="a Concurrent namespace to verify (repeat for more)",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument(
        "--skip-system-role",
        action="store_true",
        help=f"do not check ClusterRole {SYSTEM_CLUSTER_ROLE} and its binding (another stack creates them)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    for namespace in args.namespaces:
        problem = namespace_name_problem(namespace)
        if problem:
            parser.error(f"--namespace {namespace!r}: {problem}")
    if len(set(args.namespaces)) != len(args.namespaces):
        parser.error("a namespace is listed twice")
    return args


def main(argv: Sequence[str] | None = None, api: ClusterApi | None = None) -> int:
    """The ``concurrent-infra-verify`` command; returns the exit status."""
    args = parse_args(argv)
    try:
        cluster = api or KubernetesApi(args.context, args.kubeconfig)
        results = run_checks(cluster, args.namespaces, include_system_role=not args.skip_system_role)
    except VerifyError as error:
        print(f"concurrent-infra-verify: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(render_json(results) if args.json else render_table(results))
    return EXIT_OK if all(r.ok for r in results) else EXIT_MISMATCH


if __name__ == "__main__":
    sys.exit(main())
