"""Pulumi stack files (``Pulumi.<stack>.yaml``) read the way Pulumi hands their values to a program.

Used where a stack's config is needed outside its own run: the other shards of a sharded
environment (:mod:`concurrent_infra.shards`) and ``verify --stack-file``. PyYAML is a dependency of
the Pulumi SDK, so the stack program has it; ``verify`` lists it in its extra.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .validation import CONFIG_PREFIX

MAX_STACK_FILE_BYTES = 4 * 1024 * 1024
"""Larger stack files are refused: the config of a stack is at most a few hundred KB."""

STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""A stack name as Pulumi allows it (without an organisation or project)."""


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


def stack_name_problem(name: str) -> str | None:
    """Why ``name`` is not a stack name of this project, or None."""
    if STACK_NAME.fullmatch(name) is None:
        return "a stack name has 1 to 100 letters, digits, '_', '.' or '-' (no organisation or project)"
    return None


def raw_values(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``concurrent-infra:*`` values of a stack file's ``config:`` map, as Pulumi hands them to a
    program: strings as they are, everything else as JSON (key without the project prefix)."""
    raw: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(key, str) and key.startswith(CONFIG_PREFIX):
            raw[key.removeprefix(CONFIG_PREFIX)] = value if isinstance(value, str) else json.dumps(value)
    return raw


def _load_yaml_without_aliases(text: str) -> Any:
    """``yaml.safe_load``, refusing aliases (``*name``): an alias of an alias of ... expands
    exponentially once the values are turned into JSON; stack files do not need them."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not supported", mark)
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader without aliases


def read_stack_file(path: Path) -> StackFile:
    """Read ``path``; :class:`StackFileError` says what is wrong with it."""
    import yaml

    try:
        size = path.stat().st_size
        if size > MAX_STACK_FILE_BYTES:
            raise StackFileError(
                f"{str(path)!r}: {size} bytes; a stack file of this project is at most "
                f"{MAX_STACK_FILE_BYTES} bytes (split its namespaces across more shards)"
            )
        document = _load_yaml_without_aliases(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StackFileError(f"{str(path)!r}: cannot read it: {error.strerror or error}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise StackFileError(f"{str(path)!r}: not valid YAML: {error}") from error
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(
            f"{str(path)!r}: no 'config:' map; give a Pulumi stack file (Pulumi.<stack>.yaml)"
        )
    gcp_project = config.get("gcp:project")
    return StackFile(path, raw_values(config), gcp_project if isinstance(gcp_project, str) else None)


def stack_file_path(directory: Path, stack: str) -> Path:
    """Where Pulumi keeps the config of ``stack`` in ``directory`` (the project's stackConfigDir)."""
    return directory / f"Pulumi.{stack}.yaml"


def stack_of_file(path: Path) -> str | None:
    """The stack whose file ``path`` is (``Pulumi.<stack>.yaml``), or None for another name."""
    name = path.name
    for suffix in (".yaml", ".yml"):
        if name.startswith("Pulumi.") and name.endswith(suffix):
            stack = name.removeprefix("Pulumi.").removesuffix(suffix)
            return stack if stack_name_problem(stack) is None else None
    return None


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
