"""The SystemRole component: the cluster-wide role of Concurrent's system components."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from .names import SYSTEM_CLUSTER_ROLE, SYSTEM_CLUSTER_ROLE_BINDING, SYSTEM_GROUP
from .objects import cluster_role_ref, name_of, object_metadata
from .rbac import RBAC_API_GROUP, SYSTEM_RULES, k8s_rules


@dataclass(frozen=True)
class RbacSubject:
    """A User or Group granted the system role cluster-wide (never a ServiceAccount)."""

    kind: Literal["User", "Group"]
    name: pulumi.Input[str]


@dataclass(frozen=True)
class SystemRoleArgs:
    """Arguments of :class:`SystemRole`."""

    extra_subjects: Sequence[RbacSubject] = ()
    """Bound besides Group ``k8s-role-for-parallels-lambda-group``, e.g. a GKE control-plane
    Google service account as a ``User`` (its email)."""


class SystemRole(pulumi.ComponentResource):
    """ClusterRole ``k8s-role-for-parallels-lambda`` and its ClusterRoleBinding to the system group.

    Created once per cluster. Outputs: ``cluster_role_name``.
    """

    cluster_role: k8s.rbac.v1.ClusterRole
    cluster_role_binding: k8s.rbac.v1.ClusterRoleBinding
    cluster_role_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: SystemRoleArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("concurrent-infra:index:SystemRole", name, None, opts)
        args = args or SystemRoleArgs()
        for subject in args.extra_subjects:
            if subject.kind not in ("User", "Group"):
                raise ValueError(
                    f"SystemRole {name}: extra subject kind {subject.kind!r} is not allowed; "
                    "the system role is cluster-wide, so bind only a User or a Group "
                    "(service accounts get it per namespace through ConcurrentNamespace)"
                )
        self.cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata=object_metadata(SYSTEM_CLUSTER_ROLE),
            rules=k8s_rules(SYSTEM_RULES),
            opts=pulumi.ResourceOptions(parent=self),
        )
        subjects: list[k8s.rbac.v1.SubjectArgsDict] = [
            {"kind": subject.kind, "name": subject.name, "api_group": RBAC_API_GROUP}
            for subject in (RbacSubject(kind="Group", name=SYSTEM_GROUP), *args.extra_subjects)
        ]
        self.cluster_role_binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-role-binding",
            metadata=object_metadata(SYSTEM_CLUSTER_ROLE_BINDING),
            role_ref=cluster_role_ref(SYSTEM_CLUSTER_ROLE),
            subjects=subjects,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.cluster_role]),
        )
        self.cluster_role_name = name_of(self.cluster_role.metadata)
        self.register_outputs({"cluster_role_name": self.cluster_role_name})
