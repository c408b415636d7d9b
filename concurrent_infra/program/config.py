"""Stack config -> the components' validated settings, before any resource is registered.

:func:`parse_stack_config` is pure: it takes the raw config values (the strings Pulumi hands a
program) and returns a :class:`StackConfig` holding each component's settings, or raises
:class:`ConfigError` listing every problem, each naming the key, the bad value and the fix. It
validates with the same readers the components run on their args (one code path), so the stack
program hands the settings to the components as they are (their ``from_settings``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..kube.names import DIND_NODE_TYPE
from ..kube.namespace_settings import (
    NamespaceDefaults,
    NamespaceSettings,
    SystemBinding,
    read_container_defaults,
    read_namespace,
    read_quantities,
)
from ..kube.pod_security import as_level, pod_security_level_problem
from ..kube.system_role import SystemRoleSettings, read_system_role_subjects
from ..validation import PROJECT, KeyStyle, ObjectReader, Problems, decode
from ..validation import ConfigError as ConfigError
from .config_keys import TOP_LEVEL_FIELDS
from .gke_cluster import GkeStackCluster, dind_placement_problem, parse_cluster_config
from .stack_files import stack_name_problem

SET_LIST_HINT = (
    f"set a list with: pulumi config set --path '{PROJECT}:namespaces[0]' parallelsns "
    "(one line per namespace: [0], [1], ...), or write it as a YAML list in the stack file"
)

SYSTEM_ROLE_SCOPES = ("cluster", "namespaces")


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack program needs from config: validated, as the components' settings."""

    namespaces: tuple[NamespaceSettings, ...]
    system_role: SystemRoleSettings | None
    """The SystemRole's settings; None when this stack does not create the system role."""
    system_role_scope: str = SYSTEM_ROLE_SCOPES[0]
    """``cluster``: the group and users are bound cluster-wide (upstream); ``namespaces``: in each
    namespace of the stack (``namespaced_system_binding`` of every namespace's settings)."""
    adopt_existing: bool = False
    cluster: GkeStackCluster | None = None
    """A GKE cluster to create and deploy onto; None deploys onto the ``kubernetes:*`` cluster."""
    shards: tuple[str, ...] = ()
    """The stacks of this project that split the cluster's namespaces, this one included
    (:mod:`concurrent_infra.program.shards`); empty: this stack holds all of them."""


def _namespace_defaults(reader: ObjectReader) -> NamespaceDefaults:
    """The stack-wide keys that are defaults of every namespace's."""
    base = NamespaceDefaults()
    level = reader.string(
        "pod_security", base.pod_security, check=pod_security_level_problem, example="baseline"
    )
    return NamespaceDefaults(
        protect=reader.boolean("protect_namespaces", base.protect),
        pod_security=as_level(level, base.pod_security),
        quota=read_quantities(reader, "quota", "{requests.cpu: '8', requests.memory: 32Gi}"),
        container_defaults=read_container_defaults(reader),
        network_isolation=reader.boolean("network_isolation", base.network_isolation),
    )


def _parse_namespaces(
    value: Any, given: bool, defaults: NamespaceDefaults, default_project: str | None, problems: Problems
) -> tuple[NamespaceSettings, ...]:
    if value is None and given:
        return ()  # set, but refused by decode (too large or too deep): that problem is reported
    if value is None:
        problems.add("namespaces", None, "required: the namespaces to prepare for Concurrent", SET_LIST_HINT)
        return ()
    if not isinstance(value, list):
        why = "a single value where a list belongs" if isinstance(value, str) else "expected a list"
        problems.add("namespaces", value, why, SET_LIST_HINT)
        return ()
    if not value:
        problems.add("namespaces", value, "the list is empty", SET_LIST_HINT)
    specs: list[NamespaceSettings] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        key = f"namespaces[{index}]"
        name_key = key if isinstance(entry, str) else None
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            problems.add(
                key,
                entry,
                "expected a namespace name or an object {name, labels?, annotations?, protect?, ...}",
                f"pulumi config set --path '{PROJECT}:{key}' parallelsns",
            )
            continue
        spec = read_namespace(
            entry, key, problems, KeyStyle.CAMEL, defaults, default_project, name_key=name_key
        )
        if spec is None:
            continue
        if spec.namespace in seen:
            problems.add(
                key,
                spec.namespace,
                f"duplicate of namespaces[{seen[spec.namespace]}]",
                "list each namespace once",
            )
            continue
        seen[spec.namespace] = index
        specs.append(spec)
    return tuple(specs)


def _scope_problem(scope: str) -> str | None:
    return None if scope in SYSTEM_ROLE_SCOPES else "one of cluster (default) or namespaces"


def _read_shards(reader: ObjectReader) -> tuple[str, ...]:
    shards = reader.strings("shards", example="prod, prod-2", check=stack_name_problem)
    listed = reader.raw("shards")
    if shards and isinstance(listed, list):  # indexes of the list as written
        for index, stack in enumerate(listed):
            if stack in listed[:index]:
                reader.problems.add(f"shards[{index}]", stack, "listed twice", "list each stack once")
    return shards


def place_dind(
    namespaces: tuple[NamespaceSettings, ...], cluster: GkeStackCluster, problems: Problems, where: str = ""
) -> tuple[NamespaceSettings, ...]:
    """The namespaces, their DinD pods placed on the ``dind`` pool of the GKE cluster the stack (or
    its system-role shard) creates; refused when the cluster has no such pool."""
    dind = [settings.namespace for settings in namespaces if settings.dind]
    if dind_placement_problem(dind, cluster, problems, where) or not dind:
        return namespaces
    return tuple(
        replace(settings, dind_node_type=DIND_NODE_TYPE) if settings.dind else settings
        for settings in namespaces
    )


def parse_stack_config(raw: Mapping[str, str], gcp_project: str | None = None) -> StackConfig:
    """Validate the raw config of this project (key without project prefix -> raw string value).

    ``gcp_project`` is the ``gcp:project`` config: the default project of a ``cluster`` and of
    each namespace's ``workloadIdentity``.
    """
    problems = Problems()
    values = {key: decode(text, key, problems) for key, text in raw.items()}
    reader = ObjectReader(values, "", TOP_LEVEL_FIELDS, problems, KeyStyle.CAMEL)
    cluster = (
        parse_cluster_config(values["cluster"], gcp_project, problems) if reader.has("cluster") else None
    )
    namespaces = _parse_namespaces(
        values.get("namespaces"),
        "namespaces" in raw,
        _namespace_defaults(reader),
        cluster.project if cluster is not None else gcp_project,
        problems,
    )
    users, groups = read_system_role_subjects(reader)
    scope = reader.string(
        "system_role_scope", StackConfig.system_role_scope, check=_scope_problem, example="namespaces"
    )
    create_system_role = reader.boolean("create_system_role", True)
    system_role: SystemRoleSettings | None = None
    if scope == "namespaces":
        binding = SystemBinding(users=users, groups=groups)
        namespaces = tuple(replace(spec, namespaced_system_binding=binding) for spec in namespaces)
    if create_system_role:
        system_role = SystemRoleSettings(
            users=users,
            groups=groups,
            cluster_wide_binding=scope != "namespaces",
            dind_priority_class=any(spec.dind for spec in namespaces),
        )
    elif (users or groups) and scope != "namespaces":
        problems.add(
            "systemRoleUsers" if users else "systemRoleGroups",
            list(users or groups),
            "this stack does not create the system role (createSystemRole: false)",
            "set them in the stack that creates it, or set systemRoleScope: namespaces to bind them "
            "in this stack's namespaces",
        )
    shards = _read_shards(reader)
    if system_role is None and (users or groups) and scope == "namespaces" and not shards:
        problems.add(
            "systemRoleUsers" if users else "systemRoleGroups",
            list(users or groups),
            "this stack binds them to the system role in its namespaces, but the namespace guard is "
            "made by the stack that creates the system role (createSystemRole: true) and holds back "
            "only that stack's subjects: these could delete or relabel this stack's namespaces",
            f"make both stacks shards of one environment ({PROJECT}:shards lists them in each "
            'stack file; docs/operations.md, "Sharding"): every shard then binds the same subjects '
            "and the guard holds them back; or remove them here (Group "
            "k8s-role-for-parallels-lambda-group is bound, and guarded, without them)",
        )
    if system_role is None and cluster is not None and not shards:
        problems.add(
            "cluster",
            cluster.name,
            "this stack creates the GKE cluster but not the system role (createSystemRole: false); "
            "the cluster's control-plane service account would be bound to the system role where "
            "no namespace guard holds it back",
            "create the system role in the stack that creates the cluster (createSystemRole: true, "
            "the default)",
        )
    if cluster is not None:
        namespaces = place_dind(namespaces, cluster, problems)
    config = StackConfig(
        namespaces=namespaces,
        system_role=system_role,
        system_role_scope=scope or StackConfig.system_role_scope,
        # cluster.adoptExisting (a GkeCluster arg) means the same as the stack's adoptExisting.
        adopt_existing=reader.boolean("adopt_existing", StackConfig.adopt_existing)
        or bool(cluster and cluster.settings.adopt_existing),
        cluster=cluster,
        shards=shards,
    )
    problems.raise_if_any()
    return config
