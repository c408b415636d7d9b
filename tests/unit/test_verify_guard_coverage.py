"""``verify`` reports system-role subjects the namespace guard does not hold back (issue 17)."""

from typing import Any

from concurrent_infra.kube.names import SYSTEM_CLUSTER_ROLE, SYSTEM_CLUSTER_ROLE_BINDING, SYSTEM_GROUP
from concurrent_infra.kube.rbac import RBAC_API_GROUP
from concurrent_infra.verify import ClusterExpectation, run_checks
from concurrent_infra.verify.expectations import default_expectation
from tests.support.fake_cluster import FakeCluster, clean_objects, guard_objects, role_ref

OTHER_PLANE = "other-plane@p.iam.gserviceaccount.com"
SECOND_STACK = default_expectation(["team-c"], include_system_role=False, system_role_scope="namespaces")


def second_stack_cluster(guard_users: tuple[str, ...] | None) -> FakeCluster:
    """A second stack's namespace, its RoleBinding of the system role to the system group and
    :data:`OTHER_PLANE`, and the guard the first stack made (for ``guard_users``; None: no guard)."""
    objects = clean_objects(SECOND_STACK)
    if guard_users is not None:
        objects.update(guard_objects(guard_users))
    subjects = [
        {"apiGroup": RBAC_API_GROUP, "kind": "Group", "name": SYSTEM_GROUP},
        {"apiGroup": RBAC_API_GROUP, "kind": "User", "name": OTHER_PLANE},
    ]
    binding: dict[str, Any] = {
        "metadata": {"name": SYSTEM_CLUSTER_ROLE_BINDING, "namespace": "team-c"},
        "roleRef": role_ref(SYSTEM_CLUSTER_ROLE),
        "subjects": subjects,
    }
    objects[("RoleBinding", "team-c", SYSTEM_CLUSTER_ROLE_BINDING)] = binding
    return FakeCluster(objects)


def coverage(cluster: FakeCluster, expectation: ClusterExpectation = SECOND_STACK) -> list[str]:
    return [
        f"{'ok' if r.ok else 'FAIL'}: {r.actual}"
        for r in run_checks(cluster, expectation)
        if r.area == "guard" and "held back" in r.check
    ]


def test_a_subject_the_first_stacks_guard_does_not_list_is_reported() -> None:
    [row] = coverage(second_stack_cluster(guard_users=("first-plane@p.iam.gserviceaccount.com",)))
    assert row.startswith("FAIL") and f"User {OTHER_PLANE} (RoleBinding team-c/" in row
    assert SYSTEM_GROUP not in row  # every guard lists the system group


def test_a_listed_subject_passes() -> None:
    assert coverage(second_stack_cluster(guard_users=(OTHER_PLANE,))) == ["ok: all held back"]


def test_no_guard_at_all_is_reported() -> None:
    [row] = coverage(second_stack_cluster(guard_users=None))
    assert row.startswith("FAIL: no package guard") and SYSTEM_GROUP in row and OTHER_PLANE in row


def test_a_tampered_guard_is_not_trusted_to_list_anyone() -> None:
    cluster = second_stack_cluster(guard_users=(OTHER_PLANE,))
    policy = cluster.get_object("ValidatingAdmissionPolicy", "concurrent-infra-namespace-guard", None)
    assert policy is not None
    policy["spec"]["validations"] = []
    [row] = coverage(cluster)
    assert row.startswith("FAIL: no package guard")


def test_a_clean_single_stack_cluster_has_every_subject_guarded() -> None:
    expectation = default_expectation(["team-a"], system_role_users=[OTHER_PLANE])
    assert coverage(FakeCluster(clean_objects(expectation)), expectation) == ["ok: all held back"]
