"""The ``guard`` area: the namespace guard policy and its binding, each spec exactly the package's
(compared in the API's spelling, server defaults tolerated)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...kube.guardrails import (
    namespace_guard_binding_spec,
    namespace_guard_policy_spec,
)
from ...kube.names import (
    NAMESPACE_GUARD_POLICY,
)
from ..api import ClusterApi
from ..expectations import ClusterExpectation
from .result import CheckResult

_LABEL_MAPS = frozenset({"match_labels"})
"""Argument names whose map keys are label keys, kept as they are by :func:`api_form`."""


def api_form(value: Any, key: str = "") -> Any:
    """``value`` with pulumi_kubernetes argument names (``failure_policy``) spelled as the API
    spells them (``failurePolicy``), recursively; label keys under ``match_labels`` unchanged."""
    if isinstance(value, Mapping):
        if key in _LABEL_MAPS:
            return {str(k): api_form(v) for k, v in value.items()}
        return {_camel(str(k)): api_form(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [api_form(item) for item in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


SERVER_DEFAULTS: Mapping[str, str] = {"matchPolicy": "Equivalent", "scope": "*"}
"""Fields the API server sets on an admission policy or binding when they are unset (the
package sets neither): ``matchConstraints.matchPolicy`` and a resource rule's ``scope``."""


def without_defaults(value: Any) -> Any:
    """``value`` as it means: :data:`SERVER_DEFAULTS` and empty values (``namespaceSelector: {}``
    matches everything, as unset does; an empty ``auditAnnotations`` is none) dropped, and lists
    of strings (``operations``, ``validationActions``) sorted, their order meaning nothing."""
    if isinstance(value, Mapping):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            item = without_defaults(item)
            if item is None or item == {} or item == [] or SERVER_DEFAULTS.get(str(key)) == item:
                continue
            kept[str(key)] = item
        return kept
    if isinstance(value, (list, tuple)):
        items = [without_defaults(item) for item in value]
        return sorted(items) if all(isinstance(item, str) for item in items) else items
    return value


def _brief(value: Any, width: int = 48) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def spec_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from ``expected``, as paths (``validations[0].expression="true"``)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        differences: list[str] = []
        for key in sorted(expected.keys() | actual.keys()):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                differences.append(f"{where} missing")
            elif key not in expected:
                differences.append(f"{where}={_brief(actual[key])} (not the package's)")
            else:
                differences += spec_differences(expected[key], actual[key], where)
        return differences
    if isinstance(expected, list) and isinstance(actual, list) and expected != actual:
        if all(isinstance(item, str) for item in (*expected, *actual)):
            return [f"{path}={_brief(actual)} (expected {_brief(expected)})"]
        if len(expected) != len(actual):
            return [f"{path}={_brief(actual)} ({len(actual)} item(s), expected {len(expected)})"]
        return [
            difference
            for index, (want, have) in enumerate(zip(expected, actual, strict=True))
            for difference in spec_differences(want, have, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path or 'spec'}={_brief(actual)}"]


def guard_results(api: ClusterApi, expectation: ClusterExpectation) -> list[CheckResult]:
    """The ValidatingAdmissionPolicy and its binding (same name) that guard managed namespaces,
    each spec exactly as :mod:`concurrent_infra.kube.guardrails` builds it for the system role's
    users and groups (in the API's spelling; :data:`SERVER_DEFAULTS` and empty fields tolerated):
    a policy whose ``failurePolicy`` is ``Ignore``, whose match condition or validation is
    ``true``/``false``, or a binding narrowed by ``matchResources`` or given a ``paramRef``, guards
    nothing while it exists."""
    policy = api.get_object("ValidatingAdmissionPolicy", NAMESPACE_GUARD_POLICY, None)
    binding = api.get_object("ValidatingAdmissionPolicyBinding", NAMESPACE_GUARD_POLICY, None)
    results: list[CheckResult] = []
    for kind, obj, spec in (
        (
            "ValidatingAdmissionPolicy",
            policy,
            namespace_guard_policy_spec(expectation.system_role_users, expectation.system_role_groups),
        ),
        ("ValidatingAdmissionPolicyBinding", binding, namespace_guard_binding_spec()),
    ):
        label = f"{kind} {NAMESPACE_GUARD_POLICY}"
        results.append(
            CheckResult(
                "guard",
                f"{label} exists",
                "exists",
                "exists" if obj is not None else "missing",
                obj is not None,
            )
        )
        if obj is None:
            continue
        want = without_defaults(api_form(spec))
        differences = spec_differences(want, without_defaults(obj.get("spec") or {}))
        summary = f"exactly the package's spec ({', '.join(sorted(want))})"
        results.append(
            CheckResult("guard", f"{label} spec", summary, "; ".join(differences) or summary, not differences)
        )
    return results
