"""The ``pulumi_policy`` adapter: each rule becomes a mandatory policy; :func:`serve` runs the pack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import PACK_NAME
from .props import UNKNOWN
from .rule import ConfigKey, ResourceRule, StackResource, StackRule
from .rules import RESOURCE_RULES, STACK_RULES


def plain(value: Any) -> Any:
    """A copy of engine props as plain dicts and lists, with unknown values as :data:`UNKNOWN`."""
    from pulumi_policy import proxy

    sentinels = {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }

    def read(container: Any, key: Any) -> Any:
        try:
            return plain(container[key])
        except proxy.UnknownValueError:
            return UNKNOWN

    if isinstance(value, str):
        return UNKNOWN if value in sentinels else value
    if isinstance(value, Mapping):
        return {key: read(value, key) for key in value}
    if isinstance(value, Sequence):
        return [read(value, index) for index in range(len(value))]
    return value


def _config_schema(keys: tuple[ConfigKey, ...]) -> Any:
    from pulumi_policy import PolicyConfigSchema

    return PolicyConfigSchema(properties={key.name: key.schema() for key in keys}) if keys else None


def _resource_policy(rule: ResourceRule) -> Any:
    from pulumi_policy import (
        EnforcementLevel,
        ReportViolation,
        ResourceValidationArgs,
        ResourceValidationPolicy,
    )

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        props = plain(args.props)
        config = args.get_config() or {}
        for message in rule.check(args.resource_type, props, bool(args.opts.protect), config):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_config_schema(rule.config_keys),
    )


def _stack_policy(rule: StackRule) -> Any:
    from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(resource.resource_type, plain(resource.props), resource.urn, resource.opts.protect)
            for resource in args.resources
        ]
        for urn, message in rule.check(resources, args.get_config() or {}):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_config_schema(rule.config_keys),
    )


def build_policies() -> list[Any]:
    """The policies of the pack, every one mandatory unless the pack config says otherwise."""
    return [*map(_resource_policy, RESOURCE_RULES), *map(_stack_policy, STACK_RULES)]


def serve() -> None:
    """Serve the pack to the engine (what ``policy/__main__.py`` runs)."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.MANDATORY)
