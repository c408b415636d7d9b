"""Typed building blocks shared by the components: object metadata, role references, subjects."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from .labels import with_common_labels
from .rbac import RBAC_API_GROUP


def object_metadata(
    name: str,
    namespace: pulumi.Input[str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgsDict:
    """Metadata with an explicit name (Concurrent finds objects by name) and the common labels."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "labels": with_common_labels(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def cluster_role_ref(name: pulumi.Input[str]) -> k8s.rbac.v1.RoleRefArgsDict:
    """A ``roleRef`` to ClusterRole ``name``, with the API group written out."""
    return {"api_group": RBAC_API_GROUP, "kind": "ClusterRole", "name": name}


def service_account_subject(name: str, namespace: str) -> k8s.rbac.v1.SubjectArgsDict:
    """A binding subject for ServiceAccount ``namespace/name``."""
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def name_of(metadata: pulumi.Output[k8s.meta.v1.outputs.ObjectMeta]) -> pulumi.Output[str]:
    """The ``metadata.name`` of a created object (resolves once the object exists)."""
    return metadata.apply(lambda meta: meta.name or "")
