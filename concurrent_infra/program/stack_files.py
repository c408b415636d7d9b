"""Pulumi stack files (``Pulumi.<stack>.yaml``) read the way Pulumi hands their values to a program.

Used where a stack's config is needed outside its own run: the other shards of a sharded
environment (:mod:`concurrent_infra.program.shards`) and ``verify --stack-file``. PyYAML is a dependency of
the Pulumi SDK, so the stack program has it; ``verify`` lists it in its extra.
"""

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..validation import MAX_RAW_CONFIG_BYTES, PROJECT
from .yaml_scalars import BOOLS, CANONICAL_FLOAT, CANONICAL_INT, plain_scalar_problem, yaml_v3_reading

MAX_STACK_FILE_BYTES = MAX_RAW_CONFIG_BYTES
"""Larger stack files are refused: one config value may be at most this large anyway."""

STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""A stack name as Pulumi allows it (without an organisation or project)."""

TARGET_KEYS = ("context", "cluster")
"""The ``kubernetes:*`` keys that name the target cluster, compared between shards."""

YAML_TAG = "tag:yaml.org,2002:"
"""The prefix of the standard YAML tags (``!!str`` is ``tag:yaml.org,2002:str``)."""

OTHER_KEYS = ("gcp:project", *(f"kubernetes:{key}" for key in TARGET_KEYS))
"""The keys of other namespaces that the reader hands on (:class:`StackFile`)."""


class StackFileError(ValueError):
    """A stack file that cannot be read: missing, not YAML, or without a ``config:`` map."""


@dataclass(frozen=True)
class StackFile:
    """The ``concurrent-infra:*`` values of one stack file, as raw strings."""

    path: Path
    raw: dict[str, str]
    """Key without the project prefix -> the value as Pulumi hands it to a program (strings as
    they are, everything else as JSON)."""
    gcp_project: str | None = None
    """``gcp:project``: the default project of ``cluster`` and ``workloadIdentity``."""
    target: dict[str, str] = field(default_factory=dict)
    """The plain ``kubernetes:context`` and ``kubernetes:cluster`` values (:data:`TARGET_KEYS`)."""


def stack_name_problem(name: str) -> str | None:
    """Why ``name`` is not a stack name of this project, or None."""
    if STACK_NAME.fullmatch(name) is None:
        return "a stack name has 1 to 100 letters, digits, '_', '.' or '-' (no organisation or project)"
    return None


def project_key(full_key: str, project: str = PROJECT) -> str | None:
    """``project:key`` (or Pulumi's older ``project:config:key``) -> ``key``; None for another
    project's key."""
    prefix = f"{project}:"
    return full_key[len(prefix) :].removeprefix("config:") if full_key.startswith(prefix) else None


def raw_values(config: Mapping[Any, Any], project: str = PROJECT) -> dict[str, str]:
    """The ``project:*`` values of a stack file's ``config:`` map, as Pulumi hands them to a
    program: strings as they are, a null (``~``, nothing) as ``''``, everything else as JSON (key
    without the project prefix). go-yaml v3 does not call ``config.Value.UnmarshalYAML`` for a
    null (go-yaml/yaml v3.0.1 decode.go ``prepare``), so the value stays the zero ``Value``, ``''``
    (measured: pulumi v3.274.1 hands ``Config().get`` ``''``); a null inside a list or map is
    JSON ``null``.

    Pulumi also reads a key without ``:`` as the project's (pulumi/pulumi sdk v3.274.1,
    sdk/go/common/workspace/loaders.go ``stackConfigNamespacedWithProject``), and ``project:config:x``
    as ``project:x`` (sdk/go/common/resource/config/key.go ``ParseKey``). When one key is written in
    two of these forms, Pulumi keeps whichever Go's random map order visits last
    (config/map.go ``Map.UnmarshalYAML``; loaders.go too): no reading is right, so the file is
    refused."""
    raw: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for full_key, value in config.items():
        if isinstance(full_key, str) and ":" not in full_key:
            key: str | None = full_key
        else:
            key = project_key(full_key, project) if isinstance(full_key, str) else None
        if key is None:
            continue
        if key in spelled:
            raise StackFileError(
                f"{spelled[key]} and {full_key} set the same key, and Pulumi keeps either one at "
                f"random; keep one of them (write {project}:{key})"
            )
        spelled[key] = str(full_key)
        if isinstance(value, Mapping) and "secure" in value:
            raise StackFileError(
                f"{full_key} is encrypted (secure:), and only its own stack can decrypt it; keep "
                f"the {project}:* keys of a shard in plain text (none of them is a secret)"
            )
        try:
            raw[key] = value if isinstance(value, str) else "" if value is None else json.dumps(value)
        except (TypeError, ValueError, RecursionError) as error:
            raise StackFileError(
                f"{full_key} holds a value Pulumi cannot hand to a program ({type(error).__name__}: "
                f"{str(error)[:200]}); write strings, numbers, booleans, lists and maps"
            ) from None
    return raw


@cache
def _stack_file_loader() -> Any:
    """A SafeLoader that resolves only the plain scalars it reads as Pulumi's go-yaml v3 does
    (:mod:`concurrent_infra.program.yaml_scalars`): ``true``/``false``, nulls, decimal integers and
    fractions; every other scalar is a string, and :func:`_value_problem` refuses those go-yaml
    reads otherwise (``08``, ``0x1F``, ``1e3``, dates). It refuses aliases (``*name``): an alias of
    an alias of ... expands exponentially once the values are turned into JSON, and stack files do
    not need them."""
    import yaml

    class StackFileLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            """Refuse a key set twice in one map, as yaml.v3 does ("mapping key already defined");
            PyYAML would keep the last."""
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"mapping key {key!r} is set twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not supported", mark)
            return super().compose_node(parent, index)

    StackFileLoader.yaml_implicit_resolvers = {}
    resolvers = (
        ("bool", "|".join(BOOLS), "tTfF"),
        ("null", "~|null|Null|NULL|", ["~", "n", "N", ""]),
        ("int", CANONICAL_INT.pattern, "-0123456789"),
        ("float", CANONICAL_FLOAT.pattern, "-0123456789"),
    )
    for tag, pattern, first in resolvers:
        StackFileLoader.add_implicit_resolver(f"{YAML_TAG}{tag}", re.compile(f"^(?:{pattern})$"), list(first))
    return StackFileLoader


def _is_config_key(key: str, project: str = PROJECT) -> bool:
    """A key whose value the stack-file reader hands on: the project's and :data:`OTHER_KEYS`."""
    return (bool(key) and ":" not in key) or project_key(key, project) is not None or key in OTHER_KEYS


def _value_problem(node: Any, where: str, loader: Any) -> str | None:
    """Why a value of a stack file (``node``, composed by :func:`_stack_file_loader`, at key
    path ``where``) would be read otherwise than Pulumi reads it, or None."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        plain = node.style is None
        if node.tag != loader.resolve(yaml.ScalarNode, node.value, (plain, not plain)):
            return _tag_problem(where, node.tag)
        problem = plain_scalar_problem(node.value) if plain else None
        if problem is not None:
            return (
                f"{where}: {node.value} is {problem}; quote it ('{node.value}') to keep the text as written"
            )
        return None
    if isinstance(node, yaml.SequenceNode) and node.tag == f"{YAML_TAG}seq":
        for index, item in enumerate(node.value):
            if (problem := _value_problem(item, f"{where}[{index}]", loader)) is not None:
                return problem
        return None
    if isinstance(node, yaml.MappingNode) and node.tag == f"{YAML_TAG}map":
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            plain_key = key_node.style is None
            if key_node.tag != f"{YAML_TAG}str" or (
                plain_key and (key == "<<" or not isinstance(yaml_v3_reading(key), str))
            ):
                return (
                    f"{where}: the map key {key} is not read as text by Pulumi (YAML 1.2); quote it ('{key}')"
                )
            if (problem := _value_problem(value_node, f"{where}.{key}", loader)) is not None:
                return problem
        return None
    return _tag_problem(where, node.tag)


def _tag_problem(where: str, tag: str) -> str:
    short = f"!!{tag.removeprefix(YAML_TAG)}" if tag.startswith(YAML_TAG) else tag
    return f"{where}: the YAML tag {short} is not supported; remove it (and quote the value if it is text)"


def _load(text: str) -> Any:
    """The YAML document ``text``; :class:`StackFileError` names a value of a key this reader
    hands on (:func:`_is_config_key`) that Pulumi would read otherwise."""
    import yaml

    loader = _stack_file_loader()(text)
    try:
        node = loader.get_single_node()
        config = None
        if isinstance(node, yaml.MappingNode):
            config = next((v for k, v in node.value if getattr(k, "value", None) == "config"), None)
        if isinstance(config, yaml.MappingNode):
            for key_node, value_node in config.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
                problem = _value_problem(value_node, key, loader) if _is_config_key(key) else None
                if problem is not None:
                    raise StackFileError(problem)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``, a regular file (not a link, device or pipe) of at most
    :data:`MAX_STACK_FILE_BYTES`."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if path.is_symlink():
            raise StackFileError(f"{str(path)!r}: a symbolic link; give the stack file itself") from None
        raise StackFileError(f"{str(path)!r}: cannot read it: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise StackFileError(f"{str(path)!r}: not a regular file; give the stack file itself")
        data = file.read(MAX_STACK_FILE_BYTES + 1)
    if len(data) > MAX_STACK_FILE_BYTES:
        raise StackFileError(
            f"{str(path)!r}: larger than {MAX_STACK_FILE_BYTES} bytes, the most a stack file of this "
            "project may hold (split its namespaces across more shards)"
        )
    return data


def read_stack_file(path: Path) -> StackFile:
    """Read ``path``; :class:`StackFileError` says what is wrong with it."""
    import yaml

    data = _read_regular_file(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StackFileError(
            f"{str(path)!r}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    try:
        document = _load(text)  # a SafeLoader, see _stack_file_loader
    except StackFileError as error:
        raise StackFileError(f"{str(path)!r}: {error}") from None
    except (yaml.YAMLError, RecursionError) as error:
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise StackFileError(f"{str(path)!r}: not valid YAML: {why}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(
            f"{str(path)!r}: no 'config:' map; give a Pulumi stack file (Pulumi.<stack>.yaml)"
        )
    try:
        raw = raw_values(config)
    except StackFileError as error:
        raise StackFileError(f"{str(path)!r}: {error}") from None
    gcp_project = config.get("gcp:project")
    target = {key: value for key in TARGET_KEYS if isinstance(value := config.get(f"kubernetes:{key}"), str)}
    return StackFile(path, raw, gcp_project if isinstance(gcp_project, str) else None, target)


def stack_file_path(directory: Path, stack: str) -> Path:
    """Where Pulumi keeps the config of ``stack`` in ``directory`` (the project's stackConfigDir)."""
    return directory / f"Pulumi.{stack}.yaml"


def stack_of_file(path: Path) -> str | None:
    """The stack whose file ``path`` is (``Pulumi.<stack>.yaml``), or None for another name."""
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        return None
    stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
    return stack if stack_name_problem(stack) is None else None


def stack_config_dir(project_root: Path) -> Path:
    """The project's stack config directory: ``stackConfigDir`` of its ``Pulumi.yaml``, else its root."""
    import yaml

    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = project_root / name
        if path.is_file():
            project = yaml.safe_load(path.read_text(encoding="utf-8"))
            configured = project.get("stackConfigDir") if isinstance(project, dict) else None
            return project_root / configured if isinstance(configured, str) else project_root
    return project_root
