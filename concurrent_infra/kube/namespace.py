"""The ConcurrentNamespace component: one namespace made ready for Concurrent for MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property

import pulumi
import pulumi_kubernetes as k8s

from .names import SYSTEM_CLUSTER_ROLE, namespace_name_problem, namespace_object_names
from .objects import cluster_role_ref, name_of, object_metadata, service_account_subject
from .rbac import USER_RULES, k8s_rules
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

    Outputs: ``namespace_name``, ``system_service_account_name``, ``user_service_account_name``
    (each resolves once its object exists); ``names`` holds every object's name.
    """

    namespace: k8s.core.v1.Namespace
    system_service_account: k8s.core.v1.ServiceAccount
    system_role_binding: k8s.rbac.v1.RoleBinding
    user_cluster_role: k8s.rbac.v1.ClusterRole
    user_service_account: k8s.core.v1.ServiceAccount
    user_role_binding: k8s.rbac.v1.RoleBinding
    namespace_name: pulumi.Output[str]

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
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=object_metadata(names.namespace, labels=args.labels, annotations=args.annotations),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        # Namespaced objects take the name from the Namespace's output, so they wait for it.
        namespace = name_of(self.namespace.metadata)

        self.system_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-system-service-account",
            metadata=object_metadata(names.system_service_account, namespace),
            opts=child,
        )
        system_role_dependency = [args.system_role] if args.system_role else []
        self.system_role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-system-role-binding",
            metadata=object_metadata(names.system_role_binding, namespace),
            role_ref=cluster_role_ref(SYSTEM_CLUSTER_ROLE),
            subjects=[service_account_subject(names.system_service_account, names.namespace)],
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.system_service_account, *system_role_dependency]
            ),
        )
        self.user_cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-user-cluster-role",
            metadata=object_metadata(names.user_cluster_role),
            rules=k8s_rules(USER_RULES),
            opts=child,
        )
        self.user_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-user-service-account",
            metadata=object_metadata(names.user_service_account, namespace),
            opts=child,
        )
        self.user_role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-user-role-binding",
            metadata=object_metadata(names.user_role_binding, namespace),
            role_ref=cluster_role_ref(names.user_cluster_role),
            subjects=[service_account_subject(names.user_service_account, names.namespace)],
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.user_service_account, self.user_cluster_role]
            ),
        )
        self.namespace_name = namespace
        # The names are known now: record them without waiting for the objects.
        self.register_outputs(asdict(names))

    # Computed on first use: most programs never read them, and each is an extra Output.
    @cached_property
    def system_service_account_name(self) -> pulumi.Output[str]:
        """The system ServiceAccount's name, once it exists."""
        return name_of(self.system_service_account.metadata)

    @cached_property
    def user_service_account_name(self) -> pulumi.Output[str]:
        """The user ServiceAccount's name, once it exists."""
        return name_of(self.user_service_account.metadata)
