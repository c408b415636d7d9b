"""Labels put on every object, and the syntax checks for user-supplied labels and annotations."""

from __future__ import annotations

import re
from collections.abc import Mapping

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF_LABEL = "app.kubernetes.io/part-of"

COMMON_LABELS: Mapping[str, str] = {
    MANAGED_BY_LABEL: "concurrent-infra",
    PART_OF_LABEL: "concurrent-for-mlflow",
}
"""Labels on every object this package creates; they identify its objects (and its policies use them)."""

_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY_RE = re.compile(rf"(({_PREFIX})/)?{_NAME}")
_VALUE_RE = re.compile(rf"({_NAME})?")


def metadata_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label or annotation key, or None if it is."""
    prefix, _, name = key.rpartition("/")
    if not _KEY_RE.fullmatch(key) or len(name) > 63 or len(prefix) > 253:
        return (
            "a key is an optional DNS-subdomain prefix and '/', then a name of at most 63 "
            "characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None if it is."""
    if len(value) > 63 or not _VALUE_RE.fullmatch(value):
        return (
            "a label value is empty or at most 63 characters: letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def with_common_labels(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``extra`` labels merged under the common labels (which always win)."""
    return {**(extra or {}), **COMMON_LABELS}
