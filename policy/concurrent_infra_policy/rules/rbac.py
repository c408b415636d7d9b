"""RBAC rules: who is bound to what, and where.

Subjects are normalised before they are judged: a service account can be written as a
``ServiceAccount`` subject, as the User ``system:serviceaccount:<ns>:<name>`` or, with every other
service account of its namespace (or of the cluster), as the Group ``system:serviceaccounts:<ns>``
(``system:serviceaccounts``). See "Subjects" in the Kubernetes RBAC documentation
(https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from concurrent_infra.kube.labels import COMMON_LABELS
from concurrent_infra.kube.names import (
    RESERVED_NAMESPACES,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.kube.rbac import (
    AGGREGATE_TO_PREFIX,
    ESCALATING_GRANTS,
    READ_VERBS,
    SYSTEM_RULES,
    USER_RULES,
    PolicyRule,
    grants,
)
from concurrent_infra.kube.selectors import selector_matches
from concurrent_infra.kube.subjects import Subject, cluster_subject_problem

from ..props import (
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    MANAGED_BY_VALUE,
    NAMESPACE,
    ROLE,
    ROLE_BINDING,
    UNKNOWN,
    Obj,
    has_unknown,
    is_managed,
    items,
    labels,
    mapping,
    metadata,
    namespace,
    strings,
    text,
)
from ..rule import ResourceRule, StackResource, StackRule, stack_objects

_PREFIXES = namespace_object_names("")
USER_ROLE_PREFIX = _PREFIXES.user_cluster_role
"""``k8s-role-for-users-``: the names of the user roles (from names.py with an empty namespace)."""
USER_SERVICE_ACCOUNT_PREFIX = _PREFIXES.user_service_account
"""``k8s-serviceaccount-for-users-``: the names of the user service accounts."""
SYSTEM_SERVICE_ACCOUNT_PREFIX = _PREFIXES.system_service_account
"""``k8s-serviceaccount-for-parallels-``: the names of the system service accounts."""

DANGEROUS_SUBRESOURCES: frozenset[str] = frozenset({"exec", "attach", "portforward", "proxy"})
"""Subresources that run commands in, or open connections to, pods, services and nodes. Reading
them is enough: ``kubectl exec`` and ``port-forward`` need only ``get`` (or ``create``) on
``pods/exec`` and ``pods/portforward`` over a streaming connection, so no verb makes them safe."""


# ---- subjects --------------------------------------------------------------------------------


def subjects(props: Mapping[str, Any], binding_namespace: object = None) -> list[Subject]:
    """The subjects of a binding whose kind, name (and namespace, for a ServiceAccount) are known."""
    found = []
    for subject in map(mapping, items(props.get("subjects"))):
        kind, name, subject_namespace = subject.get("kind"), subject.get("name"), subject.get("namespace")
        if not isinstance(kind, str) or not isinstance(name, str):
            continue
        if kind == "ServiceAccount" and (
            subject_namespace is UNKNOWN or (not subject_namespace and binding_namespace is UNKNOWN)
        ):
            continue
        found.append(
            Subject.in_binding(
                kind,
                name,
                subject_namespace if isinstance(subject_namespace, str) else "",
                binding_namespace if isinstance(binding_namespace, str) else "",
            )
        )
    return found


def _role_ref(props: Mapping[str, Any]) -> tuple[str, str]:
    role_ref = mapping(props.get("roleRef"))
    return text(role_ref.get("kind")), text(role_ref.get("name"))


def _binding_namespace(value: object) -> str:
    return value if isinstance(value, str) else "(not set: the provider's default namespace)"


# ---- cluster-wide bindings -----------------------------------------------------------------------


def no_cluster_wide_service_account_grants(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A ClusterRoleBinding names no service account, however the subject is written."""
    if obj.type != CLUSTER_ROLE_BINDING:
        return []
    _, role = _role_ref(obj.props)
    return [
        f"ClusterRoleBinding {obj.name} grants ClusterRole {role} to {subject.describe()} in every "
        "namespace. Remove the service account from this ClusterRoleBinding and grant the role "
        "with a RoleBinding in the service account's own namespace (its roleRef may still name "
        "the ClusterRole)."
        for subject in subjects(obj.props)
        if subject.names_service_accounts
    ]


def no_cluster_wide_system_subjects(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A ClusterRoleBinding names no ``system:`` user or group and only Users and Groups."""
    if obj.type != CLUSTER_ROLE_BINDING:
        return []
    violations = []
    for subject in subjects(obj.props):
        if subject.names_service_accounts:
            continue  # no-cluster-wide-service-account-grants reports it
        problem = cluster_subject_problem(subject.kind, subject.name)
        if problem:
            violations.append(
                f"ClusterRoleBinding {obj.name} grants ClusterRole {_role_ref(obj.props)[1]} to "
                f"{subject.describe()} in the whole cluster: {problem}. Remove this subject; bind "
                "cluster-wide roles only to the Users and Groups of named people or teams."
            )
    return violations


# ---- bindings of service accounts ----------------------------------------------------------------


def service_accounts_bound_by_name(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A RoleBinding names service accounts only as ServiceAccount subjects, one by one."""
    if obj.type != ROLE_BINDING:
        return []
    role_kind, role = _role_ref(obj.props)
    binding_namespace = namespace(obj.props)
    violations = []
    for subject in subjects(obj.props, binding_namespace):
        if subject.kind == "ServiceAccount" or not subject.names_service_accounts:
            continue
        account_namespace, account = subject.service_accounts
        if account is None:
            fix = (
                "It includes the package's service accounts of a Concurrent namespace "
                f"({USER_SERVICE_ACCOUNT_PREFIX}<namespace>, {SYSTEM_SERVICE_ACCOUNT_PREFIX}<namespace>). "
                "Bind each service account that needs the role as its own subject of kind ServiceAccount."
            )
        else:
            fix = (
                f"Write it as {{kind: ServiceAccount, name: {account}, namespace: {account_namespace}}} "
                "so that the pack and verify see which service account it is."
            )
        violations.append(
            f"RoleBinding {obj.name} in namespace {_binding_namespace(binding_namespace)} grants "
            f"{role_kind} {role} to {subject.describe()}, a service account written as a "
            f"{subject.kind}. {fix}"
        )
    return violations


def package_service_accounts_in_own_namespace(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A RoleBinding names a package service account only in that service account's namespace."""
    if obj.type != ROLE_BINDING:
        return []
    binding_namespace = namespace(obj.props)
    if binding_namespace is UNKNOWN or (binding_namespace is None and obj.patch):
        return []
    role_kind, role = _role_ref(obj.props)
    violations = []
    for subject in subjects(obj.props, binding_namespace):
        which = subject.package_service_account
        account_namespace, _ = subject.service_accounts
        if which and account_namespace != binding_namespace:
            violations.append(
                f"RoleBinding {obj.name} in namespace {_binding_namespace(binding_namespace)} grants "
                f"{role_kind} {role} to {subject.describe()}, the package's {which} service account of "
                f"namespace {account_namespace}. A package service account gets roles only in its own "
                "namespace, through the bindings ConcurrentNamespace creates: remove it from this binding."
            )
    return violations


def _judged_role_ref(obj: Obj) -> tuple[object, object] | None:
    """``(kind, name)`` of a binding's roleRef, or None when it cannot be judged yet: a patch that
    sets no roleRef, or a value unknown during the preview."""
    role_ref = mapping(obj.props.get("roleRef"))
    role_kind, role = role_ref.get("kind"), role_ref.get("name")
    if (obj.patch and "roleRef" not in obj.props) or UNKNOWN in (role_kind, role):
        return None
    return role_kind, role


def _role_ref_other_than_system_role(obj: Obj) -> tuple[object, object] | None:
    """:func:`_judged_role_ref`, or None also when it is ClusterRole ``k8s-role-for-parallels-lambda``
    (the only role the system service accounts and the system group may be bound to)."""
    judged = _judged_role_ref(obj)
    if judged is None or judged == ("ClusterRole", SYSTEM_CLUSTER_ROLE):
        return None
    return judged


def user_bindings_read_only(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A package user service account is bound only to its own user role, ClusterRole
    ``k8s-role-for-users-<ns>``: a namespaced Role of the same name is another object, which may be
    created outside the stack with any rules, so a roleRef to it is refused too."""
    if obj.type != ROLE_BINDING:
        return []
    judged = _judged_role_ref(obj)
    if judged is None:
        return []
    role_kind, role = judged
    violations = []
    for subject in subjects(obj.props, namespace(obj.props)):
        if subject.package_service_account != "user":
            continue
        account_namespace, _ = subject.service_accounts
        own_role = USER_ROLE_PREFIX + str(account_namespace)
        if role != own_role or role_kind != "ClusterRole":
            same_name = " (a Role of the user role's name, not the user role)" if role == own_role else ""
            violations.append(
                f"RoleBinding {obj.name} binds {subject.describe()}, the package's user service account "
                f"of namespace {account_namespace}, to {text(role_kind)} {text(role)}{same_name}. A user "
                f"service account is bound only to its own read-only user role, ClusterRole {own_role} (the "
                f"RoleBinding {USER_SERVICE_ACCOUNT_PREFIX}{account_namespace}-binding that "
                "ConcurrentNamespace creates): remove it from this binding."
            )
    return violations


def system_bindings_system_role_only(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A package system service account ``k8s-serviceaccount-for-parallels-<ns>`` is bound only to
    ClusterRole ``k8s-role-for-parallels-lambda`` (the binding ConcurrentNamespace creates)."""
    if obj.type != ROLE_BINDING:
        return []
    judged = _role_ref_other_than_system_role(obj)
    if judged is None:
        return []
    role_kind, role = judged
    violations = []
    for subject in subjects(obj.props, namespace(obj.props)):
        if subject.package_service_account != "system":
            continue
        account_namespace = str(subject.service_accounts[0])
        own_binding = namespace_object_names(account_namespace).system_role_binding
        violations.append(
            f"RoleBinding {obj.name} binds {subject.describe()}, the package's system service account of "
            f"namespace {account_namespace}, to {text(role_kind)} {text(role)}. A system service account "
            f"is bound only to ClusterRole {SYSTEM_CLUSTER_ROLE}, in its own namespace (the RoleBinding "
            f"{own_binding} that ConcurrentNamespace creates): remove it from this binding."
        )
    return violations


def system_group_system_role_only(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """Group ``k8s-role-for-parallels-lambda-group`` (the system role's subjects: Concurrent's
    control plane) is bound only to ClusterRole ``k8s-role-for-parallels-lambda``."""
    if obj.type not in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
        return []
    judged = _role_ref_other_than_system_role(obj)
    if judged is None:
        return []
    role_kind, role = judged
    kind = "ClusterRoleBinding" if obj.type == CLUSTER_ROLE_BINDING else "RoleBinding"
    return [
        f"{kind} {obj.name} binds Group {SYSTEM_GROUP}, the system role's group, to {text(role_kind)} "
        f"{text(role)}. Its members (Concurrent's control plane) get ClusterRole {SYSTEM_CLUSTER_ROLE} "
        "only, from the binding SystemRole creates: remove the group from this binding."
        for subject in subjects(obj.props)
        if subject.kind == "Group" and subject.name == SYSTEM_GROUP
    ]


def system_role_bound_only_by_the_package(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """ClusterRole ``k8s-role-for-parallels-lambda`` is granted only by the package's bindings:
    ``k8s-role-for-parallels-lambda-binding`` (a ClusterRoleBinding, or a RoleBinding per namespace
    for ``systemRoleScope: namespaces``) to Users and Groups, and RoleBinding
    ``k8s-service-account-binding-<ns>`` in ``<ns>`` to exactly ServiceAccount
    ``<ns>/k8s-serviceaccount-for-parallels-<ns>``, never in a namespace Kubernetes reserves
    (``RESERVED_NAMESPACES``, which the config refuses; kube-system's service accounts are exempt
    from the namespace guard). A binding of another name, or one of these names given other subjects
    (a patch that adds a subject included; any patch of ``k8s-role-for-parallels-lambda-binding``
    that sets subjects, which only the stack config's systemRoleUsers and systemRoleGroups may),
    grants the system role's rights (every namespace's secrets and pods) to someone the guard and
    verify do not know."""
    if obj.type not in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
        return []
    binding_namespace = namespace(obj.props)
    reserved = isinstance(binding_namespace, str) and binding_namespace in RESERVED_NAMESPACES
    pattern = (
        namespace_object_names(binding_namespace).system_role_binding
        if isinstance(binding_namespace, str) and obj.type == ROLE_BINDING
        else None
    )
    own_binding = None if reserved else pattern
    judged = _judged_role_ref(obj)
    names_package_binding = obj.name in (SYSTEM_CLUSTER_ROLE_BINDING, pattern)
    if judged is None:
        if not (obj.patch and names_package_binding and "subjects" in obj.props):
            return []  # roleRef unknown, or a patch that leaves the subjects alone
    elif judged != ("ClusterRole", SYSTEM_CLUSTER_ROLE):
        return []
    if binding_namespace is UNKNOWN:
        return []
    kind = "ClusterRoleBinding" if obj.type == CLUSTER_ROLE_BINDING else "RoleBinding"
    found = subjects(obj.props, binding_namespace)
    if obj.name == own_binding and own_binding is not None:
        account = namespace_object_names(str(binding_namespace)).system_service_account
        outsiders = [
            subject
            for subject in found
            if (subject.kind, subject.name, subject.namespace)
            != ("ServiceAccount", account, binding_namespace)
        ]
        allowed = f"only ServiceAccount {binding_namespace}/{account}"
    elif obj.name == SYSTEM_CLUSTER_ROLE_BINDING and obj.patch and "subjects" in obj.props:
        outsiders = found
        allowed = (
            "nobody through a patch: its subjects are the stack config's (the system group, "
            "systemRoleUsers and systemRoleGroups, which the namespace guard holds back)"
        )
    elif obj.name == SYSTEM_CLUSTER_ROLE_BINDING and not reserved:
        outsiders = [subject for subject in found if subject.names_service_accounts]
        allowed = "only Users and Groups (the system group, systemRoleUsers and systemRoleGroups)"
    else:
        outsiders = found
        allowed = "nobody: only the package's bindings grant the system role"
        if reserved:
            allowed += (
                f", and it binds nothing in {binding_namespace}, a namespace Kubernetes reserves "
                "(kube-system's service accounts are exempt from the namespace guard)"
            )
    if not outsiders:
        return []
    who = ", ".join(subject.describe() for subject in outsiders)
    return [
        f"{kind} {obj.name} grants ClusterRole {SYSTEM_CLUSTER_ROLE} (the system role: Concurrent's access "
        f"to every namespace's secrets and pods) to {who}; "
        f"this binding may name {allowed}. Grant the system role only through the package: the "
        f"{SYSTEM_CLUSTER_ROLE_BINDING} binding that SystemRole or ConcurrentNamespace creates for the "
        "stack config's systemRoleUsers and systemRoleGroups (which the namespace guard then holds back), "
        f"and each namespace's RoleBinding {namespace_object_names('<ns>').system_role_binding}."
    ]


def system_role_bindings_in_managed_namespaces(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The package's RoleBindings of the system role, ``k8s-service-account-binding-<ns>`` and the
    namespaced ``k8s-role-for-parallels-lambda-binding`` (a patch that sets their subjects included),
    are only in namespaces the stack manages (a Namespace with the managed-by label): ConcurrentNamespace
    registers each in its own namespace, in the same stack. Elsewhere the name only makes a grant of
    the system role look like the package's. Namespaces unknown during the preview are not judged."""
    objects = stack_objects(resources)
    managed = {
        name
        for _, obj in objects
        if obj.type == NAMESPACE
        and not obj.patch
        and is_managed(obj.props)
        and isinstance(name := metadata(obj.props).get("name"), str)
    }
    violations = []
    for urn, obj in objects:
        binding_namespace = namespace(obj.props)
        if obj.type != ROLE_BINDING or not isinstance(binding_namespace, str) or binding_namespace in managed:
            continue
        if obj.name not in (
            SYSTEM_CLUSTER_ROLE_BINDING,
            namespace_object_names(binding_namespace).system_role_binding,
        ):
            continue
        judged = _judged_role_ref(obj)
        if judged is None and not (obj.patch and "subjects" in obj.props):
            continue
        if judged is not None and judged != ("ClusterRole", SYSTEM_CLUSTER_ROLE):
            continue
        what = "A patch of RoleBinding" if obj.patch else "RoleBinding"
        violations.append(
            (
                urn,
                f"{obj.where}{what} {obj.name} in namespace {binding_namespace} grants ClusterRole "
                f"{SYSTEM_CLUSTER_ROLE} under the name of the package's binding, but this stack does not "
                f"manage namespace {binding_namespace}: the package creates that binding only beside the "
                "Namespace it prepares (ConcurrentNamespace, the stack config's namespaces). Add the "
                "namespace to the stack config, or remove this binding.",
            )
        )
    return violations


def no_bindings_to_everyone(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A RoleBinding names none of :data:`~concurrent_infra.kube.subjects.EVERYONE`: Groups
    ``system:authenticated``, ``system:unauthenticated``, ``system:serviceaccounts``, User
    ``system:anonymous`` (a ClusterRoleBinding naming them is no-cluster-wide-system-subjects' and
    no-cluster-wide-service-account-grants'; ``system:serviceaccounts`` in a RoleBinding is also
    service-accounts-bound-by-name's, which says how to name the accounts instead)."""
    if obj.type != ROLE_BINDING:
        return []
    role_kind, role = _role_ref(obj.props)
    binding_namespace = _binding_namespace(namespace(obj.props))
    return [
        f"RoleBinding {obj.name} in namespace {binding_namespace} grants {role_kind} {role} to "
        f"{subject.kind} {subject.name}, which stands for every client of the cluster (every "
        "authenticated user, every service account of every tenant, or anonymous requests). Remove "
        "this subject; bind the role to the Users, Groups or ServiceAccounts that need it."
        for subject in subjects(obj.props)
        if subject.stands_for_everyone
    ]


# ---- roles ---------------------------------------------------------------------------------------


def _describe_rules(rules: Iterable[PolicyRule]) -> str:
    return "; ".join(
        f"{', '.join(rule.verbs)} on {', '.join(rule.resources)} "
        f"({', '.join(group or 'core' for group in rule.api_groups)})"
        for rule in rules
    )


USER_RULES_TEXT = _describe_rules(USER_RULES)


def _is_dangerous(resource: str) -> bool:
    return "*" in resource or resource.rpartition("/")[2] in DANGEROUS_SUBRESOURCES


def _grant_text(grant: tuple[str, str, str]) -> str:
    group, resource, verb = grant
    return f"{verb} {group + '/' if group else ''}{resource}"


def user_role_problems(props: Mapping[str, Any], patch: bool = False) -> list[str]:
    """Why a user role's ``props`` do not grant exactly the user rules (empty if they do).

    ``USER_RULES`` (concurrent_infra.kube.rbac) are compared grant by grant: every
    ``(apiGroup, resource, verb)`` the rules allow. Unknown values are not judged.
    """
    problems = []
    if props.get("aggregationRule") not in (None, UNKNOWN):
        problems.append("it has an aggregationRule, so its rules come from other roles")
    rules = props.get("rules")
    if (patch and "rules" not in props) or has_unknown(rules):
        return problems
    actual: set[tuple[str, str, str]] = set()
    for index, rule in enumerate(map(mapping, items(rules))):
        for field in ("resourceNames", "nonResourceURLs"):
            if strings(rule.get(field)):
                problems.append(f"rule {index} has {field}, which the user rules do not have")
        actual |= {
            (group, resource, verb)
            for group in strings(rule.get("apiGroups"))
            for resource in strings(rule.get("resources"))
            for verb in strings(rule.get("verbs"))
        }
    expected = grants(USER_RULES)
    extra, missing = actual - expected, expected - actual
    dangerous = sorted({resource for _, resource, _ in extra if _is_dangerous(resource)})
    if dangerous:
        problems.append(
            f"it covers {', '.join(repr(resource) for resource in dangerous)}: exec, attach, "
            "portforward and proxy subresources run commands in or open connections to pods and "
            "nodes, whatever the verb"
        )
    secrets = sorted({resource for _, resource, _ in extra if resource in ("secrets", "*")})
    if secrets:
        covered = " and ".join(repr(resource) for resource in secrets)
        problems.append(f"it covers {covered}, which includes secrets")
    writes = sorted({verb for _, _, verb in extra if verb not in READ_VERBS})
    if writes:
        problems.append(f"it allows the verbs {', '.join(writes)}")
    others = sorted(
        grant
        for grant in extra
        if not _is_dangerous(grant[1]) and grant[1] not in ("secrets", "*") and grant[2] in READ_VERBS
    )
    if others:
        problems.append(f"it also grants {', '.join(_grant_text(grant) for grant in others)}")
    if missing:
        problems.append(
            f"it lacks {', '.join(_grant_text(grant) for grant in sorted(missing))}, which Concurrent's "
            "sidecar needs"
        )
    return problems


def user_roles_read_only(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A role named ``k8s-role-for-users-*`` grants exactly the user rules (read-only, no secrets,
    no exec, attach, portforward or proxy subresources)."""
    if obj.type not in (CLUSTER_ROLE, ROLE) or not obj.name.startswith(USER_ROLE_PREFIX):
        return []
    problems = user_role_problems(obj.props, obj.patch)
    if not problems:
        return []
    return [
        f"{obj.kind} {obj.name} is the role of a user service account and must grant exactly the user "
        f"rules: {'; '.join(problems)}. Give it exactly the rules of "
        f"concurrent_infra.kube.rbac.USER_RULES: {USER_RULES_TEXT}."
    ]


def _covers(pattern: str, value: str) -> bool:
    """Whether an RBAC rule's ``pattern`` (``*``, ``*/scale``, a name) matches ``value``."""
    return pattern in ("*", value) or (pattern.startswith("*/") and value.endswith(pattern[1:]))


def escalation_of(grant: tuple[str, str, str]) -> str | None:
    """What ``(group, resource, verb)`` lets its holder gain beyond its role (an entry of
    ``ESCALATING_GRANTS`` it equals or covers with a ``*``), or None."""
    group, resource, verb = grant
    covered = [
        why
        for (escalating_group, escalating_resource, escalating_verb), why in ESCALATING_GRANTS.items()
        if _covers(group, escalating_group)
        and _covers(resource, escalating_resource)
        and _covers(verb, escalating_verb)
    ]
    if not covered:
        return None
    if len(covered) > 1:
        return f"{_grant_text(grant)} (its '*' covers impersonate, escalate, bind and token requests)"
    return f"{_grant_text(grant)} ({covered[0]})"


def system_role_problems(props: Mapping[str, Any], patch: bool = False) -> list[str]:
    """Why the system role's ``props`` grant more than ``SYSTEM_RULES`` (empty if they do not).

    Every ``(apiGroup, resource, verb)`` a rule allows (with or without ``resourceNames``, which
    only narrow it) must be one of the system rules' grants; ``nonResourceURLs`` and an
    ``aggregationRule`` are more. Fewer grants are not judged here (``verify`` reports them).
    """
    problems = []
    if props.get("aggregationRule") not in (None, UNKNOWN):
        problems.append(
            "it has an aggregationRule, so the aggregation controller replaces its rules with those of "
            "every ClusterRole whose labels match (today's and any added later)"
        )
    feeds = sorted(
        f"{key}={value}"
        for key, value in labels(props).items()
        if key.startswith(AGGREGATE_TO_PREFIX) and value not in (None, UNKNOWN)
    )
    if feeds:
        problems.append(
            f"its label {', '.join(feeds)} makes the aggregation controller copy its rules (secrets, "
            "pods, nodes of every namespace) into that role, and so to everyone bound to it"
        )
    rules = props.get("rules")
    if (patch and "rules" not in props) or has_unknown(rules):
        return problems
    extra: set[tuple[str, str, str]] = set()
    for index, rule in enumerate(map(mapping, items(rules))):
        if strings(rule.get("nonResourceURLs")):
            urls = ", ".join(strings(rule.get("nonResourceURLs")))
            problems.append(f"rule {index} grants the non-resource URLs {urls}")
        extra |= {
            (group, resource, verb)
            for group in strings(rule.get("apiGroups"))
            for resource in strings(rule.get("resources"))
            for verb in strings(rule.get("verbs"))
        } - grants(SYSTEM_RULES)
    escalating = sorted(filter(None, map(escalation_of, extra)))
    if escalating:
        problems.append(f"it lets its subjects escalate: {', '.join(escalating)}")
    others = sorted(_grant_text(grant) for grant in extra if escalation_of(grant) is None)
    if others:
        problems.append(f"it also grants {', '.join(others)}")
    return problems


def system_role_grants_only_system_rules(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """ClusterRole ``k8s-role-for-parallels-lambda`` (the package's, a patch of it, another resource
    that redefines it, an item of a list) grants nothing beyond the system rules, has no
    aggregationRule and no ``aggregate-to-*`` label: the system group, the system service accounts
    of every Concurrent namespace and the system role's users and groups get whatever it holds, and
    the holders of a role it is aggregated into get its rules. (A namespaced Role of that name is
    not the system role: no package binding names it, and system-bindings-system-role-only refuses
    a binding of the system subjects to it.)"""
    if obj.type != CLUSTER_ROLE or obj.name != SYSTEM_CLUSTER_ROLE:
        return []
    problems = system_role_problems(obj.props, obj.patch)
    if not problems:
        return []
    what = f"A patch of {obj.kind}" if obj.patch else obj.kind
    return [
        f"{what} {obj.name} is the system role, held by Group {SYSTEM_GROUP}, every system service "
        f"account ({SYSTEM_SERVICE_ACCOUNT_PREFIX}<namespace>) and the system role's users and groups: "
        f"{'; '.join(problems)}. Give it exactly the rules of concurrent_infra.kube.rbac.SYSTEM_RULES "
        "(SystemRole creates it so): remove the extra rules, or this patch or redefinition."
    ]


def _aggregating_selectors(obj: Obj, labels_of_role: Mapping[str, str]) -> list[int]:
    """The indexes of ``obj``'s ``aggregationRule.clusterRoleSelectors`` (a ClusterRole's) that
    select a role labelled ``labels_of_role``; selectors with unknown values are not judged."""
    if obj.type != CLUSTER_ROLE:
        return []
    selectors = mapping(obj.props.get("aggregationRule")).get("clusterRoleSelectors")
    return [
        index
        for index, selector in enumerate(items(selectors))
        if isinstance(selector, Mapping)
        and not has_unknown(selector)
        and selector_matches(selector, labels_of_role)
    ]


def no_aggregation_of_package_roles(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """No ClusterRole's ``aggregationRule`` selects the labels every package role carries
    (``concurrent_infra.kube.labels.COMMON_LABELS``; an empty selector selects every role): the
    aggregation controller would copy the system role's rules (every namespace's secrets and pods)
    into it, for whoever it is bound to."""
    matching = _aggregating_selectors(obj, COMMON_LABELS)
    if not matching:
        return []
    which = ", ".join(map(str, matching))
    return [
        f"ClusterRole {obj.name}: clusterRoleSelectors[{which}] of its aggregationRule "
        f"select{'s' if len(matching) == 1 else ''} the roles of this package (labelled "
        f"{', '.join(f'{key}={value}' for key, value in COMMON_LABELS.items())}), so the aggregation "
        f"controller copies into it the rules of ClusterRole {SYSTEM_CLUSTER_ROLE} (every namespace's "
        "secrets and pods) for whoever holds it. Select only the ClusterRoles it should aggregate, by a "
        'label of their own (e.g. rbac.example.com/aggregate-to-<this role>: "true").'
    ]


def no_aggregation_of_the_system_roles_labels(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """No ClusterRole's ``aggregationRule`` selects a label the stack gives the system role beyond
    the package's own (a patch or redefinition that adds ``example.com/agg: "true"``, say): the
    aggregation controller would copy the system role's rules into it. The package's own labels are
    no-aggregation-of-package-roles'; a role outside the stack is verify's."""
    objects = stack_objects(resources)
    system_labels: dict[str, str] = dict(COMMON_LABELS)
    for _, obj in objects:
        if obj.type == CLUSTER_ROLE and obj.name == SYSTEM_CLUSTER_ROLE:
            system_labels.update(
                (key, value)
                for key, value in labels(obj.props).items()
                if isinstance(key, str) and isinstance(value, str)
            )
    if system_labels == COMMON_LABELS:
        return []
    violations = []
    for urn, obj in objects:
        already_refused = set(_aggregating_selectors(obj, COMMON_LABELS))  # no-aggregation-of-package-roles
        matching = [
            index for index in _aggregating_selectors(obj, system_labels) if index not in already_refused
        ]
        if matching:
            added = ", ".join(
                f"{key}={value}" for key, value in system_labels.items() if key not in COMMON_LABELS
            )
            which = ", ".join(map(str, matching))
            violations.append(
                (
                    urn,
                    f"{obj.where}ClusterRole {obj.name}: clusterRoleSelectors[{which}] of its "
                    f"aggregationRule select ClusterRole {SYSTEM_CLUSTER_ROLE} by the label(s) {added} "
                    "this stack gives it, so the aggregation controller copies the system role's rules "
                    "(every namespace's secrets and pods) into it, for whoever holds it. Remove the label "
                    "from the system role, or select only the roles it should aggregate.",
                )
            )
    return violations


def no_wildcards_in_managed_roles(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """A Role or ClusterRole with this package's managed-by label lists no ``*`` wildcard."""
    if obj.type not in (CLUSTER_ROLE, ROLE) or not is_managed(obj.props):
        return []
    violations = []
    for index, rule in enumerate(map(mapping, items(obj.props.get("rules")))):
        for field in ("apiGroups", "resources", "verbs"):
            wildcards = [item for item in strings(rule.get(field)) if "*" in item]
            if wildcards:
                violations.append(
                    f"{obj.kind} {obj.name} (managed by {MANAGED_BY_VALUE}) has the wildcard "
                    f"{', '.join(repr(item) for item in wildcards)} in {field} of rule {index}, which also "
                    f"grants whatever is added to the cluster later. List the {field} the role needs "
                    "explicitly (see concurrent_infra/kube/rbac.py)."
                )
    return violations


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "no-cluster-wide-service-account-grants",
        "No ClusterRoleBinding gives a service account anything, whether it is written as a "
        "ServiceAccount, as the User system:serviceaccount:<ns>:<name> or inside the Group "
        "system:serviceaccounts[:<ns>]: service accounts get roles only through RoleBindings in "
        "their own namespace.",
        no_cluster_wide_service_account_grants,
    ),
    ResourceRule(
        "no-cluster-wide-system-subjects",
        "No ClusterRoleBinding names one of Kubernetes' own system: users or groups (anonymous, "
        "authenticated, masters, nodes...) or a subject other than a User or Group.",
        no_cluster_wide_system_subjects,
    ),
    ResourceRule(
        "service-accounts-bound-by-name",
        "RoleBindings name service accounts only as subjects of kind ServiceAccount: never as the "
        "User system:serviceaccount:<ns>:<name> or the Group system:serviceaccounts[:<ns>].",
        service_accounts_bound_by_name,
    ),
    ResourceRule(
        "package-service-accounts-in-own-namespace",
        f"The package's service accounts ({SYSTEM_SERVICE_ACCOUNT_PREFIX}<ns>, "
        f"{USER_SERVICE_ACCOUNT_PREFIX}<ns>) are bound only by RoleBindings in their own namespace.",
        package_service_accounts_in_own_namespace,
    ),
    ResourceRule(
        "system-bindings-system-role-only",
        f"A system service account ({SYSTEM_SERVICE_ACCOUNT_PREFIX}<namespace>) is bound only to "
        f"ClusterRole {SYSTEM_CLUSTER_ROLE}.",
        system_bindings_system_role_only,
    ),
    ResourceRule(
        "system-group-system-role-only",
        f"Group {SYSTEM_GROUP} is bound only to ClusterRole {SYSTEM_CLUSTER_ROLE}.",
        system_group_system_role_only,
    ),
    ResourceRule(
        "system-role-bound-only-by-the-package",
        f"ClusterRole {SYSTEM_CLUSTER_ROLE} is granted only by the package's bindings: "
        f"{SYSTEM_CLUSTER_ROLE_BINDING} to Users and Groups, and RoleBinding "
        f"{namespace_object_names('<ns>').system_role_binding} in <ns> to exactly that namespace's system "
        "service account; neither in a namespace Kubernetes reserves "
        f"({', '.join(sorted(RESERVED_NAMESPACES))}), and no patch of {SYSTEM_CLUSTER_ROLE_BINDING} "
        "that sets its subjects.",
        system_role_bound_only_by_the_package,
    ),
    ResourceRule(
        "no-bindings-to-everyone",
        "No RoleBinding names the Group system:authenticated, system:unauthenticated or "
        "system:serviceaccounts or the User system:anonymous, which stand for every client of the "
        "cluster (every service account of every tenant).",
        no_bindings_to_everyone,
    ),
    ResourceRule(
        "user-roles-read-only",
        f"The user roles ({USER_ROLE_PREFIX}<namespace>) grant exactly the user rules: get, list and "
        "watch on jobs, pods, pods/log and events; nothing on secrets; no exec, attach, portforward or "
        "proxy subresources.",
        user_roles_read_only,
    ),
    ResourceRule(
        "user-bindings-read-only",
        f"A user service account ({USER_SERVICE_ACCOUNT_PREFIX}<namespace>) is bound only to its own "
        f"read-only user role {USER_ROLE_PREFIX}<namespace>.",
        user_bindings_read_only,
    ),
    ResourceRule(
        "system-role-grants-only-system-rules",
        f"ClusterRole {SYSTEM_CLUSTER_ROLE}, however it is written (the package's ClusterRole, a "
        "ClusterRolePatch, another resource of the same name, a list item), grants nothing beyond "
        "the system rules (no impersonate, escalate, bind, serviceaccounts/token or '*'), has no "
        "aggregationRule and no rbac.authorization.k8s.io/aggregate-to-* label.",
        system_role_grants_only_system_rules,
    ),
    ResourceRule(
        "no-aggregation-of-package-roles",
        "No ClusterRole's aggregationRule selects the package's roles (their labels "
        f"{', '.join(f'{key}={value}' for key, value in COMMON_LABELS.items())}, or an empty selector), "
        f"which would copy the rules of ClusterRole {SYSTEM_CLUSTER_ROLE} into it.",
        no_aggregation_of_package_roles,
    ),
    ResourceRule(
        "no-wildcards-in-managed-roles",
        f"Roles and ClusterRoles labelled app.kubernetes.io/managed-by={MANAGED_BY_VALUE} have no '*' "
        "in apiGroups, resources or verbs.",
        no_wildcards_in_managed_roles,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "no-aggregation-of-the-system-roles-labels",
        f"No ClusterRole aggregates ClusterRole {SYSTEM_CLUSTER_ROLE} by a label the stack adds to it.",
        no_aggregation_of_the_system_roles_labels,
    ),
    StackRule(
        "system-role-bindings-in-managed-namespaces",
        f"RoleBindings named as the package's bindings of ClusterRole {SYSTEM_CLUSTER_ROLE} "
        f"({namespace_object_names('<ns>').system_role_binding}, {SYSTEM_CLUSTER_ROLE_BINDING}) only in "
        "the namespaces the stack manages.",
        system_role_bindings_in_managed_namespaces,
    ),
)
