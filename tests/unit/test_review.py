"""The access review of real previews recorded on the local cluster (tests/fixtures/previews/, made
by scripts/localcluster/record_previews.py from one deployed stack: team-a protected, team-b not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concurrent_infra.kube.subjects import Subject
from concurrent_infra.review import parse_preview, review, review_text
from concurrent_infra.review.markdown import describe_grants

PREVIEWS = Path(__file__).parents[1] / "fixtures" / "previews"
NO_ATTENTION = "Nothing needs attention"
SYSTEM = "`ClusterRole k8s-role-for-parallels-lambda` (rules not in this preview)"
USER_GRANTS = "get, list, watch on events, jobs.batch, pods, pods/log"


def summary(name: str, drift: bool = False) -> str:
    return review_text((PREVIEWS / f"{name}.json").read_text(), "concurrent-infra", drift)


def sections(text: str) -> tuple[str, str]:
    """(attention, the rest)."""
    attention, marker, rest = text.partition("\n\n")
    return attention + marker + rest.split("\n\n", 1)[0], rest


def test_create_a_namespace() -> None:
    text = summary("create-namespace")
    assert text.startswith("### Access review: stack `e2e` (6 to create)\n")
    assert NO_ATTENTION in text
    assert f"- ServiceAccount `k8s-serviceaccount-for-parallels-team-c` **gains** {SYSTEM}" in text
    assert (
        f"- ServiceAccount `k8s-serviceaccount-for-users-team-c` **gains** {USER_GRANTS} "
        "(via `ClusterRole k8s-role-for-users-team-c`)"
    ) in text
    assert "- `team-c` (new namespace):" in text
    assert "**Namespaces**: + `team-c`" in text
    assert "team-a" not in text and "team-b" not in text


def test_create_a_stack_resolves_the_system_role_and_flags_its_cluster_wide_binding() -> None:
    text = summary("create-stack")
    assert (
        "- **New cluster-wide grant**: Group `k8s-role-for-parallels-lambda-group` gains "
        "`ClusterRole k8s-role-for-parallels-lambda` in every namespace"
    ) in text
    # The role is in this preview: its rules are shown, from the package's SYSTEM_RULES.
    assert "get, list, watch, create, update, patch, delete on configmaps, daemonsets.apps" in text
    assert "(rules not in this preview)" not in text


def test_update_settings_without_access_changes() -> None:
    text = summary("update-quota-isolation")
    assert NO_ATTENTION in text
    assert "No access changes." in text
    assert "  - quota set: pods — → 50" in text
    assert "  - NetworkPolicy `concurrent-namespace-isolation` added (network isolation on)" in text


def test_delete_an_unprotected_namespace() -> None:
    text = summary("delete-namespace")
    attention, rest = sections(text)
    assert (
        "- `team-b` (removed namespace): **Delete** RoleBinding `k8s-service-account-binding-team-b`"
        in attention
    )
    assert "Namespace `team-b`" in attention
    assert f"ServiceAccount `k8s-serviceaccount-for-parallels-team-b` **loses** {SYSTEM}" in rest
    assert f"ServiceAccount `k8s-serviceaccount-for-users-team-b` **loses** {USER_GRANTS}" in rest
    assert "**Namespaces**: - `team-b` (deleted with everything in it)" in rest


def test_protection_removed_is_attention_though_nothing_is_updated() -> None:
    text = summary("protection-removed")
    assert "(no changes)" in text
    assert "- `team-a`: **Protection lost:** Namespace `team-a` (Pulumi `protect`), " in text
    assert "Namespace `team-a` (`retainOnDelete`)" in text
    assert "RoleBinding `k8s-serviceaccount-for-users-team-a-binding` (Pulumi `protect`)" in text
    assert "No access changes." in text


def test_pod_security_lowered_and_the_policy_violations_of_the_event_stream() -> None:
    text = summary("pod-security-privileged")
    assert "- `team-a`: **Pod Security lowered** on `team-a`: baseline → privileged" in text
    assert "- **Preview error**: error: preview failed" in text  # --json has no policy events
    events = summary("pod-security-privileged.events")
    assert "- `team-a`: **Pod Security lowered** on `team-a`: baseline → privileged" in events
    assert (
        "**Policy violation** (mandatory) `managed-namespaces-pod-security` on `team-a-namespace`" in events
    )


def test_a_new_user_of_the_system_role() -> None:
    text = summary("system-role-user")
    user = "User `concurrent@my-project.iam.gserviceaccount.com`"
    assert (
        f"- **New subject of the system role** `k8s-role-for-parallels-lambda` cluster-wide: {user}" in text
    )
    assert (
        "- **Namespace guard changed**: ValidatingAdmissionPolicy `concurrent-infra-namespace-guard`" in text
    )
    assert f"- cluster-wide: {user} **gains** {SYSTEM}" in text


def test_a_shard_without_the_system_role() -> None:
    text = summary("sharded-stack")
    assert text.startswith("### Access review: stack `shard-b` (7 to create)")
    assert f"ServiceAccount `k8s-serviceaccount-for-parallels-team-s` **gains** {SYSTEM}" in text
    assert "**Namespaces**: + `team-s`" in text


def test_a_replace_in_a_users_own_program() -> None:
    text = summary("user-program-replace")
    assert (
        "- `ml`: **Replace** RoleBinding `ml-readers` (because of roleRef.name): deleted and created again"
        in text
    )
    assert "  - Group `ml-team` **gains** `ClusterRole edit` (rules not in this preview)" in text
    assert "  - Group `ml-team` **loses** `ClusterRole view` (rules not in this preview)" in text
    assert "cannot change roleRef" in text  # the preview's own error is shown


def test_drift_names_what_differs() -> None:
    text = summary("drift", drift=True)
    assert text.startswith("### Drift: stack `e2e` (1 to update)")
    assert '- `team-a`: Namespace `team-a`: metadata.labels["pod-security.kubernetes.io/enforce"]' in text
    assert "Server-Side Apply field conflict detected" in text


def test_no_changes_is_one_line_each() -> None:
    text = summary("no-changes")
    assert text == (
        "### Access review: stack `e2e` (no changes)\n\n"
        "Nothing needs attention: no deletes, replaces, lost protection, lowered Pod Security, "
        "cluster-wide grants, new system-role subjects or policy violations.\n\nNo access changes.\n"
    )


def test_the_event_stream_and_the_document_agree_on_the_steps() -> None:
    document = review(parse_preview((PREVIEWS / "pod-security-privileged.json").read_text()))
    events = review(parse_preview((PREVIEWS / "pod-security-privileged.events.json").read_text()))
    assert document.counts == events.counts == {"update": 1}
    assert document.attention[0].text == events.attention[0].text


@pytest.mark.parametrize(
    ("grants", "text"),
    [
        ({("", "pods", "get")}, "get on pods"),
        (
            {("batch", "jobs", "list"), ("batch", "jobs", "get"), ("", "pods", "get")},
            "get, list on jobs.batch; get on pods",
        ),
        ({("", "/healthz", "get"), ("", "secrets[a]", "get")}, "get on /healthz, secrets[a]"),
    ],
)
def test_describe_grants(grants: set[tuple[str, str, str]], text: str) -> None:
    assert describe_grants(grants) == text


def test_subjects_read_as_kubectl_names_them() -> None:
    assert str(Subject("ServiceAccount", "sa", "team-a")) == "ServiceAccount team-a/sa"
    assert str(Subject("User", "me@example.com")) == "User me@example.com"
