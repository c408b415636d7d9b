"""The review as Markdown: a few lines for an ordinary change, attention first."""

from __future__ import annotations

from collections.abc import Iterable

from ..kube.rbac import KUBERNETES_VERBS, READ_VERBS, WRITE_VERBS
from .access import CLUSTER, Grant, RoleChange, SubjectChange
from .summary import Review

_VERB_ORDER = (*READ_VERBS, *WRITE_VERBS, *sorted(KUBERNETES_VERBS - {*READ_VERBS, *WRITE_VERBS}))
MAX_ITEMS = 12
"""Lines per list before the rest is counted instead of shown (the raw diff has everything)."""


def _verb_key(verb: str) -> tuple[int, str]:
    return (_VERB_ORDER.index(verb), verb) if verb in _VERB_ORDER else (len(_VERB_ORDER), verb)


def describe_grants(grants: Iterable[Grant]) -> str:
    """Grants as ``verbs on resources``, resources with the same verbs together:
    ``get, list, watch on jobs.batch, pods, pods/log, events``."""
    verbs_of: dict[str, set[str]] = {}
    for group, resource, verb in grants:
        verbs_of.setdefault(f"{resource}.{group}" if group else resource, set()).add(verb)
    by_verbs: dict[tuple[str, ...], list[str]] = {}
    for resource, verbs in verbs_of.items():
        by_verbs.setdefault(tuple(sorted(verbs, key=_verb_key)), []).append(resource)
    parts = [
        f"{', '.join(verbs)} on {', '.join(sorted(resources))}"
        for verbs, resources in sorted(by_verbs.items(), key=lambda item: (-len(item[0]), item[0]))
    ]
    return "; ".join(parts)


def _scope_title(scope: str, review: Review) -> str:
    if scope == CLUSTER:
        return "cluster-wide"
    if scope in review.namespaces_created:
        return f"`{scope}` (new namespace)"
    if scope in dict(review.namespaces_removed):
        return f"`{scope}` (removed namespace)"
    if scope == "?":
        return "namespace not known until the update"
    return f"`{scope}`"


def _subject(change: SubjectChange) -> str:
    subject = change.subject
    name = (
        subject.name
        if subject.kind != "ServiceAccount" or subject.namespace == change.scope
        else f"{subject.namespace}/{subject.name}"
    )
    return f"{subject.kind} `{name}`"


def _access_lines(change: SubjectChange) -> list[str]:
    lines = []
    if change.gained:
        via = ", ".join(f"`{r}`" for r in change.gained_via)
        lines.append(f"{_subject(change)} **gains** {describe_grants(change.gained)} (via {via})")
    for role in change.unknown_gained:
        lines.append(f"{_subject(change)} **gains** `{role}` (rules not in this preview)")
    if change.lost:
        via = ", ".join(f"`{r}`" for r in change.lost_via)
        lines.append(f"{_subject(change)} **loses** {describe_grants(change.lost)} (was via {via})")
    for role in change.unknown_lost:
        lines.append(f"{_subject(change)} **loses** `{role}` (rules not in this preview)")
    return lines


def _role_line(change: RoleChange) -> str:
    what = "created" if change.created else "deleted" if change.deleted else "changed"
    parts = []
    if change.gained:
        parts.append(f"gains {describe_grants(change.gained)}")
    if change.lost:
        parts.append(f"loses {describe_grants(change.lost)}")
    return f"`{change.role}` {what}: {'; '.join(parts) or 'no rules'} (no binding of it in this preview)"


def _limited(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_ITEMS:
        return lines
    return [*lines[:MAX_ITEMS], f"- … and {len(lines) - MAX_ITEMS} more (see the full diff)"]


def _by_scope(items: Iterable[tuple[str, str]], review: Review) -> list[str]:
    grouped: dict[str, list[str]] = {}
    for scope, text in items:
        grouped.setdefault(scope, []).append(text)
    lines: list[str] = []
    for scope in sorted(grouped, key=lambda s: (s != CLUSTER, s)):
        texts = grouped[scope]
        if len(texts) == 1:
            lines.append(f"- {_scope_title(scope, review)}: {texts[0]}")
        else:
            lines.append(f"- {_scope_title(scope, review)}:")
            lines += [f"  - {text}" for text in texts]
    return lines


def _counts(review: Review) -> str:
    order = ("create", "update", "replace", "delete")
    parts = [f"{review.counts[op]} to {op}" for op in order if review.counts.get(op)]
    parts += [f"{n} {op}" for op, n in sorted(review.counts.items()) if op not in order]
    return ", ".join(parts) or "no changes"


def render(review: Review, drift: bool = False) -> str:
    """The review as Markdown (GitHub-flavoured)."""
    title = "Drift" if drift else "Access review"
    lines = [
        f"### {title}: stack `{review.stack}` ({_counts(review)})",
        "",
    ]
    if drift:
        lines += [
            "The cluster differs from the stack's state: `pulumi up` would make these changes to bring "
            "it back (a grant it would remove was added by hand).",
            "",
        ]
    if review.attention:
        lines.append("**Needs attention**")
        lines += _limited(
            [
                f"- {_scope_title(i.scope, review)}: {i.text}" if i.scope else f"- {i.text}"
                for i in review.attention
            ]
        )
    else:
        lines.append(
            "Nothing needs attention: no deletes, replaces, lost protection, lowered Pod Security, "
            "cluster-wide grants, new system-role subjects or policy violations."
        )
    lines.append("")
    access = [(c.scope, text) for c in review.access for text in _access_lines(c)]
    if access or review.roles:
        lines.append("**Access**")
        lines += _limited(_by_scope(access, review))
        lines += _limited([f"- {_role_line(r)}" for r in review.roles])
    else:
        lines.append("No access changes.")
    if review.namespaces_created or review.namespaces_removed:
        lines.append("")
        parts = [f"+ `{ns}`" for ns in review.namespaces_created]
        parts += [
            f"- `{ns}`"
            + (
                " (leaves the stack, stays in the cluster)"
                if retained
                else " (deleted with everything in it)"
            )
            for ns, retained in review.namespaces_removed
        ]
        lines.append(f"**Namespaces**: {', '.join(parts)}")
    if drift and review.updates:
        lines += ["", "**What differs** (the cluster's value would be set back)"]
        lines += _limited(_by_scope(((i.scope, i.text) for i in review.updates), review))
    if review.settings:
        lines += ["", "**Settings**"]
        lines += _limited(_by_scope(((i.scope, i.text) for i in review.settings), review))
    return "\n".join(lines) + "\n"
