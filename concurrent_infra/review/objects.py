"""What the review reads of a Kubernetes or Google Cloud resource's state, by its Pulumi type.

Types are pulumi-kubernetes' tokens (``kubernetes:<group>/<version>:<Kind>``) and pulumi-gcp's, so a
user's own program is read the same way as this project's. Names the package gives its objects
(``concurrent_infra.kube.names``) fill in what a preview does not know yet: a namespaced object
created with a new Namespace has its namespace only once the Namespace exists.
"""

from __future__ import annotations

from typing import Any

from ..kube.names import namespace_object_names
from .preview import UNKNOWN, State

RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
ROLE_TYPES = frozenset({f"{RBAC}Role", f"{RBAC}ClusterRole"})
BINDING_TYPES = frozenset({f"{RBAC}RoleBinding", f"{RBAC}ClusterRoleBinding"})
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
NAMESPACE_PATCH_TYPE = "kubernetes:core/v1:NamespacePatch"
SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount"
RESOURCE_QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE_TYPE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
ADMISSION = "kubernetes:admissionregistration.k8s.io/v1:"
GUARD_TYPES = frozenset(
    {f"{ADMISSION}ValidatingAdmissionPolicy", f"{ADMISSION}ValidatingAdmissionPolicyBinding"}
)
COMPONENT_PREFIX = "concurrent-infra:index:"
"""The package's component types (``concurrent-infra:index:ConcurrentNamespace``, ``SystemRole``...)."""


def is_gcp_iam_member(type_: str) -> bool:
    """Whether ``type_`` is one pulumi-gcp IAM member resource (``gcp:projects/iAMMember:IAMMember``,
    ``gcp:serviceaccount/iAMMember:IAMMember``...): what Workload Identity grants are made of."""
    return type_.startswith("gcp:") and type_.endswith(":IAMMember")


def kind_of(type_: str) -> str:
    """The Kubernetes kind (or the last part) of a Pulumi type token."""
    return type_.rsplit(":", 1)[-1]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def name(state: State) -> str:
    """``metadata.name``, or the Pulumi name when it is not known yet."""
    return _text(state.value("metadata", "name")) or state.urn.rsplit("::", 1)[-1]


def labels(state: State) -> dict[str, str]:
    """``metadata.labels`` (values not known yet are left out)."""
    found = state.value("metadata", "labels")
    if not isinstance(found, dict):
        return {}
    return {str(key): value for key, value in found.items() if isinstance(value, str) and value != UNKNOWN}


def annotations_of(state: State) -> dict[str, str]:
    """``metadata.annotations`` (values not known yet are left out)."""
    found = state.value("metadata", "annotations")
    if not isinstance(found, dict):
        return {}
    return {str(key): value for key, value in found.items() if isinstance(value, str) and value != UNKNOWN}


def _namespace_from_package_name(object_name: str) -> str | None:
    """The namespace the package named ``object_name`` after, if it is one of its per-namespace names."""
    for prefix in _PER_NAMESPACE_PREFIXES:
        rest = object_name.removeprefix(prefix)
        if rest == object_name:
            continue
        for candidate in (rest, rest.removesuffix("-binding")):
            names = namespace_object_names(candidate)
            if object_name in (
                names.system_service_account,
                names.system_role_binding,
                names.user_cluster_role,
                names.user_service_account,
                names.user_role_binding,
            ):
                return candidate
    return None


_PER_NAMESPACE_PREFIXES = tuple(
    getattr(namespace_object_names(""), field)
    for field in (
        "system_service_account",
        "system_role_binding",
        "user_cluster_role",
        "user_service_account",
    )
)
"""The package's per-namespace names with an empty namespace: the prefix each name starts with."""


def namespace(state: State) -> str | None:
    """``metadata.namespace``; when the preview does not know it yet (a namespace created in the same
    update), the namespace of a binding's ServiceAccount subjects or of the package's object name."""
    found = _text(state.value("metadata", "namespace"))
    if found:
        return found
    subjects = state.value("subjects")
    if isinstance(subjects, list):
        spaces = {
            _text(s.get("namespace"))
            for s in subjects
            if isinstance(s, dict) and s.get("kind") == "ServiceAccount"
        }
        if len(spaces) == 1 and None not in spaces:
            return spaces.pop()
    return _namespace_from_package_name(name(state))
