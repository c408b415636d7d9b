"""The namespace guard: what the system service account cannot undo, enforced by the API server.

The system role lets Concurrent's system service account manage its namespace's workloads, and
(through the upstream rules on ``namespaces``) its own Namespace object. A
ValidatingAdmissionPolicy (GA since Kubernetes 1.30) refuses, for every service account outside
``kube-system``, on Namespaces labelled ``app.kubernetes.io/managed-by=concurrent-infra``:

- ``DELETE``: a namespace's jobs and secrets cannot be lost with one call;
- an ``UPDATE`` that changes a Pod Security label or the managed-by label: a namespace cannot be
  relabelled ``privileged`` (root on the node) nor taken out of the guard's selector.

People (the platform team, Pulumi run by a person or by CI with a Google identity) are not
service accounts and are not affected. Limits: see the README's "Security model".
"""

from typing import TYPE_CHECKING

from .labels import MANAGED_BY_LABEL, with_common_labels
from .names import NAMESPACE_GUARD_POLICY
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


def _label(obj: str, key: str) -> str:
    """CEL: the value of label ``key`` of ``obj``, or '' when it has none."""
    labels = f"{obj}.metadata.labels"
    return f"(has({labels}) && '{key}' in {labels} ? {labels}['{key}'] : '')"


def labels_unchanged_expression(keys: tuple[str, ...] = GUARDED_LABELS) -> str:
    """CEL: an update leaves each of ``keys`` as it was."""
    return " && ".join(f"{_label('object', key)} == {_label('oldObject', key)}" for key in keys)


def namespace_guard_policy_spec() -> "ValidatingAdmissionPolicySpecArgsDict":
    """The ValidatingAdmissionPolicy's spec (pulumi_kubernetes argument names)."""
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
            {"name": "service-accounts-outside-kube-system", "expression": SERVICE_ACCOUNTS_ONLY}
        ],
        "validations": [
            {
                "expression": "request.operation != 'DELETE'",
                "message": "service accounts may not delete a namespace managed by concurrent-infra; "
                "the platform team deletes it (README: deleting a namespace on purpose)",
                "reason": "Forbidden",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({labels_unchanged_expression()})",
                "message": "service accounts may not change the Pod Security labels or the managed-by "
                "label of a namespace managed by concurrent-infra; set podSecurity in the stack config",
                "reason": "Forbidden",
            },
        ],
    }


def namespace_guard_binding_spec() -> "ValidatingAdmissionPolicyBindingSpecArgsDict":
    """The ValidatingAdmissionPolicyBinding's spec: deny what the policy refuses, cluster-wide."""
    return {"policy_name": NAMESPACE_GUARD_POLICY, "validation_actions": ["Deny"]}
