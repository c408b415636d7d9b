"""The review of a preview: what needs attention, who gains or loses access where, and the
namespaces and per-namespace settings that change. Pure: a Preview in, a Review out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..kube.labels import COMMON_LABELS, MANAGED_BY_LABEL
from ..kube.names import (
    DIND_NAME,
    NAMESPACE_GUARD_POLICY,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_GROUP,
    WORKLOAD_IDENTITY_ANNOTATION,
    namespace_object_names,
)
from ..kube.pod_security import ENFORCE_LABEL, POD_SECURITY_LEVELS
from ..kube.subjects import Subject
from . import objects
from .access import (
    CLUSTER,
    DELETING,
    RoleChange,
    RoleRef,
    SubjectChange,
    World,
    before_and_after,
    subject_changes,
    unbound_role_changes,
    world,
)
from .preview import IGNORED_OPS, Preview, PreviewError, State, Step

REVIEWED_TYPES = frozenset(
    {
        *objects.ROLE_TYPES,
        *objects.BINDING_TYPES,
        *objects.GUARD_TYPES,
        objects.NAMESPACE_TYPE,
        objects.NAMESPACE_PATCH_TYPE,
        objects.SERVICE_ACCOUNT_TYPE,
        objects.RESOURCE_QUOTA_TYPE,
        objects.LIMIT_RANGE_TYPE,
        objects.NETWORK_POLICY_TYPE,
    }
)
"""The types whose changes the review explains (besides the components and GCP IAM members)."""

SYSTEM_ROLE = RoleRef("ClusterRole", SYSTEM_CLUSTER_ROLE)


@dataclass(frozen=True)
class Item:
    """One line of the review, in a scope: a namespace, or CLUSTER for cluster-wide objects."""

    scope: str
    text: str


@dataclass(frozen=True)
class Review:
    """Everything the summary shows, in the order it shows it."""

    project: str
    stack: str
    counts: dict[str, int]
    attention: tuple[Item, ...]
    access: tuple[SubjectChange, ...]
    roles: tuple[RoleChange, ...]
    namespaces_created: tuple[str, ...]
    namespaces_removed: tuple[tuple[str, bool], ...]
    """(namespace, retained): a retained Namespace leaves the stack but stays in the cluster."""
    settings: tuple[Item, ...]
    updates: tuple[Item, ...] = ()
    """Every update with what differs: in a drift report, what was changed by hand."""
    unknown_namespaces: bool = False


def effective_steps(steps: Iterable[Step]) -> list[Step]:
    """The steps that change something, one per resource: refreshes and reads are left out, and a
    resource with several steps (a refresh then the update that undoes its drift) keeps the last."""
    last: dict[str, Step] = {}
    for step in steps:
        if step.op not in IGNORED_OPS:
            last[step.urn] = step
    return list(last.values())


def _scope(state: State) -> str:
    """Where an object belongs in the review: its namespace (a Namespace: itself; a per-namespace
    ClusterRole of the package: that namespace), else CLUSTER."""
    if state.type in (objects.NAMESPACE_TYPE, objects.NAMESPACE_PATCH_TYPE):
        return objects.name(state)
    if state.type.startswith("kubernetes:"):
        return objects.namespace(state) or CLUSTER
    member = state.value("member")
    match = _MEMBER_NAMESPACE.search(member) if isinstance(member, str) else None
    return match.group(1) if match else CLUSTER


_MEMBER_NAMESPACE = re.compile(r"\.svc\.id\.goog(?:\[|/subject/ns/)([a-z0-9-]+)/")
"""The namespace in a Workload Identity member: ``serviceAccount:<pool>[<ns>/<ksa>]`` or
``principal://.../workloadIdentityPools/<pool>/subject/ns/<ns>/sa/<ksa>``
(``concurrent_infra.gke.workload_identity``)."""


def _label(state: State) -> str:
    """``Kind `name``` for a line of the review."""
    if objects.is_gcp_iam_member(state.type):
        return f"IAM member `{state.value('member') or '?'}` ({state.value('role') or '?'})"
    return f"{objects.kind_of(state.type)} `{objects.name(state)}`"


def _grouped(scoped: Iterable[tuple[str, str]], verb: str) -> list[Item]:
    """One item per scope listing what ``verb`` does there."""
    by_scope: dict[str, list[str]] = {}
    for scope, text in scoped:
        by_scope.setdefault(scope, []).append(text)
    return [Item(scope, f"**{verb}** {', '.join(texts)}") for scope, texts in sorted(by_scope.items())]


def _pod_security_rank(state: State | None) -> int:
    """How permissive the namespace's enforced level is: 0 restricted ... 2 privileged (also no label,
    since Pod Security admission then enforces nothing)."""
    level = objects.labels(state).get(ENFORCE_LABEL) if state is not None else None
    return POD_SECURITY_LEVELS.index(level) if level in POD_SECURITY_LEVELS else len(POD_SECURITY_LEVELS) - 1


def _level(state: State | None) -> str:
    level = objects.labels(state).get(ENFORCE_LABEL) if state is not None else None
    return level if level else "none (privileged)"


def _is_package_system_subject(subject: Subject, scope: str) -> bool:
    """The subjects the package itself binds to the system role: the system group, and a namespace's
    own system service account in that namespace."""
    if subject == Subject("Group", SYSTEM_GROUP):
        return True
    expected = namespace_object_names(scope).system_service_account if scope else None
    return subject == Subject("ServiceAccount", expected or "", scope)


def _attention(
    preview: Preview, steps: list[Step], old: World, new: World, access: list[SubjectChange]
) -> list[Item]:
    items: list[Item] = []
    real = [s for s in steps if (state := s.new or s.old) is not None and state.custom]
    deletes = [(s.old, s.op) for s in real if s.op in DELETING and s.old is not None]
    items += _grouped(
        (
            (
                _scope(state),
                _label(state)
                + (" (retained in the cluster: retainOnDelete)" if state.retain_on_delete else ""),
            )
            for state, _ in deletes
        ),
        "Delete",
    )
    replaces = [s for s in real if s.op in ("replace", "create-replacement")]
    seen_replace: set[str] = set()
    for step in replaces:
        state = step.new or step.old
        if state is None or step.urn in seen_replace:
            continue
        seen_replace.add(step.urn)
        because = f" (because of {', '.join(step.replace_reasons)})" if step.replace_reasons else ""
        consequence = (
            ": deleting a Namespace deletes every job, secret and service account in it"
            if state.type == objects.NAMESPACE_TYPE
            else ": deleted and created again"
        )
        items.append(Item(_scope(state), f"**Replace** {_label(state)}{because}{consequence}"))
    unprotected = []
    for step in real:
        if step.old is None or step.new is None or step.op in DELETING:
            continue
        if step.old.protect and not step.new.protect:
            unprotected.append((_scope(step.new), _label(step.new) + " (Pulumi `protect`)"))
        if step.old.retain_on_delete and not step.new.retain_on_delete:
            unprotected.append((_scope(step.new), _label(step.new) + " (`retainOnDelete`)"))
        if step.new.type == objects.NAMESPACE_TYPE:
            managed = COMMON_LABELS[MANAGED_BY_LABEL]
            if (
                objects.labels(step.old).get(MANAGED_BY_LABEL)
                == managed
                != objects.labels(step.new).get(MANAGED_BY_LABEL)
            ):
                unprotected.append(
                    (
                        _scope(step.new),
                        f"{_label(step.new)} (label `{MANAGED_BY_LABEL}={managed}`: "
                        "the namespace guard no longer covers it)",
                    )
                )
    items += _grouped(unprotected, "Protection lost:")
    for step in real:
        if (
            step.new is None
            or step.op in DELETING
            or step.new.type not in (objects.NAMESPACE_TYPE, objects.NAMESPACE_PATCH_TYPE)
        ):
            continue
        if step.old is not None and step.op not in ("create", "create-replacement"):
            if _pod_security_rank(step.new) > _pod_security_rank(step.old):
                items.append(
                    Item(
                        _scope(step.new),
                        f"**Pod Security lowered** on `{objects.name(step.new)}`: "
                        f"{_level(step.old)} → {_level(step.new)}",
                    )
                )
        elif (
            _pod_security_rank(step.new) == len(POD_SECURITY_LEVELS) - 1
            and step.new.type == objects.NAMESPACE_TYPE
        ):
            items.append(
                Item(
                    _scope(step.new),
                    f"**Pod Security**: new namespace `{objects.name(step.new)}` enforces {_level(step.new)}",
                )
            )
    for change in access:
        roles = {*change.gained_via, *change.unknown_gained}
        if roles == {SYSTEM_ROLE} and not _is_package_system_subject(change.subject, CLUSTER):
            continue  # a new subject of the system role: its own item below
        if change.scope == CLUSTER and roles:
            via = ", ".join(f"`{r}`" for r in (*change.gained_via, *change.unknown_gained))
            extra = (
                " — a service account bound cluster-wide reaches every tenant"
                if change.subject.kind == "ServiceAccount"
                else ""
            )
            items.append(
                Item(
                    CLUSTER,
                    f"**New cluster-wide grant**: {_subject(change.subject)} gains {via} "
                    f"in every namespace{extra}",
                )
            )
    for role in unbound_role_changes(old, new):
        if role.role.kind == "ClusterRole" and role.gained and not role.created:
            items.append(
                Item(
                    CLUSTER,
                    f"**Role widened**: `{role.role}` gains rules; its bindings are not in this preview",
                )
            )
    for key, binding in sorted(new.bindings.items()):
        if binding.role != SYSTEM_ROLE:
            continue
        before = old.bindings.get(key)
        for subject in sorted(binding.subjects - (before.subjects if before else frozenset())):
            if not _is_package_system_subject(subject, binding.scope):
                where = "cluster-wide" if binding.scope == CLUSTER else f"in `{binding.scope}`"
                items.append(
                    Item(
                        binding.scope,
                        f"**New subject of the system role** `{SYSTEM_CLUSTER_ROLE}` {where}: "
                        f"{_subject(subject)}",
                    )
                )
    for step in real:
        state = step.new or step.old
        if (
            state is None
            or state.type not in objects.GUARD_TYPES
            or objects.name(state) != NAMESPACE_GUARD_POLICY
        ):
            continue
        if step.op in DELETING:
            items.append(Item(CLUSTER, f"**Namespace guard removed**: {_label(state)}"))
        elif step.op in ("update", "replace"):
            changed = ", ".join(step.diff_reasons or step.replace_reasons) or "its spec"
            items.append(Item(CLUSTER, f"**Namespace guard changed**: {_label(state)} ({changed})"))
    for violation in preview.violations:
        first = violation.message.splitlines()[0] if violation.message else ""
        where = f" on `{violation.urn.rsplit('::', 1)[-1]}`" if violation.urn else ""
        items.append(
            Item(CLUSTER, f"**Policy violation** ({violation.level}) `{violation.policy}`{where}: {first}")
        )
    for error in preview.errors:
        text = " ".join(line.strip() for line in error.splitlines() if line.strip())
        items.append(Item(CLUSTER, f"**Preview error**: {text[:400]}{'…' if len(text) > 400 else ''}"))
    return items


def _subject(subject: Subject) -> str:
    if subject.kind == "ServiceAccount":
        return f"ServiceAccount `{subject.namespace}/{subject.name}`"
    return f"{subject.kind} `{subject.name}`"


def _quota(state: State | None) -> dict[str, str]:
    hard = state.value("spec", "hard") if state is not None else None
    return {str(k): str(v) for k, v in hard.items()} if isinstance(hard, dict) else {}


def _settings(steps: list[Step]) -> list[Item]:
    items: list[Item] = []
    for step in steps:
        state = step.new if step.new is not None and step.op not in DELETING else step.old
        if state is None:
            continue
        gone = step.op in DELETING
        new = step.op in ("create", "create-replacement", "import")
        scope = _scope(state)
        if state.type == objects.RESOURCE_QUOTA_TYPE:
            before, after = ({} if new else _quota(step.old)), ({} if gone else _quota(step.new))
            if gone:
                items.append(Item(scope, "quota removed"))
            elif before != after:
                parts = [
                    f"{key} {before.get(key, '—')} → {after.get(key, '—')}"
                    for key in sorted(before.keys() | after.keys())
                    if before.get(key) != after.get(key)
                ]
                items.append(Item(scope, f"quota {'set' if new else 'changed'}: {', '.join(parts)}"))
        elif state.type == objects.LIMIT_RANGE_TYPE:
            items.append(
                Item(scope, f"container defaults {'removed' if gone else 'set' if new else 'changed'}")
            )
        elif state.type == objects.NETWORK_POLICY_TYPE:
            what = "removed" if gone else "added" if new else "changed"
            isolation = " (network isolation off)" if gone else " (network isolation on)" if new else ""
            items.append(Item(scope, f"NetworkPolicy `{objects.name(state)}` {what}{isolation}"))
        elif state.type == objects.SERVICE_ACCOUNT_TYPE and step.op not in ("same",):
            before_gsa = (
                None
                if new or step.old is None
                else objects.annotations_of(step.old).get(WORKLOAD_IDENTITY_ANNOTATION)
            )
            after_gsa = (
                None
                if gone or step.new is None
                else objects.annotations_of(step.new).get(WORKLOAD_IDENTITY_ANNOTATION)
            )
            if before_gsa != after_gsa:
                items.append(
                    Item(
                        scope,
                        f"Workload Identity: ServiceAccount `{objects.name(state)}` impersonates "
                        f"`{after_gsa or 'nothing'}` (was `{before_gsa or 'nothing'}`)",
                    )
                )
        elif objects.is_gcp_iam_member(state.type) and step.op != "same":
            what = "revoked" if gone else "granted" if new else "changed"
            items.append(Item(scope, f"Workload Identity: {_label(state)} {what}"))
        elif state.type == objects.DEPLOYMENT_TYPE and objects.name(state) == DIND_NAME and (gone or new):
            items.append(Item(scope, f"Docker-in-Docker `{DIND_NAME}` {'removed' if gone else 'added'}"))
    return items


def _is_reviewable(type_: str) -> bool:
    return (
        type_ in REVIEWED_TYPES
        or type_.startswith(objects.COMPONENT_PREFIX)
        or objects.is_gcp_iam_member(type_)
        or type_ == objects.DEPLOYMENT_TYPE
    )


def review(preview: Preview, project: str | None = None) -> Review:
    """The review of ``preview``. Raises PreviewError when it is a preview of another project (its
    URNs name another project than ``project``) or has none of the resources the review reads."""
    if project is not None and preview.project != project:
        raise PreviewError(
            f"the preview is of project {preview.project!r} (stack {preview.stack!r}), not {project!r}; "
            f"pass the preview of a {project} stack, or --project {preview.project} to review it anyway"
        )
    if not any(_is_reviewable(s.type) for s in preview.steps):
        types = sorted({s.type for s in preview.steps if s.type != "pulumi:pulumi:Stack"})
        if types:
            raise PreviewError(
                f"the preview of {preview.project}/{preview.stack} has none of the resources reviewed "
                f"(Kubernetes RBAC, Namespaces, concurrent-infra components), only {', '.join(types[:5])}: "
                "it is the preview of another project"
            )
    steps = effective_steps(preview.steps)
    before, after = before_and_after(steps)
    old, new = world(before), world(after)
    access = subject_changes(old, new)
    counts: dict[str, int] = {}
    for step in steps:
        if step.op != "same" and (state := step.new or step.old) is not None and state.custom:
            counts[step.op] = counts.get(step.op, 0) + 1
    namespaces = [s for s in steps if s.type == objects.NAMESPACE_TYPE]
    created = tuple(sorted(objects.name(s.new) for s in namespaces if s.op == "create" and s.new))
    removed = tuple(
        sorted(
            (objects.name(s.old), s.old.retain_on_delete) for s in namespaces if s.op == "delete" and s.old
        )
    )
    return Review(
        project=preview.project,
        stack=preview.stack,
        counts=counts,
        attention=tuple(_attention(preview, steps, old, new, access)),
        access=tuple(access),
        roles=tuple(unbound_role_changes(old, new)),
        namespaces_created=created,
        namespaces_removed=removed,
        settings=tuple(_settings(steps)),
        updates=tuple(
            Item(
                _scope(s.new), f"{_label(s.new)}: {', '.join(s.changed_paths or s.diff_reasons) or 'outputs'}"
            )
            for s in steps
            if s.op == "update" and s.new is not None
        ),
        unknown_namespaces=any(c.scope == "?" for c in access),
    )
