"""The namespace guard: what the system service account cannot undo, enforced by the API server.

The system role lets Concurrent's system service account manage its namespace's workloads, and
(through the upstream rules on ``namespaces``) its own Namespace object; its cluster-wide
subjects (the group ``k8s-role-for-parallels-lambda-group``, the extra users and groups, e.g.
Concurrent's control plane) may do so for every namespace. A ValidatingAdmissionPolicy (GA since
Kubernetes 1.30) refuses, for every service account outside ``kube-system`` and for those
subjects, on Namespaces labelled ``app.kubernetes.io/managed-by=concurrent-infra``:

- ``DELETE``: a namespace's jobs and secrets cannot be lost with one call;
- an ``UPDATE`` that changes a Pod Security label or the managed-by label: a namespace cannot be
  relabelled ``privileged`` (root on the node) nor taken out of the guard's selector.

Other people (the platform team, Pulumi run by a person or by CI with its own Google identity)
are not affected. Limits: see the README's "Security model".
"""

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

EXEMPT_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:kube-system:"
"""Kubernetes' own controllers (the namespace and garbage collectors) run in kube-system."""

SERVICE_ACCOUNTS_ONLY = (
    "request.userInfo.username.startsWith('system:serviceaccount:') && "
    f"!request.userInfo.username.startsWith('{EXEMPT_SERVICE_ACCOUNT_PREFIX}')"
)


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


def labels_unchanged_expression(keys: tuple[str, ...] = GUARDED_LABELS) -> str:
    """CEL: an update leaves each of ``keys`` as it was."""
    return " && ".join(f"{_label('object', key)} == {_label('oldObject', key)}" for key in keys)


def namespace_guard_policy_spec(
    users: Sequence[str] = (), groups: Sequence[str] = ()
) -> "ValidatingAdmissionPolicySpecArgsDict":
    """The ValidatingAdmissionPolicy's spec (pulumi_kubernetes argument names); ``users`` and
    ``groups`` are the system role's extra subjects, held back like service accounts."""
    return {
        "failure_policy": "Fail",
        "match_constraints": {
            "object_selector": {"match_labels": {MANAGED_BY_LABEL: with_common_labels()[MANAGED_BY_LABEL]}},
            "resource_rules": [
                {
                    "api_groups": [""],
                    "api_versions": ["v1"],
                    "operations": ["UPDATE", "DELETE"],
                    "resources": ["namespaces"],
                }
            ],
        },
        "match_conditions": [
            {
                "name": "service-accounts-and-system-role-subjects",
                "expression": guarded_identities_expression(users, groups),
            }
        ],
        "validations": [
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
        ],
    }


def namespace_guard_binding_spec() -> "ValidatingAdmissionPolicyBindingSpecArgsDict":
    """The ValidatingAdmissionPolicyBinding's spec: deny what the policy refuses, cluster-wide."""
    return {"policy_name": NAMESPACE_GUARD_POLICY, "validation_actions": ["Deny"]}
