"""Builders of the objects the policy pack's rules are tested against, shared by the policy test modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from concurrent_infra.kube.labels import with_common_labels
from concurrent_infra.kube.pod_security import PodSecurityLevel, pod_security_labels
from concurrent_infra.kube.rbac import RBAC_API_GROUP


def hardened_cluster(**overrides: Any) -> dict[str, Any]:
    """What GkeCluster registers, new defaults of issue 12 included."""
    props: dict[str, Any] = {
        "name": "concurrent",
        "removeDefaultNodePool": True,
        "deletionProtection": True,
        "workloadIdentityConfig": {"workloadPool": "my-project.svc.id.goog"},
        "enableShieldedNodes": True,
        "enableLegacyAbac": False,
        "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
        "datapathProvider": "ADVANCED_DATAPATH",
        "nodeConfig": {"workloadMetadataConfig": {"mode": "GKE_METADATA"}},
        "masterAuthorizedNetworksConfig": {
            "cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]
        },
        "addonsConfig": {"networkPolicyConfig": {"disabled": True}},
        "anonymousAuthenticationConfig": {"mode": "LIMITED"},
    }
    props.update(overrides)
    return props


def taint(key: str, value: str, effect: str = "NO_SCHEDULE") -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


def pool(
    name: str, *taints: dict[str, str], gpus: int = 0, mode: str | None = "GKE_METADATA"
) -> dict[str, Any]:
    node_config: dict[str, Any] = {"machineType": "e2-standard-4", "taints": list(taints)}
    if mode is not None:
        node_config["workloadMetadataConfig"] = {"mode": mode}
    if gpus:
        node_config["guestAccelerators"] = [{"type": "nvidia-l4", "count": gpus}]
    return {"name": name, "nodeConfig": node_config}


WORKER = taint("concurrent-node-type", "worker")

GKE_MANAGED = taint("components.gke.io/gke-managed-components", "true")


def namespace(name: str, level: str | None = "baseline", managed: bool = True) -> dict[str, Any]:
    """A Namespace: the Pod Security labels of ``level`` (None: none), the common labels if managed."""
    labels: dict[str, str] = dict(pod_security_labels(cast(PodSecurityLevel, level))) if level else {}
    return {"metadata": {"name": name, "labels": with_common_labels(labels) if managed else labels}}


def role(name: str, rules: Sequence[Mapping[str, Any]], managed: bool = True, **extra: Any) -> dict[str, Any]:
    labels = with_common_labels() if managed else {}
    return {"metadata": {"name": name, "labels": labels}, "rules": list(rules), **extra}


def binding(
    name: str, role_kind: str, role_name: str, subjects: list[dict[str, Any]], namespace: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": with_common_labels()}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "metadata": metadata,
        "roleRef": {"apiGroup": RBAC_API_GROUP, "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def sa(name: str, namespace: str = "team-b") -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def user(name: str) -> dict[str, str]:
    return {"kind": "User", "name": name, "apiGroup": RBAC_API_GROUP}


def group(name: str) -> dict[str, str]:
    return {"kind": "Group", "name": name, "apiGroup": RBAC_API_GROUP}


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, list[str]]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}
