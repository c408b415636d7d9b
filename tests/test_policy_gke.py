"""GKE and Google Cloud IAM rules of the policy pack (pure functions over pulumi-gcp props)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.rules import gke

NO_CONFIG: dict[str, Any] = {}
CLUSTER, POOL = p.GKE_CLUSTER, p.GKE_NODE_POOL


def check(
    policy: str, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] = NO_CONFIG
) -> list[str]:
    [found] = [r for r in gke.RULES if r.name == policy]
    return found.check(resource_type, props, False, config)


def hardened_cluster(**overrides: Any) -> dict[str, Any]:
    """What GkeCluster registers, new defaults of issue 12 included."""
    props: dict[str, Any] = {
        "name": "concurrent",
        "deletionProtection": True,
        "workloadIdentityConfig": {"workloadPool": "my-project.svc.id.goog"},
        "enableShieldedNodes": True,
        "enableLegacyAbac": False,
        "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
        "datapathProvider": "ADVANCED_DATAPATH",
        "nodeConfig": {"workloadMetadataConfig": {"mode": "GKE_METADATA"}},
        "masterAuthorizedNetworksConfig": {
            "cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]
        },
        "addonsConfig": {"networkPolicyConfig": {"disabled": True}},
        "anonymousAuthenticationConfig": {"mode": "LIMITED"},
    }
    props.update(overrides)
    return props


def taint(key: str, value: str, effect: str = "NO_SCHEDULE") -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


def pool(
    name: str, *taints: dict[str, str], gpus: int = 0, mode: str | None = "GKE_METADATA"
) -> dict[str, Any]:
    node_config: dict[str, Any] = {"machineType": "e2-standard-4", "taints": list(taints)}
    if mode is not None:
        node_config["workloadMetadataConfig"] = {"mode": mode}
    if gpus:
        node_config["guestAccelerators"] = [{"type": "nvidia-l4", "count": gpus}]
    return {"name": name, "nodeConfig": node_config}


WORKER = taint("concurrent-node-type", "worker")
SYSTEM = taint("concurrent-node-type", "system")
GKE_MANAGED = taint("components.gke.io/gke-managed-components", "true")
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
    "role",
    [
        "roles/container.defaultNodeServiceAccount",
        "roles/artifactregistry.reader",
        "roles/iam.workloadIdentityUser",
        "roles/container.developer",
        "roles/cloudbuild.builds.editor",
    ],
)
def test_narrow_roles_comply(role: str) -> None:
    assert check("gcp-no-primitive-or-admin-roles", p.PROJECT_IAM_MEMBER, member(role)) == []


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
