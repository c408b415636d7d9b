"""One validation path for the stack config and the components' args.

Every check reports a problem that names the key, the bad value and the fix, and one run reports
all of them. The same readers validate a stack config object (camelCase keys, messages prefixed
``concurrent-infra:``) and a component's args (snake_case keys in Python, messages prefixed with
the component), so a bad value is refused the same way whichever door it comes through, before
any resource is registered. Input is bounded: deeply nested or oversized values are refused with
a message, never a traceback.
"""

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, NoReturn, overload

PROJECT = "concurrent-infra"
"""The project name, which is also the namespace of this project's config keys."""

CONFIG_PREFIX = f"{PROJECT}:"

MAX_DEPTH = 8
"""The deepest nesting any config value or argument of this package needs is 4
(``namespaces[0].containerDefaults.requests.cpu``); deeper input is a mistake or an attack."""

MAX_RAW_CONFIG_BYTES = 1024 * 1024
"""A config value larger than this is refused before it is parsed."""

MAX_SHOWN_VALUE = 80
"""Values are shortened to this many characters in messages."""


class KeyStyle(Enum):
    """How keys are spelled where the input comes from."""

    CAMEL = "camel"
    """Stack config and every non-Python language: ``podSecurity``."""
    SNAKE = "snake"
    """Python args: ``pod_security``."""

    def spell(self, snake_name: str) -> str:
        """``snake_name`` as this style spells it."""
        if self is KeyStyle.SNAKE:
            return snake_name
        head, *rest = snake_name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)


class ConfigError(ValueError):
    """Input that cannot be deployed; ``problems`` holds one message per mistake."""

    def __init__(self, problems: list[str], what: str = "stack config") -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid {what} ({len(problems)} problem(s)):\n{lines}")


def show(value: Any) -> str:
    """``value`` as JSON for a message, shortened to :data:`MAX_SHOWN_VALUE` characters."""
    try:
        text = json.dumps(value, default=repr)
    except (ValueError, RecursionError):
        text = repr(type(value))
    if len(text) > MAX_SHOWN_VALUE:
        text = f"{text[: MAX_SHOWN_VALUE - 20]}...({len(text)} characters)"
    return text


class Problems:
    """Collects problems so that one run reports all of them.

    ``prefix`` starts every key in a message: ``concurrent-infra:`` for the stack config,
    ``ConcurrentNamespace('team-a') args.`` for a component.
    """

    def __init__(self, prefix: str = CONFIG_PREFIX, what: str = "stack config") -> None:
        self.prefix = prefix
        self.what = what
        self.messages: list[str] = []

    def add(self, key: str, value: Any, why: str, fix: str) -> None:
        """Record that ``key`` holds ``value``, wrong because ``why``; ``fix`` says how to mend it."""
        self.add_unprefixed(f"{self.prefix}{key}", value, why, fix)

    def add_unprefixed(self, key: str, value: Any, why: str, fix: str) -> None:
        """:meth:`add` for a key outside this project, written in full (``kubernetes:context``)."""
        self.messages.append(f"{key} = {show(value)}: {why}; fix: {fix}")

    def add_from(self, where: str, messages: Iterable[str]) -> None:
        """Record the problems another input reported (each already names its key, value and
        fix), each after ``where``, which says whose they are."""
        self.messages.extend(f"{where}: {message}" for message in messages)

    def unknown_keys(self, key: str, value: Mapping[str, Any], known: Iterable[str], what: str) -> None:
        """Report each key of ``value`` not in ``known`` (typos get a did-you-mean)."""
        known = sorted(known)
        for unknown in sorted(set(value) - set(known), key=str):
            close = difflib.get_close_matches(str(unknown), known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"use only {', '.join(known)}"
            where = f"{key}.{unknown}" if key else str(unknown)
            self.add(where, value[unknown], f"unknown key in {what}", fix)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError(self.messages, self.what)


def component_problems(component: str, name: str) -> Problems:
    """Problems of a component's args: messages start with ``Component('name') args.``."""
    return Problems(prefix=f"{component}({name!r}) args.", what=f"{component} args")


def component_args_problems(component: str, name: str, args: Any, example: str) -> Problems:
    """The Problems of a component's args, after the checks every component makes first: the args
    are a dict (``example`` shows one) and no field is nested too deeply. Raises ConfigError."""
    problems = component_problems(component, name)
    if not isinstance(args, dict):
        refuse(problems, "", args, "expected a dict of args", f"{component}(name, {example})")
    refuse_deep_args(args, problems)
    return problems


def refuse(problems: Problems, key: str, value: Any, why: str, fix: str) -> NoReturn:
    """Record one problem and raise with everything recorded so far."""
    problems.add(key, value, why, fix)
    problems.raise_if_any()
    raise AssertionError("unreachable")


def depth_problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why ``value`` is nested too deeply, or None (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return f"it is nested more than {limit} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


def refuse_deep_args(args: Mapping[str, Any], problems: Problems) -> None:
    """Raise when a field of a component's args is nested too deeply (before any reader walks it)."""
    for key, value in args.items():
        if why := depth_problem(value, MAX_DEPTH - 1):
            problems.add(
                str(key), value, why, "pass plain values: the args of this package are at most 4 levels deep"
            )
    problems.raise_if_any()


def decode(raw: str, key: str, problems: Problems) -> Any:
    """A raw config value: Pulumi hands structured config over as JSON text, scalars as plain text.

    Oversized or too deeply nested values are recorded as problems and read as None.
    """
    fix = "keep config values small and flat; see docs/configuration.md for each key's shape"
    if len(raw) > MAX_RAW_CONFIG_BYTES:
        problems.add(key, raw, f"it has {len(raw)} characters; at most {MAX_RAW_CONFIG_BYTES}", fix)
        return None
    try:
        value = json.loads(raw)
    except RecursionError:
        problems.add(key, raw, f"it is nested more than {MAX_DEPTH} levels deep", fix)
        return None
    except ValueError:
        return raw
    if why := depth_problem(value):
        problems.add(key, raw, why, fix)
        return None
    return value


class ObjectReader:
    """Reads the typed fields of one object, recording problems instead of raising.

    Fields are named in snake_case; ``style`` says how the input spells them (and so how
    messages name them).
    """

    def __init__(
        self,
        value: Mapping[str, Any],
        key: str,
        known: Iterable[str],
        problems: Problems,
        style: KeyStyle = KeyStyle.CAMEL,
    ) -> None:
        self.value = value
        self.key = key
        self.problems = problems
        self.style = style
        problems.unknown_keys(key, value, [style.spell(name) for name in known], key or "the args")

    def spelled(self, name: str) -> str:
        """Field ``name`` as the input spells it."""
        return self.style.spell(name)

    def field(self, name: str) -> str:
        """The full key of field ``name`` (for messages and nested readers)."""
        spelled = self.spelled(name)
        return f"{self.key}.{spelled}" if self.key else spelled

    def has(self, name: str) -> bool:
        """Whether field ``name`` is set (an explicit null counts as absent)."""
        return self.value.get(self.spelled(name)) is not None

    def raw(self, name: str) -> Any:
        return self.value.get(self.spelled(name))

    @overload
    def string(
        self, name: str, default: str, check: Callable[[str], str | None] | None = None, example: str = ...
    ) -> str: ...

    @overload
    def string(
        self,
        name: str,
        default: None = None,
        check: Callable[[str], str | None] | None = None,
        example: str = ...,
    ) -> str | None: ...

    def string(
        self,
        name: str,
        default: str | None = None,
        check: Callable[[str], str | None] | None = None,
        example: str = "VALUE",
    ) -> str | None:
        """A string field; ``check`` returns why a value is wrong (the fix names ``example``).

        An explicit null counts as absent, so it takes ``default``; so does a wrong value (its
        problem is recorded), so with a ``default`` the result is always a string.
        """
        value = self.raw(name)
        spelled = self.spelled(name)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problems.add(self.field(name), value, "expected a string", f'write {spelled}: "{example}"')
            return default
        if check and (why := check(value)):
            self.problems.add(self.field(name), value, why, f"e.g. {spelled}: {example}")
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
        if self.raw(name) is None and default is None:
            self.problems.add(self.field(name), None, why, fix)
            return None
        return self.string(name, default, check, example)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problems.add(
                self.field(name), value, "expected a boolean", f"write {self.spelled(name)}: true or false"
            )
            return default
        return value

    def integer(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        too_big = maximum is not None and isinstance(value, int) and value > maximum
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
            bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
            self.problems.add(
                self.field(name),
                value,
                f"expected a whole number {bounds}",
                f"e.g. {self.spelled(name)}: {default}",
            )
            return default
        return value

    def strings(
        self,
        name: str,
        example: str = "VALUE",
        check: Callable[[str], str | None] | None = None,
        max_items: int = 100,
    ) -> tuple[str, ...]:
        """A list of non-empty strings; ``check`` is applied to each (problems name the index)."""
        value = self.raw(name)
        if value is None:
            return ()
        spelled = self.spelled(name)
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item for item in value):
            fix = f"e.g. {spelled}: [{example}]"
            self.problems.add(self.field(name), value, "expected a list of strings", fix)
            return ()
        if len(value) > max_items:
            self.problems.add(
                self.field(name), value, f"it has {len(value)} items; at most {max_items}", "list fewer"
            )
            return ()
        good = []
        for index, item in enumerate(value):
            if check and (why := check(item)):
                self.problems.add(f"{self.field(name)}[{index}]", item, why, f"e.g. {spelled}: [{example}]")
            else:
                good.append(item)
        return tuple(good)

    def object(self, name: str) -> Mapping[str, Any] | None:
        """A nested object field, or None when absent (a wrong type is recorded)."""
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            fix = f"write {self.spelled(name)}: {{key: value, ...}}"
            self.problems.add(self.field(name), value, "expected an object", fix)
            return None
        return value

    def reader(self, name: str, known: Iterable[str]) -> "ObjectReader | None":
        """A reader of the nested object ``name`` (same style), or None when absent or not an object."""
        value = self.object(name)
        if value is None:
            return None
        return ObjectReader(value, self.field(name), known, self.problems, self.style)
