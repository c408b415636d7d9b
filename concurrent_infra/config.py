"""Stack config: parsed and validated in one place, before any resource is registered.

:func:`parse_stack_config` is pure: it takes the raw config values (the strings Pulumi hands a
program) and returns a :class:`StackConfig`, or raises :class:`ConfigError` listing every
problem, each naming the key, the bad value and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .gke.cluster_config import ClusterSpec, parse_cluster_config
from .kube.labels import COMMON_LABELS, label_value_problem, metadata_key_problem
from .kube.names import namespace_name_problem, suggest_namespace_name
from .validation import PROJECT, ObjectReader, Problems, decode
from .validation import ConfigError as ConfigError

NAMESPACE_KEYS: frozenset[str] = frozenset({"name", "labels", "annotations", "protect"})

SET_LIST_HINT = (
    f"set a list with: pulumi config set --path '{PROJECT}:namespaces[0]' parallelsns "
    "(one line per namespace: [0], [1], ...), or write it as a YAML list in the stack file"
)


@dataclass(frozen=True)
class NamespaceSpec:
    """One Concurrent namespace as the stack config describes it."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    protect: bool = True


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack program needs from config, validated."""

    namespaces: tuple[NamespaceSpec, ...]
    create_system_role: bool = True
    adopt_existing: bool = False
    system_role_users: tuple[str, ...] = ()
    cluster: ClusterSpec | None = None
    """A GKE cluster to create and deploy onto; None deploys onto the ``kubernetes:*`` cluster."""


def _parse_bool(raw: str | None, key: str, default: bool, problems: Problems) -> bool:
    if raw is None:
        return default
    if raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    problems.add(key, raw, "expected a boolean", f"pulumi config set {PROJECT}:{key} true (or false)")
    return default


def _parse_string_map(
    value: Any,
    key: str,
    problems: Problems,
    value_problem: Callable[[str], str | None] | None,
) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.add(
            key, value, "expected a map of string keys to string values", "write it as {key: value, ...}"
        )
        return {}
    result: dict[str, str] = {}
    for item_key, item_value in value.items():
        where = f"{key}.{item_key}"
        key_problem = metadata_key_problem(item_key)
        if key_problem:
            problems.add(where, item_key, "not a valid key", key_problem)
        elif item_key in COMMON_LABELS:
            problems.add(where, item_value, "this label is set by the package", f"remove '{item_key}'")
        elif not isinstance(item_value, str):
            problems.add(where, item_value, "expected a string", f"quote it: '{item_key}': \"{item_value}\"")
        elif value_problem and (why := value_problem(item_value)):
            problems.add(where, item_value, "not a valid value", why)
        else:
            result[item_key] = item_value
    return result


def _parse_namespace(entry: Any, key: str, default_protect: bool, problems: Problems) -> NamespaceSpec | None:
    name_key = key if isinstance(entry, str) else f"{key}.name"
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        problems.add(
            key,
            entry,
            "expected a namespace name or an object {name, labels?, annotations?, protect?}",
            f"pulumi config set --path '{PROJECT}:{key}' parallelsns",
        )
        return None
    reader = ObjectReader(entry, key, NAMESPACE_KEYS, problems)
    name = entry.get("name")
    if not isinstance(name, str):
        problems.add(name_key, name, "every namespace needs a name (a string)", "add name: <namespace>")
        return None
    why = namespace_name_problem(name)
    if why:
        problems.add(
            name_key,
            name,
            f"not a valid namespace name: {why}",
            f"use a name such as '{suggest_namespace_name(name)}'",
        )
        return None
    protect = reader.boolean("protect", default_protect)
    return NamespaceSpec(
        name=name,
        labels=_parse_string_map(entry.get("labels", {}), f"{key}.labels", problems, label_value_problem),
        annotations=_parse_string_map(entry.get("annotations", {}), f"{key}.annotations", problems, None),
        protect=protect,
    )


def _parse_namespaces(
    raw: str | None, default_protect: bool, problems: Problems
) -> tuple[NamespaceSpec, ...]:
    if raw is None:
        problems.add("namespaces", None, "required: the namespaces to prepare for Concurrent", SET_LIST_HINT)
        return ()
    value = decode(raw, "namespaces", problems)
    if value is None:
        return ()
    if not isinstance(value, list):
        why = "a single value where a list belongs" if isinstance(value, str) else "expected a list"
        problems.add("namespaces", value, why, SET_LIST_HINT)
        return ()
    if not value:
        problems.add("namespaces", value, "the list is empty", SET_LIST_HINT)
    specs: list[NamespaceSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        spec = _parse_namespace(entry, f"namespaces[{index}]", default_protect, problems)
        if spec is None:
            continue
        if spec.name in seen:
            problems.add(
                f"namespaces[{index}]",
                spec.name,
                f"duplicate of namespaces[{seen[spec.name]}]",
                "list each namespace once",
            )
            continue
        seen[spec.name] = index
        specs.append(spec)
    return tuple(specs)


def _parse_users(raw: str | None, problems: Problems) -> tuple[str, ...]:
    if raw is None:
        return ()
    value = decode(raw, "systemRoleUsers", problems)
    if not isinstance(value, list) or not all(isinstance(user, str) and user for user in value):
        problems.add(
            "systemRoleUsers",
            value,
            "expected a list of user names (e.g. Google service account emails)",
            f"pulumi config set --path '{PROJECT}:systemRoleUsers[0]' NAME",
        )
        return ()
    return tuple(value)


KNOWN_KEYS: Mapping[str, str] = {
    "namespaces": "Namespaces to prepare: names, or objects {name, labels?, annotations?, protect?}.",
    "createSystemRole": "Create the cluster-wide system role (false for a second stack on the same cluster).",
    "adoptExisting": "Adopt objects that already exist (a cluster prepared by hand) instead of failing.",
    "protectNamespaces": "Default for each namespace's protect: protected namespaces are never deleted.",
    "systemRoleUsers": "Extra users (e.g. Google service account emails) bound to the system role.",
    "cluster": "A GKE cluster to create: {name, location, project?, nodePools?, ...} (README, GKE).",
}
"""Every config key of this project, with what it is for (also declared in Pulumi.yaml)."""


def parse_stack_config(raw: Mapping[str, str], gcp_project: str | None = None) -> StackConfig:
    """Validate the raw config of this project (key without project prefix -> raw string value).

    ``gcp_project`` is the ``gcp:project`` config, the default project of a ``cluster``.
    """
    problems = Problems()
    problems.unknown_keys("", {key: raw[key] for key in raw}, KNOWN_KEYS, "this project's config")
    protect = _parse_bool(raw.get("protectNamespaces"), "protectNamespaces", True, problems)
    config = StackConfig(
        namespaces=_parse_namespaces(raw.get("namespaces"), protect, problems),
        create_system_role=_parse_bool(raw.get("createSystemRole"), "createSystemRole", True, problems),
        adopt_existing=_parse_bool(raw.get("adoptExisting"), "adoptExisting", False, problems),
        system_role_users=_parse_users(raw.get("systemRoleUsers"), problems),
        cluster=parse_cluster_config(decode(raw["cluster"], "cluster", problems), gcp_project, problems)
        if "cluster" in raw
        else None,
    )
    problems.raise_if_any()
    return config
