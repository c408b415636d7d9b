"""Bad-input helpers: the namespaces config and the check that an error names the key, the value
and the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from concurrent_infra import ConcurrentNamespace


def raw(**values: Any) -> dict[str, str]:
    """Raw stack config: strings stay as they are, anything else becomes JSON text."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def namespaces(*entries: Any, **others: Any) -> dict[str, str]:
    return raw(namespaces=list(entries), **others)


def assert_names_key_value_and_fix(problems: list[str], key: str, value: str, fix: str) -> None:
    """One of ``problems`` is about ``key`` (as the message spells it), shows ``value`` (the start of
    its JSON) and gives a fix containing ``fix``."""
    about_key = [problem for problem in problems if problem.split(" = ", 1)[0].endswith(key)]
    assert about_key, f"no problem about {key!r} in {problems}"
    for problem in about_key:
        shown, _, fixed = problem.split(" = ", 1)[1].partition("; fix: ")
        if shown.startswith(value) and fix in fixed:
            return
    raise AssertionError(
        f"no problem about {key!r} shows {value!r} with a fix containing {fix!r}: {about_key}"
    )


def team_a(**args: Any) -> Callable[[], object]:
    return lambda: ConcurrentNamespace("t", {"namespace": "team-a", **args})  # type: ignore[typeddict-item]
