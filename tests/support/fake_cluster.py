"""A fake cluster with RBAC's semantics, and the objects of a cluster the package prepared.

Used by the ``tests/unit/test_verify*.py`` modules. The objects are written out from the package's
names, rules and labels (API form, camelCase), so these tests do not depend on the components'
wiring; ``test_verify_components.py`` checks that the components register the same objects.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from concurrent_infra.kube.guardrails import namespace_guard_policy_spec
from concurrent_infra.kube.labels import COMMON_LABELS
from concurrent_infra.kube.names import (
    DIND_NAME,
    LIMIT_RANGE,
    NAMESPACE_GUARD_POLICY,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.kube.pod_security import pod_security_labels
from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, PolicyRule
from concurrent_infra.verify import AccessReview, ClusterExpectation, ExpectedAccess
from concurrent_infra.verify.checks import WORKLOAD_IDENTITY_ANNOTATION, api_form

Key = tuple[str, str, str]  # kind, namespace ("" if cluster-scoped), name


def _metadata(name: str, namespace: str = "", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(COMMON_LABELS), **extra}
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def _rules(rules: tuple[PolicyRule, ...]) -> list[dict[str, Any]]:
    return [
        {"apiGroups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
        for r in rules
    ]


def role_ref(name: str, kind: str = "ClusterRole") -> dict[str, str]:
    return {"apiGroup": RBAC_API_GROUP, "kind": kind, "name": name}


def sa_subject(name: str, namespace: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def kubernetes_defaults() -> dict[Key, dict[str, Any]]:
    """Bindings every API server creates (``kubernetes.io/bootstrapping=rbac-defaults``)."""
    defaults: dict[Key, dict[str, Any]] = {}
    for name, group in (
        ("system:basic-user", "system:authenticated"),
        ("system:discovery", "system:authenticated"),
        ("system:public-info-viewer", "system:authenticated"),
        ("system:service-account-issuer-discovery", "system:serviceaccounts"),
    ):
        labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
        defaults[("ClusterRole", "", name)] = {
            "metadata": {"name": name, "labels": labels},
            "rules": [{"nonResourceURLs": ["/version"], "verbs": ["get"]}],
        }
        defaults[("ClusterRoleBinding", "", name)] = {
            "metadata": {"name": name, "labels": labels},
            "roleRef": role_ref(name),
            "subjects": [{"apiGroup": RBAC_API_GROUP, "kind": "Group", "name": group}],
        }
    return defaults


def guard_objects(users: Sequence[str] = (), groups: Sequence[str] = ()) -> dict[Key, dict[str, Any]]:
    """The namespace guard policy and binding as a kube-apiserver (v1.36) returns them: the
    package's spec in the API's spelling plus the fields the server defaults (``matchPolicy``,
    an empty ``namespaceSelector``, each rule's ``scope``)."""
    policy = api_form(namespace_guard_policy_spec(users, groups))
    constraints = policy["matchConstraints"]
    constraints.update(matchPolicy="Equivalent", namespaceSelector={})
    for rule in constraints["resourceRules"]:
        rule["scope"] = "*"
    return {
        ("ValidatingAdmissionPolicy", "", NAMESPACE_GUARD_POLICY): {
            "metadata": _metadata(NAMESPACE_GUARD_POLICY),
            "spec": policy,
        },
        ("ValidatingAdmissionPolicyBinding", "", NAMESPACE_GUARD_POLICY): {
            "metadata": _metadata(NAMESPACE_GUARD_POLICY),
            "spec": {"policyName": NAMESPACE_GUARD_POLICY, "validationActions": ["Deny"]},
        },
    }


def clean_objects(expectation: ClusterExpectation) -> dict[Key, dict[str, Any]]:
    """Every object of a cluster the package prepared as ``expectation`` says, plus Kubernetes'
    own default bindings."""
    objects = kubernetes_defaults()
    if expectation.include_system_role:
        subjects = [
            {"apiGroup": RBAC_API_GROUP, "kind": kind, "name": name}
            for kind, names in (
                ("Group", (SYSTEM_GROUP, *expectation.system_role_groups)),
                ("User", expectation.system_role_users),
            )
            for name in names
        ]
        objects[("ClusterRole", "", SYSTEM_CLUSTER_ROLE)] = {
            "metadata": _metadata(SYSTEM_CLUSTER_ROLE),
            "rules": _rules(SYSTEM_RULES),
        }
        objects[("ClusterRoleBinding", "", SYSTEM_CLUSTER_ROLE_BINDING)] = {
            "metadata": _metadata(SYSTEM_CLUSTER_ROLE_BINDING),
            "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
            "subjects": subjects,
        }
        if expectation.namespace_guard:
            objects.update(guard_objects(expectation.system_role_users, expectation.system_role_groups))
    for ns in expectation.namespaces:
        names = namespace_object_names(ns.name)
        labels = {**COMMON_LABELS, **pod_security_labels(ns.pod_security)}  # type: ignore[arg-type]
        namespace_metadata: dict[str, Any] = {"name": ns.name, "labels": labels}
        if ns.annotations:
            namespace_metadata["annotations"] = dict(ns.annotations)
        objects[("Namespace", "", ns.name)] = {
            "metadata": namespace_metadata,
            "spec": {"finalizers": ["kubernetes"]},  # the API server adds it to every Namespace
            "status": {"phase": "Active"},
        }
        objects[("ServiceAccount", ns.name, "default")] = {
            "metadata": {"name": "default", "namespace": ns.name}
        }
        objects[("ServiceAccount", ns.name, names.system_service_account)] = {
            "metadata": _metadata(names.system_service_account, ns.name)
        }
        user_metadata = _metadata(names.user_service_account, ns.name)
        if ns.workload_identity_email:
            user_metadata["annotations"] = {WORKLOAD_IDENTITY_ANNOTATION: ns.workload_identity_email}
        objects[("ServiceAccount", ns.name, names.user_service_account)] = {"metadata": user_metadata}
        objects[("RoleBinding", ns.name, names.system_role_binding)] = {
            "metadata": _metadata(names.system_role_binding, ns.name),
            "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
            "subjects": [sa_subject(names.system_service_account, ns.name)],
        }
        objects[("ClusterRole", "", names.user_cluster_role)] = {
            "metadata": _metadata(names.user_cluster_role),
            "rules": _rules(USER_RULES),
        }
        objects[("RoleBinding", ns.name, names.user_role_binding)] = {
            "metadata": _metadata(names.user_role_binding, ns.name),
            "roleRef": role_ref(names.user_cluster_role),
            "subjects": [sa_subject(names.user_service_account, ns.name)],
        }
        if ns.quota is not None:
            objects[("ResourceQuota", ns.name, RESOURCE_QUOTA)] = {
                "metadata": _metadata(RESOURCE_QUOTA, ns.name),
                "spec": {"hard": dict(ns.quota)},
            }
        if ns.container_defaults:
            objects[("LimitRange", ns.name, LIMIT_RANGE)] = {"metadata": _metadata(LIMIT_RANGE, ns.name)}
        if ns.network_isolation:
            objects[("NetworkPolicy", ns.name, NETWORK_POLICY)] = {
                "metadata": _metadata(NETWORK_POLICY, ns.name)
            }
        if ns.dind:
            for kind in ("Deployment", "Service"):
                objects[(kind, ns.name, DIND_NAME)] = {"metadata": _metadata(DIND_NAME, ns.name)}
    return objects


class FakeCluster:
    """Objects by kind and name, and an authorizer with RBAC's semantics over them.

    ``review_errors``: SubjectAccessReview labels (``ExpectedAccess.label``) answered with an
    error instead of a verdict; ``allowed_with_error``: the verdict sent with such an error.
    """

    def __init__(self, objects: Mapping[Key, dict[str, Any]]) -> None:
        self.objects = {key: copy.deepcopy(obj) for key, obj in objects.items()}
        self.reviews: list[ExpectedAccess] = []
        self.review_errors: dict[str, str] = {}
        self.allowed_with_error = False
        self._lock = threading.Lock()

    def add(self, kind: str, namespace: str, name: str, obj: dict[str, Any]) -> None:
        metadata = obj.setdefault("metadata", {})
        metadata["name"] = name
        if namespace:
            metadata["namespace"] = namespace
        self.objects[(kind, namespace, name)] = obj

    def get_object(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        return self.objects.get((kind, namespace or "", name))

    def list_objects(self, kind: str, namespace: str | None) -> list[Mapping[str, Any]]:
        return [
            obj
            for (k, ns, _), obj in sorted(self.objects.items())
            if k == kind and (namespace is None or ns == namespace)
        ]

    @staticmethod
    def _subject_matches(
        subject: Mapping[str, Any], binding_namespace: str, user: str, groups: tuple[str, ...]
    ) -> bool:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "ServiceAccount":
            namespace = subject.get("namespace") or binding_namespace
            return user == f"system:serviceaccount:{namespace}:{name}"
        return (kind == "User" and name == user) or (kind == "Group" and name in groups)

    @staticmethod
    def _rule_matches(rule: Mapping[str, Any], check: ExpectedAccess) -> bool:
        def has(field: str, value: str) -> bool:
            return value in rule.get(field, []) or "*" in rule.get(field, [])

        names = rule.get("resourceNames")
        return (
            (not names or check.name in names)
            and has("verbs", check.verb)
            and has("apiGroups", check.group)
            and has("resources", check.resource)
        )

    def _role_rules(self, ref: Mapping[str, Any], namespace: str) -> list[Mapping[str, Any]]:
        kind = ref["kind"]
        role = self.objects.get((kind, namespace if kind == "Role" else "", ref["name"]))
        return list(role.get("rules") or []) if role else []

    def _allowed(self, check: ExpectedAccess) -> bool:
        for (kind, namespace, _), binding in self.objects.items():
            in_scope = kind == "ClusterRoleBinding" or (
                kind == "RoleBinding" and check.namespace and namespace == check.namespace
            )
            if not in_scope or not any(
                self._subject_matches(s, namespace, check.user, check.groups)
                for s in binding.get("subjects") or []
            ):
                continue
            if any(self._rule_matches(r, check) for r in self._role_rules(binding["roleRef"], namespace)):
                return True
        return False

    def review(self, check: ExpectedAccess) -> AccessReview:
        with self._lock:
            self.reviews.append(check)
        if check.label in self.review_errors:
            return AccessReview(self.allowed_with_error, self.review_errors[check.label])
        return AccessReview(self._allowed(check))
