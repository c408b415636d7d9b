"""GKE and Google Cloud IAM rules: a hardened cluster, tainted node pools, the GKE metadata server
on every node, no control plane open to the internet, no primitive or admin roles.

Props are pulumi-gcp inputs (camelCase, enums as strings: a taint effect is ``NO_SCHEDULE``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from concurrent_infra.gke.iam_names import (
    WORKLOAD_IDENTITY_USER_ROLE,
    WORKLOAD_POOL_SUFFIX,
    impersonation_member,
    workload_pool,
)
from concurrent_infra.gke.settings import GKE_MANAGED_COMPONENTS_TAINT_KEY, GPU_TAINT_KEY, NODE_TYPE_TAINT_KEY
from concurrent_infra.kube.names import namespace_object_names
from concurrent_infra.syntax import broad_role_problem, collapsed, public_address_share

from ..props import (
    GKE_CLUSTER,
    GKE_NODE_POOL,
    NAMESPACE,
    UNKNOWN,
    Obj,
    has_unknown,
    is_managed,
    items,
    mapping,
    text,
)
from ..rule import ConfigKey, ResourceRule, StackResource, StackRule, config_list, stack_objects

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

WORKLOAD_IDENTITY_POOLS = ConfigKey(
    "workloadIdentityPools",
    "Workload identity pools (<project>.svc.id.goog) of clusters outside the stack whose user service "
    "accounts may act as the stack's Google service accounts (the pools of the stack's GKE clusters and "
    "of each Google service account's own project are always allowed).",
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


MAX_PUBLIC_SHARE = 1 / 256
"""The largest share of the internet's addresses the authorized networks may cover together: about
one /8 (16.7 million IPv4 addresses, the largest block ever assigned to one organization). Offices,
VPN egresses, CI runners and Concurrent's control plane need a few /24s or /32s; a list that covers
more is an "everything but one block" list (e.g. 0.0.0.0/1 and 128.0.0.0/2 with a hole), which
restricts almost nothing."""


def gke_authorized_networks_not_public(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """The master authorized networks cover neither every address, alone (``0.0.0.0/0``, ``::/0``)
    or together (``0.0.0.0/1`` and ``128.0.0.0/1``), nor more than :data:`MAX_PUBLIC_SHARE` of the
    internet's public addresses: overlapping networks are merged (``ipaddress.collapse_addresses``)
    and private or reserved blocks not counted (concurrent_infra.syntax.public_address_share)."""
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
    violations = []
    for version, whole_space in ((4, ipaddress.IPv4Network("0.0.0.0/0")), (6, ipaddress.IPv6Network("::/0"))):
        networks = [network for _, network in listed if network.version == version]
        cidrs = [cidr for cidr, network in listed if network.version == version]
        whole = [cidr for cidr, network in listed if network.version == version and network.prefixlen == 0]
        fix = (
            "List only the networks that need the Kubernetes API (offices, CI runners, Concurrent's "
            "control plane)."
        )
        if collapsed(networks, version) == [whole_space]:
            what = f"lists {whole[0]}" if whole else f"lists {', '.join(cidrs)}, which together cover"
            violations.append(
                f"GKE cluster {_cluster_name(obj.props)}: masterAuthorizedNetworksConfig {what} every "
                f"address on the internet (all of IPv{version}), so the authorized networks restrict "
                f"nothing. {fix}"
            )
            continue
        share = public_address_share(networks, version) if networks else 0.0
        if share > MAX_PUBLIC_SHARE:
            violations.append(
                f"GKE cluster {_cluster_name(obj.props)}: masterAuthorizedNetworksConfig lists "
                f"{', '.join(cidrs)}, which together cover {share:.2%} of the internet's public IPv{version} "
                f"addresses (at most 1/{round(1 / MAX_PUBLIC_SHARE)}, about a /8, is accepted): a list that "
                f"opens nearly everything restricts nearly nothing. {fix}"
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


class _JsonObject(list[tuple[str, Any]]):
    """A JSON object as its ``(key, value)`` pairs, in order, duplicates kept."""


def _fields(value: object, key: str) -> list[Any]:
    """The values of every key of JSON object ``value`` that is ``key`` ignoring case.

    The provider reads ``policyData`` with Go's ``encoding/json`` (``unmarshalIamPolicy`` in
    terraform-provider-google's ``iam_policy.go``, which pulumi-gcp bridges), and ``Unmarshal``
    matches object keys to struct fields case-insensitively, the last of several matching keys
    winning (https://pkg.go.dev/encoding/json#Unmarshal; golang/go#43664). So ``"Bindings"``,
    ``"ROLE"`` or ``"member\u017f"`` (a long s, folded to ``s``) reach the API as the documented keys; every
    spelling is judged here (``str.casefold`` folds at least what Go folds for these names)."""
    if not isinstance(value, _JsonObject):
        return []
    return [item for name, item in value if name.casefold() == key.casefold()]


def _policy_bindings(policy_data: object) -> list[tuple[str, list[object]]]:
    """``(role, members)`` of every binding of an IAM policy document, however its keys are cased."""
    try:
        policy = json.loads(text(policy_data, ""), object_pairs_hook=_JsonObject)
    except ValueError:
        return []
    return [
        (role, [member for members in _fields(binding, "members") for member in items(members)])
        for bindings in _fields(policy, "bindings")
        for binding in items(bindings)
        for role in _fields(binding, "role")
        if isinstance(role, str)
    ]


def _grants(obj: Obj) -> list[tuple[str, list[object]]]:
    """``(role, members)`` of an IAM resource whose role is known (members as written, unknown ones
    included)."""
    props = obj.props
    class_name = obj.kind.lower()
    if class_name.endswith("iampolicy"):
        return _policy_bindings(props.get("policyData"))
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


def _account_project(service_account_id: object) -> str | None:
    """The project of a Google service account, from ``projects/<p>/serviceAccounts/<email>`` or
    its email ``<name>@<p>.iam.gserviceaccount.com`` (None when neither says)."""
    account = text(service_account_id, "")
    parts = account.split("/")
    if len(parts) == 4 and parts[0] == "projects" and parts[2] == "serviceAccounts" and parts[1] != "-":
        return parts[1]
    domain = account.rpartition("@")[2]
    suffix = ".iam.gserviceaccount.com"
    return domain.removesuffix(suffix) if domain.endswith(suffix) and "@" in account else None


_POOL = rf"(?P<pool>[^\[\]/]+{re.escape(WORKLOAD_POOL_SUFFIX)})"
_KUBERNETES_MEMBERS = (
    re.compile(rf"serviceAccount:{_POOL}\[(?P<namespace>[^\[\]/]*)/(?P<account>[^\[\]/]*)\]", re.IGNORECASE),
    re.compile(
        rf"principal://iam\.googleapis\.com/projects/[^/]+/locations/global/workloadIdentityPools/{_POOL}"
        r"/subject/ns/(?P<namespace>[^/]+)/sa/(?P<account>[^/]+)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"principalSet://iam\.googleapis\.com/projects/[^/]+/locations/global/workloadIdentityPools/{_POOL}"
        r"(/namespace/(?P<namespace>[^/]+)|/.*)?",
        re.IGNORECASE,
    ),
)
"""The members that name Kubernetes service accounts of GKE clusters (pool ``<project>.svc.id.goog``):
Workload Identity's impersonation member, the direct-access principal of one account, and a
principal set (every account of a namespace, of a cluster or of the pool)
(https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#kubernetes-resources-iam-policies).
Matched ignoring case, so a differently cased prefix is judged too (names that differ in case from
the package's fail the comparisons below)."""


def kubernetes_identity(member: object) -> tuple[str, str | None, str | None] | None:
    """``(pool, namespace, account)`` of a member naming GKE Kubernetes service accounts (namespace
    or account None: every one), or None for any other member."""
    for pattern in _KUBERNETES_MEMBERS:
        found = pattern.fullmatch(member) if isinstance(member, str) else None
        if found is not None:
            groups = found.groupdict()
            return found["pool"], groups.get("namespace"), groups.get("account")
    return None


def _own_project(obj: Obj) -> str | None:
    """The project whose IAM a grant edits: its Google service account's, or a project grant's."""
    project = _account_project(obj.props.get("serviceAccountId"))
    if project is None and obj.type.startswith("gcp:projects/"):
        project = text(obj.props.get("project"), "") or None
    return project


def workload_identity_grants_to_managed_namespaces(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """A Google Cloud IAM grant to Kubernetes service accounts (:func:`kubernetes_identity`: the
    package's Workload Identity impersonation grant, the exception of gcp-no-primitive-or-admin-roles,
    and the direct-access grants of the ``roles`` form) names a pool the stack trusts and exactly the
    user service account ``k8s-serviceaccount-for-users-<ns>`` of a namespace the stack manages.

    A pool stands for every GKE cluster of its project: ``serviceAccount:<pool>[<ns>/<ksa>]`` lets any
    of them with such a namespace and account act as the Google service account. Trusted pools:
    those of the stack's GKE clusters (``workloadIdentityConfig.workloadPool``), the pool of the
    project whose IAM the grant edits (the Google service account's, or the project of a project
    grant), and the config's ``workloadIdentityPools``. Unknown values are not judged."""
    objects = stack_objects(resources)
    managed = {
        obj.name for _, obj in objects if obj.type == NAMESPACE and not obj.patch and is_managed(obj.props)
    }
    stack_pools = {
        pool
        for _, obj in objects
        if obj.type == GKE_CLUSTER
        and isinstance(pool := mapping(obj.props.get("workloadIdentityConfig")).get("workloadPool"), str)
    }
    trusted = stack_pools | config_list(config, WORKLOAD_IDENTITY_POOLS)
    violations = []
    for urn, obj in objects:
        if not is_iam_grant(obj.type):
            continue
        project = _own_project(obj)
        allowed = trusted | ({workload_pool(project)} if project else set())
        for role, members in _grants(obj):
            for member in members:
                identity = kubernetes_identity(member)
                if identity is None:
                    continue
                problems = _kubernetes_identity_problems(*identity, allowed, managed)
                if problems:
                    violations.append(
                        (
                            urn,
                            f"{obj.where}{obj.kind} grants {role} on {_target(obj)} to {member}: "
                            f"{'; '.join(problems)}. Give a namespace Google access with its "
                            "workloadIdentity key in the stack config (which makes the grant for this "
                            "project's pool and the namespace's own user service account), or, for a "
                            f"cluster of another project, add its pool to this policy's "
                            f"{WORKLOAD_IDENTITY_POOLS.name} config.",
                        )
                    )
    return violations


def _kubernetes_identity_problems(
    pool: str,
    namespace: str | None,
    account: str | None,
    allowed: set[str] | frozenset[str],
    managed: set[str],
) -> list[str]:
    problems = []
    if pool not in allowed:
        problems.append(
            f"its pool {pool} is not one the stack trusts ({', '.join(sorted(allowed)) or 'none'}): every "
            f"GKE cluster of project {pool.removesuffix(WORKLOAD_POOL_SUFFIX)} with a namespace "
            f"{namespace or '(any)'} could act with it"
        )
    if namespace is None:
        problems.append("it names every namespace's service accounts, not one user service account")
        return problems
    if namespace not in managed:
        problems.append(
            f"namespace {namespace} is not a namespace this stack manages, so its service account is not the "
            "package's"
        )
    user_account = namespace_object_names(namespace).user_service_account
    if account != user_account:
        what = f"service account {account}" if account else "every service account of the namespace"
        problems.append(f"{what} is not the package's user service account {user_account}")
    return problems


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
        "::/0) or together (0.0.0.0/1 and 128.0.0.0/1), nor more than 1/256 of the internet's public "
        "addresses (about a /8; private and reserved blocks not counted).",
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

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "workload-identity-grants-to-managed-namespaces",
        f"Google Cloud IAM grants to Kubernetes service accounts (the Workload Identity grant, "
        f"{WORKLOAD_IDENTITY_USER_ROLE} to serviceAccount:<project>.svc.id.goog[<ns>/<ksa>], and "
        "principal:// or principalSet:// members of a <project>.svc.id.goog pool) name a pool of a GKE "
        "cluster of the stack, of the project the grant edits or listed in the policy config "
        f"{WORKLOAD_IDENTITY_POOLS.name}, and exactly the user service account "
        "k8s-serviceaccount-for-users-<ns> of a namespace the stack manages.",
        workload_identity_grants_to_managed_namespaces,
        (WORKLOAD_IDENTITY_POOLS,),
    ),
)
