"""GKE and Google Cloud IAM rules of the policy pack (pure functions over pulumi-gcp props)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

import pytest

from concurrent_infra.gke.iam_names import impersonation_member, principal_member
from concurrent_infra.kube.labels import with_common_labels
from concurrent_infra.kube.names import namespace_object_names
from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.rule import StackResource
from policy.concurrent_infra_policy.rules import gke
from tests.support.policy_objects import GKE_MANAGED, WORKER, hardened_cluster, pool, taint

NO_CONFIG: dict[str, Any] = {}
CLUSTER, POOL = p.GKE_CLUSTER, p.GKE_NODE_POOL


def check(
    policy: str, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] = NO_CONFIG
) -> list[str]:
    [found] = [r for r in gke.RULES if r.name == policy]
    return found.check(resource_type, props, False, config)


SYSTEM = taint("concurrent-node-type", "system")
GPU = taint("nvidia.com/gpu", "present")


def every_violation(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    return [message for r in gke.RULES for message in r.check(resource_type, props, False, NO_CONFIG)]


def test_the_default_cluster_and_pools_comply_with_every_gke_rule() -> None:
    assert every_violation(CLUSTER, hardened_cluster()) == []
    for props in (
        pool("system", SYSTEM),
        pool("cpu", WORKER),
        pool("gpu", WORKER, GPU, gpus=1),
        pool("gke-system", GKE_MANAGED),
    ):
        assert every_violation(POOL, props) == [], props["name"]


# ---- gke-cluster-hardened ------------------------------------------------------------------------


def test_cluster_without_optional_off_switches_complies() -> None:
    props = hardened_cluster()
    del props["enableLegacyAbac"], props["masterAuth"]
    assert check("gke-cluster-hardened", CLUSTER, props) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"deletionProtection": False}, "deletionProtection"),
        ({"deletionProtection": None}, "deletionProtection"),
        ({"workloadIdentityConfig": None}, "Workload Identity"),
        ({"workloadIdentityConfig": {"workloadPool": ""}}, "Workload Identity"),
        ({"enableShieldedNodes": False}, "enableShieldedNodes"),
        ({"enableLegacyAbac": True}, "enableLegacyAbac"),
        ({"masterAuth": {"clientCertificateConfig": {"issueClientCertificate": True}}}, "client certificate"),
    ],
)
def test_cluster_without_a_hardening_is_a_violation(overrides: dict[str, Any], expected: str) -> None:
    [message] = check("gke-cluster-hardened", CLUSTER, hardened_cluster(**overrides))
    assert expected in message and message.startswith("GKE cluster concurrent:")


def test_autopilot_cluster_needs_no_workload_identity_or_shielded_nodes_settings() -> None:
    props = hardened_cluster(enableAutopilot=True, workloadIdentityConfig=None, enableShieldedNodes=None)
    assert check("gke-cluster-hardened", CLUSTER, props) == []


# ---- gke-authorized-networks-not-public ----------------------------------------------------------


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "10.1.2.3/0"])
def test_authorized_network_open_to_everyone_is_a_violation(cidr: str) -> None:
    networks = {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}, {"cidrBlock": cidr}]}
    [message] = check(
        "gke-authorized-networks-not-public",
        CLUSTER,
        hardened_cluster(masterAuthorizedNetworksConfig=networks),
    )
    assert cidr in message and "every address on the internet" in message


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["203.0.113.0/24", "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"],
        ["0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/1"],
        ["::/1", "8000::/1"],
    ],
)
def test_authorized_networks_that_together_cover_everyone_are_a_violation(cidrs: list[str]) -> None:
    networks = {"cidrBlocks": [{"cidrBlock": cidr} for cidr in [*cidrs, p.UNKNOWN]]}
    [message] = check(
        "gke-authorized-networks-not-public",
        CLUSTER,
        hardened_cluster(masterAuthorizedNetworksConfig=networks),
    )
    assert ", ".join(cidrs) in message and "together cover every address on the internet" in message


def everything_but(hole: str) -> list[str]:
    """IPv4 blocks that cover every address except ``hole`` (e.g. 32 blocks for a /32 hole)."""
    whole = ipaddress.IPv4Network("0.0.0.0/0")
    return [str(network) for network in whole.address_exclude(ipaddress.IPv4Network(hole))]


@pytest.mark.parametrize(
    ("cidrs", "share"),
    [
        (everything_but("203.0.113.0/24"), "100.00%"),
        (everything_but("8.0.0.0/5"), "96.83%"),
        (["0.0.0.0/1", "128.0.0.0/2"], "85.50%"),
        (["1.0.0.0/8"], "0.45%"),
        (["2000::/4"], "50.00%"),
    ],
)
def test_authorized_networks_that_open_all_but_a_small_block_are_a_violation(
    cidrs: list[str], share: str
) -> None:
    # Issue 17: every address but one small block is as open as 0.0.0.0/0.
    networks = {"cidrBlocks": [{"cidrBlock": cidr} for cidr in cidrs]}
    props = hardened_cluster(masterAuthorizedNetworksConfig=networks)
    [message] = check("gke-authorized-networks-not-public", CLUSTER, props)
    assert f"together cover {share} of the internet's public IPv" in message
    assert "at most 1/256, about a /8" in message


@pytest.mark.parametrize(
    "cidrs",
    [
        ["203.0.113.0/24", "198.51.100.7/32", "35.1.2.0/24"],
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "35.0.0.0/16"],  # private ranges open nothing
        ["2001:db8::/32"],
        ["35.0.0.0/9", p.UNKNOWN],
    ],
)
def test_authorized_networks_that_leave_addresses_out_comply(cidrs: list[str]) -> None:
    networks = {"cidrBlocks": [{"cidrBlock": cidr} for cidr in cidrs]}
    props = hardened_cluster(masterAuthorizedNetworksConfig=networks)
    assert check("gke-authorized-networks-not-public", CLUSTER, props) == []


def test_cluster_without_authorized_networks_is_not_judged_by_this_rule() -> None:
    assert (
        check(
            "gke-authorized-networks-not-public",
            CLUSTER,
            hardened_cluster(masterAuthorizedNetworksConfig=None),
        )
        == []
    )


# ---- gke-nodes-use-gke-metadata ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["GCE_METADATA", "MODE_UNSPECIFIED", None])
def test_node_pool_without_gke_metadata_is_a_violation(mode: str | None) -> None:
    [message] = check("gke-nodes-use-gke-metadata", POOL, pool("cpu", WORKER, mode=mode))
    assert message.startswith("GKE node pool cpu:") and "GKE_METADATA" in message


def test_default_pool_settings_and_inline_pools_of_a_cluster_are_checked() -> None:
    props = hardened_cluster(nodeConfig={"workloadMetadataConfig": {"mode": "GCE_METADATA"}})
    [message] = check("gke-nodes-use-gke-metadata", CLUSTER, props)
    assert "default node pool" in message
    props = hardened_cluster(nodePools=[pool("a", WORKER), pool("b", WORKER, mode="GCE_METADATA")])
    [message] = check("gke-nodes-use-gke-metadata", CLUSTER, props)
    assert message.startswith("GKE node pool b:")


def test_a_cluster_that_keeps_its_default_pool_has_it_checked_like_any_pool() -> None:
    """Issue 16: the default pool is described by the cluster's nodeConfig; the pool rules ignored it."""
    kept = hardened_cluster(removeDefaultNodePool=False, nodeConfig=pool("x")["nodeConfig"])
    [message] = check("gke-node-pools-tainted", CLUSTER, kept)
    assert message.startswith("GKE node pool default-pool:")
    unset = {k: v for k, v in hardened_cluster().items() if k not in ("removeDefaultNodePool", "nodeConfig")}
    [message] = check("gke-node-pools-tainted", CLUSTER, unset)
    assert message.startswith("GKE node pool default-pool:"), "no nodeConfig: an untainted default pool"
    gpus = hardened_cluster(removeDefaultNodePool=False, nodeConfig=pool("x", WORKER, gpus=1)["nodeConfig"])
    [message] = check("gke-gpu-pools-tainted", CLUSTER, gpus)
    assert "default-pool" in message
    tainted = hardened_cluster(removeDefaultNodePool=False, nodeConfig=pool("x", WORKER)["nodeConfig"])
    assert check("gke-node-pools-tainted", CLUSTER, tainted) == []
    assert check("gke-node-pools-tainted", CLUSTER, hardened_cluster()) == [], "removed at creation"


# ---- gke-node-pools-tainted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "taints",
    [(WORKER,), (SYSTEM,), (taint("team", "x"), taint("concurrent-node-type", "gpu")), (GKE_MANAGED,)],
)
def test_tainted_node_pool_complies(taints: tuple[dict[str, str], ...]) -> None:
    assert check("gke-node-pools-tainted", POOL, pool("pool", *taints)) == []


@pytest.mark.parametrize(
    "taints",
    [
        (),
        (taint("concurrent-node-type", "worker", "PREFER_NO_SCHEDULE"),),
        (taint("node-type", "worker"),),
        (taint("components.gke.io/gke-managed-components", "false"),),
        (GPU,),  # the GPU taint counts only on a pool with GPUs
    ],
)
def test_node_pool_without_a_taint_is_a_violation(taints: tuple[dict[str, str], ...]) -> None:
    [message] = check("gke-node-pools-tainted", POOL, pool("cpu", *taints))
    assert message.startswith("GKE node pool cpu:")
    assert "concurrent-node-type" in message and "components.gke.io/gke-managed-components" in message
    assert "untaintedNodePools" in message


def test_untainted_node_pool_listed_in_config_complies() -> None:
    config = {"untaintedNodePools": ["shared"]}
    assert check("gke-node-pools-tainted", POOL, pool("shared"), config) == []
    assert len(check("gke-node-pools-tainted", POOL, pool("other"), config)) == 1


def test_node_pool_without_node_config_is_a_violation() -> None:
    assert len(check("gke-node-pools-tainted", POOL, {"name": "bare"})) == 1


def test_inline_node_pools_of_a_cluster_are_checked() -> None:
    props = hardened_cluster(nodePools=[pool("system", SYSTEM), pool("untainted")])
    [message] = check("gke-node-pools-tainted", CLUSTER, props)
    assert "untainted" in message


# ---- gke-gpu-pools-tainted -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "taints",
    [
        (WORKER,),
        (WORKER, taint("nvidia.com/gpu", "present", "PREFER_NO_SCHEDULE")),
        (taint("nvidia.com/gpu", "true"),),
    ],
)
def test_gpu_pool_without_the_gpu_taint_is_a_violation(taints: tuple[dict[str, str], ...]) -> None:
    [message] = check("gke-gpu-pools-tainted", POOL, pool("gpu", *taints, gpus=2))
    assert message.startswith("GKE node pool gpu has GPUs") and "nvidia.com/gpu=present" in message


def test_pools_without_gpus_need_no_gpu_taint() -> None:
    assert check("gke-gpu-pools-tainted", POOL, pool("cpu", WORKER)) == []


# ---- gcp-no-primitive-or-admin-roles -------------------------------------------------------------


def member(role: str, member: str = "serviceAccount:x@p.iam.gserviceaccount.com") -> dict[str, Any]:
    return {"project": "my-project", "role": role, "member": member}


@pytest.mark.parametrize(
    "role",
    [
        "roles/owner",
        "roles/editor",
        "roles/viewer",
        "roles/container.admin",
        "roles/iam.serviceAccountAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/storage.admin",
    ],
)
def test_primitive_or_admin_role_is_a_violation(role: str) -> None:
    [message] = check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member(role))
    assert f"grants {role} on project my-project" in message and "allowedProjectRoles" in message
    binding = {"project": "my-project", "role": role, "members": ["user:a@example.com"]}
    assert len(check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_BINDING, binding)) == 1
    on_account = {
        "serviceAccountId": "projects/p/serviceAccounts/x",
        "role": role,
        "member": "user:a@example.com",
    }
    [message] = check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_MEMBER, on_account)
    assert "on service account projects/p/serviceAccounts/x" in message


def test_roles_in_an_iam_policy_document_are_checked() -> None:
    policy = {
        "bindings": [
            {"role": "roles/logging.viewer", "members": ["user:a@example.com"]},
            {"role": "roles/owner", "members": ["user:b@example.com"]},
        ]
    }
    props = {"project": "my-project", "policyData": json.dumps(policy)}
    [message] = check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_POLICY, props)
    assert "roles/owner" in message and "user:b@example.com" in message


@pytest.mark.parametrize(
    "policy_data",
    [
        {"Bindings": [{"role": "roles/owner", "members": ["user:b@example.com"]}]},
        {"bindings": [{"ROLE": "roles/owner", "Members": ["user:b@example.com"]}]},
        {"bindings": [{"role": "roles/owner", "member\u017f": ["user:b@example.com"]}]},
    ],
)
def test_iam_policy_keys_are_read_as_the_provider_reads_them(policy_data: dict[str, Any]) -> None:
    # Issue 17: the provider's Go encoding/json matches keys case-insensitively, so an owner
    # binding under "Bindings" or "ROLE" reached GCP while the pack read only "bindings".
    props = {"project": "my-project", "policyData": json.dumps(policy_data)}
    [message] = check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_POLICY, props)
    assert "grants roles/owner on project my-project to user:b@example.com" in message


def test_every_spelling_of_a_repeated_iam_policy_key_is_judged() -> None:
    narrow = '{"role": "roles/logging.viewer", "members": ["user:a@example.com"]}'
    owner = '{"role": "roles/owner", "members": ["user:b@example.com"]}'
    for data in (
        f'{{"bindings": [{narrow}], "BINDINGS": [{owner}]}}',
        f'{{"BINDINGS": [{owner}], "bindings": [{narrow}]}}',
    ):
        props = {"project": "my-project", "policyData": data}
        [message] = check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_POLICY, props)
        assert "roles/owner" in message


@pytest.mark.parametrize(
    "role",
    [
        "roles/container.defaultNodeServiceAccount",
        "roles/artifactregistry.reader",
        "roles/cloudbuild.builds.editor",
        "roles/container.viewer",
    ],
)
def test_narrow_roles_comply(role: str) -> None:
    assert check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member(role)) == []


@pytest.mark.parametrize(
    "role",
    [
        "roles/compute.instanceAdmin.v1",
        "roles/iam.serviceAccountOpenIdTokenCreator",  # issue 17: mints OpenID Connect tokens
        "roles/compute.osAdminLogin",  # issue 17: root on every VM, GKE nodes included
        "roles/compute.osLogin",
        "roles/osconfig.patchJobExecutor",
        "roles/osconfig.osPolicyAssignmentEditor",
        "roles/osconfig.guestPolicyEditor",
        "roles/IAM.serviceAccountTokenCreator",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.workloadIdentityUser",
        "roles/container.developer",
    ],
)
def test_escalating_and_versioned_admin_roles_are_violations(role: str) -> None:
    """Review finding 3: each lets its holder act as another identity or administer a service."""
    [message] = check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member(role))
    assert f"grants {role} on project my-project" in message
    on_account = {
        "serviceAccountId": "projects/p/serviceAccounts/x",
        "role": role,
        "member": "user:a@example.com",
    }
    assert len(check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_MEMBER, on_account)) == 1


@pytest.mark.parametrize(
    ("resource_type", "props", "target"),
    [
        ("gcp:organizations/iAMMember:IAMMember", {"orgId": "123"}, "organization 123"),
        ("gcp:organizations/iAMBinding:IAMBinding", {"orgId": "123"}, "organization 123"),
        ("gcp:folder/iAMMember:IAMMember", {"folder": "folders/1"}, "folder folders/1"),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "b"}, "a storage resource"),
        ("gcp:storage/bucketIAMBinding:BucketIAMBinding", {"bucket": "b"}, "a storage resource"),
        ("gcp:secretmanager/secretIamMember:SecretIamMember", {"secretId": "s"}, "a secretmanager resource"),
    ],
)
def test_grants_on_every_kind_of_iam_resource_are_checked(
    resource_type: str, props: dict[str, Any], target: str
) -> None:
    """Review finding 3: roles/owner on an organization, a folder or a bucket is no narrower."""
    grant = {
        **props,
        "role": "roles/owner",
        "member": "user:a@example.com",
        "members": ["user:a@example.com"],
    }
    [message] = check("gcp-no-primitive-or-admin-roles", resource_type, grant)
    assert f"grants roles/owner on {target} to user:a@example.com" in message
    policy = {
        **props,
        "policyData": json.dumps({"bindings": [{"role": "roles/owner", "members": ["user:b"]}]}),
    }
    policy_type = resource_type.replace("Member", "Policy").replace("Binding", "Policy")
    assert len(check("gcp-no-primitive-or-admin-roles", policy_type, policy)) == 1
    assert gke.is_iam_grant(resource_type) and gke.is_iam_grant(policy_type)


def test_resources_that_grant_nothing_are_not_iam_grants() -> None:
    for resource_type in (
        "gcp:projects/iAMMemberRemove:IAMMemberRemove",
        "gcp:projects/iAMAuditConfig:IAMAuditConfig",
        "gcp:projects/iAMCustomRole:IAMCustomRole",
        "kubernetes:core/v1:ServiceAccount",
    ):
        assert not gke.is_iam_grant(resource_type)
        assert check("gcp-no-primitive-or-admin-roles", resource_type, member("roles/owner")) == []


# ---- the package's Workload Identity grant ---------------------------------------------------------

TEAM_B = namespace_object_names("team-b")
IMPERSONATION = impersonation_member("my-project", "team-b", TEAM_B.user_service_account)
ACCOUNT = "projects/my-project/serviceAccounts/team-b@my-project.iam.gserviceaccount.com"


def account_grant(*members: str, role: str = "roles/iam.workloadIdentityUser") -> dict[str, Any]:
    return {"serviceAccountId": ACCOUNT, "role": role, "member": members[0], "members": list(members)}


def test_the_workload_identity_grant_of_the_package_complies() -> None:
    assert f"serviceAccount:my-project.svc.id.goog[team-b/{TEAM_B.user_service_account}]" == IMPERSONATION
    for resource_type in (p.SERVICE_ACCOUNT_IAM_MEMBER, p.SERVICE_ACCOUNT_IAM_BINDING):
        assert check("gcp-no-primitive-or-admin-roles", resource_type, account_grant(IMPERSONATION)) == []
    other = impersonation_member(
        "my-project", "team-c", namespace_object_names("team-c").user_service_account
    )
    binding = account_grant(IMPERSONATION, other)
    assert check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_BINDING, binding) == []
    policy = {"bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [IMPERSONATION]}]}
    props = {"serviceAccountId": ACCOUNT, "policyData": json.dumps(policy)}
    assert check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_POLICY, props) == []


@pytest.mark.parametrize(
    "member",
    [
        f"serviceAccount:my-project.svc.id.goog[team-b/{TEAM_B.system_service_account}]",
        f"serviceAccount:my-project.svc.id.goog[team-c/{TEAM_B.user_service_account}]",
        f"serviceAccount:my-project.svc.id.goog[team-b/{TEAM_B.user_service_account}]x",
        "serviceAccount:my-project.svc.id.goog[team-b/default]",
        "serviceAccount:deployer@my-project.iam.gserviceaccount.com",
        "user:alice@example.com",
        "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
        f"my-project.svc.id.goog/subject/ns/team-b/sa/{TEAM_B.user_service_account}",
    ],
)
def test_workload_identity_user_for_anyone_else_is_a_violation(member: str) -> None:
    [message] = check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_MEMBER, account_grant(member))
    assert f"grants roles/iam.workloadIdentityUser on service account {ACCOUNT}" in message
    binding = account_grant(IMPERSONATION, member)
    assert len(check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_BINDING, binding)) == 1


def test_the_exception_is_only_workload_identity_user_on_a_service_account() -> None:
    on_project = {"project": "my-project", "role": "roles/iam.workloadIdentityUser", "member": IMPERSONATION}
    assert len(check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, on_project)) == 1
    token_creator = account_grant(IMPERSONATION, role="roles/iam.serviceAccountTokenCreator")
    assert len(check("gcp-no-primitive-or-admin-roles", p.SERVICE_ACCOUNT_IAM_MEMBER, token_creator)) == 1
    config = {"allowedProjectRoles": ["roles/iam.workloadIdentityUser"]}
    assert check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, on_project, config) == []


def test_allowed_project_roles_let_an_explicit_role_through() -> None:
    config = {"allowedProjectRoles": ["roles/container.admin"]}
    assert (
        check(
            "gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member("roles/container.admin"), config
        )
        == []
    )
    assert (
        len(check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member("roles/owner"), config))
        == 1
    )


# ---- unknown values ------------------------------------------------------------------------------


def test_unknown_values_are_not_violations() -> None:
    props = hardened_cluster(
        deletionProtection=p.UNKNOWN,
        enableShieldedNodes=p.UNKNOWN,
        workloadIdentityConfig={"workloadPool": p.UNKNOWN},
        nodeConfig=p.UNKNOWN,
        masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": p.UNKNOWN}]},
    )
    assert every_violation(CLUSTER, props) == []
    assert every_violation(POOL, {"name": "x", "nodeConfig": p.UNKNOWN}) == []
    assert every_violation(POOL, pool("x", {"key": p.UNKNOWN, "value": "v", "effect": "NO_SCHEDULE"})) == []  # type: ignore[dict-item]
    unknown_mode = pool("x", WORKER)
    unknown_mode["nodeConfig"]["workloadMetadataConfig"] = {"mode": p.UNKNOWN}
    assert every_violation(POOL, unknown_mode) == []
    assert every_violation(p.PROJECT_IAM_MEMBER, member(p.UNKNOWN)) == []  # type: ignore[arg-type]
    assert every_violation(p.PROJECT_IAM_POLICY, {"policyData": p.UNKNOWN}) == []
    unknown_member = account_grant("x")
    unknown_member["member"] = p.UNKNOWN
    assert every_violation(p.SERVICE_ACCOUNT_IAM_MEMBER, unknown_member) == []
    unknown_members = account_grant(IMPERSONATION)
    unknown_members["members"] = [IMPERSONATION, p.UNKNOWN]
    assert every_violation(p.SERVICE_ACCOUNT_IAM_BINDING, unknown_members) == []
    unknown_members["members"] = p.UNKNOWN
    assert every_violation(p.SERVICE_ACCOUNT_IAM_BINDING, unknown_members) == []


# ---- workload-identity-grants-to-managed-namespaces (stack) ----------------------------------------


def wi_stack(*resources: tuple[str, dict[str, Any]]) -> list[StackResource]:
    """Namespace team-b (managed), as ConcurrentNamespace registers it, and ``resources``."""
    team_b = {"metadata": {"name": "team-b", "labels": with_common_labels()}}
    return [
        StackResource(t, props, f"urn:{i}")
        for i, (t, props) in enumerate([(p.NAMESPACE, team_b), *resources])
    ]


def wi(resources: list[StackResource], config: Mapping[str, Any] = NO_CONFIG) -> list[tuple[str, str]]:
    return gke.workload_identity_grants_to_managed_namespaces(resources, config)


def test_the_workload_identity_grant_for_this_project_and_a_managed_namespace_complies() -> None:
    assert wi(wi_stack((p.SERVICE_ACCOUNT_IAM_MEMBER, account_grant(IMPERSONATION)))) == []
    by_email = {
        **account_grant(IMPERSONATION),
        "serviceAccountId": "team-b@my-project.iam.gserviceaccount.com",
    }
    assert wi(wi_stack((p.SERVICE_ACCOUNT_IAM_MEMBER, by_email))) == []


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (
            impersonation_member("attacker-proj", "team-b", TEAM_B.user_service_account),
            "its pool attacker-proj.svc.id.goog is not one the stack trusts (my-project.svc.id.goog)",
        ),
        (
            impersonation_member(
                "my-project", "team-z", namespace_object_names("team-z").user_service_account
            ),
            "namespace team-z is not a namespace this stack manages",
        ),
    ],
)
def test_a_workload_identity_grant_to_another_pool_or_namespace_is_a_violation(
    member: str, expected: str
) -> None:
    # Issue 17: the exception checked only the member's shape.
    for resource_type in (p.SERVICE_ACCOUNT_IAM_MEMBER, p.SERVICE_ACCOUNT_IAM_BINDING):
        [(urn, message)] = wi(wi_stack((resource_type, account_grant(member))))
        assert urn == "urn:1" and expected in message and "workloadIdentity key" in message
    policy = {"bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [member]}]}
    props = {"serviceAccountId": ACCOUNT, "policyData": json.dumps(policy)}
    [(_, message)] = wi(wi_stack((p.SERVICE_ACCOUNT_IAM_POLICY, props)))
    assert expected in message


def test_pools_of_the_stacks_clusters_and_of_the_config_are_trusted() -> None:
    member = impersonation_member("cluster-proj", "team-b", TEAM_B.user_service_account)
    grant = (p.SERVICE_ACCOUNT_IAM_MEMBER, account_grant(member))
    assert len(wi(wi_stack(grant))) == 1
    cluster = hardened_cluster(workloadIdentityConfig={"workloadPool": "cluster-proj.svc.id.goog"})
    assert wi(wi_stack((CLUSTER, cluster), grant)) == []
    assert wi(wi_stack(grant), {"workloadIdentityPools": ["cluster-proj.svc.id.goog"]}) == []


def test_other_grants_and_unknown_members_are_not_judged_by_the_workload_identity_rule() -> None:
    other = account_grant("user:alice@example.com")
    unknown = account_grant(IMPERSONATION)
    unknown["member"] = unknown["members"] = p.UNKNOWN
    assert wi(wi_stack((p.SERVICE_ACCOUNT_IAM_MEMBER, other), (p.SERVICE_ACCOUNT_IAM_BINDING, unknown))) == []


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
            f"attacker-proj.svc.id.goog/subject/ns/team-b/sa/{TEAM_B.user_service_account}",
            "its pool attacker-proj.svc.id.goog is not one the stack trusts",
        ),
        (
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
            "my-project.svc.id.goog/subject/ns/team-b/sa/default",
            "service account default is not the package's user service account",
        ),
        (
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
            "my-project.svc.id.goog/namespace/team-b",
            "every service account of the namespace is not the package's user service account",
        ),
        (
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/my-project.svc.id.goog/*",
            "it names every namespace's service accounts",
        ),
    ],
)
def test_direct_access_grants_to_other_kubernetes_identities_are_violations(
    member: str, expected: str
) -> None:
    # The roles form of workloadIdentity grants roles on the project to the user service account's
    # principal; the same rule holds for it.
    grant = {"project": "my-project", "role": "roles/storage.objectViewer", "member": member}
    [(_, message)] = wi(wi_stack((p.PROJECT_IAM_MEMBER, grant)))
    assert expected in message


def test_a_differently_cased_member_prefix_is_still_judged() -> None:
    member = impersonation_member("attacker-proj", "team-b", TEAM_B.user_service_account)
    grant = {"project": "my-project", "role": "roles/storage.objectViewer", "member": member.upper()}
    [(_, message)] = wi(wi_stack((p.PROJECT_IAM_MEMBER, grant)))
    assert "is not one the stack trusts" in message


def test_the_direct_access_grant_of_the_package_complies() -> None:
    member = principal_member("my-project", "1", "team-b", TEAM_B.user_service_account)
    grant = {"project": "my-project", "role": "roles/storage.objectViewer", "member": member}
    assert wi(wi_stack((p.PROJECT_IAM_MEMBER, grant))) == []
    github = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/*"
    assert wi(wi_stack((p.PROJECT_IAM_MEMBER, {**grant, "member": github}))) == []
