"""One Subject type and one "everyone" set (kube/subjects.py) for verify, review and the policy pack."""

from __future__ import annotations

from typing import Any

import pytest

from concurrent_infra.kube.names import namespace_object_names
from concurrent_infra.kube.rbac import RBAC_API_GROUP
from concurrent_infra.kube.subjects import EVERYONE, Subject, service_account_groups
from concurrent_infra.verify.checks.bindings import exposed_identities
from concurrent_infra.verify.checks.escalation import everyone_in
from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.rules import rbac

NO_ACCOUNTS: frozenset[tuple[str, str]] = frozenset()


def role_binding(*subjects: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "open", "namespace": "team-b"},
        "roleRef": {"apiGroup": RBAC_API_GROUP, "kind": "ClusterRole", "name": "admin"},
        "subjects": list(subjects),
    }


def violations(policy: str, props: dict[str, Any]) -> list[str]:
    [found] = [r for r in rbac.RULES if r.name == policy]
    return found.check(p.ROLE_BINDING, props, False, {})


def test_everyone_is_every_caller_and_every_workload() -> None:
    # https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects: "all service
    # accounts everywhere", "all authenticated users", "all unauthenticated users"; anonymous requests
    # are User system:anonymous (authentication.md, "Anonymous requests").
    assert {
        ("Group", "system:authenticated"),
        ("Group", "system:unauthenticated"),
        ("Group", "system:serviceaccounts"),
        ("User", "system:anonymous"),
    } == EVERYONE
    assert Subject("Group", "System:ServiceAccounts").stands_for_everyone
    assert not Subject("Group", "system:serviceaccounts:team-b").stands_for_everyone
    assert not Subject("User", "system:authenticated").stands_for_everyone


@pytest.mark.parametrize(("kind", "name"), sorted(EVERYONE))
def test_policy_and_verify_refuse_the_same_everyone(kind: str, name: str) -> None:
    """The pack refuses each in a RoleBinding, verify flags each in a ClusterRoleBinding."""
    [message] = violations("no-bindings-to-everyone", role_binding({"kind": kind, "name": name}))
    assert f"{kind} {name}, which stands for every client of the cluster" in message
    assert exposed_identities("ClusterRoleBinding", "", Subject(kind, name), frozenset(), NO_ACCOUNTS)


def test_role_binding_to_every_service_account_is_a_binding_to_everyone() -> None:
    """The verdict unifying changed: the pack's set lacked Group system:serviceaccounts (verify's had
    it). Such a RoleBinding gives the role in team-b to every service account of every tenant, so
    no-bindings-to-everyone now refuses it too (service-accounts-bound-by-name already did, and still
    says how to name the accounts instead), and holds when that rule is disabled."""
    props = role_binding({"kind": "Group", "name": "system:serviceaccounts", "apiGroup": RBAC_API_GROUP})
    [message] = violations("no-bindings-to-everyone", props)
    assert "Group system:serviceaccounts, which stands for every client of the cluster" in message
    assert len(violations("service-accounts-bound-by-name", props)) == 1


def test_a_namespaces_service_account_group_is_not_everyone() -> None:
    props = role_binding({"kind": "Group", "name": "system:serviceaccounts:team-a"})
    assert violations("no-bindings-to-everyone", props) == []
    assert len(violations("service-accounts-bound-by-name", props)) == 1


def test_verify_asks_about_everyone_as_every_identity_of_the_set_at_once() -> None:
    identity = everyone_in("team-b")
    assert identity.user == "system:anonymous"
    assert set(identity.groups) == {name for kind, name in EVERYONE if kind == "Group"} | {
        "system:serviceaccounts:team-b"
    }
    assert set(service_account_groups("team-b")) < set(identity.groups)


@pytest.mark.parametrize(
    ("subject", "shown", "described"),
    [
        (Subject("ServiceAccount", "sa", "team-a"), "ServiceAccount team-a/sa", "ServiceAccount team-a/sa"),
        (Subject("ServiceAccount", "sa"), "ServiceAccount ?/sa", "ServiceAccount ?/sa"),
        (Subject("User", "me@example.com"), "User me@example.com", "User me@example.com"),
        (
            Subject("Group", "system:serviceaccounts:team-b"),
            "Group system:serviceaccounts:team-b",
            "Group system:serviceaccounts:team-b (every service account of namespace team-b)",
        ),
    ],
)
def test_one_subject_type_for_reports_and_messages(subject: Subject, shown: str, described: str) -> None:
    assert str(subject) == shown
    assert subject.describe() == described


def test_package_service_accounts_are_named_by_the_name_contract() -> None:
    names = namespace_object_names("team-b")
    assert Subject("ServiceAccount", names.user_service_account, "team-b").package_service_account == "user"
    assert (
        Subject(
            "User", f"system:serviceaccount:team-b:{names.system_service_account}"
        ).package_service_account
        == "system"
    )
    assert Subject("ServiceAccount", names.user_service_account).package_service_account is None
