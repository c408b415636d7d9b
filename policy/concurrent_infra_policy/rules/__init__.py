"""Every rule of the pack, by concern: :mod:`.rbac`, :mod:`.namespaces`, :mod:`.gke`, :mod:`.tenancy`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..rule import ResourceRule, StackResource, StackRule
from . import gke, namespaces, rbac, tenancy

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    *rbac.RULES,
    *namespaces.RULES,
    *gke.RULES,
    *tenancy.RESOURCE_RULES,
)
STACK_RULES: tuple[StackRule, ...] = (
    *rbac.STACK_RULES,
    *namespaces.STACK_RULES,
    *tenancy.STACK_RULES,
    *gke.STACK_RULES,
)


@dataclass(frozen=True)
class Violation:
    """One violation: the policy, the resource's urn and the message."""

    policy: str
    urn: str
    message: str


def check_stack(
    resources: Iterable[StackResource], config: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Violation]:
    """Every violation of every rule for a whole stack, without the engine.

    ``config`` maps a policy name to its config (as in a ``--policy-pack-config`` file). Used by
    the tests (the package's own objects comply) and handy in a program's own tests.
    """
    resources = list(resources)
    config = config or {}
    violations = [
        Violation(rule.name, resource.urn, message)
        for resource in resources
        for rule in RESOURCE_RULES
        for message in rule.check(
            resource.resource_type, resource.props, resource.protect, config.get(rule.name, {})
        )
    ]
    for stack_rule in STACK_RULES:
        violations.extend(
            Violation(stack_rule.name, urn, message)
            for urn, message in stack_rule.check(resources, config.get(stack_rule.name, {}))
        )
    return violations
