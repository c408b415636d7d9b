"""The ConcurrentNamespace component: one namespace made ready for Concurrent for MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .labels import with_common_labels
from .names import SYSTEM_CLUSTER_ROLE, namespace_name_problem, namespace_object_names
from .rbac import RBAC_API_GROUP, USER_RULES, k8s_rules
from .system_role import SystemRole


@dataclass(frozen=True)
class ConcurrentNamespaceArgs:
    """Arguments of :class:`ConcurrentNamespace`."""

    namespace: str
    """The Kubernetes namespace name (a DNS-1123 label); every object name derives from it."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels for the Namespace object (the common labels are always added)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations for the Namespace object."""
    protect: bool = True
    """Protect the Namespace (and retain it on delete) so its jobs and secrets are never lost."""
    system_role: SystemRole | None = None
    """The SystemRole, when the same program creates it: the system RoleBinding then waits for it.
    The binding refers to ClusterRole ``k8s-role-for-parallels-lambda`` by name either way."""


class ConcurrentNamespace(pulumi.ComponentResource):
    """A namespace with Concurrent's system and user service accounts, each bound to its role.

    Objects (for namespace ``ns``): Namespace ``ns``; ServiceAccount
    ``k8s-serviceaccount-for-parallels-ns`` bound by RoleBinding
    ``k8s-service-account-binding-ns`` to ClusterRole ``k8s-role-for-parallels-lambda``;
    read-only ClusterRole ``k8s-role-for-users-ns``; ServiceAccount
    ``k8s-serviceaccount-for-users-ns`` bound to it by RoleBinding
    ``k8s-serviceaccount-for-users-ns-binding``. Both bindings are RoleBindings: nothing is
    granted outside the namespace.

    Outputs: ``namespace_name``, ``system_service_account_name``, ``user_service_account_name``.
    """

    namespace: k8s.core.v1.Namespace
    system_service_account: k8s.core.v1.ServiceAccount
    system_role_binding: k8s.rbac.v1.RoleBinding
    user_cluster_role: k8s.rbac.v1.ClusterRole
    user_service_account: k8s.core.v1.ServiceAccount
    user_role_binding: k8s.rbac.v1.RoleBinding
    namespace_name: pulumi.Output[str]
    system_service_account_name: pulumi.Output[str]
    user_service_account_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ConcurrentNamespaceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        problem = namespace_name_problem(args.namespace)
        if problem:
            raise ValueError(f"ConcurrentNamespace {name}: namespace {args.namespace!r}: {problem}")
        super().__init__("concurrent-infra:index:ConcurrentNamespace", name, None, opts)
        self.names = names = namespace_object_names(args.namespace)
        labels = with_common_labels()

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": names.namespace,
                "labels": with_common_labels(args.labels),
                "annotations": dict(args.annotations),
            },
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        namespace = self.namespace.metadata.apply(lambda meta: meta.name)

        def namespaced(object_name: str) -> dict[str, object]:
            return {"name": object_name, "namespace": namespace, "labels": labels}

        self.system_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-system-service-account",
            metadata=namespaced(names.system_service_account),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.system_role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-system-role-binding",
            metadata=namespaced(names.system_role_binding),
            role_ref={"apiGroup": RBAC_API_GROUP, "kind": "ClusterRole", "name": SYSTEM_CLUSTER_ROLE},
            subjects=[
                {"kind": "ServiceAccount", "name": names.system_service_account, "namespace": names.namespace}
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.system_service_account]
                + ([args.system_role] if args.system_role else []),
            ),
        )
        self.user_cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-user-cluster-role",
            metadata={"name": names.user_cluster_role, "labels": labels},
            rules=k8s_rules(USER_RULES),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.user_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-user-service-account",
            metadata=namespaced(names.user_service_account),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.user_role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-user-role-binding",
            metadata=namespaced(names.user_role_binding),
            role_ref={"apiGroup": RBAC_API_GROUP, "kind": "ClusterRole", "name": names.user_cluster_role},
            subjects=[
                {"kind": "ServiceAccount", "name": names.user_service_account, "namespace": names.namespace}
            ],
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.user_service_account, self.user_cluster_role]
            ),
        )
        self.namespace_name = namespace
        self.system_service_account_name = self.system_service_account.metadata.apply(lambda m: m.name)
        self.user_service_account_name = self.user_service_account.metadata.apply(lambda m: m.name)
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "system_service_account_name": self.system_service_account_name,
                "user_service_account_name": self.user_service_account_name,
            }
        )
