"""Namespace rules: managed Namespaces are protected and carry Pod Security labels.

Pod Security admission enforces the level in a Namespace's ``pod-security.kubernetes.io/enforce``
label; without the label the API server admits privileged pods
(https://kubernetes.io/docs/concepts/security/pod-security-admission/), so a managed Namespace
always carries it (concurrent_infra.kube.pod_security), and ``privileged`` is an explicit opt-in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from concurrent_infra.kube.labels import MANAGED_BY_LABEL
from concurrent_infra.kube.pod_security import (
    DEFAULT_POD_SECURITY,
    ENFORCE_LABEL,
    LABEL_PREFIX,
    POD_SECURITY_LEVELS,
)

from ..props import MANAGED_BY_VALUE, NAMESPACE, UNKNOWN, Obj, is_managed, labels, mapping, metadata
from ..rule import ConfigKey, ResourceRule, StackResource, StackRule, config_list, stack_objects

UNPROTECTED_NAMESPACES = ConfigKey(
    "unprotectedNamespaces", "Namespaces that may be unprotected (explicit opt-out, e.g. to delete one)."
)
PRIVILEGED_NAMESPACES = ConfigKey(
    "privilegedNamespaces",
    "Namespaces that may have Pod Security level privileged (podSecurity: privileged, e.g. for DinD).",
)


def unprotected_namespaces(config: Mapping[str, Any]) -> frozenset[str]:
    """The namespaces the policy config explicitly allows to be unprotected."""
    return config_list(config, UNPROTECTED_NAMESPACES)


def managed_namespaces_protected(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A Namespace with this package's managed-by label is protected unless the config opts it out."""
    if obj.type != NAMESPACE or obj.patch or not is_managed(obj.props) or obj.protect:
        return []
    if obj.name in unprotected_namespaces(config):
        return []
    return [
        f"Namespace {obj.name} is managed by {MANAGED_BY_VALUE} but not protected, so pulumi up or "
        "pulumi destroy can delete it with every job and secret in it. Keep protect: true for it in the "
        "stack config (the default), or, to delete it on purpose, add it to this policy's "
        f"{UNPROTECTED_NAMESPACES.name} config (pulumi preview --policy-pack-config FILE)."
    ]


def managed_namespaces_pod_security(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A managed Namespace enforces a Pod Security level; ``privileged`` only where the config allows.

    A Namespace patch (managed or not) that sets ``enforce: privileged`` needs the same opt-in.
    """
    if obj.type != NAMESPACE:
        return []
    meta = obj.props.get("metadata")
    if meta is UNKNOWN or mapping(meta).get("labels") is UNKNOWN:
        return []
    level = labels(obj.props).get(ENFORCE_LABEL)
    if level is UNKNOWN:
        return []
    if obj.patch:
        if level != "privileged":
            return []  # a patch is judged only when it makes the namespace privileged
    elif not is_managed(obj.props):
        return []
    allowed = config_list(config, PRIVILEGED_NAMESPACES)
    fix = (
        f"Give it the Pod Security labels of concurrent_infra.kube.pod_security (the stack config's "
        f"podSecurity: {', '.join(POD_SECURITY_LEVELS)}; {DEFAULT_POD_SECURITY} by default)."
    )
    if level is None:
        return [
            f"Namespace {obj.name} is managed by {MANAGED_BY_VALUE} but has no {ENFORCE_LABEL} label, "
            f"so Pod Security admission lets any pod in, privileged ones included. {fix}"
        ]
    if level not in POD_SECURITY_LEVELS:
        return [f"Namespace {obj.name} has {ENFORCE_LABEL}={level!r}, not a Pod Security level. {fix}"]
    if level == "privileged" and obj.name not in allowed:
        return [
            f"Namespace {obj.name} has {ENFORCE_LABEL}=privileged: its pods may run privileged, with "
            "host namespaces and host paths, which is root on the node. Use podSecurity: baseline or "
            "restricted, or, if the namespace needs it (e.g. for DinD), add it to this policy's "
            f"{PRIVILEGED_NAMESPACES.name} config."
        ]
    return []


def _is_kept_label(key: str) -> bool:
    return key == MANAGED_BY_LABEL or key.startswith(LABEL_PREFIX)


def managed_namespace_labels_kept(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """A NamespacePatch of a namespace the stack manages leaves its Pod Security labels
    (``pod-security.kubernetes.io/*``) and its managed-by label as the Namespace sets them: a patch
    that removes one (``null``) or sets another value is a violation. Unknown values are not judged."""
    objects = stack_objects(resources)
    managed: dict[str, Mapping[str, Any]] = {}
    for _, obj in objects:
        namespace_name = metadata(obj.props).get("name")
        if (
            obj.type == NAMESPACE
            and not obj.patch
            and is_managed(obj.props)
            and isinstance(namespace_name, str)
        ):
            managed[namespace_name] = labels(obj.props)
    violations = []
    for urn, obj in objects:
        namespace_name = metadata(obj.props).get("name")
        if obj.type != NAMESPACE or not obj.patch or not isinstance(namespace_name, str):
            continue
        if namespace_name not in managed:
            continue
        patch_labels = mapping(metadata(obj.props).get("labels"))
        for key, value in patch_labels.items():
            expected = managed[namespace_name].get(key)
            if not _is_kept_label(key) or UNKNOWN in (value, expected) or value == expected:
                continue
            change = "removes" if value is None else f"sets {key}={value!r} over"
            kept = f"{key}={expected}" if expected is not None else f"no {key} label"
            violations.append(
                (
                    urn,
                    f"{obj.where}NamespacePatch {namespace_name} {change} the label that the managed "
                    f"Namespace {namespace_name} sets ({kept}). The Pod Security labels decide what its "
                    f"pods may do, and {MANAGED_BY_LABEL} puts it under the namespace guard: change them "
                    "only through the stack config (the namespace's podSecurity), and remove this label "
                    "from the patch.",
                )
            )
    return violations


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "managed-namespaces-protected",
        f"Namespaces labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} are protected, unless listed in "
        f"the policy config {UNPROTECTED_NAMESPACES.name}.",
        managed_namespaces_protected,
        (UNPROTECTED_NAMESPACES,),
    ),
    ResourceRule(
        "managed-namespaces-pod-security",
        f"Namespaces labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} carry {ENFORCE_LABEL}; the level "
        f"privileged only if listed in the policy config {PRIVILEGED_NAMESPACES.name}.",
        managed_namespaces_pod_security,
        (PRIVILEGED_NAMESPACES,),
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "managed-namespace-labels-kept",
        "A NamespacePatch of a namespace the stack manages neither removes nor changes its Pod Security "
        f"labels ({LABEL_PREFIX}*) or its {MANAGED_BY_LABEL} label.",
        managed_namespace_labels_kept,
    ),
)
