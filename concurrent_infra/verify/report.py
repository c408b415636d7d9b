"""The report of ``verify``: text for a terminal (100 columns), or JSON for machines."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import asdict

from .checks.result import AREAS, CheckResult
from .expectations import ClusterExpectation

WIDTH = 100
MAX_LINES_PER_CHECK = 4
"""A failure longer than this (say 40 extra grants) is cut with "…"; --json has it whole."""
INDENT = " " * 6


def summary(results: Sequence[CheckResult], expectation: ClusterExpectation) -> list[str]:
    """The first lines: what was verified, the verdict, and the count per area."""
    failed = [r for r in results if not r.ok]
    namespaces = [ns.name for ns in expectation.namespaces]
    shown = ", ".join(namespaces)
    head = f"{len(namespaces)} namespace(s): {shown}"
    if len(head) > WIDTH:
        head = textwrap.shorten(head, WIDTH, placeholder=" …")
    verdict = (
        f"FAILED: {len(failed)} of {len(results)} checks failed"
        if failed
        else f"OK: all {len(results)} checks passed"
    )
    counts = []
    for area in AREAS:
        in_area = [r for r in results if r.area == area]
        if in_area:
            bad = sum(not r.ok for r in in_area)
            counts.append(f"{area} {len(in_area) - bad}/{len(in_area)}")
    lines = [f"concurrent-infra-verify: {verdict}", head]
    lines += textwrap.wrap("passed per area: " + ", ".join(counts), WIDTH, subsequent_indent="  ")
    return lines


def check_line(result: CheckResult) -> list[str]:
    """One check as at most :data:`MAX_LINES_PER_CHECK` lines of at most :data:`WIDTH` columns."""
    status = "OK  " if result.ok else "FAIL"
    if result.ok:
        text = f"{status}  [{result.area}] {result.check}: {result.actual}"
    else:
        text = f"{status}  [{result.area}] {result.check}: expected {result.expected}; found {result.actual}"
    lines = textwrap.wrap(
        text, WIDTH, subsequent_indent=INDENT, break_long_words=True, break_on_hyphens=False
    )
    if len(lines) > MAX_LINES_PER_CHECK:
        lines = lines[:MAX_LINES_PER_CHECK]
        lines[-1] = lines[-1][: WIDTH - 2] + " …"
    return lines


def render_text(
    results: Sequence[CheckResult], expectation: ClusterExpectation, verbose: bool = False
) -> str:
    """The summary, then one entry per failure (every check with ``verbose``)."""
    lines = summary(results, expectation)
    shown = results if verbose else [r for r in results if not r.ok]
    if shown:
        lines.append("")
    for result in shown:
        lines += check_line(result)
    return "\n".join(lines)


def render_json(results: Sequence[CheckResult], expectation: ClusterExpectation) -> str:
    """``{"ok", "namespaces", "failed", "total", "checks": [{area, check, expected, actual, ok}]}``."""
    return json.dumps(
        {
            "ok": all(r.ok for r in results),
            "namespaces": [ns.name for ns in expectation.namespaces],
            "failed": sum(not r.ok for r in results),
            "total": len(results),
            "checks": [asdict(r) for r in results],
        },
        indent=2,
    )
