"""Stack config: parsed and validated in one place, before any resource is registered.

:func:`parse_stack_config` is pure: it takes the raw config values (the strings Pulumi hands a
program) and returns a :class:`StackConfig`, or raises :class:`ConfigError` listing every
problem, each naming the key, the bad value and the fix.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .labels import COMMON_LABELS, label_value_problem, metadata_key_problem
from .names import namespace_name_problem, suggest_namespace_name

PROJECT = "concurrent-infra"
"""The project name, which is also the namespace of this project's config keys."""

NAMESPACE_KEYS: frozenset[str] = frozenset({"name", "labels", "annotations", "protect"})

SET_LIST_HINT = (
    f"set a list with: pulumi config set --path '{PROJECT}:namespaces[0]' parallelsns "
    "(one line per namespace: [0], [1], ...), or write it as a YAML list in the stack file"
)


class ConfigError(ValueError):
    """Stack config that cannot be deployed; ``problems`` holds one message per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem(s)):\n{lines}")


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


class Problems:
    """Collects config problems so that one run reports all of them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, key: str, value: Any, why: str, fix: str) -> None:
        """Record that ``key`` holds ``value``, wrong because ``why``; ``fix`` says how to mend it."""
        self.messages.append(f"{PROJECT}:{key} = {json.dumps(value)}: {why}; fix: {fix}")

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError(self.messages)


def _decode(raw: str) -> Any:
    """Pulumi hands structured config over as JSON text, and scalars as plain text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


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
    for unknown in sorted(set(entry) - NAMESPACE_KEYS):
        close = difflib.get_close_matches(unknown, sorted(NAMESPACE_KEYS), n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"use only {', '.join(sorted(NAMESPACE_KEYS))}"
        problems.add(f"{key}.{unknown}", entry[unknown], "unknown key in a namespace object", fix)
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
    protect = entry.get("protect", default_protect)
    if not isinstance(protect, bool):
        problems.add(f"{key}.protect", protect, "expected a boolean", "write protect: true or protect: false")
        protect = default_protect
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
    value = _decode(raw)
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
    value = _decode(raw)
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
}
"""Every config key of this project, with what it is for (also declared in Pulumi.yaml)."""


def _check_unknown_keys(raw: Mapping[str, str], problems: Problems) -> None:
    for key in sorted(set(raw) - set(KNOWN_KEYS)):
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
        fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(KNOWN_KEYS))}"
        problems.add(key, _decode(raw[key]), "unknown config key", fix)


def parse_stack_config(raw: Mapping[str, str]) -> StackConfig:
    """Validate the raw config of this project (key without project prefix -> raw string value)."""
    problems = Problems()
    _check_unknown_keys(raw, problems)
    protect = _parse_bool(raw.get("protectNamespaces"), "protectNamespaces", True, problems)
    config = StackConfig(
        namespaces=_parse_namespaces(raw.get("namespaces"), protect, problems),
        create_system_role=_parse_bool(raw.get("createSystemRole"), "createSystemRole", True, problems),
        adopt_existing=_parse_bool(raw.get("adoptExisting"), "adoptExisting", False, problems),
        system_role_users=_parse_users(raw.get("systemRoleUsers"), problems),
    )
    problems.raise_if_any()
    return config
