"""End to end: the policy pack, run by the real engine, passes the plain stack and stops the
bypasses of issue 8 (a program that adds them beside the stack's own objects) and a patch of the
system role (issue 17)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from scripts.localcluster.pulumi_project import REPO_ROOT, PulumiProject
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

POLICY = ["--policy-pack", str(REPO_ROOT / "policy")]

BYPASSES = textwrap.dedent(
    '''
    """Objects that walk around the package's least privilege (issue 8, "Policy pack bypasses")."""

    import pulumi_kubernetes as k8s

    from concurrent_infra.kube.names import namespace_object_names

    NAMES = namespace_object_names("team-a")
    RBAC = "rbac.authorization.k8s.io"


    def meta(name, namespace=None):
        return {"name": name, "namespace": namespace} if namespace else {"name": name}


    def ref(kind, name):
        return {"api_group": RBAC, "kind": kind, "name": name}


    def subject(kind, name, namespace=None):
        if kind == "ServiceAccount":
            return {"kind": kind, "name": name, "namespace": namespace}
        return {"kind": kind, "name": name, "api_group": RBAC}


    # Every service account of team-a, the package's included, gets admin in team-a.
    k8s.rbac.v1.RoleBinding(
        "bypass-group-admin",
        metadata=meta("bypass-group-admin", "team-a"),
        role_ref=ref("ClusterRole", "admin"),
        subjects=[subject("Group", "system:serviceaccounts:team-a")],
    )
    # Everyone with a token reads the whole cluster.
    k8s.rbac.v1.ClusterRoleBinding(
        "bypass-authenticated",
        metadata=meta("bypass-authenticated"),
        role_ref=ref("ClusterRole", "view"),
        subjects=[subject("Group", "system:authenticated")],
    )
    # The user service account, written as a User, bound to edit.
    k8s.rbac.v1.RoleBinding(
        "bypass-user-as-user",
        metadata=meta("bypass-user-as-user", "team-a"),
        role_ref=ref("ClusterRole", "edit"),
        subjects=[subject("User", f"system:serviceaccount:team-a:{NAMES.user_service_account}")],
    )
    # "Read-only" by its verbs, yet a shell in every pod of team-a, bound to the user account.
    k8s.rbac.v1.Role(
        "bypass-exec-reader",
        metadata=meta("bypass-exec-reader", "team-a"),
        rules=[{"api_groups": [""], "resources": ["pods/exec", "pods/portforward"], "verbs": ["get"]}],
    )
    k8s.rbac.v1.RoleBinding(
        "bypass-exec-binding",
        metadata=meta("bypass-exec-binding", "team-a"),
        role_ref=ref("Role", "bypass-exec-reader"),
        subjects=[subject("ServiceAccount", NAMES.user_service_account, "team-a")],
    )
    # The system service account of team-a granted a role in another namespace. (The pack checks
    # the items of *List kinds too, but the provider refuses to create a list resource at all.)
    k8s.rbac.v1.RoleBinding(
        "bypass-cross-namespace",
        metadata=meta("bypass-cross-namespace", "default"),
        role_ref=ref("ClusterRole", "view"),
        subjects=[subject("ServiceAccount", NAMES.system_service_account, "team-a")],
    )
    '''
)


def add_program(project: PulumiProject, module: str, source: str) -> None:
    """Run ``module`` (written into the project) after the stack program."""
    (project.dir / f"{module}.py").write_text(source)
    main = project.dir / "__main__.py"
    main.write_text(main.read_text() + f"\nimport {module}  # noqa: E402,F401\n")


def violations(output: str) -> set[str]:
    """The policies a preview reports as mandatory violations."""
    return {
        line.split("[mandatory]", 1)[1].split()[0] for line in output.splitlines() if "[mandatory]" in line
    }


def test_policy_pack_passes_the_plain_stack_and_stops_every_bypass(
    cluster: Cluster, project: PulumiProject
) -> None:
    project.configure({"namespaces": ["team-a"]})
    project.preview(*POLICY, check=True)

    add_program(project, "bypasses", BYPASSES)
    refused = project.preview(*POLICY)
    assert not refused.ok, refused.output
    assert violations(refused.output) == {
        "service-accounts-bound-by-name",
        "no-cluster-wide-system-subjects",
        "user-bindings-read-only",
        "package-service-accounts-in-own-namespace",
        "system-bindings-system-role-only",  # bypass-cross-namespace: view is not the system role either
    }, refused.output
    for expected in (
        "RoleBinding bypass-group-admin in namespace team-a grants ClusterRole admin to Group "
        "system:serviceaccounts:team-a",
        "ClusterRoleBinding bypass-authenticated grants ClusterRole view to Group system:authenticated",
        "to ClusterRole edit",
        "to Role bypass-exec-reader",
        "RoleBinding bypass-cross-namespace in namespace default grants ClusterRole view",
    ):
        assert expected in refused.output, expected
    # A preview creates nothing; the bypasses never reach the cluster.
    assert cluster.get("rolebinding", "bypass-group-admin", "-n", "team-a") is None
    assert cluster.get("clusterrolebinding", "bypass-authenticated") is None


def test_policy_pack_allows_dind_only_where_its_config_says(
    cluster: Cluster, project: PulumiProject, tmp_path: Path
) -> None:
    project.configure({"namespaces": [{"name": "team-a", "podSecurity": "privileged", "dind": True}]})
    refused = project.preview(*POLICY)
    assert not refused.ok
    assert violations(refused.output) == {"managed-namespaces-pod-security", "dind-only-where-allowed"}, (
        refused.output
    )

    config = tmp_path / "policy-config.json"
    config.write_text(
        json.dumps(
            {
                "managed-namespaces-pod-security": {"privilegedNamespaces": ["team-a"]},
                "dind-only-where-allowed": {"dindNamespaces": ["team-a"]},
            }
        )
    )
    project.preview(*POLICY, "--policy-pack-config", str(config), check=True)


SYSTEM_ROLE_PATCH = textwrap.dedent(
    '''
    """Issue 17: the system role widened beside the stack, by a patch and by a redefinition."""

    import pulumi_kubernetes as k8s

    from concurrent_infra.kube.names import SYSTEM_CLUSTER_ROLE
    from concurrent_infra.kube.rbac import SYSTEM_RULES, k8s_rules

    # Server-side apply of the same ClusterRole: its subjects could then act as anyone.
    k8s.rbac.v1.ClusterRolePatch(
        "widen-system-role",
        metadata={"name": SYSTEM_CLUSTER_ROLE},
        rules=[
            *k8s_rules(SYSTEM_RULES),
            {"api_groups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]},
        ],
    )
    '''
)


def test_policy_pack_stops_a_patch_of_the_system_role(cluster: Cluster, project: PulumiProject) -> None:
    project.configure({"namespaces": ["team-a"]})
    project.up()  # the system role exists, as on a cluster the package prepared
    add_program(project, "system_role_patch", SYSTEM_ROLE_PATCH)
    refused = project.preview(*POLICY)
    assert not refused.ok, refused.output
    assert violations(refused.output) == {"system-role-grants-only-system-rules"}, refused.output
    assert "A patch of ClusterRole k8s-role-for-parallels-lambda is the system role" in refused.output
    assert "impersonate users (acts as any user)" in refused.output
    rules = (cluster.get("clusterrole", "k8s-role-for-parallels-lambda") or {}).get("rules") or []
    assert not any("impersonate" in rule.get("verbs", []) for rule in rules)
