"""Sharding: one cluster's namespaces split across several stacks of this project.

A stack evaluates and diffs all of its namespaces on every ``preview`` and ``up``, so a change to
one namespace costs as much as the whole stack (README, "Scale"). Past a few hundred namespaces,
list them in several stacks ("shards") instead: each shard's stack file names every shard in
``concurrent-infra:shards`` (itself included), exactly one shard creates the system role, no
namespace is in two shards, and all of them bind the system role the same way. A change then
previews and updates only its shard, and the shards deploy in parallel jobs.

:func:`join_environment` checks those rules on the parsed configs (pure);
:func:`load_environment` reads the other shards' stack files first. Each shard checks the whole
environment, so a mistake fails the preview of every shard, before anything is registered.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .config import ConfigError, StackConfig, parse_stack_config
from .stack_files import StackFileError, read_stack_file, stack_file_path
from .validation import PROJECT, Problems, show

MOVING = 'README, "Moving a namespace between shards"'


@dataclass(frozen=True)
class Shard:
    """One stack of a sharded environment: its name, parsed config, and where that came from."""

    stack: str
    config: StackConfig
    source: str
    """For messages: ``this stack`` or the stack file's path."""


def system_role_subjects(config: StackConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The extra users and groups a stack binds to the system role (cluster-wide or per namespace)."""
    role = config.system_role
    if role is not None and config.system_role_scope == "cluster":
        return tuple(role.get("extra_users", ())), tuple(role.get("extra_groups", ()))
    binding = next((ns.namespaced_system_binding for ns in config.namespaces), None)
    return (binding.users, binding.groups) if binding is not None else ((), ())


def _shard_key(this: StackConfig, stack: str) -> str:
    return f"shards[{this.shards.index(stack)}]"


def environment_problems(
    this_stack: str, this: StackConfig, others: Sequence[Shard], problems: Problems
) -> None:
    """Record every way ``this`` and the ``others`` shards break the sharding rules."""
    shards = list(this.shards)
    if this_stack not in this.shards:
        problems.add(
            "shards",
            shards,
            f"does not list this stack, {this_stack!r}",
            f"list every shard, this one included: {show([this_stack, *shards])}",
        )
    for other in others:
        if set(other.config.shards) != set(this.shards):
            problems.add(
                _shard_key(this, other.stack),
                other.stack,
                f"its stack file {other.source} lists shards {show(list(other.config.shards))}",
                "list the same stacks in every shard's concurrent-infra:shards",
            )
    owners = {ns.namespace: other for other in others for ns in other.config.namespaces}
    for index, settings in enumerate(this.namespaces):
        owner = owners.get(settings.namespace)
        if owner is not None:
            problems.add(
                f"namespaces[{index}]",
                settings.namespace,
                f"also in shard {owner.stack!r} ({owner.source}); two stacks would fight over its objects",
                f"keep each namespace in exactly one shard; to move one, see {MOVING}",
            )
    everyone = (Shard(this_stack, this, "this stack"), *others)
    holders = [shard.stack for shard in everyone if shard.config.system_role is not None]
    if not holders:
        problems.add(
            "createSystemRole",
            False,
            f"no shard of {show(shards)} creates the system role",
            "set createSystemRole: true (the default) in exactly one shard",
        )
    elif len(holders) > 1 and this.system_role is not None:
        problems.add(
            "createSystemRole",
            True,
            f"shards {show(holders)} all create the system role; one cluster has one",
            f"keep it in one shard and set {PROJECT}:createSystemRole false in the others",
        )
    subjects = system_role_subjects(this)
    for other in others:
        if other.config.system_role_scope != this.system_role_scope:
            problems.add(
                "systemRoleScope",
                this.system_role_scope,
                f"shard {other.stack!r} uses {other.config.system_role_scope!r}",
                "use the same systemRoleScope in every shard",
            )
        elif this.system_role_scope == "namespaces":
            theirs = system_role_subjects(other.config)
            for key, mine, their in (
                ("systemRoleUsers", subjects[0], theirs[0]),
                ("systemRoleGroups", subjects[1], theirs[1]),
            ):
                if set(mine) != set(their):
                    problems.add(
                        key,
                        list(mine),
                        f"shard {other.stack!r} binds {show(list(their))} in its namespaces",
                        f"give every shard the same {key} (systemRoleScope: namespaces binds them "
                        "in each shard's own namespaces)",
                    )


def join_environment(this_stack: str, this: StackConfig, others: Sequence[Shard]) -> StackConfig:
    """``this`` shard's config, checked against the ``others``: :class:`ConfigError` lists every
    problem. The shard with the system role also creates the Docker-in-Docker PriorityClass when a
    namespace of any shard has ``dind``."""
    problems = Problems()
    environment_problems(this_stack, this, others, problems)
    problems.raise_if_any()
    dind_elsewhere = any(ns.dind for other in others for ns in other.config.namespaces)
    if this.system_role is not None and dind_elsewhere:
        return replace(this, system_role={**this.system_role, "dind_priority_class": True})
    return this


def read_shards(this_stack: str, this: StackConfig, directory: Path) -> list[Shard]:
    """The other shards of ``this`` stack, parsed from their stack files in ``directory``.

    :class:`ConfigError` when one cannot be read or is refused by the parser."""
    problems = Problems()
    shards: list[Shard] = []
    for index, stack in enumerate(this.shards):
        if stack == this_stack:
            continue
        path = stack_file_path(directory, stack)
        fix = f"create it (pulumi stack init {stack}, then its namespaces) or remove {stack!r} from shards"
        try:
            stack_file = read_stack_file(path)
            config = parse_stack_config(stack_file.raw, stack_file.gcp_project)
        except StackFileError as error:
            problems.add(f"shards[{index}]", stack, str(error), fix)
            continue
        except ConfigError as error:
            problems.add(
                f"shards[{index}]",
                stack,
                f"its stack file {str(path)!r} is refused: {'; '.join(error.problems)}",
                f"mend it (pulumi preview --stack {stack} shows the same problems)",
            )
            continue
        shards.append(Shard(stack, config, repr(str(path))))
    problems.raise_if_any()
    return shards


def load_environment(this_stack: str, this: StackConfig, directory: Path) -> StackConfig:
    """:func:`join_environment` of ``this`` stack with the other shards' stack files in ``directory``
    (the project's stackConfigDir)."""
    return join_environment(this_stack, this, read_shards(this_stack, this, directory))


def environment_configs(this_stack: str, this: StackConfig, directory: Path) -> Mapping[str, StackConfig]:
    """Every shard's checked config, by stack name (``this`` alone when it lists no shards)."""
    if not this.shards:
        return {this_stack: this}
    others = read_shards(this_stack, this, directory)
    joined = {this_stack: join_environment(this_stack, this, others)}
    for other in others:
        rest = [shard for shard in others if shard is not other] + [Shard(this_stack, this, "this stack")]
        joined[other.stack] = join_environment(other.stack, other.config, rest)
    return joined
