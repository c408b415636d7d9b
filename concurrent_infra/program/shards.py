"""Sharding: one cluster's namespaces split across several stacks of this project.

A stack evaluates and diffs all of its namespaces on every ``preview`` and ``up``, so a change to
one namespace costs as much as the whole stack (docs/benchmarks.md). Past about a hundred namespaces,
list them in several stacks ("shards") instead: each shard's stack file names every shard in
``concurrent-infra:shards`` (itself included), exactly one shard creates the system role, no
namespace is in two shards, and all of them bind the system role the same way. A change then
previews and updates only its shard, and the shards deploy in parallel jobs.

:func:`join_environment` checks those rules on the parsed configs (pure);
:func:`load_environment` reads the other shards' stack files first. Each shard checks the whole
environment it is part of, so a mistake fails the preview of every shard it involves, before
anything is registered.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..validation import PROJECT, Problems, show
from .config import ConfigError, StackConfig, parse_stack_config, place_dind
from .gke_cluster import dind_placement_problem
from .stack_files import TARGET_KEYS, StackFileError, read_stack_file, stack_file_path

MOVING = 'docs/operations.md, "Moving a namespace between shards"'


@dataclass(frozen=True)
class Shard:
    """One stack of a sharded environment: its name, parsed config, and where that came from."""

    stack: str
    config: StackConfig
    source: str
    """For messages: ``this stack`` or the stack file's path."""
    target: Mapping[str, str] = field(default_factory=dict)
    """Its plain ``kubernetes:context`` and ``kubernetes:cluster`` values."""


def system_role_subjects(config: StackConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The extra users and groups a stack binds to the system role (cluster-wide or per namespace)."""
    role = config.system_role
    if role is not None and config.system_role_scope == "cluster":
        return role.users, role.groups
    binding = next((ns.namespaced_system_binding for ns in config.namespaces), None)
    return (binding.users, binding.groups) if binding is not None else ((), ())


def _shard_key(this: StackConfig, stack: str) -> str:
    return f"shards[{this.shards.index(stack)}]"


def _membership_problems(
    this_stack: str, this: StackConfig, others: Sequence[Shard], problems: Problems
) -> None:
    """The shards' lists, and namespaces in two shards."""
    if this_stack not in this.shards:
        problems.add(
            "shards",
            list(this.shards),
            f"does not list this stack, {this_stack!r}",
            f"list every shard, this one included: {json.dumps([this_stack, *this.shards])}",
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


def _cluster_problems(this: Shard, others: Sequence[Shard], problems: Problems) -> None:
    """One system role, one GKE cluster (created with it), one target cluster."""
    everyone = (this, *others)
    holders = [shard.stack for shard in everyone if shard.config.system_role is not None]
    if not holders:
        problems.add(
            "createSystemRole",
            False,
            f"no shard of {show(list(this.config.shards))} creates the system role",
            "set createSystemRole: true (the default) in exactly one shard",
        )
    elif len(holders) > 1 and this.config.system_role is not None:
        problems.add(
            "createSystemRole",
            True,
            f"shards {show(holders)} all create the system role; one cluster has one",
            f"keep it in one shard and set {PROJECT}:createSystemRole false in the others",
        )
    if this.config.cluster is not None:
        creators = [shard.stack for shard in everyone if shard.config.cluster is not None]
        if len(creators) > 1:
            problems.add(
                "cluster",
                this.config.cluster.name,
                f"shards {show(creators)} each create a GKE cluster; shards share one cluster",
                "create it in the shard with the system role only; the others target it with "
                "kubernetes:context or kubernetes:kubeconfig",
            )
        elif this.config.system_role is None:
            problems.add(
                "cluster",
                this.config.cluster.name,
                "this shard creates the GKE cluster but not the system role, which its control-plane "
                "service account is bound to",
                "create the cluster in the shard with the system role (createSystemRole: true)",
            )
    for other in others:
        for key in TARGET_KEYS:
            mine, theirs = this.target.get(key), other.target.get(key)
            if mine is not None and theirs is not None and mine != theirs:
                problems.add_unprefixed(
                    f"kubernetes:{key}",
                    mine,
                    f"shard {other.stack!r} targets {theirs!r}; the shards of an environment share a cluster",
                    "target the same cluster from every shard, or use separate environments (no shards key)",
                )


def _binding_problems(this: StackConfig, others: Sequence[Shard], problems: Problems) -> None:
    """Every shard binds the system role the same way."""
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


def environment_problems(
    this_stack: str,
    this: StackConfig,
    others: Sequence[Shard],
    problems: Problems,
    this_target: Mapping[str, str] | None = None,
) -> None:
    """Record every way ``this`` shard and the ``others`` break the sharding rules."""
    _membership_problems(this_stack, this, others, problems)
    _cluster_problems(Shard(this_stack, this, "this stack", this_target or {}), others, problems)
    _binding_problems(this, others, problems)


def join_environment(
    this_stack: str,
    this: StackConfig,
    others: Sequence[Shard],
    this_target: Mapping[str, str] | None = None,
) -> StackConfig:
    """``this`` shard's config, checked against the ``others``: :class:`ConfigError` lists every
    problem. What the environment adds: the shard with the system role also creates the
    Docker-in-Docker PriorityClass when a namespace of any shard has ``dind``; with
    ``systemRoleScope: namespaces``, every shard binds the GKE control-plane account the shard
    with the cluster creates, as that shard does."""
    problems = Problems()
    environment_problems(this_stack, this, others, problems, this_target)
    problems.raise_if_any()
    joined = this
    cluster = next((o.config.cluster for o in others if o.config.cluster is not None), None)
    if cluster is not None:
        placed = place_dind(this.namespaces, cluster, problems, " (in this shard)")
        if placed is not this.namespaces:
            joined = replace(joined, namespaces=placed)
    elif this.cluster is not None:
        for other in others:
            dind = [ns.namespace for ns in other.config.namespaces if ns.dind]
            dind_placement_problem(dind, this.cluster, problems, f" (in shard {other.stack!r})")
    problems.raise_if_any()
    if this.system_role is not None and any(ns.dind for other in others for ns in other.config.namespaces):
        joined = replace(joined, system_role=replace(this.system_role, dind_priority_class=True))
    account = cluster.control_plane if cluster is not None else None
    if account is not None and this.system_role_scope == "namespaces":
        email = account.email
        joined = replace(
            joined,
            namespaces=tuple(
                replace(ns, namespaced_system_binding=replace(binding, users=(email, *binding.users)))
                if (binding := ns.namespaced_system_binding) is not None
                else ns
                for ns in joined.namespaces
            ),
        )
    return joined


def read_shards(this_stack: str, this: StackConfig, directory: Path) -> list[Shard]:
    """The other shards of ``this`` stack, parsed from their stack files in ``directory``.

    :class:`ConfigError` when one cannot be read or is refused by the parser (each of its
    problems is listed, after the shard's name and file)."""
    problems = Problems()
    shards: list[Shard] = []
    for index, stack in enumerate(this.shards):
        if stack == this_stack:
            continue
        path = stack_file_path(directory, stack)
        try:
            stack_file = read_stack_file(path)
            config = parse_stack_config(stack_file.raw, stack_file.gcp_project)
        except StackFileError as error:
            problems.add(
                f"shards[{index}]",
                stack,
                str(error),
                f"give stack {stack} its stack file (pulumi stack init {stack}, then its namespaces), "
                f"or remove {stack!r} from shards",
            )
            continue
        except ConfigError as error:
            problems.add_from(f"shard {stack!r} ({str(path)!r}, shards[{index}])", error.problems)
            continue
        shards.append(Shard(stack, config, repr(str(path)), stack_file.target))
    problems.raise_if_any()
    return shards


def load_environment(
    this_stack: str, this: StackConfig, directory: Path, this_target: Mapping[str, str] | None = None
) -> StackConfig:
    """:func:`join_environment` of ``this`` stack with the other shards' stack files in ``directory``
    (the project's stackConfigDir)."""
    return join_environment(this_stack, this, read_shards(this_stack, this, directory), this_target)


def environment_configs(
    this_stack: str, this: StackConfig, directory: Path, this_target: Mapping[str, str] | None = None
) -> Mapping[str, StackConfig]:
    """Every shard's checked config, by stack name (``this`` alone when it lists no shards)."""
    if not this.shards:
        return {this_stack: this}
    others = read_shards(this_stack, this, directory)
    joined = {this_stack: join_environment(this_stack, this, others, this_target)}
    this_shard = Shard(this_stack, this, "this stack", this_target or {})
    for other in others:
        rest = [shard for shard in others if shard is not other] + [this_shard]
        try:
            joined[other.stack] = join_environment(other.stack, other.config, rest, other.target)
        except ConfigError as error:
            problems = Problems()
            problems.add_from(f"shard {other.stack!r} ({other.source})", error.problems)
            problems.raise_if_any()
    return joined
