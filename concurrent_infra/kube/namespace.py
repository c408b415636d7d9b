"""The ConcurrentNamespace component: one namespace made ready for Concurrent for MLflow."""

import weakref

import pulumi
import pulumi_kubernetes as k8s

from ..validation import KeyStyle, component_args_problems, component_problems, refuse
from .labels import with_common_labels
from .names import (
    DIND_NAME,
    DIND_PRIORITY_CLASS,
    LIMIT_RANGE,
    NETWORK_POLICY,
    NODE_TYPE_KEY,
    RESOURCE_QUOTA,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    WORKLOAD_IDENTITY_ANNOTATION,
    namespace_object_names,
)
from .namespace_args import ConcurrentNamespaceArgs
from .namespace_settings import NamespaceSettings, read_namespace
from .objects import cluster_role_ref, name_of, object_metadata, service_account_subject
from .pod_security import pod_security_labels
from .rbac import USER_RULES, k8s_rules
from .system_role import system_binding_subjects


def namespace_settings(args: ConcurrentNamespaceArgs, resource_name: str) -> NamespaceSettings:
    """Validate ``args`` with the stack config's rules; raises ConfigError listing every problem."""
    problems = component_args_problems("ConcurrentNamespace", resource_name, args, "{'namespace': 'team-a'}")
    role = args.get("system_role_name")
    if isinstance(role, str) and role != SYSTEM_CLUSTER_ROLE:
        problems.add(
            "system_role_name",
            role,
            f"the system service account is bound only to the system role {SYSTEM_CLUSTER_ROLE}",
            f"pass SystemRole's cluster_role_name or '{SYSTEM_CLUSTER_ROLE}', or leave it out",
        )
    settings = read_namespace(args, "", problems, KeyStyle.SNAKE, name_field="namespace")
    problems.raise_if_any()
    assert settings is not None, "read_namespace reports why it returns None"
    return settings


_CLAIMED: "weakref.WeakKeyDictionary[object, dict[tuple[int, str], str]]" = weakref.WeakKeyDictionary()
"""Per program run (keyed by the engine's monitor): the namespaces already prepared, per provider."""


def claim_namespace(namespace: str, resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
    """Refuse a second ConcurrentNamespace of the same namespace on the same provider: both would
    manage one Namespace (and with adoptExisting, silently fight over it)."""
    monitor = pulumi.runtime.settings.get_monitor()
    if monitor is None:
        return
    claims = _CLAIMED.setdefault(monitor, {})
    key = (id(opts.provider) if opts is not None and opts.provider is not None else 0, namespace)
    if key in claims:
        refuse(
            component_problems("ConcurrentNamespace", resource_name),
            "namespace",
            namespace,
            f"ConcurrentNamespace {claims[key]!r} already prepares this namespace",
            "create one ConcurrentNamespace per namespace (list each namespace once)",
        )
    claims[key] = resource_name


_ROLE_REFERENCES: "weakref.WeakKeyDictionary[object, dict[int, tuple[object, pulumi.Output[str]]]]" = (
    weakref.WeakKeyDictionary()
)
"""Per program run: each system_role_name Output given, and the reference made of it."""


def system_role_reference(given: pulumi.Input[str] | None) -> pulumi.Input[str]:
    """The name the system RoleBinding refers to: always the system role. A plain value was checked
    by :func:`namespace_settings`; an Output (SystemRole's ``cluster_role_name``) only carries the
    dependency on the role, its value is never used. The reference is made once per Output, since
    a program passes the same one to every namespace."""
    if not isinstance(given, pulumi.Output):
        return SYSTEM_CLUSTER_ROLE
    monitor = pulumi.runtime.settings.get_monitor()
    made = _ROLE_REFERENCES.setdefault(monitor, {}) if monitor is not None else {}
    if id(given) not in made:
        made[id(given)] = (given, given.apply(lambda _: SYSTEM_CLUSTER_ROLE))  # keeps ``given`` alive
    return made[id(given)][1]


class ConcurrentNamespace(pulumi.ComponentResource):
    """A namespace with Concurrent's system and user service accounts, each bound to its role.

    Objects (for namespace ``ns``): Namespace ``ns`` (with Pod Security labels); ServiceAccount
    ``k8s-serviceaccount-for-parallels-ns`` bound by RoleBinding ``k8s-service-account-binding-ns``
    to ClusterRole ``k8s-role-for-parallels-lambda``; read-only ClusterRole
    ``k8s-role-for-users-ns``; ServiceAccount ``k8s-serviceaccount-for-users-ns`` bound to it by
    RoleBinding ``k8s-serviceaccount-for-users-ns-binding``. Both bindings are RoleBindings:
    nothing is granted outside the namespace. Optional: quota, container defaults, Workload
    Identity, network isolation, Docker-in-Docker.
    """

    namespace_name: pulumi.Output[str]
    """The namespace's name, once the Namespace exists."""
    system_service_account_name: pulumi.Output[str]
    """The system ServiceAccount's name (Concurrent's control plane uses it), once it exists."""
    user_service_account_name: pulumi.Output[str]
    """The user ServiceAccount's name (user code runs as it), once it exists."""

    def __init__(
        self,
        name: str,
        args: ConcurrentNamespaceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._create(name, namespace_settings(args, name), args.get("system_role_name"), opts)

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: NamespaceSettings,
        opts: pulumi.ResourceOptions | None = None,
        system_role_name: pulumi.Input[str] | None = None,
    ) -> "ConcurrentNamespace":
        """The stack program's door: ``settings`` were validated from the stack config already."""
        component = cls.__new__(cls)
        component._create(name, settings, system_role_name, opts)
        return component

    def _create(
        self,
        name: str,
        settings: NamespaceSettings,
        system_role_name: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        claim_namespace(settings.namespace, name, opts)
        # Protected as a whole: every child inherits it. Removing a protected namespace then fails
        # at its first object, before any is deleted (the engine deletes the children before the
        # Namespace they depend on, so protecting the Namespace alone lost its service accounts).
        protected = pulumi.ResourceOptions(protect=settings.protect)
        super().__init__(
            "concurrent-infra:index:ConcurrentNamespace",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, protected),
        )
        self.settings = settings
        self.names = names = namespace_object_names(settings.namespace)
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=object_metadata(
                names.namespace,
                labels={**settings.labels, **pod_security_labels(settings.pod_security)},
                annotations=settings.annotations,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protect, retain_on_delete=settings.protect
            ),
        )
        # Namespaced objects take the name from the Namespace's output, so they wait for it.
        namespace = name_of(self.namespace.metadata)
        role_reference = system_role_reference(system_role_name)

        self.system_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-system-service-account",
            metadata=object_metadata(names.system_service_account, namespace),
            opts=child,
        )
        self.system_role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-system-role-binding",
            metadata=object_metadata(names.system_role_binding, namespace),
            role_ref=cluster_role_ref(role_reference),
            subjects=[service_account_subject(names.system_service_account, names.namespace)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.system_service_account]),
        )
        self.user_cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-user-cluster-role",
            metadata=object_metadata(names.user_cluster_role),
            rules=k8s_rules(USER_RULES),
            opts=child,
        )
        identity = settings.workload_identity
        user_annotations = (
            {WORKLOAD_IDENTITY_ANNOTATION: identity.google_service_account}
            if identity and identity.google_service_account
            else None
        )
        self.user_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-user-service-account",
            metadata=object_metadata(names.user_service_account, namespace, annotations=user_annotations),
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
        self.namespaced_system_binding: k8s.rbac.v1.RoleBinding | None = None
        if settings.namespaced_system_binding is not None:
            binding = settings.namespaced_system_binding
            self.namespaced_system_binding = k8s.rbac.v1.RoleBinding(
                f"{name}-namespaced-system-binding",
                metadata=object_metadata(SYSTEM_CLUSTER_ROLE_BINDING, namespace),
                role_ref=cluster_role_ref(role_reference),
                subjects=system_binding_subjects(binding.users, binding.groups),
                opts=child,
            )
        self._tenancy(name, settings, namespace)
        self.workload_identity_grants: list[pulumi.CustomResource] = []
        if identity:
            from ..gke.workload_identity import grant_workload_identity  # pulumi-gcp only when used

            self.workload_identity_grants = grant_workload_identity(
                name, identity, names.namespace, names.user_service_account, parent=self
            )

        self.namespace_name = namespace
        self.system_service_account_name = name_of(self.system_service_account.metadata)
        self.user_service_account_name = name_of(self.user_service_account.metadata)
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "system_service_account_name": self.system_service_account_name,
                "user_service_account_name": self.user_service_account_name,
            }
        )

    def _tenancy(self, name: str, settings: NamespaceSettings, namespace: pulumi.Output[str]) -> None:
        """The optional per-namespace objects: quota, container defaults, isolation, DinD."""
        child = pulumi.ResourceOptions(parent=self)
        self.resource_quota: k8s.core.v1.ResourceQuota | None = None
        self.limit_range: k8s.core.v1.LimitRange | None = None
        self.network_policy: k8s.networking.v1.NetworkPolicy | None = None
        self.dind_deployment: k8s.apps.v1.Deployment | None = None
        self.dind_service: k8s.core.v1.Service | None = None
        if settings.quota:
            self.resource_quota = k8s.core.v1.ResourceQuota(
                f"{name}-resource-quota",
                metadata=object_metadata(RESOURCE_QUOTA, namespace),
                spec={"hard": dict(settings.quota)},
                opts=child,
            )
        if settings.container_defaults:
            defaults = settings.container_defaults
            limit: k8s.core.v1.LimitRangeItemArgsDict = {"type": "Container"}
            if defaults.requests:
                limit["default_request"] = dict(defaults.requests)
            if defaults.limits:
                limit["default"] = dict(defaults.limits)
            self.limit_range = k8s.core.v1.LimitRange(
                f"{name}-limit-range",
                metadata=object_metadata(LIMIT_RANGE, namespace),
                spec={"limits": [limit]},
                opts=child,
            )
        if settings.network_isolation:
            self.network_policy = k8s.networking.v1.NetworkPolicy(
                f"{name}-network-policy",
                metadata=object_metadata(NETWORK_POLICY, namespace),
                spec={
                    "pod_selector": {},
                    "policy_types": ["Ingress"],
                    "ingress": [{"from_": [{"pod_selector": {}}]}],
                },
                opts=child,
            )
        if settings.dind:
            self._dind(name, namespace, settings.dind_node_type)

    def _dind(self, name: str, namespace: pulumi.Output[str], node_type: str | None) -> None:
        """The upstream ``k8s-dind-service.yaml`` Deployment and Service, in this namespace; with
        ``node_type``, on the nodes of that type only (a privileged pod shares no node with others)."""
        app = {"app": DIND_NAME}
        child = pulumi.ResourceOptions(parent=self)
        pod_spec: k8s.core.v1.PodSpecArgsDict = {
            "priority_class_name": DIND_PRIORITY_CLASS,
            "containers": [
                {
                    "name": DIND_NAME,
                    "image": "docker:20.10.18-dind",
                    "env": [
                        {"name": "DOCKER_HOST", "value": "tcp://0.0.0.0:2375"},
                        # TLS off, as upstream: the daemon is reached only in-cluster.
                        {"name": "DOCKER_TLS_CERTDIR", "value": ""},
                    ],
                    "ports": [{"name": "daemon-port", "container_port": 2375, "protocol": "TCP"}],
                    "security_context": {"privileged": True},
                }
            ],
        }
        if node_type:
            pod_spec["node_selector"] = {NODE_TYPE_KEY: node_type}
            pod_spec["tolerations"] = [
                {"key": NODE_TYPE_KEY, "operator": "Equal", "value": node_type, "effect": "NoSchedule"}
            ]
        self.dind_deployment = k8s.apps.v1.Deployment(
            f"{name}-dind-deployment",
            metadata=object_metadata(DIND_NAME, namespace, labels=app),
            spec={
                "replicas": 1,
                "selector": {"match_labels": app},
                "template": {"metadata": {"labels": with_common_labels(app)}, "spec": pod_spec},
            },
            opts=child,
        )
        self.dind_service = k8s.core.v1.Service(
            f"{name}-dind-service",
            metadata=object_metadata(DIND_NAME, namespace, labels=app),
            spec={
                "ports": [{"port": 2375, "protocol": "TCP", "target_port": 2375}],
                "selector": app,
            },
            opts=child,
        )
