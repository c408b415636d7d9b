"""What a rule is: a check over one object (a resource rule) or over the whole stack (a stack rule),
with the metadata of the policy that serves it and the keys of its config."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .props import Obj, expand, strings

ObjectCheck = Callable[[Obj, Mapping[str, Any]], list[str]]
"""``(object, policy config) -> violation messages``."""


@dataclass(frozen=True)
class ConfigKey:
    """A key of a policy's config: always a list of strings, empty by default."""

    name: str
    description: str

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}, "default": [], "description": self.description}


def config_list(config: Mapping[str, Any], key: ConfigKey) -> frozenset[str]:
    """The strings listed under ``key`` in a policy's config (nothing when it is not set)."""
    return frozenset(strings(config.get(key.name)))


@dataclass(frozen=True)
class ResourceRule:
    """A rule checked on every resource; a ``*List`` resource is checked item by item."""

    name: str
    description: str
    check_object: ObjectCheck
    config_keys: tuple[ConfigKey, ...] = ()

    def check(
        self, resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
    ) -> list[str]:
        """The violations of one resource (its type token, inputs, protect option) under ``config``."""
        return [
            obj.where + message
            for obj in expand(resource_type, props, protect)
            for message in self.check_object(obj, config)
        ]


@dataclass(frozen=True)
class StackResource:
    """What a stack rule needs of one resource."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    protect: bool = False


StackCheck = Callable[[Sequence[StackResource], Mapping[str, Any]], list[tuple[str, str]]]
"""``(every resource, policy config) -> (urn, message)`` pairs."""


@dataclass(frozen=True)
class StackRule:
    """A rule that needs several resources at once (e.g. which namespaces the stack manages)."""

    name: str
    description: str
    check: StackCheck
    config_keys: tuple[ConfigKey, ...] = ()


def stack_objects(resources: Iterable[StackResource]) -> list[tuple[str, Obj]]:
    """Every object of the stack (list items included) with the urn of its resource."""
    return [
        (resource.urn, obj)
        for resource in resources
        for obj in expand(resource.resource_type, resource.props, resource.protect)
    ]
