"""The objects for ``parallelsns`` compared with the seed-era upstream manifests, semantically.

Same kinds, names and bindings; rules a superset of seed-era minus ``post``. Each deliberate
difference is asserted here, so a change to any of them fails a test.
"""

from pathlib import Path
from typing import Any

import yaml

from concurrent_infra.kube.names import NAMESPACE_GUARD_POLICY
from concurrent_infra.kube.rbac import RBAC_API_GROUP, PolicyRule, grants
from concurrent_infra.program.stack import main
from tests.support.mocks import run_program

SEED_ERA = Path(__file__).parents[1] / "fixtures" / "upstream" / "seed-era"
Key = tuple[str, str, str | None]


def upstream_objects() -> dict[Key, dict[str, Any]]:
    objects: dict[Key, dict[str, Any]] = {}
    for path in sorted(SEED_ERA.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                meta = doc["metadata"]
                objects[(doc["kind"], meta["name"], meta.get("namespace"))] = doc
    return objects


def our_objects() -> dict[Key, dict[str, Any]]:
    _, run = run_program(main, {"concurrent-infra:namespaces": '["parallelsns"]'})
    objects: dict[Key, dict[str, Any]] = {}
    for registration in run.registrations:
        if (
            registration.custom
            and registration.type.startswith("kubernetes:")
            and "providers" not in registration.type
        ):
            kind = registration.type.rsplit(":", 1)[1]
            meta = registration.inputs["metadata"]
            objects[(kind, meta["name"], meta.get("namespace"))] = {"kind": kind, **registration.inputs}
    return objects


def rule_grants(doc: dict[str, Any]) -> frozenset[tuple[str, str, str]]:
    return grants(
        PolicyRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in doc["rules"]
    )


def test_same_kinds_and_names_plus_the_namespace_itself() -> None:
    ours, upstream = our_objects(), upstream_objects()
    # Deliberate differences: the Namespace, which the procedure creates with `kubectl create namespace`,
    # and the namespace guard (a ValidatingAdmissionPolicy and its binding).
    assert set(ours) == set(upstream) | {
        ("Namespace", "parallelsns", None),
        ("ValidatingAdmissionPolicy", NAMESPACE_GUARD_POLICY, None),
        ("ValidatingAdmissionPolicyBinding", NAMESPACE_GUARD_POLICY, None),
    }


def test_cluster_roles_are_not_namespaced() -> None:
    for kind, _, namespace in our_objects():
        if kind.startswith("Cluster") or kind == "Namespace":
            assert namespace is None


def test_bindings_bind_the_same_subjects_to_the_same_roles() -> None:
    ours, upstream = our_objects(), upstream_objects()
    for key, theirs in upstream.items():
        if key[0].endswith("Binding"):
            assert ours[key]["subjects"] == [
                {k: v for k, v in s.items() if not (k == "apiGroup" and v == "")} for s in theirs["subjects"]
            ]
            assert ours[key]["roleRef"]["kind"] == theirs["roleRef"]["kind"]
            assert ours[key]["roleRef"]["name"] == theirs["roleRef"]["name"]
            # Deliberate difference: roleRef.apiGroup written out (upstream leaves "" to the server).
            assert ours[key]["roleRef"]["apiGroup"] == RBAC_API_GROUP


def test_rules_are_a_superset_of_seed_era_minus_post_with_exactly_the_intended_additions() -> None:
    ours, upstream = our_objects(), upstream_objects()
    system_key = ("ClusterRole", "k8s-role-for-parallels-lambda", None)
    user_key = ("ClusterRole", "k8s-role-for-users-parallelsns", None)
    seed_system = rule_grants(upstream[system_key])
    seed_user = rule_grants(upstream[user_key])
    # Deliberate difference: the bogus verb `post` is gone.
    assert any(verb == "post" for _, _, verb in seed_system)
    assert not any(verb == "post" for _, _, verb in rule_grants(ours[system_key]))
    # Deliberate difference: the system role gains what the latest upstream role added.
    added_system = rule_grants(ours[system_key]) - seed_system
    assert added_system == {
        ("", "pods/attach", verb) for verb in ("get", "list", "watch", "create", "update", "patch", "delete")
    } | {
        ("apps", resource, "create")
        for resource in ("deployments", "daemonsets", "statefulsets", "replicasets")
    }
    assert {g for g in seed_system if g[2] != "post"} <= rule_grants(ours[system_key])
    # Deliberate difference: the user role gains watch on jobs and read access to the sidecar's own
    # pod, logs and events (latest upstream's template, with jobs in batch where they exist).
    added_user = rule_grants(ours[user_key]) - seed_user
    assert added_user == {("batch", "jobs", "watch")} | {
        ("", resource, verb)
        for resource in ("pods", "pods/log", "events")
        for verb in ("get", "list", "watch")
    }
    assert seed_user <= rule_grants(ours[user_key])


def test_no_cluster_role_binding_to_a_service_account() -> None:
    # Deliberate difference from latest upstream: no `pods-reader` ClusterRoleBinding per namespace.
    for (kind, _, _), doc in our_objects().items():
        if kind == "ClusterRoleBinding":
            assert all(subject["kind"] != "ServiceAccount" for subject in doc["subjects"])
