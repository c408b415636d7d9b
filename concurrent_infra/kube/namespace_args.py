"""ConcurrentNamespace's args: the public input types, which the plugin's schema is inferred from.

Their keys are the single list of a namespace's settings: the readers in
:mod:`~concurrent_infra.kube.namespace_settings` derive their field lists from them.
"""

from typing import NotRequired, TypedDict

import pulumi


class ContainerDefaultsArgs(TypedDict):
    """Resources of containers that set none, so that their pods fit the namespace's quota."""

    requests: NotRequired[dict[str, str]]
    """Default requests, e.g. ``{"cpu": "500m", "memory": "1Gi"}``."""
    limits: NotRequired[dict[str, str]]
    """Default limits, e.g. ``{"memory": "2Gi"}``."""


class WorkloadIdentityArgs(TypedDict):
    """GKE Workload Identity for the user service account: give exactly one of
    ``googleServiceAccount`` and ``roles``."""

    google_service_account: NotRequired[str]
    """A Google service account email: the user service account impersonates it (it is annotated
    ``iam.gke.io/gcp-service-account``, and the account grants it roles/iam.workloadIdentityUser)."""
    roles: NotRequired[list[str]]
    """IAM roles granted on the project directly to the user service account's principal."""
    project: str
    """The project of the cluster's workload identity pool (``<project>.svc.id.goog``)."""
    project_number: NotRequired[str]
    """The project's number, for the principal of ``roles``; looked up when not given."""


class NamespacedSystemBindingArgs(TypedDict):
    """Subjects of the namespace's own binding of the system role (the narrower option)."""

    users: NotRequired[list[str]]
    """Users, e.g. the email of the Google service account Concurrent's control plane uses."""
    groups: NotRequired[list[str]]
    """Groups (never ``system:*``)."""


class ConcurrentNamespaceArgs(TypedDict):
    """Arguments of ConcurrentNamespace."""

    namespace: str
    """The Kubernetes namespace name (a DNS-1123 label); every object name derives from it."""
    labels: NotRequired[dict[str, str]]
    """Extra labels for the Namespace object (the common and Pod Security labels are added)."""
    annotations: NotRequired[dict[str, str]]
    """Annotations for the Namespace object."""
    protect: NotRequired[bool]
    """Protect the namespace's objects and retain the Namespace on delete, so its jobs, secrets
    and service accounts are never lost (default true)."""
    system_role_name: NotRequired[pulumi.Input[str]]
    """The system ClusterRole's name (default ``k8s-role-for-parallels-lambda``); pass
    SystemRole's ``clusterRoleName`` so the system RoleBinding waits for the role."""
    namespaced_system_binding: NotRequired[NamespacedSystemBindingArgs]
    """Bind the system role in this namespace only, to Group k8s-role-for-parallels-lambda-group and
    these subjects (RoleBinding ``k8s-role-for-parallels-lambda-binding``): the narrower option
    for a SystemRole without its cluster-wide binding."""
    pod_security: NotRequired[str]
    """Pod Security level enforced on the namespace: ``restricted``, ``baseline`` (default) or
    ``privileged`` (explicit opt-in; the policy pack flags it unless allowed)."""
    quota: NotRequired[dict[str, str]]
    """Hard limits of a ResourceQuota ``concurrent-quota``, e.g. ``{"requests.cpu": "8",
    "requests.nvidia.com/gpu": "2", "pods": "50"}``."""
    container_defaults: NotRequired[ContainerDefaultsArgs]
    """A LimitRange ``concurrent-container-defaults`` giving containers without resources these."""
    workload_identity: NotRequired[WorkloadIdentityArgs]
    """GKE Workload Identity for the user service account (needs pulumi-gcp)."""
    network_isolation: NotRequired[bool]
    """A NetworkPolicy ``concurrent-namespace-isolation``: ingress only from pods of this namespace
    (egress is not restricted). Enforced only where the cluster enforces NetworkPolicies."""
    dind: NotRequired[bool]
    """The upstream Docker-in-Docker Deployment and Service ``docker-dind`` (privileged: requires
    ``podSecurity: privileged``, and the PriorityClass from SystemRole's ``dindPriorityClass``)."""
    dind_node_type: NotRequired[str]
    """Schedule the DinD pod only on nodes labelled ``concurrent-node-type=<this>``, tolerating that
    taint (``dind``: GkeCluster's ``dind`` pool). Unset: as upstream, no node selector."""
