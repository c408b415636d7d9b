"""GKE and Google Cloud IAM rules: a hardened cluster, tainted node pools, the GKE metadata server
on every node, no control plane open to the internet, no primitive or admin roles.

Props are pulumi-gcp inputs (camelCase, enums as strings: a taint effect is ``NO_SCHEDULE``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from concurrent_infra.gke.cluster_config import (
    GKE_MANAGED_COMPONENTS_TAINT_KEY,
    GPU_TAINT_KEY,
    NODE_TYPE_TAINT_KEY,
)
from concurrent_infra.gke.workload_identity import WORKLOAD_IDENTITY_USER_ROLE, impersonation_member
from concurrent_infra.kube.names import namespace_object_names
from concurrent_infra.syntax import broad_role_problem

from ..props import (
    GKE_CLUSTER,
    GKE_NODE_POOL,
    UNKNOWN,
    Obj,
    has_unknown,
    items,
    mapping,
    text,
)
from ..rule import ConfigKey, ResourceRule, config_list

NO_SCHEDULE = "NO_SCHEDULE"
NO_EXECUTE = "NO_EXECUTE"
GKE_MANAGED_COMPONENTS_TAINT = (GKE_MANAGED_COMPONENTS_TAINT_KEY, "true", NO_SCHEDULE)
"""The taint of a pool for GKE-managed components (kube-dns, konnectivity, metrics-server...),
which those components tolerate."""
GPU_TAINT = (GPU_TAINT_KEY, "present", NO_SCHEDULE)
"""The taint that keeps pods that do not ask for a GPU off GPU nodes (GKE's own convention)."""
GKE_METADATA = "GKE_METADATA"

UNTAINTED_NODE_POOLS = ConfigKey(
    "untaintedNodePools", "Node pools (by name) that may carry neither Concurrent's nor GKE's taint."
)
ALLOWED_PROJECT_ROLES = ConfigKey(
    "allowedProjectRoles",
    "Basic, admin or escalating roles (e.g. roles/container.admin) that the IAM grants of the stack "
    "(on projects, folders, organizations, service accounts, buckets...) may use.",
)


# ---- gke-cluster-hardened ------------------------------------------------------------------------


def gke_cluster_hardened(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A GKE cluster has deletion protection, Workload Identity and shielded nodes, no legacy ABAC
    and no client certificate. Autopilot clusters always have Workload Identity and shielded nodes."""
    if obj.type != GKE_CLUSTER:
        return []
    props = obj.props
    autopilot = props.get("enableAutopilot") is True
    violations = []
    if props.get("deletionProtection") not in (True, UNKNOWN):
        violations.append(
            "deletionProtection is not true, so pulumi destroy or a replacement can delete the cluster "
            "and every workload on it. Set deletion_protection=True."
        )
    pool = mapping(props.get("workloadIdentityConfig")).get("workloadPool")
    identity_unknown = UNKNOWN in (props.get("workloadIdentityConfig"), pool)
    if not autopilot and not identity_unknown and not (isinstance(pool, str) and pool):
        violations.append(
            "Workload Identity is off, so pods use the node's Google service account. Set "
            "workload_identity_config={'workload_pool': '<project>.svc.id.goog'}."
        )
    if not autopilot and props.get("enableShieldedNodes") not in (True, UNKNOWN):
        violations.append(
            "enableShieldedNodes is not true, so node identity and boot integrity are not verified. "
            "Set enable_shielded_nodes=True."
        )
    if props.get("enableLegacyAbac") is True:
        violations.append(
            "enableLegacyAbac is true: legacy ABAC grants permissions beyond RBAC and defeats the "
            "per-namespace roles. Remove enable_legacy_abac (it defaults to false)."
        )
    certificate = mapping(mapping(props.get("masterAuth")).get("clientCertificateConfig"))
    if certificate.get("issueClientCertificate") is True:
        violations.append(
            "masterAuth issues a client certificate, a credential that cannot be revoked. Set "
            "master_auth={'client_certificate_config': {'issue_client_certificate': False}}."
        )
    return [f"GKE cluster {_cluster_name(props)}: {message}" for message in violations]


def _cluster_name(props: Mapping[str, Any]) -> str:
    return text(props.get("name"), "(unnamed)")


# ---- gke-authorized-networks-not-public ----------------------------------------------------------


def gke_authorized_networks_not_public(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """The master authorized networks do not cover every address, alone (``0.0.0.0/0``, ``::/0``) or
    together (``0.0.0.0/1`` and ``128.0.0.0/1``): overlapping networks are merged
    (``ipaddress.collapse_addresses``) and the pack checks whether one whole address space remains."""
    if obj.type != GKE_CLUSTER:
        return []
    listed: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    blocks = mapping(obj.props.get("masterAuthorizedNetworksConfig")).get("cidrBlocks")
    for block in map(mapping, items(blocks)):
        cidr = block.get("cidrBlock")
        if not isinstance(cidr, str):
            continue  # unknown: the known networks are judged on their own
        try:
            listed.append((cidr, ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            continue  # GKE refuses it; the stack config validates CIDRs
    v4 = [network for _, network in listed if isinstance(network, ipaddress.IPv4Network)]
    v6 = [network for _, network in listed if isinstance(network, ipaddress.IPv6Network)]
    covered = {
        4: list(ipaddress.collapse_addresses(v4)) == [ipaddress.IPv4Network("0.0.0.0/0")],
        6: list(ipaddress.collapse_addresses(v6)) == [ipaddress.IPv6Network("::/0")],
    }
    violations = []
    for version in (4, 6):
        if not covered[version]:
            continue
        cidrs = [cidr for cidr, network in listed if network.version == version]
        whole = [cidr for cidr, network in listed if network.version == version and network.prefixlen == 0]
        what = f"lists {whole[0]}" if whole else f"lists {', '.join(cidrs)}, which together cover"
        violations.append(
            f"GKE cluster {_cluster_name(obj.props)}: masterAuthorizedNetworksConfig {what} every address "
            f"on the internet (all of IPv{version}), so the authorized networks restrict nothing. List "
            "only the networks that need the Kubernetes API (offices, CI runners, Concurrent's control "
            "plane)."
        )
    return violations


# ---- node pools ------------------------------------------------------------------------------------


DEFAULT_POOL = "default-pool"
"""The pool GKE creates with a cluster, configured by the cluster's own ``nodeConfig``."""


def _pools(obj: Obj, with_default: bool = False) -> list[Mapping[str, Any]]:
    """The node pools of a NodePool resource (itself) or of a Cluster (its inline nodePools; with
    ``with_default``, also the default pool its ``nodeConfig`` describes, unless
    ``removeDefaultNodePool`` deletes that pool at creation)."""
    if obj.type == GKE_NODE_POOL:
        return [obj.props]
    if obj.type == GKE_CLUSTER:
        pools = [mapping(pool) for pool in items(obj.props.get("nodePools"))]
        removed = obj.props.get("removeDefaultNodePool")
        if with_default and removed is not True and removed is not UNKNOWN:
            pools.append({"name": DEFAULT_POOL, "nodeConfig": obj.props.get("nodeConfig") or {}})
        return pools
    return []


def _pool_name(pool: Mapping[str, Any]) -> str:
    return text(pool.get("name"), "(unnamed)")


def _taints(pool: Mapping[str, Any]) -> list[tuple[str, str, str]] | None:
    """The taints of a pool as ``(key, value, effect)``, or None if any part is unknown."""
    node_config = pool.get("nodeConfig")
    taints = mapping(node_config).get("taints")
    if node_config is UNKNOWN or has_unknown(taints):
        return None
    return [
        (text(taint.get("key"), ""), text(taint.get("value"), ""), text(taint.get("effect"), ""))
        for taint in map(mapping, items(taints))
    ]


def _accelerated(pool: Mapping[str, Any]) -> bool | None:
    """Whether the pool's nodes have GPUs (``nodeConfig.guestAccelerators``), None if unknown."""
    node_config = pool.get("nodeConfig")
    accelerators = mapping(node_config).get("guestAccelerators")
    if node_config is UNKNOWN or accelerators is UNKNOWN:
        return None
    return bool(items(accelerators))


def _keeps_pods_off(taint: tuple[str, str, str], accelerated: bool) -> bool:
    key, value, effect = taint
    if key == NODE_TYPE_TAINT_KEY:
        return bool(value) and effect in (NO_SCHEDULE, NO_EXECUTE)
    if taint == GKE_MANAGED_COMPONENTS_TAINT:
        return True
    return accelerated and key == GPU_TAINT[0] and effect in (NO_SCHEDULE, NO_EXECUTE)


def gke_node_pools_tainted(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A GKE node pool carries Concurrent's node-type taint, GKE's managed-components taint or (a GPU
    pool) the GPU taint, unless the config lists it as untainted."""
    allowed = config_list(config, UNTAINTED_NODE_POOLS)
    violations = []
    for pool in _pools(obj, with_default=True):
        taints, accelerated = _taints(pool), _accelerated(pool)
        if taints is None or _pool_name(pool) in allowed:
            continue
        if any(_keeps_pods_off(taint, bool(accelerated)) for taint in taints):
            continue
        managed_key, managed_value, _ = GKE_MANAGED_COMPONENTS_TAINT
        violations.append(
            f"GKE node pool {_pool_name(pool)}: its nodeConfig.taints have neither Concurrent's "
            f"taint {NODE_TYPE_TAINT_KEY}=<type> (system, worker, dind) nor GKE's "
            f"{managed_key}={managed_value}, with effect {NO_SCHEDULE}, so any pod can be scheduled on "
            f"it. Add {NODE_TYPE_TAINT_KEY} to Concurrent's pools and {managed_key} to the pool for "
            f"GKE-managed components (kube-dns, metrics-server), or, if the pool must stay untainted, "
            f"add its name to this policy's {UNTAINTED_NODE_POOLS.name} config."
        )
    return violations


def gke_gpu_pools_tainted(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A node pool with GPUs carries ``nvidia.com/gpu=present:NO_SCHEDULE``."""
    violations = []
    for pool in _pools(obj, with_default=True):
        taints = _taints(pool)
        if taints is None or not _accelerated(pool) or GPU_TAINT in taints:
            continue
        key, value, effect = GPU_TAINT
        violations.append(
            f"GKE node pool {_pool_name(pool)} has GPUs (nodeConfig.guestAccelerators) but not the taint "
            f"{key}={value} with effect {effect}, so pods that need no GPU can take its nodes (GKE adds "
            "it only if a pool without GPUs exists when the GPU pool is created). Add the taint to its "
            "nodeConfig.taints."
        )
    return violations


def _metadata_problem(node_config: object) -> str | None:
    """Why ``node_config`` does not run the GKE metadata server, or None (also when unknown)."""
    config = mapping(node_config)
    workload_metadata = config.get("workloadMetadataConfig")
    mode = mapping(workload_metadata).get("mode")
    if UNKNOWN in (node_config, workload_metadata, mode) or mode == GKE_METADATA:
        return None
    found = "is not set" if mode is None else f"is {mode!r}"
    return (
        f"nodeConfig.workloadMetadataConfig.mode {found}, so pods may read the node's metadata "
        "(its Google service account's token, the kubelet's credentials) instead of getting their own "
        f"Workload Identity. Set workload_metadata_config={{'mode': '{GKE_METADATA}'}}."
    )


def gke_nodes_use_gke_metadata(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """Every node pool (and the cluster's default pool settings) runs the GKE metadata server."""
    violations = []
    for pool in _pools(obj):
        problem = _metadata_problem(pool.get("nodeConfig"))
        if problem:
            violations.append(f"GKE node pool {_pool_name(pool)}: {problem}")
    if obj.type == GKE_CLUSTER and obj.props.get("enableAutopilot") is not True:
        node_config = obj.props.get("nodeConfig")
        problem = _metadata_problem(node_config) if node_config is not None else None
        if problem:
            violations.append(f"GKE cluster {_cluster_name(obj.props)} (its default node pool): {problem}")
    return violations


# ---- IAM -------------------------------------------------------------------------------------------

_IAM_CLASS_SUFFIXES = ("iammember", "iambinding", "iampolicy")
"""pulumi-gcp's IAM grant resources, on any resource: ``gcp:projects/iAMMember:IAMMember``,
``gcp:organizations/iAMBinding:IAMBinding``, ``gcp:folder/iAMPolicy:IAMPolicy``,
``gcp:storage/bucketIAMMember:BucketIAMMember``, ``gcp:secretmanager/secretIamMember:SecretIamMember``
(the spelling varies, so the class name is compared case-insensitively). ``*IAMMemberRemove`` and
``*IAMAuditConfig`` grant nothing and do not match."""

_IMPERSONATION_MEMBER = re.compile(
    r"serviceAccount:(?P<project>[^\[\]/]+)\.svc\.id\.goog\[(?P<namespace>[^\[\]/]+)/[^\[\]/]+\]"
)
_TARGETS = {
    "projects": ("project", "project"),
    "serviceaccount": ("service account", "serviceAccountId"),
    "organizations": ("organization", "orgId"),
    "folder": ("folder", "folder"),
}


def is_iam_grant(resource_type: str) -> bool:
    """Whether ``resource_type`` is a pulumi-gcp IAM member, binding or policy of any resource."""
    class_name = resource_type.rpartition(":")[2].lower()
    return resource_type.startswith("gcp:") and class_name.endswith(_IAM_CLASS_SUFFIXES)


def is_workload_identity_impersonation(resource_type: str, role: str, members: list[object]) -> bool:
    """Whether a grant is the package's own Workload Identity impersonation grant: exactly
    ``roles/iam.workloadIdentityUser`` on a Google service account, to nothing but user service
    accounts ``serviceAccount:<project>.svc.id.goog[<ns>/k8s-serviceaccount-for-users-<ns>]``
    (concurrent_infra.gke.workload_identity; https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
    """
    if not resource_type.startswith("gcp:serviceaccount/") or role != WORKLOAD_IDENTITY_USER_ROLE:
        return False
    for member in members:
        found = _IMPERSONATION_MEMBER.fullmatch(member) if isinstance(member, str) else None
        if found is None:
            return False
        project, account_namespace = found["project"], found["namespace"]
        user_account = namespace_object_names(account_namespace).user_service_account
        if member != impersonation_member(project, account_namespace, user_account):
            return False
    return bool(members)


def _grants(obj: Obj) -> list[tuple[str, list[object]]]:
    """``(role, members)`` of an IAM resource whose role is known (members as written, unknown ones
    included)."""
    props = obj.props
    class_name = obj.kind.lower()
    if class_name.endswith("iampolicy"):
        try:
            policy = json.loads(text(props.get("policyData"), ""))
        except ValueError:
            return []
        return [
            (binding["role"], items(binding.get("members")))
            for binding in map(mapping, items(mapping(policy).get("bindings")))
            if isinstance(binding.get("role"), str)
        ]
    role = props.get("role")
    if not isinstance(role, str):
        return []
    if class_name.endswith("iammember"):
        return [(role, [props.get("member")])]
    members = props.get("members")
    return [(role, [UNKNOWN] if members is UNKNOWN else items(members))]


def _target(obj: Obj) -> str:
    module = obj.type.partition(":")[2].partition("/")[0]
    what, field = _TARGETS.get(module, ("", ""))
    if what:
        return f"{what} {text(obj.props.get(field), '(the provider default)')}"
    return f"a {module} resource"


def gcp_no_primitive_or_admin_roles(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """Google Cloud IAM grants (on a project, folder, organization, service account, bucket...) use
    no basic, admin or privilege-escalating role (concurrent_infra.syntax.broad_role_problem) the
    config does not allow; the package's own Workload Identity impersonation grant is allowed."""
    if not is_iam_grant(obj.type):
        return []
    allowed = config_list(config, ALLOWED_PROJECT_ROLES)
    violations = []
    for role, members in _grants(obj):
        problem = broad_role_problem(role)
        if not problem or role in allowed:
            continue
        on_account = obj.type.startswith("gcp:serviceaccount/")
        if role == WORKLOAD_IDENTITY_USER_ROLE and on_account and has_unknown(members):
            continue  # may be the Workload Identity grant: judged when the members are known
        if is_workload_identity_impersonation(obj.type, role, members):
            continue
        written = ", ".join(text(member) for member in members) or "?"
        violations.append(
            f"{obj.kind} grants {role} on {_target(obj)} to {written}: {problem}. Grant the narrowest "
            "predefined role that covers the need (https://cloud.google.com/iam/docs/roles-overview), "
            f"or, if this grant is intended, add {role} to this policy's {ALLOWED_PROJECT_ROLES.name} "
            "config."
        )
    return violations


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "gke-cluster-hardened",
        "GKE clusters have deletion protection, Workload Identity and shielded nodes on, legacy ABAC "
        "and client certificates off.",
        gke_cluster_hardened,
    ),
    ResourceRule(
        "gke-authorized-networks-not-public",
        "The master authorized networks of a GKE cluster do not cover every address, alone (0.0.0.0/0, "
        "::/0) or together (0.0.0.0/1 and 128.0.0.0/1).",
        gke_authorized_networks_not_public,
    ),
    ResourceRule(
        "gke-nodes-use-gke-metadata",
        f"Every GKE node pool sets workloadMetadataConfig.mode {GKE_METADATA} (Workload Identity's "
        "metadata server), never the node's own metadata.",
        gke_nodes_use_gke_metadata,
    ),
    ResourceRule(
        "gke-node-pools-tainted",
        f"GKE node pools carry the taint {NODE_TYPE_TAINT_KEY}=<type> (Concurrent's pools) or "
        f"{GKE_MANAGED_COMPONENTS_TAINT[0]}=true (the pool for GKE-managed components) with effect "
        f"{NO_SCHEDULE}, unless listed in the policy config {UNTAINTED_NODE_POOLS.name}.",
        gke_node_pools_tainted,
        (UNTAINTED_NODE_POOLS,),
    ),
    ResourceRule(
        "gke-gpu-pools-tainted",
        f"GKE node pools with GPUs carry the taint {GPU_TAINT[0]}={GPU_TAINT[1]}:{GPU_TAINT[2]}.",
        gke_gpu_pools_tainted,
    ),
    ResourceRule(
        "gcp-no-primitive-or-admin-roles",
        "Google Cloud IAM grants (IAMMember, IAMBinding, IAMPolicy on a project, folder, organization, "
        "service account, bucket or any other resource) use no basic role (roles/owner, roles/editor, "
        "roles/viewer), no admin role (admin or *Admin in any part, roles/compute.instanceAdmin.v1 "
        "included) and no role that lets its holder act as another identity (serviceAccountUser, "
        "serviceAccountTokenCreator, workloadIdentityUser, container.developer...), unless listed in "
        f"the policy config {ALLOWED_PROJECT_ROLES.name}. The one exception is the package's Workload "
        f"Identity grant: {WORKLOAD_IDENTITY_USER_ROLE} on a Google service account to "
        "serviceAccount:<project>.svc.id.goog[<ns>/k8s-serviceaccount-for-users-<ns>].",
        gcp_no_primitive_or_admin_roles,
        (ALLOWED_PROJECT_ROLES,),
    ),
)
