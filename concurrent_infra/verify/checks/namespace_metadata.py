"""The Namespace fields the namespace guard holds (``guard`` area): no ownerReferences, no
metadata.finalizers, ``spec.finalizers`` exactly ``[kubernetes]``, the node-placement annotations as
configured."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from ...kube.guardrails import (
    GUARDED_ANNOTATIONS,
)
from ..api import KubeObject
from ..expectations import NamespaceExpectation
from .result import CheckResult

KUBERNETES_FINALIZER = "kubernetes"
"""The finalizer the API server puts in every Namespace's ``spec.finalizers`` when it is created (and
then lets only the ``namespaces/finalize`` subresource change): the namespace controller deletes
the namespace's content, then removes it (``PrepareForCreate`` in kubernetes/kubernetes
pkg/registry/core/namespace/strategy.go)."""


def _remove_with_patch(namespace: str, path: str) -> str:
    return (
        f"remove it as a cluster admin: kubectl patch namespace {namespace} --type=json "
        f"""-p '[{{"op":"remove","path":"{path}"}}]'"""
    )


def _owner(reference: Mapping[str, Any]) -> str:
    return f"{reference.get('kind', '?')} {reference.get('name', '?')} (uid {reference.get('uid', '?')})"


def _shown_value(value: object) -> str:
    return "(none)" if value is None else json.dumps(value)


def namespace_metadata_results(
    expected: NamespaceExpectation, namespace: KubeObject | None
) -> list[CheckResult]:
    """The Namespace's fields that make the control plane delete it, block its deletion, or move its
    pods, as the package leaves them (:data:`~concurrent_infra.kube.guardrails.DELETING_FIELDS`,
    :data:`~concurrent_infra.kube.guardrails.GUARDED_ANNOTATIONS`): no ``metadata.ownerReferences``
    (the garbage collector deletes a namespace whose owners are all gone: a Node it names, say),
    no ``metadata.finalizers`` (a finalizer nobody removes keeps it ``Terminating``),
    ``spec.finalizers`` exactly ``[kubernetes]`` (without it a deleted namespace's content stays
    behind, for the next namespace of that name), and the node-placement annotations exactly as
    configured (absent when not). Today's guard refuses changing any of them to the namespace's
    service accounts and the system role's subjects; what an earlier guard let them plant stays, and
    the guard then refuses removing it too: only verify sees it, and a cluster admin removes it."""
    if namespace is None:
        return []
    ns = expected.name
    metadata = namespace.get("metadata") or {}
    owners = [_owner(reference) for reference in metadata.get("ownerReferences") or ()]
    finalizers = [str(finalizer) for finalizer in metadata.get("finalizers") or ()]
    spec_finalizers = [str(finalizer) for finalizer in (namespace.get("spec") or {}).get("finalizers") or ()]
    spec_ok = spec_finalizers == [KUBERNETES_FINALIZER]
    restore = (
        f"restore it as a cluster admin: kubectl get namespace {ns} -o json | jq "
        f"""'.spec.finalizers=["{KUBERNETES_FINALIZER}"]' | kubectl replace --raw """
        f"/api/v1/namespaces/{ns}/finalize -f -"
    )
    results = [
        CheckResult(
            "guard",
            f"Namespace {ns} has no ownerReferences (the garbage collector deletes it with its owners)",
            "none",
            f"{', '.join(owners)}; {_remove_with_patch(ns, '/metadata/ownerReferences')}"
            if owners
            else "none",
            not owners,
        ),
        CheckResult(
            "guard",
            f"Namespace {ns} has no metadata.finalizers (they hold its deletion)",
            "none",
            f"{', '.join(finalizers)}; {_remove_with_patch(ns, '/metadata/finalizers')}"
            if finalizers
            else "none",
            not finalizers,
        ),
        CheckResult(
            "guard",
            f"Namespace {ns} spec.finalizers (the namespace controller deletes its content)",
            KUBERNETES_FINALIZER,
            (", ".join(spec_finalizers) or "(none)") + ("" if spec_ok else f"; {restore}"),
            spec_ok,
        ),
    ]
    annotations = metadata.get("annotations") or {}
    for key in GUARDED_ANNOTATIONS:
        want, have = expected.annotations.get(key), annotations.get(key)
        if want is None and have is None:
            fix = ""
        elif want is None:
            fix = f"; remove it as a cluster admin: kubectl annotate namespace {ns} {key}-"
        else:
            setting = shlex.quote(f"{key}={want}")
            fix = f"; restore it as a cluster admin: kubectl annotate --overwrite namespace {ns} {setting}"
        results.append(
            CheckResult(
                "guard",
                f"Namespace {ns} annotation {key} (where its pods may run)",
                _shown_value(want) + ("" if want is not None else ": not configured"),
                _shown_value(have) + ("" if have == want else fix),
                have == want,
            )
        )
    return results
