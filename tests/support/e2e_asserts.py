"""Assertions on the objects a real deployment created, shared by the e2e test modules."""

from __future__ import annotations

from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from concurrent_infra.kube.rbac import SYSTEM_RULES, USER_RULES, PolicyRule, grants
from tests.support.cluster import Cluster


def rule_grants(cluster_role: dict[str, object]) -> frozenset[tuple[str, str, str]]:
    rules = cluster_role["rules"]
    assert isinstance(rules, list)
    return grants(PolicyRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in rules)


def assert_namespace_objects(cluster: Cluster, namespace: str) -> None:
    """Every object of ``namespace`` exists with the reference name, subjects and roleRef."""
    names = namespace_object_names(namespace)
    assert cluster.get("namespace", namespace) is not None
    for service_account in (names.system_service_account, names.user_service_account):
        assert cluster.get("serviceaccount", service_account, "-n", namespace) is not None
    for binding, role, service_account in (
        (names.system_role_binding, SYSTEM_CLUSTER_ROLE, names.system_service_account),
        (names.user_role_binding, names.user_cluster_role, names.user_service_account),
    ):
        found = cluster.get("rolebinding", binding, "-n", namespace)
        assert found is not None, binding
        assert found["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role,
        }
        assert found["subjects"] == [
            {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
        ]
    user_role = cluster.get("clusterrole", names.user_cluster_role)
    assert user_role is not None and rule_grants(user_role) == grants(USER_RULES)


def assert_system_role(cluster: Cluster) -> None:
    role = cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE)
    assert role is not None and rule_grants(role) == grants(SYSTEM_RULES)
    binding = cluster.get("clusterrolebinding", SYSTEM_CLUSTER_ROLE_BINDING)
    assert binding is not None
    assert binding["subjects"] == [
        {"kind": "Group", "name": SYSTEM_GROUP, "apiGroup": "rbac.authorization.k8s.io"}
    ]
