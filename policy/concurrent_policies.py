"""Deprecated: the names the pack's rules had before they were split by concern.

The rules now live in :mod:`policy.concurrent_infra_policy`; this module keeps the names that
``tests/test_gke.py`` uses until it imports ``check_stack`` from there. Do not add to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .concurrent_infra_policy import PACK_NAME
from .concurrent_infra_policy.rule import StackResource
from .concurrent_infra_policy.rules import RESOURCE_RULES, STACK_RULES


def user_binding_roles_read_only(resources: Iterable[StackResource]) -> list[tuple[str, str]]:
    """The violations of the stack rules (``(urn, message)``), with no policy config."""
    resources = list(resources)
    return [violation for rule in STACK_RULES for violation in rule.check(resources, {})]


__all__ = ["PACK_NAME", "RESOURCE_RULES", "StackResource", "user_binding_roles_read_only"]
