"""The namespace guard: what the system service account cannot undo, enforced by the API server.

The system role lets Concurrent's system service account manage its namespace's workloads, and
(through the upstream rules on ``namespaces``) its own Namespace object; its cluster-wide
subjects (the group ``k8s-role-for-parallels-lambda-group``, the extra users and groups, e.g.
Concurrent's control plane) may do so for every namespace. A ValidatingAdmissionPolicy (GA since
Kubernetes 1.30) refuses, for every service account outside ``kube-system`` and for those
subjects, on Namespaces labelled ``app.kubernetes.io/managed-by=concurrent-infra``:

- ``DELETE``: a namespace's jobs and secrets cannot be lost with one call;
- an ``UPDATE`` that changes a Pod Security label, the managed-by label, or a namespace annotation
  an admission plugin reads to decide where pods may run: a namespace cannot be relabelled
  ``privileged`` (root on the node) nor taken out of the guard's selector;
- an ``UPDATE`` (of the Namespace or its ``finalize`` subresource) that changes what makes the
  control plane delete or block the namespace for the caller: ``metadata.ownerReferences`` (the
  garbage collector deletes a dependent whose owners are all gone, and an owner the caller may
  delete, a Node say, would take the namespace with it), ``metadata.finalizers`` and
  ``spec.finalizers`` (a finalizer nobody removes keeps the namespace ``Terminating`` forever;
  removing ``kubernetes`` leaves its content behind). See :data:`DELETING_FIELDS`.

What needs no rule, because the API server itself refuses it: setting ``deletionTimestamp`` or
``deletionGracePeriodSeconds`` by an update (``rest.BeforeUpdate`` keeps the stored values and
``ValidateObjectMetaUpdate`` makes them immutable: kubernetes/kubernetes
staging/src/k8s.io/apiserver/pkg/registry/rest/update.go), spec or status through a plain update
(the namespace strategy's ``PrepareForUpdate`` copies both from the stored object:
pkg/registry/core/namespace/strategy.go), and a status phase other than ``Active`` without a
deletion (``ValidateNamespaceStatusUpdate``, pkg/apis/core/validation/validation.go).

Other people (the platform team, Pulumi run by a person or by CI with its own Google identity)
are not affected. Limits: see docs/security-model.md.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .labels import MANAGED_BY_LABEL, with_common_labels
from .names import NAMESPACE_GUARD_POLICY, SYSTEM_GROUP
from .pod_security import LABEL_PREFIX

if TYPE_CHECKING:
    from pulumi_kubernetes.admissionregistration.v1 import (
        ValidatingAdmissionPolicyBindingSpecArgsDict,
        ValidatingAdmissionPolicySpecArgsDict,
    )

GUARDED_LABELS: tuple[str, ...] = (
    *(
        f"{LABEL_PREFIX}{mode}{suffix}"
        for mode in ("enforce", "warn", "audit")
        for suffix in ("", "-version")
    ),
    MANAGED_BY_LABEL,
)
"""Every label Pod Security admission reads, and the label the guard selects namespaces by."""

GUARDED_ANNOTATIONS: tuple[str, ...] = (
    "scheduler.alpha.kubernetes.io/node-selector",
    "scheduler.alpha.kubernetes.io/defaultTolerations",
    "scheduler.alpha.kubernetes.io/tolerationsWhitelist",
)
"""Namespace annotations that in-tree admission plugins read to decide where the namespace's pods
may run (PodNodeSelector: plugin/pkg/admission/podnodeselector; PodTolerationRestriction:
plugin/pkg/admission/podtolerationrestriction/admission.go, ``NSDefaultTolerations`` and
``NSWLTolerations``; kubernetes.io "Well-Known Labels, Annotations and Taints"). Off by default,
but where a cluster enables them, changing one moves pods onto nodes reserved for others."""

DELETING_FIELDS: tuple[str, ...] = ("metadata.ownerReferences", "metadata.finalizers", "spec.finalizers")
"""Namespace fields whose change makes the control plane delete the namespace, or block its
deletion, for whoever changed them: the garbage collector deletes an object whose owners are all
absent (kubernetes.io "Owners and Dependents", "Garbage Collection"; a cluster-scoped dependent
with a namespaced owner kind is left alone, one with a cluster-scoped owner that does not exist,
or that the caller then deletes, is not); finalizers hold a deletion until a controller removes
them. ``spec.finalizers`` changes only through the ``namespaces/finalize`` subresource."""

GUARDED_RESOURCES: tuple[str, ...] = ("namespaces", "namespaces/finalize", "namespaces/status")
"""What the guard matches: a rule for ``namespaces`` does not match its subresources
(ValidatingAdmissionPolicy ``resourceRules``). ``finalize`` writes ``spec.finalizers``; ``status``
resets only the spec (kubernetes pkg/registry/core/namespace/strategy.go,
``namespaceStatusStrategy.PrepareForUpdate``), so it writes labels, annotations, ownerReferences
and finalizers like an update of the namespace itself."""

EXEMPT_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:kube-system:"
"""Kubernetes' own controllers (the namespace and garbage collectors) run in kube-system."""

SERVICE_ACCOUNTS_ONLY = (
    "request.userInfo.username.startsWith('system:serviceaccount:') && "
    f"!request.userInfo.username.startsWith('{EXEMPT_SERVICE_ACCOUNT_PREFIX}')"
)


PROBE_LABEL = "concurrent-infra/guard-probe"
"""The label of the readiness probe: a server-side dry run (nothing is stored) that sets it to the
guard's :func:`guard_token` is refused by that guard, and only by it, from anyone
(:mod:`concurrent_infra.kube.guard_probe`)."""


def _cel_list(values: Sequence[str]) -> str:
    """A CEL list of string literals (JSON string syntax is valid CEL for these printable names)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def guarded_identities_expression(users: Sequence[str] = (), groups: Sequence[str] = ()) -> str:
    """CEL: the request comes from a service account outside kube-system, or from one of the system
    role's own subjects (its group, and the extra users and groups)."""
    return (
        f"({SERVICE_ACCOUNTS_ONLY})"
        f" || request.userInfo.username in {_cel_list(users)}"
        f" || (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in "
        f"{_cel_list([SYSTEM_GROUP, *groups])}))"
    )


def _label(obj: str, key: str) -> str:
    """CEL: the value of label ``key`` of ``obj``, or '' when it has none."""
    labels = f"{obj}.metadata.labels"
    return f"(has({labels}) && '{key}' in {labels} ? {labels}['{key}'] : '')"


def _entry(obj: str, field: str, key: str) -> str:
    """CEL: ``[value]`` of ``key`` in ``obj.metadata.<field>``, or ``[]`` when it is absent, so
    that adding a key with an empty value is a change: Kubernetes reads an empty
    ``scheduler.alpha.kubernetes.io/node-selector`` or ``tolerationsWhitelist`` as set (it then
    skips the cluster's default), not as absent (PodNodeSelector ``getNodeSelectorMap``,
    PodTolerationRestriction ``extractNSTolerations``)."""
    entries = f"{obj}.metadata.{field}"
    return f"(has({entries}) && '{key}' in {entries} ? [{entries}['{key}']] : [])"


def labels_unchanged_expression(keys: tuple[str, ...] = GUARDED_LABELS) -> str:
    """CEL: an update leaves each of ``keys`` as it was, present or absent."""
    return " && ".join(
        f"{_entry('object', 'labels', key)} == {_entry('oldObject', 'labels', key)}" for key in keys
    )


def annotations_unchanged_expression(keys: tuple[str, ...] = GUARDED_ANNOTATIONS) -> str:
    """CEL: an update leaves each annotation of ``keys`` as it was, present or absent."""
    return " && ".join(
        f"{_entry('object', 'annotations', key)} == {_entry('oldObject', 'annotations', key)}" for key in keys
    )


def _list_field(obj: str, path: str) -> str:
    """CEL: the list at ``path`` of ``obj``, or an empty list when it (or a field above it) is absent."""
    parts = path.split(".")
    present = " && ".join(f"has({obj}.{'.'.join(parts[: depth + 1])})" for depth in range(len(parts)))
    return f"({present} ? {obj}.{path} : [])"


def fields_unchanged_expression(paths: tuple[str, ...] = DELETING_FIELDS) -> str:
    """CEL: an update leaves each list field of ``paths`` as it was (absent equals empty)."""
    return " && ".join(f"{_list_field('object', path)} == {_list_field('oldObject', path)}" for path in paths)


def probe_expression(token: str) -> str:
    """CEL: the request is the readiness probe of the guard whose token is ``token``: a dry run
    that sets :data:`PROBE_LABEL` to it. The operation is tested first: a DELETE has no ``object``,
    and an error in a match condition would refuse the request (``failurePolicy: Fail``)."""
    return (
        f"(request.operation == 'UPDATE' && has(request.dryRun) && request.dryRun && "
        f"{_label('object', PROBE_LABEL)} == '{token}')"
    )


def guard_token(users: Sequence[str] = (), groups: Sequence[str] = ()) -> str:
    """A short digest of the guard's spec for these subjects: a probe refused with it proves that
    this version of the guard (not an earlier one) is in force."""
    rules = json.dumps(_policy_spec(users, groups, ""), sort_keys=True)
    return hashlib.sha256(rules.encode()).hexdigest()[:16]


def namespace_guard_policy_spec(
    users: Sequence[str] = (), groups: Sequence[str] = ()
) -> "ValidatingAdmissionPolicySpecArgsDict":
    """The ValidatingAdmissionPolicy's spec (pulumi_kubernetes argument names); ``users`` and
    ``groups`` are the system role's extra subjects, held back like service accounts. Its first
    validation answers the readiness probe (:func:`probe_expression`)."""
    return _policy_spec(users, groups, guard_token(users, groups))


def _policy_spec(
    users: Sequence[str], groups: Sequence[str], token: str
) -> "ValidatingAdmissionPolicySpecArgsDict":
    return {
        "failure_policy": "Fail",
        "match_constraints": {
            "object_selector": {"match_labels": {MANAGED_BY_LABEL: with_common_labels()[MANAGED_BY_LABEL]}},
            "resource_rules": [
                {
                    "api_groups": [""],
                    "api_versions": ["v1"],
                    "operations": ["UPDATE", "DELETE"],
                    "resources": list(GUARDED_RESOURCES),
                }
            ],
        },
        "match_conditions": [
            {
                "name": "service-accounts-and-system-role-subjects",
                "expression": f"{guarded_identities_expression(users, groups)} || {probe_expression(token)}",
            }
        ],
        "validations": [
            {
                "expression": f"!{probe_expression(token)}",
                "message": f"{PROBE_LABEL} {token}: the namespace guard is in force (a dry run of "
                "concurrent-infra's readiness probe; nothing was changed)",
                "reason": "Forbidden",
            },
            {
                "expression": "request.operation != 'DELETE'",
                "message": "service accounts and the system role's subjects may not delete a namespace "
                "managed by concurrent-infra; "
                "the platform team deletes it (README: deleting a namespace on purpose)",
                "reason": "Forbidden",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({labels_unchanged_expression()})",
                "message": "service accounts and the system role's subjects may not change the Pod "
                "Security labels or the managed-by label of a namespace managed by concurrent-infra; "
                "set podSecurity in the stack config",
                "reason": "Forbidden",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({annotations_unchanged_expression()})",
                "message": "service accounts and the system role's subjects may not change the node "
                "selector or toleration annotations of a namespace managed by concurrent-infra; "
                "set them in the stack config (namespaces[].annotations)",
                "reason": "Forbidden",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({fields_unchanged_expression()})",
                "message": "service accounts and the system role's subjects may not change the "
                "ownerReferences or finalizers of a namespace managed by concurrent-infra: the "
                "garbage collector would delete it, or its deletion would never finish",
                "reason": "Forbidden",
            },
        ],
    }


def namespace_guard_binding_spec() -> "ValidatingAdmissionPolicyBindingSpecArgsDict":
    """The ValidatingAdmissionPolicyBinding's spec: deny what the policy refuses, cluster-wide."""
    return {"policy_name": NAMESPACE_GUARD_POLICY, "validation_actions": ["Deny"]}
