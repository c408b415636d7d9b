"""What a cluster prepared by this package must look like: the input of ``verify``.

:class:`ClusterExpectation` holds one :class:`NamespaceExpectation` per namespace and the
cluster-wide settings (whether the system role is checked, its extra users and groups). The CLI
builds it from ``--namespace`` flags (default settings) or from a stack file
(:func:`expectations_from_stack_file`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..kube.names import namespace_name_problem
from ..kube.pod_security import DEFAULT_POD_SECURITY, pod_security_level_problem
from ..kube.subjects import cluster_subject_problem
from ..quantity import quota_value_problem
from ..syntax import google_service_account_email_problem

if TYPE_CHECKING:
    from ..kube.namespace_settings import NamespaceSettings
    from ..program.config import StackConfig


class ExpectationError(ValueError):
    """Expectations that cannot be checked (a bad flag or stack file): a usage error, exit 2."""


@dataclass(frozen=True)
class NamespaceExpectation:
    """One namespace and the tenancy settings its stack config gives it.

    ``quota``, ``container_defaults`` and ``network_isolation`` are checked only when set (the
    object exists, and the quota has exactly these hard limits). ``workload_identity_email`` and
    ``dind`` are checked both ways: the annotation and the privileged DinD Deployment must be
    absent where they are not configured.
    """

    name: str
    pod_security: str = DEFAULT_POD_SECURITY
    quota: Mapping[str, str] | None = None
    """The ResourceQuota's ``spec.hard``; None: no quota configured (not checked)."""
    container_defaults: bool = False
    network_isolation: bool = False
    workload_identity_email: str | None = None
    """The Google service account of the user ServiceAccount's ``iam.gke.io/gcp-service-account``
    annotation (the ``{googleServiceAccount: ...}`` form); None: no annotation anywhere."""
    dind: bool = False
    annotations: Mapping[str, str] = field(default_factory=dict)
    """The Namespace's configured annotations (``namespaces[].annotations``): the node-placement ones
    the namespace guard holds (``guardrails.GUARDED_ANNOTATIONS``) must have exactly these values,
    and be absent where not configured; the others are not checked."""

    def __post_init__(self) -> None:
        where = f"namespace {self.name!r}"
        if problem := namespace_name_problem(self.name):
            raise ExpectationError(f"{where}: {problem}")
        if problem := pod_security_level_problem(self.pod_security):
            raise ExpectationError(f"{where}: podSecurity {self.pod_security!r}: expected {problem}")
        for resource, quantity in (self.quota or {}).items():
            if not isinstance(quantity, str) or (problem := quota_value_problem(resource, quantity)):
                raise ExpectationError(
                    f"{where}: quota {resource}={quantity!r}: "
                    f"{problem or 'expected a string; write a quantity such as 4, 500m or 16Gi'}"
                )
        email = self.workload_identity_email
        if email is not None and (problem := google_service_account_email_problem(email)):
            raise ExpectationError(f"{where}: workloadIdentity.googleServiceAccount {email!r}: {problem}")
        if self.dind and self.pod_security != "privileged":
            raise ExpectationError(
                f"{where}: dind needs podSecurity 'privileged' (the DinD pod is privileged); "
                "set podSecurity: privileged on this namespace or drop dind"
            )


@dataclass(frozen=True)
class ClusterExpectation:
    """Every namespace to verify, and the cluster-wide system role's settings."""

    namespaces: tuple[NamespaceExpectation, ...]
    include_system_role: bool = True
    """Check ClusterRole ``k8s-role-for-parallels-lambda``, its binding and the namespace guard
    policy (false for a stack with ``createSystemRole: false``)."""
    system_role_users: tuple[str, ...] = ()
    system_role_groups: tuple[str, ...] = ()
    namespace_guard: bool = True
    """Check the namespace guard policy (with the system role; SystemRole's ``namespace_guard``)."""
    system_role_scope: str = "cluster"
    """``cluster``: the system group and extra subjects are bound by the ClusterRoleBinding;
    ``namespaces`` (the narrower option): by a RoleBinding in each namespace, and no
    ClusterRoleBinding may exist."""
    cross_namespace_sample: int = field(default=3)
    """How many other verified namespaces each namespace's cross-namespace denials are checked
    against (see ``checks.cross_namespace_targets``)."""

    def __post_init__(self) -> None:
        if not self.namespaces:
            raise ExpectationError("no namespace to verify: give --namespace NS or --stack-file FILE")
        names = [ns.name for ns in self.namespaces]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ExpectationError(f"namespace(s) listed twice: {', '.join(duplicates)}; list each once")
        for kind, subjects in (("User", self.system_role_users), ("Group", self.system_role_groups)):
            for subject in subjects:
                if problem := cluster_subject_problem(kind, subject):
                    raise ExpectationError(f"system role {kind.lower()} {subject!r}: {problem}")
        if self.system_role_scope not in ("cluster", "namespaces"):
            raise ExpectationError(f"system role scope {self.system_role_scope!r}: cluster or namespaces")
        if self.cross_namespace_sample < 1:
            raise ExpectationError(
                f"cross-namespace sample {self.cross_namespace_sample}: must be at least 1"
            )

    def namespace(self, name: str) -> NamespaceExpectation:
        """The expectation of namespace ``name``."""
        return next(ns for ns in self.namespaces if ns.name == name)


def default_expectation(
    namespaces: Sequence[str],
    include_system_role: bool = True,
    system_role_users: Sequence[str] = (),
    system_role_groups: Sequence[str] = (),
    system_role_scope: str = "cluster",
) -> ClusterExpectation:
    """Namespaces with every default setting (``--namespace`` flags)."""
    return ClusterExpectation(
        namespaces=tuple(NamespaceExpectation(name) for name in namespaces),
        include_system_role=include_system_role,
        system_role_users=tuple(system_role_users),
        system_role_groups=tuple(system_role_groups),
        system_role_scope=system_role_scope,
    )


# ---- stack files ----


def _namespace_expectation(settings: NamespaceSettings) -> NamespaceExpectation:
    identity = settings.workload_identity
    return NamespaceExpectation(
        name=settings.namespace,
        pod_security=settings.pod_security,
        quota=dict(settings.quota) or None,
        container_defaults=settings.container_defaults is not None,
        network_isolation=settings.network_isolation,
        workload_identity_email=identity.google_service_account if identity else None,
        dind=settings.dind,
        annotations=dict(settings.annotations),
    )


def expectations_from_configs(configs: Sequence[StackConfig]) -> ClusterExpectation:
    """The expectations of the stacks ``configs`` on one cluster: one stack, or every shard of a
    sharded environment (checked by :func:`concurrent_infra.program.shards.join_environment`)."""
    from ..program.shards import system_role_subjects

    namespaces = tuple(_namespace_expectation(ns) for config in configs for ns in config.namespaces)
    holder = next((config for config in configs if config.system_role is not None), configs[0])
    role = holder.system_role
    users, groups = system_role_subjects(holder)
    return ClusterExpectation(
        namespaces=namespaces,
        include_system_role=role is not None,
        system_role_users=users,
        system_role_groups=groups,
        namespace_guard=role.namespace_guard if role else False,
        system_role_scope=holder.system_role_scope,
    )


def expectations_from_stack_file(path: str | Path, whole_environment: bool = True) -> ClusterExpectation:
    """The expectations of a stack file (``stacks/Pulumi.<stack>.yaml``): its ``concurrent-infra:*``
    keys, read by the stack program's own parser (``gcp:project`` is the default project of
    ``workloadIdentity``). When it lists ``shards``, the whole environment: every shard's
    namespaces, from the stack files beside it, checked as the program checks them (with
    ``whole_environment`` false: checked the same, but only this shard's objects). A GKE stack
    also binds its control-plane Google service account to the system role (the stack output
    ``controlPlaneServiceAccountEmail``): pass it with ``--system-role-user``.

    Needs PyYAML (a dependency of the Pulumi SDK, and of the ``verify`` extra), imported when
    needed so ``verify --namespace`` works without it.
    """
    from ..program.config import ConfigError, parse_stack_config
    from ..program.shards import environment_configs
    from ..program.stack_files import StackFileError, read_stack_file, stack_of_file

    path = Path(path)
    try:
        import yaml  # noqa: F401
    except ImportError as error:
        raise ExpectationError(
            "--stack-file needs PyYAML: pip install pyyaml (or give the namespaces with --namespace NS)"
        ) from error
    try:
        stack_file = read_stack_file(path)
        config = parse_stack_config(stack_file.raw, stack_file.gcp_project)
        if not config.shards:
            return expectations_from_configs([config])
        stack = stack_of_file(path)
        if stack is None:
            raise ExpectationError(
                "it lists shards, so it must be named Pulumi.<stack>.yaml, as Pulumi names it: the "
                "other shards list it by its stack's name; give the stack file itself"
            )
        configs = environment_configs(stack, config, path.parent)
        return expectations_from_configs(list(configs.values()) if whole_environment else [configs[stack]])
    except StackFileError as error:  # its message starts with the path
        raise ExpectationError(f"--stack-file {error}") from error
    except (ConfigError, ExpectationError) as error:
        raise ExpectationError(f"--stack-file {str(path)!r}: {error}") from error
