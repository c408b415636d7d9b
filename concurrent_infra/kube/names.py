"""Object names: the contract with Concurrent's control plane, which looks objects up by name.

Every name here is copied from the reference procedure's ``kubectl apply`` output; change one
and Concurrent can no longer find the object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM_CLUSTER_ROLE = "k8s-role-for-parallels-lambda"
"""The cluster-wide ClusterRole for Concurrent's system components (created once per cluster)."""

SYSTEM_CLUSTER_ROLE_BINDING = "k8s-role-for-parallels-lambda-binding"
"""The ClusterRoleBinding of :data:`SYSTEM_CLUSTER_ROLE` to :data:`SYSTEM_GROUP`."""

SYSTEM_GROUP = "k8s-role-for-parallels-lambda-group"
"""The group the system ClusterRoleBinding grants :data:`SYSTEM_CLUSTER_ROLE` to."""


@dataclass(frozen=True)
class NamespaceObjectNames:
    """The exact names of the objects that make one namespace usable by Concurrent."""

    namespace: str
    system_service_account: str
    system_role_binding: str
    user_cluster_role: str
    user_service_account: str
    user_role_binding: str


def namespace_object_names(namespace: str) -> NamespaceObjectNames:
    """Return the names Concurrent expects for the objects of ``namespace``."""
    user_service_account = f"k8s-serviceaccount-for-users-{namespace}"
    return NamespaceObjectNames(
        namespace=namespace,
        system_service_account=f"k8s-serviceaccount-for-parallels-{namespace}",
        system_role_binding=f"k8s-service-account-binding-{namespace}",
        user_cluster_role=f"k8s-role-for-users-{namespace}",
        user_service_account=user_service_account,
        user_role_binding=f"{user_service_account}-binding",
    )


DNS1123_LABEL_MAX_LENGTH = 63
RESERVED_NAMESPACES: frozenset[str] = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Namespaces Kubernetes creates and owns; Concurrent gets namespaces of its own."""

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def namespace_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Concurrent namespace, or None if it can."""
    if not name:
        return "it is empty"
    if len(name) > DNS1123_LABEL_MAX_LENGTH:
        return f"it has {len(name)} characters; a namespace name has at most 63"
    if name in RESERVED_NAMESPACES:
        return "it is reserved by Kubernetes; give Concurrent a namespace of its own"
    if not _DNS1123_LABEL.fullmatch(name):
        return (
            "it is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def suggest_namespace_name(name: str) -> str:
    """A valid namespace name close to ``name`` (for error messages)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    cleaned = cleaned[:DNS1123_LABEL_MAX_LENGTH].rstrip("-")
    if cleaned in RESERVED_NAMESPACES:
        return f"concurrent-{cleaned}"
    return cleaned or "parallelsns"


NAMESPACE_GUARD_POLICY = "concurrent-infra-namespace-guard"
"""The ValidatingAdmissionPolicy (and its binding, same name) that stops service accounts from
deleting a managed Namespace or changing its Pod Security labels; created with the system role."""

RESOURCE_QUOTA = "concurrent-quota"
"""The ResourceQuota of a namespace with a ``quota``."""

LIMIT_RANGE = "concurrent-container-defaults"
"""The LimitRange of a namespace with ``containerDefaults``."""

NETWORK_POLICY = "concurrent-namespace-isolation"
"""The NetworkPolicy of a namespace with ``networkIsolation``: ingress only from its own pods."""

DIND_NAME = "docker-dind"
"""The upstream Docker-in-Docker Deployment and Service (``k8s-dind-service.yaml``)."""

DIND_PRIORITY_CLASS = "parallels-super-high-for-dind"
"""The upstream PriorityClass of the DinD pod (cluster-scoped, created once per cluster)."""

NODE_TYPE_KEY = "concurrent-node-type"
"""The taint and node label key the Concurrent docs give their node pools (``system``, ``worker``;
this package adds ``dind``)."""

DIND_NODE_TYPE = "dind"
"""The node type of GkeCluster's pool for Docker-in-Docker pods."""

WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
"""The annotation that links a Kubernetes service account to the Google service account it
impersonates (GKE Workload Identity)."""
