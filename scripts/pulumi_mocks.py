"""Pulumi's mocks answering as a provider would: inputs echoed back as state, fake computed outputs
and invoke results by type (used by the mock-engine tests, tests/support/mocks.py, and by
benchmarks/bench_components.py, which imports nothing from tests/)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi

MockFunctions = Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]


class Mocks(pulumi.runtime.Mocks):
    """Echo inputs back as state; `mock_outputs` adds fake provider-computed outputs by type, and
    `mock_calls` answers invokes by token."""

    def __init__(self, mock_outputs: MockFunctions | None = None, mock_calls: MockFunctions | None = None):
        self.mock_outputs = mock_outputs or {}
        self.mock_calls = mock_calls or {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ in self.mock_outputs:
            state.update(self.mock_outputs[args.typ](state))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token in self.mock_calls:
            return self.mock_calls[args.token](dict(args.args)), []
        return {}, []
