"""The SystemRole component: the cluster-wide objects of Concurrent's system components."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..validation import KeyStyle, ObjectReader, component_args_problems
from .guard_probe import WaitForGuardArgs, when_enforced
from .guardrails import guard_token, namespace_guard_binding_spec, namespace_guard_policy_spec
from .names import (
    DIND_PRIORITY_CLASS,
    NAMESPACE_GUARD_POLICY,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
)
from .objects import cluster_role_ref, object_metadata
from .rbac import RBAC_API_GROUP, SYSTEM_RULES, k8s_rules
from .subjects import cluster_subject_problem


class SystemRoleArgs(TypedDict):
    """Arguments of SystemRole."""

    extra_users: NotRequired[list[str]]
    """Users given the system role besides Group k8s-role-for-parallels-lambda-group, e.g. the email
    of the Google service account Concurrent's control plane uses: bound cluster-wide (unless
    ``clusterWideBinding`` is false), and held back by the namespace guard. Kubernetes' own
    identities (``system:*``) are refused."""
    extra_groups: NotRequired[list[str]]
    """Groups given the system role, like ``extraUsers`` (``system:*`` groups are refused)."""
    cluster_wide_binding: NotRequired[bool]
    """Bind the system role to its subjects cluster-wide, as upstream does (default true). False is
    the narrower option: no ClusterRoleBinding; each ConcurrentNamespace binds them in its own
    namespace (its ``namespacedSystemBinding``)."""
    namespace_guard: NotRequired[bool]
    """Create the ValidatingAdmissionPolicy that stops service accounts from deleting a managed
    Namespace or changing its Pod Security labels (default true; needs Kubernetes 1.30+)."""
    dind_priority_class: NotRequired[bool]
    """Create the PriorityClass of the Docker-in-Docker pods (default false)."""
    wait_for_guard: NotRequired[WaitForGuardArgs]
    """How to reach the cluster (the provider's kubeconfig, context, cluster) to wait, during
    ``pulumi up``, until the API server enforces the namespace guard before the system role is
    granted (the ClusterRoleBinding, and each namespace's RoleBindings through ``clusterRoleName``).
    Without it the grants are created as soon as the guard is stored, and for a moment after
    ``pulumi up`` the guard may not hold yet. Needs the ``kubernetes`` client."""


SYSTEM_ROLE_FIELDS = tuple(SystemRoleArgs.__annotations__)
WAIT_FOR_GUARD_FIELDS = tuple(WaitForGuardArgs.__annotations__)


def read_system_role_subjects(reader: ObjectReader) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The extra users and groups of the system binding, each checked by cluster_subject_problem."""
    users = reader.strings(
        "extra_users" if reader.style is KeyStyle.SNAKE else "system_role_users",
        example="concurrent@my-project.iam.gserviceaccount.com",
        check=lambda name: cluster_subject_problem("User", name),
    )
    groups = reader.strings(
        "extra_groups" if reader.style is KeyStyle.SNAKE else "system_role_groups",
        example="concurrent-operators@example.com",
        check=lambda name: cluster_subject_problem("Group", name),
    )
    return users, groups


@dataclass(frozen=True)
class SystemRoleSettings:
    """SystemRole's args, validated; the defaults are SystemRole's."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    cluster_wide_binding: bool = True
    namespace_guard: bool = True
    dind_priority_class: bool = False
    wait_for_guard: WaitForGuardArgs | None = None


def system_role_settings(args: SystemRoleArgs, name: str) -> SystemRoleSettings:
    """Validate ``args``; raises ConfigError listing every problem."""
    problems = component_args_problems("SystemRole", name, args, "{'extra_users': [...]}")
    reader = ObjectReader(args, "", SYSTEM_ROLE_FIELDS, problems, KeyStyle.SNAKE)
    users, groups = read_system_role_subjects(reader)
    defaults = SystemRoleSettings()
    settings = SystemRoleSettings(
        users=users,
        groups=groups,
        cluster_wide_binding=reader.boolean("cluster_wide_binding", defaults.cluster_wide_binding),
        namespace_guard=reader.boolean("namespace_guard", defaults.namespace_guard),
        dind_priority_class=reader.boolean("dind_priority_class", defaults.dind_priority_class),
        wait_for_guard=_wait_for_guard(reader),
    )
    problems.raise_if_any()
    return settings


def _wait_for_guard(reader: ObjectReader) -> WaitForGuardArgs | None:
    """``wait_for_guard``: a dict of known keys; ``context`` and ``cluster`` non-empty strings."""
    value = reader.raw("wait_for_guard")
    if value is None:
        return None
    example = "{'kubeconfig': '~/.kube/config', 'context': 'my-cluster'}"
    if not isinstance(value, dict):
        reader.problems.add("wait_for_guard", value, "expected a dict", f"wait_for_guard={example}")
        return None
    for key, item in value.items():
        if key not in WAIT_FOR_GUARD_FIELDS:
            reader.problems.add(
                f"wait_for_guard.{key}",
                item,
                "not a key of wait_for_guard",
                f"one of {WAIT_FOR_GUARD_FIELDS}",
            )
        elif key != "kubeconfig" and (not isinstance(item, str) or not item.strip()):
            reader.problems.add(
                f"wait_for_guard.{key}", item, "expected a non-empty string", f"wait_for_guard={example}"
            )
    return value  # type: ignore[return-value]


def system_binding_subjects(users: Sequence[str], groups: Sequence[str]) -> list[k8s.rbac.v1.SubjectArgsDict]:
    """The subjects of the system ClusterRoleBinding: the system group, then the extra ones."""
    subjects: list[k8s.rbac.v1.SubjectArgsDict] = [
        {"kind": "Group", "name": SYSTEM_GROUP, "api_group": RBAC_API_GROUP}
    ]
    subjects += [{"kind": "User", "name": user, "api_group": RBAC_API_GROUP} for user in users]
    subjects += [
        {"kind": "Group", "name": group, "api_group": RBAC_API_GROUP}
        for group in groups
        if group != SYSTEM_GROUP
    ]
    return subjects


class SystemRole(pulumi.ComponentResource):
    """ClusterRole ``k8s-role-for-parallels-lambda`` and its ClusterRoleBinding to the system group,
    plus the namespace guard (a ValidatingAdmissionPolicy). Created once per cluster."""

    cluster_role_name: pulumi.Output[str]
    """The system ClusterRole's name; pass it to ConcurrentNamespace's ``systemRoleName``."""

    def __init__(
        self,
        name: str,
        args: SystemRoleArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._create(name, system_role_settings(args, name), opts)

    @classmethod
    def from_settings(
        cls, name: str, settings: SystemRoleSettings, opts: pulumi.ResourceOptions | None = None
    ) -> "SystemRole":
        """The stack program's door: ``settings`` were validated from the stack config already."""
        component = cls.__new__(cls)
        component._create(name, settings, opts)
        return component

    def _create(self, name: str, settings: SystemRoleSettings, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("concurrent-infra:index:SystemRole", name, None, opts)
        self.namespace_guard_policy = self.namespace_guard_binding = None
        guard_ready: list[pulumi.Output[Any]] = []
        if settings.namespace_guard:
            self.namespace_guard_policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                f"{name}-namespace-guard",
                metadata=object_metadata(NAMESPACE_GUARD_POLICY),
                spec=namespace_guard_policy_spec(settings.users, settings.groups),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.namespace_guard_binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                f"{name}-namespace-guard-binding",
                metadata=object_metadata(NAMESPACE_GUARD_POLICY),
                spec=namespace_guard_binding_spec(),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace_guard_policy]),
            )
            guard_ready.append(
                when_enforced(
                    [self.namespace_guard_policy.urn, self.namespace_guard_binding.urn],
                    settings.wait_for_guard,
                    guard_token(settings.users, settings.groups),
                )
            )
        # The role's rules wait for the guard too: a RoleBinding made earlier (a shard that deployed
        # first, an adopted binding) grants them the moment the role exists. Same value, so an
        # existing stack sees no diff; known in every preview (the probe runs only in an update).
        self.cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata=object_metadata(SYSTEM_CLUSTER_ROLE),
            rules=pulumi.Output.all(*guard_ready).apply(lambda _: k8s_rules(SYSTEM_RULES)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The name is a constant of the contract; deriving it from the role's URN makes it known
        # in every preview while still carrying the dependency on the ClusterRole, and on the guard
        # being enforced: every grant of the role (this binding, each namespace's RoleBindings,
        # which pass it as system_role_name) waits for both.
        self.cluster_role_name = pulumi.Output.all(self.cluster_role.urn, *guard_ready).apply(
            lambda _: SYSTEM_CLUSTER_ROLE
        )
        self.cluster_role_binding: k8s.rbac.v1.ClusterRoleBinding | None = None
        if settings.cluster_wide_binding:
            self.cluster_role_binding = k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-cluster-role-binding",
                metadata=object_metadata(SYSTEM_CLUSTER_ROLE_BINDING),
                role_ref=cluster_role_ref(self.cluster_role_name),
                subjects=system_binding_subjects(settings.users, settings.groups),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.cluster_role]),
            )
        self.dind_priority_class = None
        if settings.dind_priority_class:
            self.dind_priority_class = k8s.scheduling.v1.PriorityClass(
                f"{name}-dind-priority-class",
                metadata=object_metadata(DIND_PRIORITY_CLASS),
                value=10000,
                global_default=False,
                description="parallels highest prio for docker in docker pod",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"cluster_role_name": self.cluster_role_name})
