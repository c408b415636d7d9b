"""What ``verify`` needs of a cluster (:class:`ClusterApi`), and its ``kubernetes`` client adapter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..kube.subjects import service_account_groups

KubeObject = Mapping[str, Any]
"""An object as the API returns it (camelCase keys)."""


class VerifyError(Exception):
    """A usage or connection problem: verification could not run (exit status 2)."""


@dataclass(frozen=True)
class Identity:
    """Who a review asks about when it is not a service account: a User of the system role, a Group
    (``user`` empty), or the identities everyone is."""

    user: str
    groups: tuple[str, ...]
    description: str
    """How the report names it: ``Group k8s-role-for-parallels-lambda-group``."""


@dataclass(frozen=True)
class ExpectedAccess:
    """A SubjectAccessReview of a service account (or of ``identity``) and whether it must be allowed.

    ``namespace`` "" is a cluster-wide request (``kubectl get pods -A``, nodes).
    """

    service_account: str
    service_account_namespace: str
    verb: str
    group: str
    resource: str
    """May name a subresource: ``pods/log``."""
    namespace: str
    allowed: bool
    name: str = ""
    """The object's name (``serviceaccounts/token`` of one account); "" for any object."""
    identity: Identity | None = None
    """Ask about this identity instead of the service account."""

    @property
    def user(self) -> str:
        if self.identity is not None:
            return self.identity.user
        return f"system:serviceaccount:{self.service_account_namespace}:{self.service_account}"

    @property
    def groups(self) -> tuple[str, ...]:
        if self.identity is not None:
            return self.identity.groups
        return service_account_groups(self.service_account_namespace)

    @property
    def label(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.name:
            resource = f"{resource} {self.name}"
        where = f"in {self.namespace}" if self.namespace else "cluster-wide"
        who = self.identity.description if self.identity is not None else self.service_account
        return f"{who} can {self.verb} {resource} {where}"


@dataclass(frozen=True)
class AccessReview:
    """A SubjectAccessReview's answer. ``error``: the review could not decide (its
    ``status.evaluationError``, or an HTTP error creating it); the check then fails."""

    allowed: bool
    error: str = ""


class ClusterApi(Protocol):
    """What verification needs of a cluster (the kubernetes client adapter, or a fake).

    Kinds: Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, RoleBinding, ResourceQuota,
    LimitRange, NetworkPolicy, Deployment, Service, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding.
    """

    def get_object(self, kind: str, name: str, namespace: str | None) -> KubeObject | None:
        """The object, or None if it does not exist."""

    def list_objects(self, kind: str, namespace: str | None) -> list[KubeObject]:
        """Every object of ``kind`` (RoleBinding, ClusterRoleBinding, ServiceAccount, ClusterRole) in
        ``namespace``, or in every namespace when None."""

    def review(self, check: ExpectedAccess) -> AccessReview:
        """The SubjectAccessReview of ``check``'s user, groups and resource attributes."""


# ---- the kubernetes client adapter ----

_KINDS: Mapping[str, tuple[str, str, bool]] = {
    # kind: (API class of the kubernetes client, snake_case name in its methods, namespaced)
    "Namespace": ("CoreV1Api", "namespace", False),
    "ServiceAccount": ("CoreV1Api", "service_account", True),
    "ResourceQuota": ("CoreV1Api", "resource_quota", True),
    "LimitRange": ("CoreV1Api", "limit_range", True),
    "Service": ("CoreV1Api", "service", True),
    "ClusterRole": ("RbacAuthorizationV1Api", "cluster_role", False),
    "ClusterRoleBinding": ("RbacAuthorizationV1Api", "cluster_role_binding", False),
    "RoleBinding": ("RbacAuthorizationV1Api", "role_binding", True),
    "NetworkPolicy": ("NetworkingV1Api", "network_policy", True),
    "Deployment": ("AppsV1Api", "deployment", True),
    "ValidatingAdmissionPolicy": ("AdmissionregistrationV1Api", "validating_admission_policy", False),
    "ValidatingAdmissionPolicyBinding": (
        "AdmissionregistrationV1Api",
        "validating_admission_policy_binding",
        False,
    ),
}
LIST_PAGE_SIZE = 500


class KubernetesApi:
    """:class:`ClusterApi` over the official ``kubernetes`` client, for one kubeconfig context.

    Objects are read as raw JSON (``_preload_content=False``): the API's own camelCase form,
    without building client models for thousands of bindings. Lists are paged.
    """

    REQUEST_TIMEOUT_SECONDS = 15

    def __init__(self, context: str, kubeconfig: str | None = None) -> None:
        try:
            from kubernetes import client, config
        except ImportError as error:
            raise VerifyError(
                "verify needs the kubernetes Python client: pip install 'concurrent-infra[verify]'"
            ) from error
        try:
            new_client: Any = config.new_client_from_config
            self._api_client = new_client(config_file=kubeconfig, context=context)
        except (config.ConfigException, OSError) as error:
            where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
            raise VerifyError(f"cannot load context {context!r} from {where}: {error}") from error
        self._client = client
        self._apis: dict[str, Any] = {}
        self._authz = client.AuthorizationV1Api(self._api_client)
        self._context = context

    def _forbidden(self, what: str, status: int) -> VerifyError:
        return VerifyError(
            f"context {self._context!r} is not allowed to {what} (HTTP {status}); verify with an "
            "identity that may read RBAC objects, namespaces' objects and create SubjectAccessReviews"
        )

    def _unreachable(self, what: str, error: Exception) -> VerifyError:
        return VerifyError(f"cannot reach the cluster of context {self._context!r} to {what}: {error}")

    def _method(self, kind: str, template: str) -> Any:
        api_class, snake, _ = _KINDS[kind]
        if api_class not in self._apis:
            self._apis[api_class] = getattr(self._client, api_class)(self._api_client)
        return getattr(self._apis[api_class], template.format(snake))

    def _fetch(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` for raw JSON: the parsed body, or None on 404."""
        from kubernetes.client.exceptions import ApiException

        try:
            response = method(
                *args, _preload_content=False, _request_timeout=self.REQUEST_TIMEOUT_SECONDS, **kwargs
            )
        except ApiException as error:
            if error.status == 404:
                return None
            if error.status in (401, 403):
                raise self._forbidden(what, error.status) from error
            raise VerifyError(f"cannot {what}: HTTP {error.status} {error.reason}") from error
        except Exception as error:  # urllib3 connection errors, timeouts, TLS errors
            raise self._unreachable(what, error) from error
        return json.loads(response.data)

    def get_object(self, kind: str, name: str, namespace: str | None) -> KubeObject | None:
        namespaced = _KINDS[kind][2]
        where = f"{namespace}/" if namespaced else ""
        args: tuple[Any, ...]
        if namespaced:
            method, args = self._method(kind, "read_namespaced_{}"), (name, namespace)
        else:
            method, args = self._method(kind, "read_{}"), (name,)
        obj: KubeObject | None = self._fetch(f"read {kind} {where}{name}", method, *args)
        return obj

    def list_objects(self, kind: str, namespace: str | None) -> list[KubeObject]:
        args: tuple[Any, ...]
        if not _KINDS[kind][2]:
            method, args = self._method(kind, "list_{}"), ()
        elif namespace is None:
            method, args = self._method(kind, "list_{}_for_all_namespaces"), ()
        else:
            method, args = self._method(kind, "list_namespaced_{}"), (namespace,)
        items: list[KubeObject] = []
        token = ""
        while True:
            paging: dict[str, Any] = {"limit": LIST_PAGE_SIZE}
            if token:
                paging["_continue"] = token
            page = self._fetch(f"list {kind}", method, *args, **paging) or {}
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def review(self, check: ExpectedAccess) -> AccessReview:
        from kubernetes.client.exceptions import ApiException

        resource, _, subresource = check.resource.partition("/")
        review = self._client.V1SubjectAccessReview(
            spec=self._client.V1SubjectAccessReviewSpec(
                user=check.user or None,
                groups=list(check.groups),
                resource_attributes=self._client.V1ResourceAttributes(
                    namespace=check.namespace or None,
                    verb=check.verb,
                    group=check.group,
                    resource=resource,
                    subresource=subresource or None,
                    name=check.name or None,
                ),
            )
        )
        try:
            response = self._authz.create_subject_access_review(
                review, _request_timeout=self.REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as error:
            if error.status in (401, 403):
                raise self._forbidden("create SubjectAccessReviews", error.status) from error
            # Any other HTTP answer is no verdict: the check fails (never counted as "denied").
            return AccessReview(False, f"HTTP {error.status} {error.reason}")
        except Exception as error:
            raise self._unreachable("create SubjectAccessReviews", error) from error
        status = getattr(response, "status", None)
        if status is None:
            return AccessReview(False, "the SubjectAccessReview came back without a status")
        return AccessReview(bool(status.allowed), str(status.evaluation_error or ""))
