"""Kubernetes resource quantities, read exactly as the API server reads them.

One grammar for the stack config, the components and ``verify``. A port of
k8s.io/apimachinery pkg/api/resource (kubernetes/apimachinery, commit eed236ce):
``parseQuantityString`` and ``ParseQuantity`` in quantity.go (lines 147-392), the suffixes of
suffix.go (``fastLookup.interpret``, ``newSuffixer``, ``suffixHandler.interpret``)::

    <quantity>        ::= <signedNumber><suffix>
    <signedNumber>    ::= <number> | <sign><number>          <sign> ::= "+" | "-"
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>   (an integer: ParseInt)

The scanner is more lenient than the grammar, and this port keeps its leniency: a bare sign or
``.`` is zero, digits are ASCII only. The value is the one the API server stores: rounded up
(away from zero) to a whole nano (quantity.go 369-375). Then the rules the API server applies to a
ResourceQuota, a LimitRange and a container's resources (kubernetes v1.36.3,
pkg/apis/core/validation/validation.go: ``ValidateResourceQuantityValue``,
``ValidateNonnegativeQuantity``, ``ValidateLimitRange``, ``validateResourceRequirements``;
pkg/apis/core/helper/helpers.go: ``IsIntegerResourceName``, ``IsExtendedResourceName``,
``IsNativeResource``, ``IsOvercommitAllowed``, ``IsHugePageResourceValueDivisible``).

Decisions where Kubernetes is lenient but a config is surely wrong: more than
:data:`MAX_QUANTITY_LENGTH` characters, a magnitude above 2**63-1 (quantity.go 61-63: "no quantity
may represent a number greater than 2^63-1"; the API server caps or mis-compares such values) and
an exponent outside 32 bits (quantity.go truncates it to int32) are refused.
"""

import math
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_QUANTITY_LENGTH = 64
"""Longer quantities are refused (no real resource needs more digits)."""
MAX_VALUE = 2**63 - 1
"""The largest magnitude a quantity may have (quantity.go: int64)."""
NANO = Fraction(1, 10**9)

_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")
_DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SI = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_INT64_TEXT = re.compile(r"[+-]?[0-9]+")
"""What Go's strconv.ParseInt(s, 10, 64) accepts (range checked apart)."""

SYNTAX_HINT = (
    "write a number with an optional suffix such as n, u, m, k, M, G, Ki, Mi, Gi or an exponent "
    "(500m, 4Gi, 2, 1e3)"
)

INTEGER_RESOURCES = frozenset(
    {
        "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    }
)  # fmt: skip
"""helpers.go ``integerResources``: counted in whole objects (extended resources are too)."""

_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class QuantityError(ValueError):
    """Text that is not a quantity; the message says why."""


@dataclass(frozen=True)
class _Scanned:
    negative: bool
    whole: str
    """The digits before the point without leading zeros ("0" when none are left)."""
    fraction: str
    suffix: str
    has_digits: bool
    """Whether the number holds a digit at all (``Gi``, ``-e3`` and ``.Ki`` do not)."""


def _scan(text: str) -> _Scanned:
    """quantity.go ``parseQuantityString``: sign, digits, ``.digits``, suffix letters, an optional
    sign and digits (the exponent); anything left over is ErrFormatWrong."""
    end, pos, negative = len(text), 0, False
    if pos < end and text[pos] in "+-":
        negative = text[pos] == "-"
        pos += 1
    zeros = pos
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return _Scanned(negative, "0", "", "", has_digits=True)
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    whole = text[start:pos] or "0"
    fraction = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        fraction = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_LETTERS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(f"not a Kubernetes quantity ({text[pos]!r} is out of place)")
    has_digits = pos > zeros and any(char in _DIGITS for char in text[zeros:suffix_start])
    return _Scanned(negative, whole, fraction, text[suffix_start:], has_digits)


def _interpret(suffix: str) -> tuple[int, int]:
    """suffix.go ``interpret``: (base, exponent) of a suffix."""
    if suffix in _DECIMAL_SI:
        return 10, _DECIMAL_SI[suffix]
    if suffix in _BINARY_SI:
        return 2, _BINARY_SI[suffix]
    if len(suffix) > 1 and suffix[0] in "eE" and _INT64_TEXT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        if -(2**31) <= exponent < 2**31:
            return 10, exponent
        raise QuantityError(f"the exponent {suffix[1:]} is out of range")
    raise QuantityError(f"not a Kubernetes quantity (unknown suffix {suffix!r})")


def parse_quantity(text: str) -> Fraction:
    """The value the API server stores for ``text`` (``1Gi`` == ``1024Mi``, ``0.5`` == ``500m``),
    exactly; :class:`QuantityError` when it would refuse it (or :data:`MAX_VALUE` is exceeded)."""
    if not text:
        raise QuantityError("an empty string is not a quantity")
    if len(text) > MAX_QUANTITY_LENGTH:
        raise QuantityError(f"longer than {MAX_QUANTITY_LENGTH} characters")
    scanned = _scan(text)
    base, exponent = _interpret(scanned.suffix)
    digits = int(scanned.whole + scanned.fraction)
    if not scanned.has_digits and not _fast_path(scanned, base, exponent):
        # quantity.go 348-351: off its int64 fast path ParseQuantity reads the number with
        # inf.Dec.SetString, which refuses a number without digits.
        raise QuantityError("not a Kubernetes quantity (no digits)")
    if digits == 0:
        return Fraction(0)
    scale = -len(scanned.fraction)
    if base == 10:
        magnitude = len(str(digits)) + exponent + scale  # value < 10**magnitude
        if magnitude > 19:
            raise QuantityError(_TOO_LARGE)
        value = NANO if magnitude < -9 else Fraction(digits) * Fraction(10) ** (exponent + scale)
    else:
        value = Fraction(digits * 2**exponent, 10**-scale)
    value = Fraction(math.ceil(value / NANO)) * NANO  # quantity.go 373-375: round up to 1n
    if value > MAX_VALUE:
        raise QuantityError(_TOO_LARGE)
    return -value if scanned.negative else value


def _fast_path(scanned: _Scanned, base: int, exponent: int) -> bool:
    """Whether ParseQuantity keeps ``scanned`` on its int64 path (quantity.go 296-346)."""
    if base == 10:
        return len(scanned.whole) + len(scanned.fraction) <= 18 and exponent - len(scanned.fraction) >= -9
    precision = 15 - len(scanned.whole) - exponent * 3 // 10 - 1
    return not scanned.fraction and precision >= 0 and int(scanned.whole) << exponent <= MAX_VALUE


_TOO_LARGE = f"larger than any quantity Kubernetes represents (at most {MAX_VALUE}, about 8Ei)"


def quantity_value(text: str) -> Fraction | None:
    """:func:`parse_quantity`, or None when ``text`` is not a quantity."""
    try:
        return parse_quantity(text)
    except QuantityError:
        return None


def quantity_problem(text: str) -> str | None:
    """Why ``text`` is not a non-negative quantity (ValidateNonnegativeQuantity), or None."""
    try:
        value = parse_quantity(text)
    except QuantityError as error:
        return f"{error}; {SYNTAX_HINT}"
    if value < 0:
        return f"a quantity here must not be negative (Kubernetes refuses it); write {text.lstrip('+-')}"
    return None


def same_quantity(left: str, right: str) -> bool:
    """Whether two quantities are equal in value (the API server rewrites them canonically: a
    configured ``1024Mi`` reads back as ``1Gi``); texts that are not quantities compare as text."""
    a, b = quantity_value(left), quantity_value(right)
    return a == b if a is not None and b is not None else left == right


def milli_value(value: Fraction) -> int:
    """quantity.go ``MilliValue``: ceil(value * 1000)."""
    return math.ceil(value * 1000)


def _is_qualified_name(name: str) -> bool:
    """apimachinery validation.IsQualifiedName: ``[prefix/]name``."""
    prefix, slash, rest = name.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(rest) <= 63 and bool(_QUALIFIED_NAME.fullmatch(rest))


def is_native_resource(name: str) -> bool:
    """helpers.go ``IsNativeResource``: no ``/``, or in the ``kubernetes.io/`` namespace."""
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages_resource(name: str) -> bool:
    return name.startswith("hugepages-")


def is_extended_resource(name: str) -> bool:
    """helpers.go ``IsExtendedResourceName`` (``nvidia.com/gpu``, ``count/deployments.apps``)."""
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return _is_qualified_name(f"requests.{name}")


def is_integer_resource(name: str) -> bool:
    """helpers.go ``IsIntegerResourceName``: the API server refuses fractions of these."""
    return name in INTEGER_RESOURCES or is_extended_resource(name)


def is_overcommit_allowed(name: str) -> bool:
    """helpers.go ``IsOvercommitAllowed``: false for extended resources and hugepages, whose
    request must equal their limit."""
    return is_native_resource(name) and not is_hugepages_resource(name)


def quota_value_problem(resource: str, text: str) -> str | None:
    """``ValidateResourceQuantityValue`` for ``resource`` (a quota's hard limit, a container's
    request or limit): not negative, and a whole number for integer resources (MilliValue % 1000)."""
    if problem := quantity_problem(text):
        return problem
    value = parse_quantity(text)
    if is_integer_resource(resource) and milli_value(value) > MAX_VALUE:
        return f"{resource} is counted in whole units, at most {MAX_VALUE // 1000}; write a smaller number"
    if is_integer_resource(resource) and milli_value(value) % 1000:
        return (
            f"{resource} is counted in whole units and Kubernetes refuses a fraction; "
            f"write {math.floor(value)} or {math.ceil(value)}"
        )
    return None


def container_value_problem(resource: str, text: str) -> str | None:
    """:func:`quota_value_problem`, and for ``hugepages-<size>`` a whole number of pages
    (``validateResourceQuantityHugePageValue``)."""
    if problem := quota_value_problem(resource, text):
        return problem
    if not is_hugepages_resource(resource):
        return None
    page = hugepage_size(resource)
    if page is None:
        return f"{resource} names no page size Kubernetes knows; write hugepages-2Mi or hugepages-1Gi"
    value = math.ceil(parse_quantity(text))
    if value % page:
        size = resource.removeprefix("hugepages-")
        return f"{resource} is a whole number of {size} pages; write a multiple of {size}"
    return None


def hugepage_size(resource: str) -> int | None:
    """The page size of ``hugepages-<size>`` in bytes (helpers.go ``HugePageSizeFromResourceName``),
    or None when the size is not a positive whole quantity."""
    value = quantity_value(resource.removeprefix("hugepages-"))
    if value is None or value <= 0 or value.denominator != 1:
        return None
    return int(value)
