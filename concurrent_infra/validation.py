"""Building blocks for config validation: collect problems, read typed fields of config objects.

Every problem names the key, the bad value and the fix; one run reports all of them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from typing import Any

PROJECT = "concurrent-infra"
"""The project name, which is also the namespace of this project's config keys."""


class ConfigError(ValueError):
    """Stack config that cannot be deployed; ``problems`` holds one message per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack config ({len(problems)} problem(s)):\n{lines}")


class Problems:
    """Collects config problems so that one run reports all of them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, key: str, value: Any, why: str, fix: str) -> None:
        """Record that ``key`` holds ``value``, wrong because ``why``; ``fix`` says how to mend it."""
        self.messages.append(f"{PROJECT}:{key} = {json.dumps(value)}: {why}; fix: {fix}")

    def unknown_keys(self, key: str, value: dict[str, Any], known: Iterable[str], what: str) -> None:
        """Report each key of ``value`` not in ``known`` (typos get a did-you-mean)."""
        known = sorted(known)
        for unknown in sorted(set(value) - set(known)):
            close = difflib.get_close_matches(unknown, known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"use only {', '.join(known)}"
            self.add(f"{key}.{unknown}" if key else unknown, value[unknown], f"unknown key in {what}", fix)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError(self.messages)


def decode(raw: str) -> Any:
    """Pulumi hands structured config over as JSON text, and scalars as plain text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class ObjectReader:
    """Reads the typed fields of one config object, recording problems instead of raising."""

    def __init__(self, value: dict[str, Any], key: str, known: Iterable[str], problems: Problems) -> None:
        self.value = value
        self.key = key
        self.problems = problems
        problems.unknown_keys(key, value, known, key)

    def _field(self, name: str) -> str:
        return f"{self.key}.{name}"

    def string(
        self,
        name: str,
        default: str | None = None,
        check: Callable[[str], str | None] | None = None,
        example: str = "VALUE",
    ) -> str | None:
        """A string field; ``check`` returns why a value is wrong (the fix names ``example``).

        An explicit null counts as absent, so it takes ``default``.
        """
        value = self.value.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problems.add(self._field(name), value, "expected a string", f'write {name}: "{example}"')
            return default
        if check and (why := check(value)):
            self.problems.add(self._field(name), value, why, f"e.g. {name}: {example}")
            return default
        return value

    def required_string(
        self,
        name: str,
        fix: str,
        default: str | None = None,
        check: Callable[[str], str | None] | None = None,
        example: str = "VALUE",
        why: str = "required",
    ) -> str | None:
        """A string field that must be set (or have a ``default``); ``why`` and ``fix`` say so if not."""
        if self.value.get(name) is None and default is None:
            self.problems.add(self._field(name), None, why, fix)
            return None
        return self.string(name, default, check, example)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.value.get(name, default)
        if not isinstance(value, bool):
            self.problems.add(self._field(name), value, "expected a boolean", f"write {name}: true or false")
            return default
        return value

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.value.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problems.add(
                self._field(name), value, f"expected a whole number >= {minimum}", f"e.g. {name}: {default}"
            )
            return default
        return value

    def strings(self, name: str, example: str = "VALUE") -> tuple[str, ...]:
        value = self.value.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            self.problems.add(
                self._field(name), value, "expected a list of strings", f"e.g. {name}: [{example}]"
            )
            return ()
        return tuple(value)

    def object(self, name: str) -> dict[str, Any] | None:
        """A nested object field, or None when absent (a wrong type is recorded)."""
        value = self.value.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problems.add(
                self._field(name), value, "expected an object", f"write {name}: {{key: value, ...}}"
            )
            return None
        return value
