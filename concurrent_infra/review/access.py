"""Who may do what, where, before and after a preview: RBAC roles and bindings, flattened to grants.

Each binding in the preview gives its subjects the rules of its role, in its namespace (a
RoleBinding) or everywhere (a ClusterRoleBinding). Rules are flattened to ``(api group, resource,
verb)`` as ``concurrent_infra.kube.rbac.grants`` does, so reordering rules changes nothing, and
the change of a subject is the difference of two sets. A role the preview does not contain (an
unchanged one, with ``--json`` without ``--show-sames``; one made by hand; Kubernetes' own) is
reported by name, its rules unknown: the review never guesses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..kube.rbac import PolicyRule, grants
from ..kube.subjects import Subject
from . import objects
from .preview import UNKNOWN, State, Step

CLUSTER = ""
"""The scope of a ClusterRoleBinding: every namespace and the cluster's own resources."""

Grant = tuple[str, str, str]
"""(API group, resource, verb)."""


@dataclass(frozen=True, order=True)
class RoleRef:
    """A role: a ClusterRole, or a Role of one namespace."""

    kind: str
    name: str
    namespace: str = ""

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}" if self.kind == "Role" else f"{self.kind} {self.name}"
        )


@dataclass(frozen=True)
class Binding:
    """A RoleBinding (``scope`` its namespace) or a ClusterRoleBinding (``scope`` CLUSTER)."""

    kind: str
    name: str
    scope: str
    role: RoleRef
    subjects: frozenset[Subject]


@dataclass(frozen=True)
class World:
    """The roles and bindings of the preview on one side of the change (before or after)."""

    roles: Mapping[RoleRef, frozenset[Grant]]
    bindings: Mapping[tuple[str, str, str], Binding]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value if v != UNKNOWN) if isinstance(value, list) else ()


def rule_grants(state: State) -> frozenset[Grant]:
    """The grants of a Role's or ClusterRole's ``rules``. ``resourceNames`` narrow a resource (shown as
    ``resource[name,...]``); ``nonResourceURLs`` are shown as resources of their own."""
    rules = state.value("rules")
    found: set[Grant] = set()
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, Mapping):
            continue
        verbs = _strings(rule.get("verbs"))
        names = _strings(rule.get("resourceNames"))
        resources = tuple(f"{r}[{','.join(names)}]" if names else r for r in _strings(rule.get("resources")))
        found |= grants([PolicyRule(_strings(rule.get("apiGroups")), resources, verbs)])
        found |= {("", url, verb) for url in _strings(rule.get("nonResourceURLs")) for verb in verbs}
    return frozenset(found)


def _role_ref(state: State) -> RoleRef:
    kind = objects.kind_of(state.type)
    return RoleRef(kind, objects.name(state), (objects.namespace(state) or "") if kind == "Role" else "")


def _binding(state: State) -> Binding:
    kind = objects.kind_of(state.type)
    scope = CLUSTER if kind == "ClusterRoleBinding" else (objects.namespace(state) or "?")
    ref = state.value("roleRef") or {}
    ref_kind = str(ref.get("kind") or "ClusterRole") if isinstance(ref, Mapping) else "ClusterRole"
    ref_name = ref.get("name") if isinstance(ref, Mapping) else None
    role = RoleRef(
        ref_kind,
        ref_name if isinstance(ref_name, str) and ref_name != UNKNOWN else "(not known until the update)",
        scope if ref_kind == "Role" else "",
    )
    subjects = set()
    for raw in state.value("subjects") or ():
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
            space = raw.get("namespace")
            known = space if isinstance(space, str) and space != UNKNOWN else ""
            subjects.add(Subject.in_binding(str(raw.get("kind", "")), str(raw["name"]), known, scope))
    return Binding(kind, objects.name(state), scope, role, frozenset(subjects))


CREATING = frozenset({"create", "create-replacement", "import", "import-replacement"})
DELETING = frozenset({"delete", "delete-replaced"})


def before_and_after(steps: Iterable[Step]) -> tuple[list[State], list[State]]:
    """The states of the resources before the change and after it (a created resource has no
    before, a deleted one no after)."""
    before: list[State] = []
    after: list[State] = []
    for step in steps:
        if step.old is not None and step.op not in CREATING:
            before.append(step.old)
        if step.new is not None and step.op not in DELETING:
            after.append(step.new)
    return before, after


def world(states: Iterable[State]) -> World:
    """The roles and bindings among ``states``."""
    roles: dict[RoleRef, frozenset[Grant]] = {}
    bindings: dict[tuple[str, str, str], Binding] = {}
    for state in states:
        if state.type in objects.ROLE_TYPES:
            roles[_role_ref(state)] = rule_grants(state)
        elif state.type in objects.BINDING_TYPES:
            binding = _binding(state)
            bindings[(binding.kind, binding.scope, binding.name)] = binding
    return World(roles, bindings)


@dataclass(frozen=True)
class SubjectChange:
    """What one subject gains and loses in one scope (a namespace, or CLUSTER)."""

    scope: str
    subject: Subject
    gained: frozenset[Grant]
    lost: frozenset[Grant]
    gained_via: tuple[RoleRef, ...]
    lost_via: tuple[RoleRef, ...]
    unknown_gained: tuple[RoleRef, ...]
    """Roles newly bound whose rules are not in the preview."""
    unknown_lost: tuple[RoleRef, ...]


@dataclass(frozen=True)
class RoleChange:
    """A role whose rules change while no binding of it is in the preview."""

    role: RoleRef
    gained: frozenset[Grant]
    lost: frozenset[Grant]
    created: bool
    deleted: bool


def _held(side: World) -> dict[tuple[str, Subject], set[RoleRef]]:
    held: dict[tuple[str, Subject], set[RoleRef]] = {}
    for binding in side.bindings.values():
        for subject in binding.subjects:
            held.setdefault((binding.scope, subject), set()).add(binding.role)
    return held


def _union(side: World, refs: Iterable[RoleRef]) -> frozenset[Grant]:
    return frozenset().union(*(side.roles.get(ref, frozenset()) for ref in refs))


def subject_changes(old: World, new: World) -> list[SubjectChange]:
    """Every subject whose access changes, in each scope, sorted by scope then subject."""
    held_old, held_new = _held(old), _held(new)
    changes = []
    for key in sorted(held_old.keys() | held_new.keys()):
        scope, subject = key
        refs_old, refs_new = held_old.get(key, set()), held_new.get(key, set())
        grants_old, grants_new = _union(old, refs_old), _union(new, refs_new)
        gained, lost = grants_new - grants_old, grants_old - grants_new
        unknown_gained = tuple(sorted(r for r in refs_new - refs_old if r not in new.roles))
        unknown_lost = tuple(sorted(r for r in refs_old - refs_new if r not in old.roles))
        if not (gained or lost or unknown_gained or unknown_lost):
            continue
        changes.append(
            SubjectChange(
                scope,
                subject,
                gained,
                lost,
                tuple(sorted(r for r in refs_new if new.roles.get(r, frozenset()) & gained)),
                tuple(sorted(r for r in refs_old if old.roles.get(r, frozenset()) & lost)),
                unknown_gained,
                unknown_lost,
            )
        )
    return changes


def unbound_role_changes(old: World, new: World) -> list[RoleChange]:
    """Roles whose rules change while no binding of them is in the preview: who holds them is not
    known from the preview, so the change is reported on the role."""
    referenced = {b.role for b in (*old.bindings.values(), *new.bindings.values())}
    changes = []
    for ref in sorted(old.roles.keys() | new.roles.keys()):
        before, after = old.roles.get(ref), new.roles.get(ref)
        if ref in referenced or before == after:
            continue
        changes.append(
            RoleChange(
                ref,
                (after or frozenset()) - (before or frozenset()),
                (before or frozenset()) - (after or frozenset()),
                created=before is None,
                deleted=after is None,
            )
        )
    return changes
