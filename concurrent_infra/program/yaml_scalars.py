"""Plain YAML scalars as Pulumi reads them from a stack file, and which of them to refuse.

Pulumi reads ``Pulumi.<stack>.yaml`` with go-yaml v3 into ``any`` (pulumi/pulumi sdk v3,
sdk/go/common/encoding/marshal.go ``yamlMarshaler.Unmarshal``; workspace/loaders.go
``LoadProjectStackBytes``) and hands a program every non-string value as JSON, a date as Go's
``time.Time.String()`` (sdk/go/common/resource/config/object.go ``unmarshalObject``,
``MarshalString``). go-yaml v3 resolves a plain scalar by its own rules (go-yaml/yaml v3.0.1,
resolve.go ``resolve``): ``08`` and ``1e3`` are floats (8, 1000), ``017`` is octal 15, ``0o17``,
``0x1F``, ``0b101`` and ``1_000`` are integers, ``2027-01-31`` is a timestamp, ``.inf`` a float
that JSON cannot hold, while ``yes``, ``on`` and ``1:30`` stay strings. PyYAML (YAML 1.1) reads
most of these differently.

The stack-file reader reads alike what both read alike (strings, ``true``/``false``, nulls,
decimal numbers that print back as written) and refuses every other plain scalar that go-yaml
reads as a number or a timestamp: what Pulumi makes of those (``'15'`` for ``017``, ``'2027-01-31
00:00:00 +0000 UTC'`` for a date) is rarely what the file's author meant, and quoting says it.
"""

import datetime
import math
import re

CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
"""A decimal integer both readers read as the same number (within 64 bits)."""
CANONICAL_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
"""A decimal fraction both readers read as the same number (see :func:`plain_scalar_problem`)."""
BOOLS = ("true", "True", "TRUE", "false", "False", "FALSE")
"""go-yaml v3's booleans (YAML 1.2 core); ``yes``, ``on`` and ``y`` are strings."""
NULLS = ("", "~", "null", "Null", "NULL")
"""go-yaml v3's nulls: Pulumi hands a null key's value as ``''``, a null in a list or map as
JSON ``null`` (:func:`concurrent_infra.program.stack_files.raw_values`)."""

_SPECIAL_FLOATS = (
    ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
)  # fmt: skip
_GO_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
"""``strconv.ParseInt(s, 0, 64)``'s syntax (base from the prefix; a leading 0 alone is octal)."""
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
"""go-yaml v3's ``yamlStyleFloat``."""
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
"""What ``strconv.ParseFloat`` accepts of a scalar starting with ``.``."""
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt ]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
"""go-yaml v3's ``allowedTimestampFormats`` (a zone only after ``T``/``t``, checked below)."""

INT64 = range(-(2**63), 2**63)
UINT64 = range(2**64)


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, else ``ParseUint``; None when both fail."""
    match = _GO_INT.fullmatch(text)
    if match is None:
        return None
    sign, body = match.groups()
    base = 0 if body[:2].lower() in ("0x", "0b", "0o") else 8 if len(body) > 1 and body[0] == "0" else 10
    value = int(body, base) * (-1 if sign == "-" else 1)
    return value if value in INT64 or (not sign and value in UINT64) else None


def _is_timestamp(text: str) -> bool:
    """Whether go-yaml v3 ``parseTimestamp`` reads ``text`` as a time."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, zone = match.groups()
    if zone is not None and text[10] == " ":
        return False  # "2006-1-2 15:4:5.999999999" has no zone
    if hour is not None and text[10] in "Tt" and zone is None:
        return False  # the T forms need one
    try:
        datetime.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return hour is None or (int(hour) < 24 and int(minute) < 60 and int(second) < 60)


def yaml_v3_reading(text: str) -> str | int | float | bool | datetime.date | None:
    """What go-yaml v3 makes of the plain (unquoted, untagged) scalar ``text`` (resolve.go
    ``resolve``); a timestamp as a :class:`datetime.date` (its date only). ``<<`` is a string
    here; as a map key go-yaml reads it as a merge (decode.go ``isMerge``)."""
    if text in BOOLS:
        return text in BOOLS[:3]
    if text in NULLS:
        return None
    if text in _SPECIAL_FLOATS:
        return float(text.replace(".", ""))
    if text.startswith(".") and _DOT_FLOAT.fullmatch(text) and math.isfinite(number := float(text)):
        return number
    if not text or text[0] not in "+-0123456789":
        return text
    if _is_timestamp(text):
        return datetime.date(*(int(part) for part in text[:10].split("-")))
    plain = text.replace("_", "")
    integer = _go_int(plain)
    if integer is not None:
        return integer
    if _YAML_STYLE_FLOAT.fullmatch(plain) and math.isfinite(number := float(plain)):
        return number
    return text


def _significant_digits(text: str) -> int:
    return len(text.lstrip("-").replace(".", "").lstrip("0").rstrip("0"))


def plain_scalar_problem(text: str) -> str | None:
    """Why the plain scalar ``text`` of a stack file must be quoted, or None when the stack-file
    reader (:mod:`concurrent_infra.program.stack_files`) reads it as Pulumi does.

    A decimal integer reads the same within 64 bits. A decimal fraction reads the same when it is
    not a whole number (Pulumi hands ``1.0`` as ``1``; Python's JSON keeps ``1.0``), has at most 15
    significant digits (so both print the digits written) and lies in [0.0001, 10**15) (where both
    print it without an exponent: Go's encoding/json ``floatEncoder`` from 1e-6 to 1e21, Python's
    ``repr`` from 1e-4 to 1e16)."""
    if CANONICAL_INT.fullmatch(text):
        if int(text) in INT64:
            return None
        return "an integer beyond 64 bits, which Pulumi rounds"
    if CANONICAL_FLOAT.fullmatch(text):
        number = float(text)
        if number.is_integer():
            return f"a whole number, which Pulumi hands the program as {int(number)}"
        if _significant_digits(text) > 15 or not 1e-4 <= abs(number) < 1e15:
            return "a number Pulumi and Python print differently"
        return None
    reading = yaml_v3_reading(text)
    if reading is None or isinstance(reading, str | bool):
        return None
    if isinstance(reading, datetime.date):
        if ":" in text:
            return "a timestamp to Pulumi, which hands the program Go's text of that time"
        return f"a date to Pulumi, which hands the program '{reading.isoformat()} 00:00:00 +0000 UTC'"
    if not math.isfinite(reading):
        return "a float Pulumi cannot hand to a program (JSON has no infinity or NaN)"
    if isinstance(reading, float) and reading.is_integer() and abs(reading) < 1e21:
        reading = int(reading)
    if isinstance(reading, int):
        return f"the number {reading} to Pulumi (YAML 1.2), which hands the program '{reading}'"
    return f"the number {reading!r} to Pulumi (YAML 1.2)"
