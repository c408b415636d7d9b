"""Label selectors as Kubernetes evaluates them (``metav1.LabelSelector``), for the checks that ask
which ClusterRoles an ``aggregationRule`` copies the rules of.

https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors: every
``matchLabels`` pair and every ``matchExpressions`` requirement must hold (``In``, ``NotIn``,
``Exists``, ``DoesNotExist``); an empty selector matches every object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool | None:
    """Whether ``selector`` (API form) selects an object with ``labels``; None when the selector
    cannot be read (a value that is not a string, an unknown operator)."""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        return None
    for key, value in match_labels.items():
        if not isinstance(value, str):
            return None
        if labels.get(key) != value:
            return False
    for expression in expressions:
        if not isinstance(expression, Mapping):
            return None
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if not isinstance(key, str) or not isinstance(values, list):
            return None
        present = key in labels
        if operator == "In":
            held = present and labels[key] in values
        elif operator == "NotIn":
            held = not present or labels[key] not in values
        elif operator == "Exists":
            held = present
        elif operator == "DoesNotExist":
            held = not present
        else:
            return None
        if not held:
            return False
    return True
