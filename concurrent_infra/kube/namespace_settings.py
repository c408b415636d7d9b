"""The settings of one Concurrent namespace: validated once, from the stack config or from args.

:func:`read_namespace` is the single validation path. The stack config parser calls it with
camelCase keys (``podSecurity``), :class:`~concurrent_infra.kube.namespace.ConcurrentNamespace`
with its Python args (``pod_security``); both get the same rules and messages, and both get a
:class:`NamespaceSettings` back. Pure: no Pulumi here.
"""

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..quantity import (
    container_value_problem,
    is_hugepages_resource,
    is_overcommit_allowed,
    parse_quantity,
    quantity_problem,
    quota_value_problem,
)
from ..syntax import (
    broad_role_problem,
    gcp_role_problem,
    google_service_account_email_problem,
    project_id_problem,
)
from ..validation import KeyStyle, ObjectReader, Problems, show
from .labels import COMMON_LABELS, label_value_problem, metadata_key_problem
from .names import WORKLOAD_IDENTITY_ANNOTATION, namespace_name_problem, suggest_namespace_name
from .namespace_args import (
    ConcurrentNamespaceArgs,
    ContainerDefaultsArgs,
    NamespacedSystemBindingArgs,
    WorkloadIdentityArgs,
)
from .pod_security import (
    DEFAULT_POD_SECURITY,
    LABEL_PREFIX,
    PodSecurityLevel,
    as_level,
    pod_security_level_problem,
)
from .subjects import cluster_subject_problem

MAX_ANNOTATIONS_BYTES = 256 * 1024
"""Kubernetes refuses an object whose annotations (keys and values) total more than 256 KiB."""
MAX_MAP_ENTRIES = 64
"""Labels, annotations and quota entries per namespace; more is a mistake."""

ARGS_FIELDS = tuple(ConcurrentNamespaceArgs.__annotations__)
"""The fields of ConcurrentNamespace's args."""
PROGRAM_ONLY_FIELDS = ("system_role_name", "namespaced_system_binding", "dind_node_type")
"""Args the stack program derives from the stack's other keys (a namespace entry cannot set them)."""
NAMESPACE_FIELDS = tuple(
    "name" if field == "namespace" else field for field in ARGS_FIELDS if field not in PROGRAM_ONLY_FIELDS
)
"""The fields of a namespace entry of the stack config (``namespace`` is ``name`` there)."""
CONTAINER_DEFAULTS_FIELDS = tuple(ContainerDefaultsArgs.__annotations__)
WORKLOAD_IDENTITY_FIELDS = tuple(WorkloadIdentityArgs.__annotations__)
SYSTEM_BINDING_FIELDS = tuple(NamespacedSystemBindingArgs.__annotations__)

STANDARD_QUOTA_RESOURCES = frozenset(
    {
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
        "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
        "pods", "services", "services.nodeports", "services.loadbalancers", "replicationcontrollers",
        "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims",
    }
)  # fmt: skip
"""The quota resource names without a ``/`` the API server accepts (its IsStandardQuotaResourceName;
``hugepages-*`` and ``requests.hugepages-*`` too). Names with a ``/`` (``requests.nvidia.com/gpu``,
``count/deployments.apps``, ``<class>.storageclass.storage.k8s.io/requests.storage``) are
qualified names, checked as keys."""
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
"""Container resource names without a ``/`` (plus ``hugepages-*``); others are extended resources
such as ``nvidia.com/gpu``."""


@dataclass(frozen=True)
class ContainerDefaults:
    """Default ``requests`` and ``limits`` of containers that set none (a LimitRange)."""

    requests: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadIdentity:
    """GKE Workload Identity for the user service account, in one of Google's two forms."""

    project: str
    """The project whose workload identity pool (``<project>.svc.id.goog``) the cluster uses."""
    google_service_account: str | None = None
    """Impersonate this Google service account (it grants roles/iam.workloadIdentityUser)."""
    roles: tuple[str, ...] = ()
    """Or grant these roles on the project to the Kubernetes service account's principal."""
    project_number: str | None = None
    """The project's number (the principal form needs it); looked up when not given."""


@dataclass(frozen=True, kw_only=True)
class NamespaceDefaults:
    """The settings a stack may give all its namespaces; each namespace can set its own. Their
    defaults are the namespace's (:class:`NamespaceSettings` extends this class)."""

    protect: bool = True
    pod_security: PodSecurityLevel = DEFAULT_POD_SECURITY
    quota: Mapping[str, str] = field(default_factory=dict)
    container_defaults: ContainerDefaults | None = None
    network_isolation: bool = False


@dataclass(frozen=True)
class SystemBinding:
    """Who gets the system role in one namespace, besides Group k8s-role-for-parallels-lambda-group."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def read_system_binding(reader: ObjectReader) -> SystemBinding | None:
    """The ``namespaced_system_binding`` of ConcurrentNamespace's args (users and groups checked
    as for the cluster-wide binding)."""
    nested = reader.reader("namespaced_system_binding", SYSTEM_BINDING_FIELDS)
    if nested is None:
        return None
    users = nested.strings("users", check=lambda name: cluster_subject_problem("User", name))
    groups = nested.strings("groups", check=lambda name: cluster_subject_problem("Group", name))
    return SystemBinding(users=users, groups=groups)


@dataclass(frozen=True, kw_only=True)
class NamespaceSettings(NamespaceDefaults):
    """One namespace, validated: what ConcurrentNamespace creates."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    workload_identity: WorkloadIdentity | None = None
    dind: bool = False
    dind_node_type: str | None = None
    """Run the DinD pod on nodes of this ``concurrent-node-type`` (label and NoSchedule taint)."""
    namespaced_system_binding: "SystemBinding | None" = None
    """The narrower option: bind the system role to its group (and these subjects) here only."""


def _string_fix(key: str, value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return f"give '{key}' one string value, not a {type(value).__name__}"
    return f"quote it: '{key}': \"{show(value)}\""


def read_string_map(
    reader: ObjectReader,
    name: str,
    value_problem: Any = None,
    reserved_prefixes: tuple[str, ...] = (),
    reserved_fix: str = "",
) -> dict[str, str]:
    """A map of label-style keys to strings (labels, annotations, quota), checked entry by entry."""
    value = reader.raw(name)
    if value is None:
        return {}
    where = reader.field(name)
    problems = reader.problems
    if not isinstance(value, Mapping):
        problems.add(
            where, value, "expected a map of string keys to string values", "write {key: value, ...}"
        )
        return {}
    if len(value) > MAX_MAP_ENTRIES:
        problems.add(where, value, f"it has {len(value)} entries; at most {MAX_MAP_ENTRIES}", "keep fewer")
        return {}
    result: dict[str, str] = {}
    for item_key, item_value in value.items():
        item_where = f"{where}.{item_key}"
        key_problem = metadata_key_problem(item_key) if isinstance(item_key, str) else "a key is a string"
        if key_problem:
            problems.add(item_where, item_key, "not a valid key", key_problem)
        elif item_key in COMMON_LABELS:
            problems.add(item_where, item_value, "this label is set by the package", f"remove '{item_key}'")
        elif item_key.startswith(reserved_prefixes):
            problems.add(item_where, item_value, "this key is set by the package", reserved_fix)
        elif not isinstance(item_value, str):
            problems.add(item_where, item_value, "expected a string", _string_fix(item_key, item_value))
        elif value_problem and (why := value_problem(item_value)):
            problems.add(item_where, item_value, "not a valid value", why)
        else:
            result[item_key] = item_value
    return result


def _read_annotations(reader: ObjectReader) -> dict[str, str]:
    annotations = read_string_map(
        reader,
        "annotations",
        reserved_prefixes=(WORKLOAD_IDENTITY_ANNOTATION,),
        reserved_fix="set workload_identity instead",
    )
    size = sum(len(key) + len(value) for key, value in annotations.items())
    if size > MAX_ANNOTATIONS_BYTES:
        reader.problems.add(
            reader.field("annotations"),
            annotations,
            f"they total {size} bytes; Kubernetes allows {MAX_ANNOTATIONS_BYTES}",
            "keep large data out of annotations (a ConfigMap holds up to 1 MiB)",
        )
        return {}
    return annotations


def quota_resource_problem(name: str) -> str | None:
    """Why ``name`` is not a resource a ResourceQuota can limit, or None (the API server's rule)."""
    if "/" in name or name in STANDARD_QUOTA_RESOURCES:
        return None
    if name.startswith(("hugepages-", "requests.hugepages-")):
        return None
    close = difflib.get_close_matches(name, sorted(STANDARD_QUOTA_RESOURCES), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"{hint}a quota limits a standard resource (requests.cpu, requests.memory, limits.memory, "
        "pods, ...) or a qualified one such as requests.nvidia.com/gpu or count/deployments.apps"
    )


def container_resource_problem(name: str) -> str | None:
    """Why ``name`` is not a container resource (what a LimitRange default names), or None."""
    if name in STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-"):
        return None
    if "/" in name and not name.startswith("requests."):
        return None  # an extended resource such as nvidia.com/gpu
    bare = name.removeprefix("requests.").removeprefix("limits.")
    hint = f"write '{bare}' (requests or limits is said by the enclosing key)" if bare != name else ""
    return hint or "a container resource is cpu, memory, ephemeral-storage or one such as nvidia.com/gpu"


def _check_keys(
    reader: ObjectReader, name: str, value: Mapping[str, str], problem: Any, what: str, value_problem: Any
) -> dict[str, str]:
    """Drop (and report) the entries whose key is not ``what``, then those whose value Kubernetes
    refuses for that key (``value_problem(key, value)``)."""
    good: dict[str, str] = {}
    for key, quantity in value.items():
        if why := problem(key):
            reader.problems.add(f"{reader.field(name)}.{key}", quantity, f"'{key}' is not {what}", why)
        elif why := value_problem(key, quantity):
            reader.problems.add(f"{reader.field(name)}.{key}", quantity, "Kubernetes refuses this value", why)
        else:
            good[key] = quantity
    return good


def read_quantities(reader: ObjectReader, name: str, example: str) -> dict[str, str]:
    """A ResourceQuota's hard limits: quota resource names to quantities."""
    if reader.raw(name) == {}:
        reader.problems.add(reader.field(name), {}, "it is empty", f"e.g. {name}: {example}, or leave it out")
    quantities = read_string_map(reader, name, value_problem=quantity_problem)
    return _check_keys(
        reader, name, quantities, quota_resource_problem, "a resource a quota limits", quota_value_problem
    )


def read_container_defaults(reader: ObjectReader) -> ContainerDefaults | None:
    nested = reader.reader("container_defaults", CONTAINER_DEFAULTS_FIELDS)
    if nested is None:
        return None
    found = {}
    for kind in CONTAINER_DEFAULTS_FIELDS:
        values = read_string_map(nested, kind, value_problem=quantity_problem)
        found[kind] = _check_keys(
            nested, kind, values, container_resource_problem, "a container resource", container_value_problem
        )
    requests, limits = found["requests"], found["limits"]
    if not requests and not limits:
        reader.problems.add(
            reader.field("container_defaults"),
            reader.raw("container_defaults"),
            "neither requests nor limits is set",
            "e.g. {requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 2Gi}}",
        )
        return None
    for problem in limit_range_problems(requests, limits):
        key, value, why, fix = problem
        reader.problems.add(f"{nested.field(key.split('.')[0])}.{key.split('.', 1)[1]}", value, why, fix)
    return ContainerDefaults(requests=requests, limits=limits)


def limit_range_problems(
    requests: Mapping[str, str], limits: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """What the API server refuses in a LimitRange's container ``defaultRequest`` (``requests``)
    and ``default`` (``limits``), or in every pod that gets them: (``requests.<resource>`` or
    ``limits.<resource>``, value, why, fix). Kubernetes v1.36.3 pkg/apis/core/validation/validation.go
    ``ValidateLimitRange`` (a default request above the default limit; for resources that cannot be
    overcommitted, default and default request differ) and ``validateResourceRequirements`` (such a
    resource requested without a limit; hugepages without cpu or memory)."""
    problems: list[tuple[str, str, str, str]] = []
    for resource in sorted(set(requests) | set(limits)):
        request, limit = requests.get(resource), limits.get(resource)
        exact = not is_overcommit_allowed(resource)
        if request is not None and limit is not None:
            if exact and parse_quantity(request) != parse_quantity(limit):
                problems.append(
                    (
                        f"requests.{resource}",
                        request,
                        f"{resource} cannot be overcommitted: Kubernetes refuses a default request other "
                        f"than the default limit ({limit})",
                        f"make them equal: requests.{resource}: {limit}, or drop requests.{resource}",
                    )
                )
            elif parse_quantity(request) > parse_quantity(limit):
                problems.append(
                    (
                        f"requests.{resource}",
                        request,
                        f"the default request is above the default limit ({limit}); Kubernetes refuses "
                        "such a LimitRange",
                        f"lower it to at most {limit}, or raise limits.{resource}",
                    )
                )
        elif request is not None and exact:
            problems.append(
                (
                    f"requests.{resource}",
                    request,
                    f"{resource} cannot be overcommitted: every pod given this default request without a "
                    "limit would be refused (a limit must be set, equal to the request)",
                    f"add limits.{resource}: {request} (a default limit is also the default request)",
                )
            )
    hugepages = [resource for resource in {**requests, **limits} if is_hugepages_resource(resource)]
    if hugepages and not {"cpu", "memory"} & (set(requests) | set(limits)):
        where = "limits" if hugepages[0] in limits else "requests"
        value = {**requests, **limits}[hugepages[0]]
        problems.append(
            (
                f"{where}.{hugepages[0]}",
                value,
                "Kubernetes refuses a container with hugepages but neither cpu nor memory, which every "
                "container that sets no resources would be",
                "add a cpu or memory default too, e.g. limits.memory: 1Gi",
            )
        )
    return problems


def _read_workload_identity(reader: ObjectReader, default_project: str | None) -> WorkloadIdentity | None:
    nested = reader.reader("workload_identity", WORKLOAD_IDENTITY_FIELDS)
    if nested is None:
        return None
    where = reader.field("workload_identity")
    account = nested.string(
        "google_service_account",
        check=google_service_account_email_problem,
        example="team-a@my-project.iam.gserviceaccount.com",
    )
    roles = nested.strings("roles", example="roles/storage.objectUser", check=_role_problem)
    raw_roles = nested.raw("roles")
    if raw_roles == [] or raw_roles == ():
        reader.problems.add(
            nested.field("roles"), [], "the list is empty", "list the roles, e.g. [roles/storage.objectUser]"
        )
    duplicates = sorted({role for role in roles if roles.count(role) > 1})
    if duplicates:
        reader.problems.add(
            nested.field("roles"), list(raw_roles), f"{duplicates[0]} is listed twice", "list each role once"
        )
    project = nested.string("project", default_project, check=project_id_problem, example="my-project")
    number = nested.string("project_number", check=_project_number_problem, example="123456789012")
    forms = [nested.spelled("google_service_account"), nested.spelled("roles")]
    if nested.has("google_service_account") == nested.has("roles"):
        reader.problems.add(
            where,
            reader.raw("workload_identity"),
            f"give exactly one of {forms[0]} and {forms[1]}",
            f"{{{forms[0]}: NAME@PROJECT.iam.gserviceaccount.com}} "
            f"or {{{forms[1]}: [roles/storage.objectUser]}}",
        )
        return None
    if project is None:
        reader.problems.add(
            nested.field("project"),
            None,
            "no project: the workload identity pool is <project>.svc.id.goog",
            f"set {nested.spelled('project')}, or gcp:project / the cluster's project in the stack",
        )
        return None
    if account is None and not roles:
        return None
    return WorkloadIdentity(
        project=project, google_service_account=account, roles=roles, project_number=number
    )


def _role_problem(role: str) -> str | None:
    return gcp_role_problem(role) or broad_role_problem(role)


def _project_number_problem(number: str) -> str | None:
    return (
        None if number.isascii() and number.isdigit() and len(number) <= 20 else "a project number is digits"
    )


def read_namespace(
    value: Mapping[str, Any],
    key: str,
    problems: Problems,
    style: KeyStyle,
    defaults: NamespaceDefaults = NamespaceDefaults(),
    default_project: str | None = None,
    name_field: str = "name",
    name_key: str | None = None,
) -> NamespaceSettings | None:
    """Validate one namespace entry; None when it cannot be used (the problems say why).

    ``defaults`` are the stack's; ``default_project`` is the project of a ``workloadIdentity``
    that names none (the cluster's, or gcp:project). ``name_key`` names the name in messages when
    the entry was a plain string.
    """
    known = NAMESPACE_FIELDS if name_field == "name" else ARGS_FIELDS
    reader = ObjectReader(value, key, known, problems, style)
    name = reader.raw(name_field)
    name_key = name_key or reader.field(name_field)
    if not isinstance(name, str):
        problems.add(
            name_key, name, "every namespace needs a name (a string)", f"add {name_field}: <namespace>"
        )
        return None
    if why := namespace_name_problem(name):
        fix = f"use a name such as '{suggest_namespace_name(name)}'"
        problems.add(name_key, name, f"not a valid namespace name: {why}", fix)
        return None
    pod_security = reader.string(
        "pod_security", defaults.pod_security, check=pod_security_level_problem, example="baseline"
    )
    dind = reader.boolean("dind", NamespaceSettings.dind)
    if dind and pod_security != "privileged":
        problems.add(
            reader.field("dind"),
            True,
            "the Docker-in-Docker Deployment runs a privileged container, which Pod Security "
            f"level {pod_security!r} refuses",
            f"set {reader.spelled('pod_security')}: privileged on this namespace too (the policy pack "
            "must also allow it: dindNamespaces), or drop dind",
        )
    quota = read_quantities(reader, "quota", "{requests.cpu: '8', requests.memory: 32Gi, pods: '50'}")
    settings = NamespaceSettings(
        namespace=name,
        labels=read_string_map(
            reader,
            "labels",
            value_problem=label_value_problem,
            reserved_prefixes=(LABEL_PREFIX,),
            reserved_fix=f"set {reader.spelled('pod_security')} instead",
        ),
        annotations=_read_annotations(reader),
        protect=reader.boolean("protect", defaults.protect),
        pod_security=as_level(pod_security, defaults.pod_security),
        quota=quota if reader.has("quota") else defaults.quota,
        container_defaults=read_container_defaults(reader)
        if reader.has("container_defaults")
        else defaults.container_defaults,
        workload_identity=_read_workload_identity(reader, default_project),
        network_isolation=reader.boolean("network_isolation", defaults.network_isolation),
        dind=dind,
        dind_node_type=reader.string("dind_node_type", check=label_value_problem, example="dind")
        if name_field == "namespace"
        else None,
        namespaced_system_binding=read_system_binding(reader) if name_field == "namespace" else None,
    )
    if dind and (missing := unset_quota_resources(settings.quota, settings.container_defaults)):
        problems.add(
            reader.field("dind"),
            True,
            f"the Docker-in-Docker pod sets no resources and the quota limits {', '.join(missing)}, "
            "so the quota would refuse it and the Deployment would never become ready",
            f"add {reader.spelled('container_defaults')} with "
            + ", ".join(f"{kind}.{resource}" for kind, resource in _defaults_needed(missing))
            + " (for this namespace or stack-wide)",
        )
    return settings


_QUOTA_NEEDS = {
    "cpu": ("requests", "cpu"), "requests.cpu": ("requests", "cpu"), "limits.cpu": ("limits", "cpu"),
    "memory": ("requests", "memory"), "requests.memory": ("requests", "memory"),
    "limits.memory": ("limits", "memory"), "ephemeral-storage": ("requests", "ephemeral-storage"),
    "requests.ephemeral-storage": ("requests", "ephemeral-storage"),
    "limits.ephemeral-storage": ("limits", "ephemeral-storage"),
}  # fmt: skip
"""Quota resources that make every container state a request or a limit (quota admission)."""


def _defaults_needed(quota_resources: list[str]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(_QUOTA_NEEDS[resource] for resource in quota_resources))


def unset_quota_resources(quota: Mapping[str, str], defaults: ContainerDefaults | None) -> list[str]:
    """The quota's compute resources a container without resources would lack even after the
    LimitRange (a default limit is also the default request), so the quota refuses its pod."""
    requests = set(defaults.requests) | set(defaults.limits) if defaults else set()
    limits = set(defaults.limits) if defaults else set()
    missing = []
    for resource in quota:
        if resource in _QUOTA_NEEDS:
            kind, name = _QUOTA_NEEDS[resource]
            if name not in (requests if kind == "requests" else limits):
                missing.append(resource)
    return missing
