"""Run Pulumi programs under the mock engine and record every registration with its options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _sync_await

from scripts.pulumi_mocks import MockFunctions as MockFunctions
from scripts.pulumi_mocks import Mocks as Mocks

T = TypeVar("T")


@dataclass(frozen=True)
class Registration:
    """One RegisterResource call as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    dependencies: tuple[str, ...]
    provider: str
    transforms: int
    """How many resource transforms the program registered on this resource (the engine runs them)."""

    @property
    def k8s_name(self) -> str | None:
        name: str | None = self.inputs.get("metadata", {}).get("name")
        return name

    @property
    def k8s_namespace(self) -> str | None:
        namespace: str | None = self.inputs.get("metadata", {}).get("namespace")
        return namespace


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps each registration, with the options MockResourceArgs drops."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=rpc.deserialize_properties(request.object),
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    dependencies=tuple(request.dependencies),
                    provider=request.provider,
                    transforms=len(request.transforms),
                )
            )
        return response


@dataclass
class Run:
    """The outcome of :func:`run_program`."""

    monitor: RecordingMonitor
    exports: dict[str, Any]

    @property
    def registrations(self) -> list[Registration]:
        return self.monitor.registrations

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, type_: str, k8s_name: str) -> Registration:
        matches = [r for r in self.of_type(type_) if r.k8s_name == k8s_name]
        assert len(matches) == 1, f"expected one {type_} named {k8s_name}, got {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.registrations if r.urn == urn)


def is_secret(value: Any) -> bool:
    """Whether an Output is marked secret (so Pulumi encrypts it in state and masks it in logs)."""
    return bool(_sync_await(pulumi.Output.from_input(value).is_secret()))


def resolve(value: Any) -> Any:
    """The plain value of an Input (Outputs awaited, nested structures included)."""
    return _sync_await(pulumi.Output.from_input(value).future())


def run_program(
    program: Callable[[], T],
    config: Mapping[str, str] | None = None,
    mock_outputs: MockFunctions | None = None,
    monitor: RecordingMonitor | None = None,
    mock_calls: MockFunctions | None = None,
) -> tuple[T, Run]:
    """Run ``program`` under mocks with ``config`` (full keys, e.g. ``concurrent-infra:namespaces``).

    Pass ``monitor`` to inspect the registrations even when the program raises.
    """
    mocks = Mocks(mock_outputs, mock_calls)
    monitor = monitor or RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(dict(config or {}))
    pulumi.runtime.set_mocks(mocks, project="concurrent-infra", stack="test", preview=False, monitor=monitor)
    run = Run(monitor=monitor, exports={})
    results: list[T] = []

    original_export = pulumi.export

    def record_export(name: str, value: Any) -> None:
        run.exports[name] = value

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def body() -> None:
        pulumi.export = record_export
        try:
            results.append(program())
        finally:
            pulumi.export = original_export

    body()
    return results[0], run
