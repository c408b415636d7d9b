"""The rules of the concurrent-infra policy pack, as pure functions over resource inputs.

Each resource rule is ``(resource_type, props, protect, config) -> list[str]``: the violation
messages for one resource (``props`` are its inputs with the engine's camelCase names, ``protect``
its protect resource option, ``config`` the policy's config). The stack rule takes every resource
of the stack. Values the engine does not know yet during a preview are :data:`UNKNOWN`; a rule
never reports a violation on an unknown value (``pulumi up`` runs the pack again with the values
known). :func:`build_policies` wraps the rules in pulumi_policy policies; ``__main__.py`` serves
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concurrent_infra.gke.cluster_config import NODE_TYPE_TAINT_KEY
from concurrent_infra.kube.labels import COMMON_LABELS, MANAGED_BY_LABEL
from concurrent_infra.kube.names import namespace_object_names
from concurrent_infra.kube.rbac import READ_VERBS

PACK_NAME = "concurrent-infra"

_PREFIXES = namespace_object_names("")
USER_CLUSTER_ROLE_PREFIX = _PREFIXES.user_cluster_role
"""``k8s-role-for-users-``: the names of the user roles (from names.py with an empty namespace)."""
USER_SERVICE_ACCOUNT_PREFIX = _PREFIXES.user_service_account
"""``k8s-serviceaccount-for-users-``: the names of the user service accounts."""
MANAGED_BY_VALUE = COMMON_LABELS[MANAGED_BY_LABEL]

_RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
CLUSTER_ROLE = f"{_RBAC}ClusterRole"
ROLE = f"{_RBAC}Role"
CLUSTER_ROLE_BINDING = f"{_RBAC}ClusterRoleBinding"
ROLE_BINDING = f"{_RBAC}RoleBinding"
NAMESPACE = "kubernetes:core/v1:Namespace"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"

NODE_TYPE_TAINT_VALUES: tuple[str, ...] = ("system", "worker")
NODE_TYPE_TAINT_EFFECT = "NO_SCHEDULE"

BUILTIN_WRITE_CLUSTER_ROLES: frozenset[str] = frozenset({"cluster-admin", "admin", "edit"})
"""Kubernetes' default ClusterRoles that write (and read secrets); a binding to one is visible
even though the role is not in the stack."""

UNPROTECTED_NAMESPACES_KEY = "unprotectedNamespaces"


class Unknown:
    """The type of :data:`UNKNOWN`."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
"""A value the engine does not know during a preview (it depends on another resource's output)."""


# ---- reading props -------------------------------------------------------------------------


def _kind_of(resource_type: str, *kinds: str) -> str | None:
    """The kind of ``resource_type`` if it is one of ``kinds`` (or its ``Patch`` variant)."""
    for kind in kinds:
        if resource_type in (kind, f"{kind}Patch"):
            return kind.rpartition(":")[2]
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Any]:
    """The elements of a list value; nothing for a missing or unknown list."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def _strings(value: object) -> list[str]:
    return [item for item in _items(value) if isinstance(item, str)]


def _text(value: object, default: str = "?") -> str:
    return value if isinstance(value, str) else default


def _metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(props.get("metadata"))


def _name(props: Mapping[str, Any]) -> str:
    return _text(_metadata(props).get("name"), "(unnamed)")


def _is_managed(props: Mapping[str, Any]) -> bool:
    """Whether the object carries this package's managed-by label."""
    return _mapping(_metadata(props).get("labels")).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


# ---- RBAC rules ------------------------------------------------------------------------------


def service_account_subject(subject: Mapping[str, Any]) -> str | None:
    """How ``subject`` names service accounts (for a message), or None if it names none.

    A ServiceAccount subject, the groups ``system:serviceaccounts[:<ns>]`` and the users
    ``system:serviceaccount:<ns>:<name>`` all name service accounts.
    """
    kind, name = subject.get("kind"), _text(subject.get("name"), "")
    if kind == "ServiceAccount":
        return f"ServiceAccount {_text(subject.get('namespace'))}/{_text(subject.get('name'))}"
    if kind == "Group" and (name == "system:serviceaccounts" or name.startswith("system:serviceaccounts:")):
        return f"Group {name} (service accounts)"
    if kind == "User" and name.startswith("system:serviceaccount:"):
        return f"User {name} (a service account)"
    return None


def no_cluster_wide_service_account_grants(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A ClusterRoleBinding must not have a service account subject."""
    if not _kind_of(resource_type, CLUSTER_ROLE_BINDING):
        return []
    role = _text(_mapping(props.get("roleRef")).get("name"))
    violations = []
    for subject in _items(props.get("subjects")):
        described = service_account_subject(_mapping(subject))
        if described:
            violations.append(
                f"ClusterRoleBinding {_name(props)} grants ClusterRole {role} to {described} in every "
                "namespace. Remove the service account from this ClusterRoleBinding and grant the role "
                "with a RoleBinding in the service account's own namespace (its roleRef may still name "
                "the ClusterRole)."
            )
    return violations


def read_only_problems(props: Mapping[str, Any]) -> list[str]:
    """Why the Role or ClusterRole ``props`` is not read-only-without-secrets (empty if it is)."""
    problems = []
    if props.get("aggregationRule") not in (None, UNKNOWN):
        problems.append("it has an aggregationRule, so its rules come from other roles")
    for index, rule in enumerate(_items(props.get("rules"))):
        rule = _mapping(rule)
        verbs = [verb for verb in _strings(rule.get("verbs")) if verb not in READ_VERBS]
        if verbs:
            problems.append(f"rule {index} allows the verbs {', '.join(verbs)}")
        resources = [resource for resource in _strings(rule.get("resources")) if resource in ("secrets", "*")]
        if resources:
            problems.append(
                f"rule {index} covers {' and '.join(repr(resource) for resource in resources)}, "
                "which includes secrets"
            )
    return problems


_READ_ONLY_FIX = (
    f"Keep only the verbs {', '.join(READ_VERBS)} and no 'secrets' or '*' resources "
    "(the user role's rules are concurrent_infra.kube.rbac.USER_RULES)."
)


def user_roles_read_only(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A role named ``k8s-role-for-users-*`` grants only get/list/watch, and never on secrets."""
    kind = _kind_of(resource_type, CLUSTER_ROLE, ROLE)
    if not kind or not _name(props).startswith(USER_CLUSTER_ROLE_PREFIX):
        return []
    problems = read_only_problems(props)
    if not problems:
        return []
    return [
        f"{kind} {_name(props)} is the role of a user service account and must be read-only: "
        f"{'; '.join(problems)}. {_READ_ONLY_FIX}"
    ]


def no_wildcards_in_managed_roles(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A Role or ClusterRole with this package's managed-by label lists no ``*`` wildcard."""
    kind = _kind_of(resource_type, CLUSTER_ROLE, ROLE)
    if not kind or not _is_managed(props):
        return []
    violations = []
    for index, rule in enumerate(_items(props.get("rules"))):
        rule = _mapping(rule)
        for field in ("apiGroups", "resources", "verbs"):
            wildcards = [item for item in _strings(rule.get(field)) if "*" in item]
            if wildcards:
                violations.append(
                    f"{kind} {_name(props)} (managed by {MANAGED_BY_VALUE}) has the wildcard "
                    f"{', '.join(repr(item) for item in wildcards)} in {field} of rule {index}, which also "
                    f"grants whatever is added to the cluster later. List the {field} the role needs "
                    "explicitly (see concurrent_infra/kube/rbac.py)."
                )
    return violations


@dataclass(frozen=True)
class StackResource:
    """What the stack rule needs of one resource."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str


def user_binding_roles_read_only(resources: Iterable[StackResource]) -> list[tuple[str, str]]:
    """Every role a binding gives a user service account is read-only, when the stack shows it.

    Checks the roles of the stack (and Kubernetes' built-in writing ClusterRoles) that a
    RoleBinding or ClusterRoleBinding binds a ``k8s-serviceaccount-for-users-*`` service account
    to. Roles named ``k8s-role-for-users-*`` are left to :func:`user_roles_read_only`. Returns
    ``(binding urn, message)`` pairs.
    """
    resources = list(resources)
    cluster_roles: dict[str, StackResource] = {}
    roles: dict[tuple[str, str], StackResource] = {}
    for resource in resources:
        if resource.resource_type == CLUSTER_ROLE:
            cluster_roles[_name(resource.props)] = resource
        elif resource.resource_type == ROLE:
            namespace = _text(_metadata(resource.props).get("namespace"), "")
            roles[(namespace, _name(resource.props))] = resource

    violations = []
    for binding in resources:
        kind = _kind_of(binding.resource_type, ROLE_BINDING, CLUSTER_ROLE_BINDING)
        if not kind:
            continue
        users = [
            f"{_text(subject.get('namespace'))}/{_text(subject.get('name'))}"
            for subject in map(_mapping, _items(binding.props.get("subjects")))
            if subject.get("kind") == "ServiceAccount"
            and _text(subject.get("name"), "").startswith(USER_SERVICE_ACCOUNT_PREFIX)
        ]
        if not users:
            continue
        role_ref = _mapping(binding.props.get("roleRef"))
        role_kind, role_name = _text(role_ref.get("kind")), _text(role_ref.get("name"))
        if role_name.startswith(USER_CLUSTER_ROLE_PREFIX):
            continue
        if role_kind == "ClusterRole":
            role = cluster_roles.get(role_name)
        else:
            role = roles.get((_text(_metadata(binding.props).get("namespace"), ""), role_name))
        if role is not None:
            problems = read_only_problems(role.props)
        elif role_kind == "ClusterRole" and role_name in BUILTIN_WRITE_CLUSTER_ROLES:
            problems = [f"{role_name} is a built-in Kubernetes role that writes and reads secrets"]
        else:
            continue
        if problems:
            violations.append(
                (
                    binding.urn,
                    f"{kind} {_name(binding.props)} binds the user service account "
                    f"{', '.join(users)} to {role_kind} {role_name}, which is not read-only: "
                    f"{'; '.join(problems)}. Bind it to its k8s-role-for-users-<namespace> role instead, "
                    f"or make the role read-only. {_READ_ONLY_FIX}",
                )
            )
    return violations


# ---- namespaces ------------------------------------------------------------------------------


def unprotected_namespaces(config: Mapping[str, Any]) -> frozenset[str]:
    """The namespaces the policy config explicitly allows to be unprotected."""
    return frozenset(_strings(config.get(UNPROTECTED_NAMESPACES_KEY)))


def managed_namespaces_protected(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A Namespace with this package's managed-by label is protected unless the config opts it out."""
    if resource_type != NAMESPACE or not _is_managed(props) or protect:
        return []
    name = _name(props)
    if name in unprotected_namespaces(config):
        return []
    return [
        f"Namespace {name} is managed by {MANAGED_BY_VALUE} but not protected, so pulumi up or pulumi "
        "destroy can delete it with every job and secret in it. Keep protect: true for it in the stack "
        "config (the default), or, to delete it on purpose, add it to this policy's "
        f"{UNPROTECTED_NAMESPACES_KEY} config (pulumi preview --policy-pack-config FILE)."
    ]


# ---- GKE -------------------------------------------------------------------------------------


def gke_cluster_hardened(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A GKE cluster has deletion protection, Workload Identity and shielded nodes, no legacy ABAC
    and no client certificate. Autopilot clusters always have Workload Identity and shielded nodes."""
    if resource_type != GKE_CLUSTER:
        return []
    autopilot = props.get("enableAutopilot") is True
    violations = []
    if props.get("deletionProtection") not in (True, UNKNOWN):
        violations.append(
            "deletionProtection is not true, so pulumi destroy or a replacement can delete the cluster "
            "and every workload on it. Set deletion_protection=True."
        )
    pool = _mapping(props.get("workloadIdentityConfig")).get("workloadPool")
    if not autopilot and pool is not UNKNOWN and not (isinstance(pool, str) and pool):
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
    certificate = _mapping(_mapping(props.get("masterAuth")).get("clientCertificateConfig"))
    if certificate.get("issueClientCertificate") is True:
        violations.append(
            "masterAuth issues a client certificate, a credential that cannot be revoked. Set "
            "master_auth={'client_certificate_config': {'issue_client_certificate': False}}."
        )
    return [f"GKE cluster {_text(props.get('name'), '(unnamed)')}: {message}" for message in violations]


def node_type_taint_problem(node_config: object) -> str | None:
    """Why ``node_config`` lacks the Concurrent node-type taint, or None if it has it (or is unknown)."""
    if node_config is UNKNOWN:
        return None
    taints = _mapping(node_config).get("taints")
    if taints is UNKNOWN:
        return None
    for taint in map(_mapping, _items(taints)):
        if UNKNOWN in (taint.get("key"), taint.get("value"), taint.get("effect")):
            return None
        if (
            taint.get("key") == NODE_TYPE_TAINT_KEY
            and taint.get("value") in NODE_TYPE_TAINT_VALUES
            and taint.get("effect") == NODE_TYPE_TAINT_EFFECT
        ):
            return None
    return (
        f"its nodeConfig.taints have no {NODE_TYPE_TAINT_KEY} taint, so any pod can be scheduled on it. "
        f"Add the taint key={NODE_TYPE_TAINT_KEY}, value=system (system pool) or worker (CPU and GPU "
        f"pools), effect={NODE_TYPE_TAINT_EFFECT}."
    )


def gke_node_pools_tainted(
    resource_type: str, props: Mapping[str, Any], protect: bool, config: Mapping[str, Any]
) -> list[str]:
    """A GKE node pool (a NodePool, or one inline in a Cluster) carries the Concurrent node-type taint."""
    if resource_type == GKE_NODE_POOL:
        pools: list[Mapping[str, Any]] = [props]
    elif resource_type == GKE_CLUSTER:
        pools = [_mapping(pool) for pool in _items(props.get("nodePools"))]
    else:
        return []
    violations = []
    for pool in pools:
        problem = node_type_taint_problem(pool.get("nodeConfig"))
        if problem:
            violations.append(f"GKE node pool {_text(pool.get('name'), '(unnamed)')}: {problem}")
    return violations


# ---- the rule table and the pulumi_policy adapter ---------------------------------------------

ResourceCheck = Callable[[str, Mapping[str, Any], bool, Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class ResourceRule:
    """A resource rule and the metadata of its policy."""

    name: str
    description: str
    check: ResourceCheck
    config_properties: Mapping[str, Mapping[str, Any]] | None = None


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "no-cluster-wide-service-account-grants",
        "No ClusterRoleBinding gives a service account anything: service accounts get roles only "
        "through RoleBindings in their own namespace.",
        no_cluster_wide_service_account_grants,
    ),
    ResourceRule(
        "user-roles-read-only",
        f"The user roles ({USER_CLUSTER_ROLE_PREFIX}<namespace>) grant only get, list and watch, "
        "and nothing on secrets.",
        user_roles_read_only,
    ),
    ResourceRule(
        "no-wildcards-in-managed-roles",
        f"Roles and ClusterRoles labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} have no '*' in "
        "apiGroups, resources or verbs.",
        no_wildcards_in_managed_roles,
    ),
    ResourceRule(
        "managed-namespaces-protected",
        f"Namespaces labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} are protected, unless listed in "
        f"the policy config {UNPROTECTED_NAMESPACES_KEY}.",
        managed_namespaces_protected,
        config_properties={
            UNPROTECTED_NAMESPACES_KEY: {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Namespaces that may be unprotected (explicit opt-out, e.g. to delete one).",
            }
        },
    ),
    ResourceRule(
        "gke-cluster-hardened",
        "GKE clusters have deletion protection, Workload Identity and shielded nodes on, legacy ABAC "
        "and client certificates off.",
        gke_cluster_hardened,
    ),
    ResourceRule(
        "gke-node-pools-tainted",
        f"GKE node pools carry the taint {NODE_TYPE_TAINT_KEY}=system or worker with effect "
        f"{NODE_TYPE_TAINT_EFFECT}.",
        gke_node_pools_tainted,
    ),
)

STACK_RULE_NAME = "user-bindings-read-only"
STACK_RULE_DESCRIPTION = (
    "Every role a binding in the stack gives a user service account "
    f"({USER_SERVICE_ACCOUNT_PREFIX}<namespace>) is read-only and never touches secrets."
)


def plain(value: Any) -> Any:
    """A copy of engine props as plain dicts and lists, with unknown values as :data:`UNKNOWN`."""
    from pulumi_policy import proxy

    sentinels = {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }

    def read(container: Any, key: Any) -> Any:
        try:
            return plain(container[key])
        except proxy.UnknownValueError:
            return UNKNOWN

    if isinstance(value, str):
        return UNKNOWN if value in sentinels else value
    if isinstance(value, Mapping):
        return {key: read(value, key) for key in value}
    if isinstance(value, Sequence):
        return [read(value, index) for index in range(len(value))]
    return value


def build_policies() -> list[Any]:
    """The pulumi_policy policies of the pack, every one mandatory unless the pack config says otherwise."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyConfigSchema,
        ReportViolation,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
        StackValidationPolicy,
    )

    def resource_validation(
        check: ResourceCheck,
    ) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
        def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
            props = plain(args.props)
            for message in check(args.resource_type, props, args.opts.protect, args.get_config()):
                report_violation(message, None)

        return validate

    def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(resource.resource_type, plain(resource.props), resource.urn)
            for resource in args.resources
        ]
        for urn, message in user_binding_roles_read_only(resources):
            report_violation(message, urn)

    policies: list[Any] = [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=resource_validation(rule.check),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=(
                PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config_properties.items()})
                if rule.config_properties
                else None
            ),
        )
        for rule in RESOURCE_RULES
    ]
    policies.append(
        StackValidationPolicy(
            name=STACK_RULE_NAME,
            description=STACK_RULE_DESCRIPTION,
            validate=validate_stack,
            enforcement_level=EnforcementLevel.MANDATORY,
        )
    )
    return policies
