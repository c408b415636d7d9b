"""The namespace guard's rules, evaluated: its CEL run by a CEL interpreter (cel-python) on the
requests an attacker holding a guarded identity would send, as the API server evaluates a
ValidatingAdmissionPolicy (match constraints, then the match condition, then each validation).

Only a real API server proves enforcement (tests/e2e/test_guardrails_e2e.py); these tests prove
the rules refuse each class of change and let the rest through, and run in milliseconds.
"""

import copy
from typing import Any

import celpy
import pytest
from celpy.adapter import json_to_cel

from concurrent_infra.kube.guardrails import (
    DELETING_FIELDS,
    GUARDED_ANNOTATIONS,
    PROBE_LABEL,
    guard_token,
    namespace_guard_policy_spec,
)
from concurrent_infra.kube.labels import MANAGED_BY_LABEL
from concurrent_infra.kube.names import SYSTEM_GROUP
from concurrent_infra.kube.pod_security import ENFORCE_LABEL

USER = "concurrent@my-project.iam.gserviceaccount.com"
SYSTEM_SA = "system:serviceaccount:team-b:k8s-serviceaccount-for-parallels-team-b"
ADMIN = "admin@example.com"
SPEC: Any = namespace_guard_policy_spec([USER], [])
TOKEN = guard_token([USER], [])
ENV = celpy.Environment()

NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "team-b",
        "uid": "1",
        "labels": {MANAGED_BY_LABEL: "concurrent-infra", ENFORCE_LABEL: "baseline", "team": "b"},
        "annotations": {"example.com/owner": "ml"},
    },
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active"},
}


def evaluate(expression: str, activation: dict[str, Any]) -> bool:
    program = ENV.program(ENV.compile(expression))
    variables: Any = json_to_cel(activation)
    return bool(program.evaluate(variables))


def admission(
    user: str,
    operation: str,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None = NAMESPACE,
    groups: tuple[str, ...] = ("system:authenticated",),
    resource: str = "namespaces",
    dry_run: bool = False,
) -> str | None:
    """The guard's verdict on a request: None (admitted) or the refusing validation's message."""
    constraints = SPEC["match_constraints"]
    (rule,) = constraints["resource_rules"]
    if operation not in rule["operations"] or resource not in rule["resources"]:
        return None
    selector = constraints["object_selector"]["match_labels"]
    if not any(
        obj is not None and selector.items() <= obj["metadata"].get("labels", {}).items()
        for obj in (new, old)
    ):
        return None
    request = {
        "operation": operation,
        "userInfo": {"username": user, "groups": list(groups)},
        "dryRun": dry_run,
    }
    activation = {"request": request, "object": new, "oldObject": old}
    if not all(evaluate(c["expression"], activation) for c in SPEC["match_conditions"]):
        return None
    for validation in SPEC["validations"]:
        if not evaluate(validation["expression"], activation):
            return str(validation["message"])
    return None


def changed(**metadata: Any) -> dict[str, Any]:
    new = copy.deepcopy(NAMESPACE)
    new["metadata"].update(metadata)
    return new


OWNER = {"apiVersion": "v1", "kind": "Node", "name": "gone", "uid": "0000"}
GUARDED = [
    (SYSTEM_SA, ()),
    (USER, ()),
    ("someone@example.com", (SYSTEM_GROUP,)),
]


@pytest.mark.parametrize(("user", "groups"), GUARDED)
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"ownerReferences": [OWNER]}, "ownerReferences"),
        ({"finalizers": ["example.com/never"]}, "finalizers"),
        ({"annotations": {GUARDED_ANNOTATIONS[0]: "pool=gpu"}}, "node selector"),
        ({"annotations": {GUARDED_ANNOTATIONS[2]: "[]"}}, "toleration"),
        ({"labels": {MANAGED_BY_LABEL: "concurrent-infra", ENFORCE_LABEL: "privileged"}}, "Pod Security"),
    ],
)
def test_every_change_that_deletes_blocks_or_frees_a_namespace_is_refused_to_guarded_identities(
    user: str, groups: tuple[str, ...], change: dict[str, Any], why: str
) -> None:
    refused = admission(user, "UPDATE", changed(**change), groups=(*groups, "system:authenticated"))
    assert refused is not None and why in refused, refused


@pytest.mark.parametrize(("user", "groups"), GUARDED)
def test_existing_owners_and_finalizers_cannot_be_removed_either(user: str, groups: tuple[str, ...]) -> None:
    old = changed(ownerReferences=[OWNER], finalizers=["example.com/backup"])
    for field in ("ownerReferences", "finalizers"):
        new = copy.deepcopy(old)
        del new["metadata"][field]
        assert admission(user, "UPDATE", new, old, groups=groups) is not None, field


def test_the_finalize_subresource_cannot_add_or_drop_a_namespace_finalizer() -> None:
    assert "spec.finalizers" in DELETING_FIELDS
    for finalizers in ([], ["kubernetes", "example.com/never"]):
        new = copy.deepcopy(NAMESPACE)
        new["spec"]["finalizers"] = finalizers
        refused = admission(SYSTEM_SA, "UPDATE", new, resource="namespaces/finalize")
        assert refused is not None and "finalizers" in refused


@pytest.mark.parametrize(("user", "groups"), GUARDED)
def test_the_status_subresource_cannot_change_what_the_namespace_update_cannot(
    user: str, groups: tuple[str, ...]
) -> None:
    """``namespaces/status`` resets only the spec (namespaceStatusStrategy.PrepareForUpdate): an
    identity granted it elsewhere could otherwise relabel the namespace or plant an owner."""
    for change in (
        {"ownerReferences": [OWNER]},
        {"labels": {MANAGED_BY_LABEL: "concurrent-infra", ENFORCE_LABEL: "privileged"}},
        {"annotations": {GUARDED_ANNOTATIONS[0]: "pool=gpu"}},
    ):
        new = changed(**change)
        refused = admission(
            user, "UPDATE", new, groups=(*groups, "system:authenticated"), resource="namespaces/status"
        )
        assert refused is not None, change


@pytest.mark.parametrize("annotation", GUARDED_ANNOTATIONS)
def test_adding_an_empty_node_placement_annotation_is_a_change(annotation: str) -> None:
    """An empty node-selector or tolerationsWhitelist is read as set, and turns the cluster's
    default off: absent and empty are not the same value."""
    new = changed(annotations={**NAMESPACE["metadata"]["annotations"], annotation: ""})
    refused = admission(SYSTEM_SA, "UPDATE", new)
    assert refused is not None and "node selector" in refused
    refused = admission(SYSTEM_SA, "UPDATE", NAMESPACE, old=new)
    assert refused is not None and "node selector" in refused


def test_adding_an_empty_guarded_label_is_a_change() -> None:
    new = changed(labels={**NAMESPACE["metadata"]["labels"], ENFORCE_LABEL.replace("enforce", "warn"): ""})
    refused = admission(SYSTEM_SA, "UPDATE", new)
    assert refused is not None and "Pod Security" in refused


def test_other_labels_and_annotations_stay_the_guarded_identities_to_change() -> None:
    new = changed(
        labels={**NAMESPACE["metadata"]["labels"], "cost-center": "ml"},
        annotations={"example.com/owner": "research"},
    )
    assert admission(SYSTEM_SA, "UPDATE", new) is None


def test_people_and_kubernetes_own_controllers_are_not_held_back() -> None:
    for user in (ADMIN, "system:serviceaccount:kube-system:generic-garbage-collector"):
        assert admission(user, "UPDATE", changed(ownerReferences=[OWNER])) is None
        assert admission(user, "DELETE", None) is None  # no object on DELETE: no error either


def test_delete_is_refused_to_guarded_identities() -> None:
    refused = admission(SYSTEM_SA, "DELETE", None)
    assert refused is not None and "may not delete" in refused


def test_the_probe_is_refused_from_anyone_only_as_a_dry_run_with_this_guards_token() -> None:
    default: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "default", "labels": {}},
    }
    probe = copy.deepcopy(default)
    probe["metadata"]["labels"] = {MANAGED_BY_LABEL: "concurrent-infra", PROBE_LABEL: TOKEN}
    refused = admission(ADMIN, "UPDATE", probe, default, dry_run=True)
    assert refused is not None and TOKEN in refused
    assert admission(ADMIN, "UPDATE", probe, default, dry_run=False) is None
    stale = copy.deepcopy(probe)
    stale["metadata"]["labels"][PROBE_LABEL] = guard_token([], [])
    assert admission(ADMIN, "UPDATE", stale, default, dry_run=True) is None


def test_the_token_follows_the_spec() -> None:
    assert guard_token([USER], []) == TOKEN
    assert len({guard_token(), guard_token([USER]), guard_token([], ["ops"])}) == 3
