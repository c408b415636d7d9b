"""Read the output of ``pulumi preview --json`` (one document, or streamed events) into plain steps.

Shapes, from Pulumi's source (github.com/pulumi/pulumi):

- ``--json``: one object, ``display.PreviewDigest`` (``pkg/display/json.go``): ``steps`` (``op``,
  ``urn``, ``oldState``/``newState`` as ``apitype.ResourceV3`` with ``type``, ``inputs``,
  ``outputs``, ``protect``, ``retainOnDelete``; ``diffReasons``, ``replaceReasons``,
  ``detailedDiff``), ``diagnostics`` (``urn``, ``message``, ``severity``) and ``changeSummary``.
  It leaves out unchanged resources (op ``same``) unless ``--show-sames``, and policy events
  altogether (``pkg/backend/display/json.go``, ``ShowPreviewDigest``).
- ``--json`` with ``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true`` (``ShowJSONEvents``; the same
  lines as ``--event-log FILE`` where a CLI has it): one ``apitype.EngineEvent`` per line
  (``sdk/go/common/apitype/events.go``):
  ``resourcePreEvent.metadata`` (``op``, ``urn``, ``type``, ``old``/``new``, ``keys``, ``diffs``,
  ``detailedDiff``), ``diagnosticEvent``, ``policyEvent`` (policy name, enforcement level,
  message) and ``summaryEvent``. It has every step (``same`` ones too) and the policy violations.

Computed values (unknown until the update) are the placeholder :data:`UNKNOWN` in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's placeholder for a value not known during a preview (``computedValuePlaceholder``,
``pkg/resource/stack/deployment.go``)."""

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
REFRESH_OP = "refresh"
IGNORED_OPS = frozenset({"read", "read-replacement", "discard", "discard-replaced", "refresh"})
"""Steps that change nothing the program manages (reads of external objects, refreshes)."""


class PreviewError(ValueError):
    """The input is not a usable preview; the message says why and what to pass instead."""


@dataclass(frozen=True)
class State:
    """A resource's state before or after a step: what the review reads of ``apitype.ResourceV3``."""

    urn: str
    type: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    custom: bool = True

    def value(self, *path: str) -> Any:
        """The value at ``path`` of the inputs (what the program asks for), else of the outputs;
        None when absent or unknown."""
        for source in (self.inputs, self.outputs):
            found = _dig(source, path)
            if found is not None and found != UNKNOWN:
                return found
        return None


@dataclass(frozen=True)
class Step:
    """One step the engine plans."""

    op: str
    urn: str
    type: str
    old: State | None
    new: State | None
    diff_reasons: tuple[str, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    changed_paths: tuple[str, ...] = ()
    """The property paths of ``detailedDiff`` (what differs, e.g. ``metadata.labels["..."]``)."""

    @property
    def name(self) -> str:
        """The resource's Pulumi name (the last part of its URN)."""
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class PolicyViolation:
    """A policy pack's finding (only in an event log; ``--json`` leaves them out)."""

    policy: str
    pack: str
    level: str
    urn: str
    message: str


@dataclass(frozen=True)
class Preview:
    """The steps of one preview, its errors and its policy violations."""

    steps: tuple[Step, ...]
    errors: tuple[str, ...] = ()
    violations: tuple[PolicyViolation, ...] = ()
    change_summary: Mapping[str, int] = field(default_factory=dict)

    @property
    def project(self) -> str:
        """The Pulumi project, from the URNs (``urn:pulumi:<stack>::<project>::...``)."""
        return _urn_part(self.steps[0].urn, 1) if self.steps else ""

    @property
    def stack(self) -> str:
        """The stack, from the URNs."""
        return _urn_part(self.steps[0].urn, 0) if self.steps else ""


def _dig(source: Any, path: Iterable[str]) -> Any:
    for key in path:
        if not isinstance(source, Mapping):
            return None
        source = source.get(key)
    return source


def _urn_part(urn: str, index: int) -> str:
    parts = urn.removeprefix("urn:pulumi:").split("::")
    return parts[index] if len(parts) > index else ""


def _state(raw: Any) -> State | None:
    if not isinstance(raw, Mapping):
        return None
    inputs = raw.get("inputs")
    outputs = raw.get("outputs")
    return State(
        urn=str(raw.get("urn", "")),
        type=str(raw.get("type", "")),
        inputs=inputs if isinstance(inputs, Mapping) else {},
        outputs=outputs if isinstance(outputs, Mapping) else {},
        protect=bool(raw.get("protect", False)),
        retain_on_delete=bool(raw.get("retainOnDelete", False)),
        custom=bool(raw.get("custom", True)),
    )


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in raw) if isinstance(raw, list) else ()


def _step(
    op: Any, urn: Any, type_: Any, old: Any, new: Any, diffs: Any, keys: Any, detailed: Any = None
) -> Step:
    if not isinstance(op, str) or not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        raise PreviewError(f"a step has no op or no Pulumi URN (op {op!r}, urn {urn!r})")
    old_state, new_state = _state(old), _state(new)
    if not isinstance(type_, str) or not type_:
        state = new_state or old_state
        type_ = state.type if state is not None and state.type else _urn_part(urn, 2).split("$")[-1]
    paths = tuple(sorted(str(key) for key in detailed)) if isinstance(detailed, Mapping) else ()
    return Step(op, urn, str(type_), old_state, new_state, _strings(diffs), _strings(keys), paths)


def _from_digest(digest: Mapping[str, Any]) -> Preview:
    steps = digest.get("steps") or []
    if not isinstance(steps, list):
        raise PreviewError("'steps' is not a list")
    parsed = []
    for raw in steps:
        if not isinstance(raw, Mapping):
            raise PreviewError("a step is not an object")
        state = raw.get("newState") or raw.get("oldState") or {}
        parsed.append(
            _step(
                raw.get("op"),
                raw.get("urn"),
                state.get("type") if isinstance(state, Mapping) else None,
                raw.get("oldState"),
                raw.get("newState"),
                raw.get("diffReasons"),
                raw.get("replaceReasons"),
                raw.get("detailedDiff"),
            )
        )
    diagnostics = digest.get("diagnostics") or []
    errors = tuple(
        str(item.get("message", "")).strip()
        for item in diagnostics
        if isinstance(item, Mapping) and item.get("severity") == "error"
    )
    summary = digest.get("changeSummary")
    return Preview(tuple(parsed), errors, (), summary if isinstance(summary, Mapping) else {})


def _from_events(events: list[Mapping[str, Any]]) -> Preview:
    steps: list[Step] = []
    errors: list[str] = []
    violations: list[PolicyViolation] = []
    summary: Mapping[str, int] = {}
    for event in events:
        if isinstance(pre := event.get("resourcePreEvent"), Mapping):
            meta = pre.get("metadata") or {}
            steps.append(
                _step(
                    meta.get("op"),
                    meta.get("urn"),
                    meta.get("type"),
                    meta.get("old"),
                    meta.get("new"),
                    meta.get("diffs"),
                    meta.get("keys"),
                    meta.get("detailedDiff"),
                )
            )
        elif isinstance(diag := event.get("diagnosticEvent"), Mapping):
            if diag.get("severity") == "error" and not diag.get("ephemeral"):
                errors.append(f"{diag.get('prefix', '')}{diag.get('message', '')}".strip())
        elif isinstance(policy := event.get("policyEvent"), Mapping):
            violations.append(
                PolicyViolation(
                    policy=str(policy.get("policyName", "")),
                    pack=str(policy.get("policyPackName", "")),
                    level=str(policy.get("enforcementLevel", "")),
                    urn=str(policy.get("resourceUrn", "")),
                    message=str(policy.get("message", "")).strip(),
                )
            )
        elif isinstance(done := event.get("summaryEvent"), Mapping):
            changes = done.get("resourceChanges")
            summary = changes if isinstance(changes, Mapping) else {}
    return Preview(tuple(steps), tuple(errors), tuple(violations), summary)


NOT_A_PREVIEW = (
    "pass the output of `pulumi preview --json` (a document, or events with "
    "PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true)"
)


def parse_preview(text: str) -> Preview:
    """The preview in ``text``: ``pulumi preview --json`` output or an event log.

    Raises PreviewError for anything else, or a preview without a single step.
    """
    text = text.strip()
    if not text:
        raise PreviewError(f"the input is empty; {NOT_A_PREVIEW}")
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if document is None:
        try:
            document = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise PreviewError(
                f"the input is not JSON (line {error.lineno}: {error.msg}); {NOT_A_PREVIEW}. "
                "Run pulumi with --json alone: the text display cannot be read"
            ) from None
    if isinstance(document, Mapping) and "sequence" in document:
        document = [document]  # an event log of one line
    if isinstance(document, Mapping) and ("steps" in document or "changeSummary" in document):
        preview = _from_digest(document)
    elif (
        isinstance(document, list)
        and document
        and all(isinstance(event, Mapping) and "sequence" in event for event in document)
    ):
        preview = _from_events(document)
    else:
        raise PreviewError(f"the input is JSON but not a Pulumi preview (no 'steps'); {NOT_A_PREVIEW}")
    if not preview.steps:
        raise PreviewError(
            "the preview has no steps, not even the stack's: the program registered nothing or the "
            "preview failed before it ran (see its diagnostics); run pulumi preview again"
            + (f". Its errors: {' | '.join(preview.errors)}" if preview.errors else "")
        )
    return preview
