"""What a cluster prepared by this package must look like: the input of ``verify``.

:class:`ClusterExpectation` holds one :class:`NamespaceExpectation` per namespace and the
cluster-wide settings (whether the system role is checked, its extra users and groups). The CLI
builds it from ``--namespace`` flags (default settings) or from a stack file
(:func:`expectations_from_stack_file`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kube.names import namespace_name_problem
from ..kube.pod_security import DEFAULT_POD_SECURITY, pod_security_level_problem
from ..kube.subjects import cluster_subject_problem
from ..syntax import google_service_account_email_problem, quantity_problem
from ..validation import CONFIG_PREFIX


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

    def __post_init__(self) -> None:
        where = f"namespace {self.name!r}"
        if problem := namespace_name_problem(self.name):
            raise ExpectationError(f"{where}: {problem}")
        if problem := pod_security_level_problem(self.pod_security):
            raise ExpectationError(f"{where}: podSecurity {self.pod_security!r}: expected {problem}")
        for resource, quantity in (self.quota or {}).items():
            if not isinstance(quantity, str) or (problem := quantity_problem(quantity)):
                raise ExpectationError(
                    f"{where}: quota {resource}={quantity!r}: {problem or 'expected a string'}; "
                    "write a quantity such as '4', '500m' or '16Gi'"
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
) -> ClusterExpectation:
    """Namespaces with every default setting (``--namespace`` flags)."""
    return ClusterExpectation(
        namespaces=tuple(NamespaceExpectation(name) for name in namespaces),
        include_system_role=include_system_role,
        system_role_users=tuple(system_role_users),
        system_role_groups=tuple(system_role_groups),
    )


# ---- stack files ----


def _raw_values(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``concurrent-infra:*`` values as Pulumi hands them to a program: strings as they are,
    everything else as JSON (key without the project prefix)."""
    raw: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(key, str) and key.startswith(CONFIG_PREFIX):
            raw[key.removeprefix(CONFIG_PREFIX)] = value if isinstance(value, str) else json.dumps(value)
    return raw


def _boolean(value: Any, key: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ExpectationError(f"{CONFIG_PREFIX}{key}: {value!r} is not a boolean; write true or false")


def _string_list(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ExpectationError(f"{CONFIG_PREFIX}{key}: {value!r} is not a list of names; write [name, ...]")
    return tuple(value)


def _quota(value: Any, key: str) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ExpectationError(f"{CONFIG_PREFIX}{key}: {value!r} is not a map; write {{requests.cpu: '4'}}")
    return {str(resource): str(quantity) for resource, quantity in value.items()}


def _decoded(raw: Mapping[str, str], key: str) -> Any:
    if key not in raw:
        return None
    try:
        return json.loads(raw[key])
    except json.JSONDecodeError:
        return raw[key]  # a plain string value


def _namespace_entry(entry: Any, index: int, defaults: Mapping[str, Any]) -> NamespaceExpectation:
    key = f"namespaces[{index}]"
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ExpectationError(f"{CONFIG_PREFIX}{key}: {entry!r} is not a name or an object with a name")

    def setting(name: str) -> Any:
        return entry[name] if entry.get(name) is not None else defaults.get(name)

    identity = entry.get("workloadIdentity")
    email = identity.get("googleServiceAccount") if isinstance(identity, dict) else None
    try:
        return NamespaceExpectation(
            name=entry["name"],
            pod_security=str(setting("podSecurity") or DEFAULT_POD_SECURITY),
            quota=_quota(setting("quota"), f"{key}.quota"),
            container_defaults=setting("containerDefaults") is not None,
            network_isolation=_boolean(setting("networkIsolation"), f"{key}.networkIsolation", False),
            workload_identity_email=str(email) if email is not None else None,
            dind=_boolean(entry.get("dind"), f"{key}.dind", False),
        )
    except ExpectationError as error:
        raise ExpectationError(f"{CONFIG_PREFIX}{key}: {error}") from error


def expectations_from_raw(raw: Mapping[str, str]) -> ClusterExpectation:
    """The expectations of a stack's ``concurrent-infra:*`` raw values (see :func:`_raw_values`).

    Stack-wide ``podSecurity``, ``quota``, ``containerDefaults`` and ``networkIsolation`` are the
    defaults of every namespace; a namespace's own value replaces them.
    """
    namespaces = _decoded(raw, "namespaces")
    if not isinstance(namespaces, list) or not namespaces:
        raise ExpectationError(
            f"{CONFIG_PREFIX}namespaces: {namespaces!r}: the stack file lists no namespaces; "
            "verify a stack file with a concurrent-infra:namespaces list"
        )
    defaults = {
        key: _decoded(raw, key) for key in ("podSecurity", "quota", "containerDefaults", "networkIsolation")
    }
    return ClusterExpectation(
        namespaces=tuple(_namespace_entry(entry, i, defaults) for i, entry in enumerate(namespaces)),
        include_system_role=_boolean(_decoded(raw, "createSystemRole"), "createSystemRole", True),
        system_role_users=_string_list(_decoded(raw, "systemRoleUsers"), "systemRoleUsers"),
        system_role_groups=_string_list(_decoded(raw, "systemRoleGroups"), "systemRoleGroups"),
    )


def expectations_from_stack_file(path: str | Path) -> ClusterExpectation:
    """The expectations of a stack file (``stacks/Pulumi.<stack>.yaml``): its ``concurrent-infra:*``
    keys, read as the stack program reads them.

    Needs PyYAML (a development dependency), imported here so ``verify --namespace`` works without it.
    """
    try:
        import yaml
    except ImportError as error:
        raise ExpectationError(
            "--stack-file needs PyYAML: pip install pyyaml (or give the namespaces with --namespace)"
        ) from error
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ExpectationError(f"--stack-file {str(path)!r}: cannot read it: {error}") from error
    except yaml.YAMLError as error:
        raise ExpectationError(f"--stack-file {str(path)!r}: not valid YAML: {error}") from error
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ExpectationError(
            f"--stack-file {str(path)!r}: no 'config:' map; give a Pulumi stack file (Pulumi.<stack>.yaml)"
        )
    try:
        return expectations_from_raw(_raw_values(config))
    except ExpectationError as error:
        raise ExpectationError(f"--stack-file {str(path)!r}: {error}") from error
