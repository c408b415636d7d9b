"""The GKE cluster stack under the mock engine: cluster, pools, provider, control plane, outputs."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.gke import (
    ACCOUNT,
    CLUSTER,
    CLUSTER_ZONES,
    KEY,
    NODE_POOL,
    REGIONAL,
    ZONAL,
    run_gke,
)
from tests.support.mocks import Run, is_secret, resolve

IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


def run_stack(cluster: dict[str, Any], namespaces: list[str] | None = None) -> Run:
    return run_gke(cluster, namespaces)[0]


def pools(run: Run) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in run.of_type(NODE_POOL)}


def test_cluster_secure_defaults() -> None:
    run, monitor = run_gke(REGIONAL)
    (cluster,) = run.of_type(CLUSTER)
    inputs = cluster.inputs
    assert (inputs["name"], inputs["location"], inputs["project"]) == (
        "concurrent-dev",
        "us-central1",
        "my-project",
    )
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "my-project.svc.id.goog"}
    assert inputs["enableShieldedNodes"] is True
    assert inputs["enableLegacyAbac"] is False
    assert inputs["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert inputs["deletionProtection"] is True
    assert "privateClusterConfig" not in inputs and "masterAuthorizedNetworksConfig" not in inputs
    assert inputs["nodeConfig"]["serviceAccount"] == "concurrent-dev-nodes@my-project.iam.gserviceaccount.com"
    assert inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    roles = {r.inputs["role"] for r in run.of_type(IAM_MEMBER) if r.name.startswith("gke-nodes-")}
    assert roles == {
        "roles/container.defaultNodeServiceAccount",
        "roles/artifactregistry.reader",
        "roles/serviceusage.serviceUsageConsumer",  # image streaming with a custom node account
    }
    # Issue 12: Dataplane V2, hardening, ML batch settings.
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert monitor.ignore_changes[cluster.urn] == ["datapathProvider", "initialNodeCount", "nodeConfig"]
    assert inputs["anonymousAuthenticationConfig"] == {"mode": "LIMITED"}
    assert inputs["securityPostureConfig"] == {"mode": "BASIC"}
    assert inputs["nodePoolDefaults"] == {
        "nodeConfigDefaults": {"insecureKubeletReadonlyPortEnabled": "FALSE", "gcfsConfig": {"enabled": True}}
    }
    assert inputs["clusterAutoscaling"] == {"autoscalingProfile": "OPTIMIZE_UTILIZATION"}
    assert inputs["costManagementConfig"] == {"enabled": True}
    assert inputs["maintenancePolicy"] == {"dailyMaintenanceWindow": {"startTime": "03:00"}}
    assert "binaryAuthorization" not in inputs


def test_optional_hardening_and_maintenance_exclusions() -> None:
    run, _ = run_gke(
        {
            **REGIONAL,
            "deletionProtection": False,
            "releaseChannel": "STABLE",
            "privateNodes": True,
            "privateEndpoint": True,
            "cloudNat": True,
            "masterIpv4CidrBlock": "172.16.0.0/28",
            "masterAuthorizedNetworks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}],
            "binaryAuthorization": True,
            "datapathProvider": "LEGACY_DATAPATH",
            "imageStreaming": False,
            "autoscalingProfile": "BALANCED",
            "costAllocation": False,
            "maintenanceStartTime": "22:30",
            "maintenanceExclusions": [
                {"name": "year-end", "startTime": "2026-12-20T00:00:00Z", "endTime": "2027-01-05T00:00:00Z"}
            ],
        }
    )
    inputs = run.of_type(CLUSTER)[0].inputs
    assert inputs["deletionProtection"] is False
    assert inputs["releaseChannel"] == {"channel": "STABLE"}
    assert inputs["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": "172.16.0.0/28",
    }
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]
    }
    assert inputs["binaryAuthorization"] == {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
    assert inputs["datapathProvider"] == "LEGACY_DATAPATH"
    assert inputs["nodePoolDefaults"]["nodeConfigDefaults"]["gcfsConfig"] == {"enabled": False}
    assert inputs["clusterAutoscaling"] == {"autoscalingProfile": "BALANCED"}
    assert inputs["costManagementConfig"] == {"enabled": False}
    assert inputs["maintenancePolicy"] == {
        "dailyMaintenanceWindow": {"startTime": "22:30"},
        "maintenanceExclusions": [
            {
                "exclusionName": "year-end",
                "startTime": "2026-12-20T00:00:00Z",
                "endTime": "2027-01-05T00:00:00Z",
                "exclusionOptions": {"scope": "NO_UPGRADES"},
            }
        ],
    }
    (router,) = run.of_type("gcp:compute/router:Router")
    (nat,) = run.of_type("gcp:compute/routerNat:RouterNat")
    assert (router.inputs["region"], router.inputs["network"]) == ("us-central1", "default")
    assert nat.inputs["router"] == router.inputs["name"] == "concurrent-dev-nat"
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert all(pool["nodeConfig"]["gcfsConfig"] == {"enabled": False} for pool in pools(run).values())


def test_no_cloud_nat_by_default() -> None:
    run = run_stack({**REGIONAL, "privateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28"})
    assert not run.of_type("gcp:compute/router:Router") and not run.of_type("gcp:compute/routerNat:RouterNat")


def test_regional_pools_taints_spot_autoscaling_and_totals() -> None:
    run, monitor = run_gke(REGIONAL)
    found = pools(run)
    assert set(found) == {"components", "system", "cpu"}, "the GPU pool is opt-in"
    components, system, cpu = found["components"], found["system"], found["cpu"]
    assert components["nodeConfig"]["taints"] == [
        {"key": "components.gke.io/gke-managed-components", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert components["nodeConfig"]["machineType"] == "e2-standard-2" and not components["nodeConfig"]["spot"]
    assert components["autoscaling"] == {
        "totalMinNodeCount": 1,
        "totalMaxNodeCount": 2,
        "locationPolicy": "BALANCED",
    }
    assert system["nodeConfig"]["machineType"] == "e2-standard-2"
    assert system["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "system", "effect": "NO_SCHEDULE"}
    ]
    assert system["nodeConfig"]["diskSizeGb"] == 100 and not system["nodeConfig"]["spot"]
    # Regional: a fixed size is a total (min = max) over every zone of the cluster, not one zone.
    assert system["autoscaling"] == {
        "totalMinNodeCount": 1,
        "totalMaxNodeCount": 1,
        "locationPolicy": "BALANCED",
    }
    assert system["nodeLocations"] == CLUSTER_ZONES and "nodeCount" not in system
    # One node per zone would be 3, above the maximum of 1: start empty, and the autoscaler adds
    # the node when the first pod waits for it (issue 16).
    assert system["initialNodeCount"] == 0, "min(ceil(1 / 3), 1 // 3 zones)"
    assert cpu["nodeConfig"]["machineType"] == "e2-standard-4"
    assert cpu["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "worker", "effect": "NO_SCHEDULE"}
    ]
    assert cpu["nodeConfig"]["labels"] == {"concurrent-node-type": "worker", "concurrent-accelerator": "none"}
    assert cpu["nodeConfig"]["spot"] is True and cpu["nodeConfig"]["diskSizeGb"] == 200
    assert cpu["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": 1, "locationPolicy": "ANY"}
    assert cpu["initialNodeCount"] == 0 and "nodeCount" not in cpu
    for pool in found.values():
        assert (
            pool["nodeConfig"]["serviceAccount"] == "concurrent-dev-nodes@my-project.iam.gserviceaccount.com"
        )
        assert pool["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert pool["nodeConfig"]["shieldedInstanceConfig"] == {
            "enableSecureBoot": True,
            "enableIntegrityMonitoring": True,
        }
        assert pool["nodeConfig"]["kubeletConfig"] == {"insecureKubeletReadonlyPortEnabled": "FALSE"}
        assert pool["nodeConfig"]["gcfsConfig"] == {"enabled": True}
        assert pool["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
        assert pool["nodeConfig"]["diskType"] == "pd-balanced"
        assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert (pool["cluster"], pool["location"]) == ("concurrent-dev", "us-central1")
    for registration in run.of_type(NODE_POOL):
        assert monitor.ignore_changes[registration.urn] == ["initialNodeCount"], registration.name


def test_regional_counts_are_totals_over_the_configured_zones() -> None:
    found = pools(
        run_stack(
            {
                **REGIONAL,
                "nodeLocations": ["us-central1-b", "us-central1-c"],
                "nodePools": {"system": {"nodeCount": 3}, "cpu": {"minNodes": 1, "maxNodes": 4}},
            }
        )
    )
    assert found["system"]["initialNodeCount"] == 1, "min(ceil(3 / 2), 3 // 2 zones): never above the maximum"
    assert found["system"]["autoscaling"]["totalMinNodeCount"] == 3
    assert found["system"]["autoscaling"]["totalMaxNodeCount"] == 3
    assert found["cpu"]["initialNodeCount"] == 1
    assert "nodeLocations" not in found["system"], "the cluster's zones apply"


def test_zonal_pools_are_not_pinned() -> None:
    run = run_stack(ZONAL)
    found = pools(run)
    assert found["system"]["nodeCount"] == 1 and "nodeLocations" not in found["system"]
    assert "autoscaling" not in found["system"] and "initialNodeCount" not in found["system"]
    assert found["cpu"]["location"] == "us-central1-c"
    assert found["cpu"]["initialNodeCount"] == 0 and "nodeLocations" not in found["cpu"]
    assert resolve(run.exports["clusterLocationType"]) == "zonal"


def test_a_zonal_cluster_in_several_zones_counts_its_own_zone() -> None:
    # The provider takes (and reads back) only the additional zones of a zonal cluster
    # (google-beta resource_container_cluster.go l.3283-3293, l.3725-3729): the cluster's own zone
    # is left out of nodeLocations, and still counts for the pools' totals.
    run = run_stack({**ZONAL, "nodeLocations": ["us-central1-c", "us-central1-a"]})
    (cluster,) = run.of_type(CLUSTER)
    assert cluster.inputs["nodeLocations"] == ["us-central1-a"]
    system = pools(run)["system"]
    assert "nodeCount" not in system, "two zones: a fixed size is a total, not node_count per zone"
    assert system["autoscaling"]["totalMinNodeCount"] == system["autoscaling"]["totalMaxNodeCount"] == 1
    assert system["initialNodeCount"] == 0, "min(ceil(1 / 2), 1 // 2 zones)"


def test_gpu_pool_accelerator_taints_labels_zones_and_driver_installed_by_gke() -> None:
    gpu = pools(
        run_stack(
            {
                **REGIONAL,
                "nodePools": {"gpu": {"enabled": True, "maxNodes": 2, "nodeLocations": ["us-central1-a"]}},
            }
        )
    )["gpu"]
    assert gpu["nodeConfig"]["machineType"] == "n1-standard-4"
    assert gpu["nodeConfig"]["guestAccelerators"] == [
        {
            "type": "nvidia-tesla-t4",
            "count": 1,
            "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
        }
    ]
    assert gpu["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "worker", "effect": "NO_SCHEDULE"},
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
    ]
    assert gpu["nodeConfig"]["labels"] == {"concurrent-node-type": "worker", "concurrent-accelerator": "gpu"}
    assert gpu["nodeConfig"]["diskSizeGb"] == 500
    assert gpu["nodeLocations"] == ["us-central1-a"]
    assert gpu["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": 2, "locationPolicy": "ANY"}


def test_every_kubernetes_object_uses_the_new_clusters_provider() -> None:
    run = run_stack(REGIONAL, namespaces=["parallelsns", "team-b"])
    (provider,) = run.of_type(KUBERNETES_PROVIDER)
    assert provider.name == "gke-kubernetes"
    assert provider.inputs["clusterIdentifier"] == "gke-cluster-id"
    kubeconfig = json.loads(provider.inputs["kubeconfig"]["value"])
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert kubeconfig["clusters"][0]["cluster"] == {
        "server": "https://203.0.113.10",
        "certificate-authority-data": "Q0EtREFUQQ==",
    }
    objects = [r for r in run.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert {r.k8s_name for r in objects} >= {"parallelsns", "team-b", "k8s-role-for-parallels-lambda"}
    assert all(r.provider.startswith(provider.urn + "::") for r in objects), (
        "no object on the default provider"
    )


def test_outputs_and_secrets() -> None:
    run = run_stack({**REGIONAL, "controlPlaneServiceAccount": {"createKey": True}})
    exports = run.exports
    assert resolve(exports["clusterName"]) == "concurrent-dev"
    assert resolve(exports["clusterLocation"]) == "us-central1"
    assert resolve(exports["clusterLocationType"]) == "regional"
    assert resolve(exports["clusterProject"]) == "my-project"
    assert resolve(exports["clusterEndpoint"]) == "203.0.113.10"
    assert is_secret(exports["kubeconfig"]) and "gke-gcloud-auth-plugin" in resolve(exports["kubeconfig"])
    email = "concurrent-dev-concurrent@my-project.iam.gserviceaccount.com"
    assert resolve(exports["controlPlaneServiceAccountEmail"]) == email
    assert is_secret(exports["controlPlaneServiceAccountKey"])
    assert resolve(exports["controlPlaneServiceAccountKey"]) == "eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9"
    assert not is_secret(exports["clusterEndpoint"])
    assert (
        json.loads(resolve(exports["testCommands"])["parallelsns"].split("'")[1])["kube-context"]
        == "concurrent-dev"
    )


def test_control_plane_account_least_privilege_no_key_and_system_role_subject() -> None:
    run = run_stack({**REGIONAL, "controlPlaneServiceAccount": True})
    (component,) = run.of_type("concurrent-infra:index:ControlPlaneAccount")
    grants = [r for r in run.of_type(IAM_MEMBER) if r.name.startswith("gke-control-plane-")]
    assert {r.inputs["role"] for r in grants} == {
        "roles/container.clusterViewer",
        "roles/cloudbuild.builds.editor",
        "roles/artifactregistry.writer",
    }
    assert all(r.parent == component.urn for r in grants)
    assert not run.of_type(KEY), "createKey is false by default"
    assert "controlPlaneServiceAccountKey" not in run.exports
    (binding,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert {
        "kind": "User",
        "name": "concurrent-dev-concurrent@my-project.iam.gserviceaccount.com",
        "apiGroup": "rbac.authorization.k8s.io",
    } in binding.inputs["subjects"]


def test_the_docs_roles_are_available_explicitly() -> None:
    docs_roles = [
        "roles/cloudbuild.builds.builder",
        "roles/containerregistry.ServiceAgent",
        "roles/container.serviceAgent",
    ]
    run = run_stack({**REGIONAL, "controlPlaneServiceAccount": {"roles": docs_roles}})
    grants = {r.inputs["role"] for r in run.of_type(IAM_MEMBER) if r.name.startswith("gke-control-plane-")}
    assert grants == set(docs_roles)


def test_without_control_plane_account_nothing_extra_is_created_or_bound() -> None:
    run = run_stack(REGIONAL)
    assert [r.name for r in run.of_type(ACCOUNT)] == ["gke-nodes"]
    assert not run.of_type(KEY)
    assert not run.of_type("concurrent-infra:index:ControlPlaneAccount")
    (binding,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert len(binding.inputs["subjects"]) == 1
    assert "controlPlaneServiceAccountKey" not in run.exports


def test_children_are_parented_to_their_component() -> None:
    run = run_stack({**REGIONAL, "controlPlaneServiceAccount": {"createKey": True}})
    (gke,) = run.of_type("concurrent-infra:index:GkeCluster")
    (control_plane,) = run.of_type("concurrent-infra:index:ControlPlaneAccount")
    for registration in run.registrations:
        if registration.type.startswith("gcp:") or registration.type == KUBERNETES_PROVIDER:
            expected = control_plane if registration.name.startswith("gke-control-plane") else gke
            assert registration.parent == expected.urn, registration.name
            assert registration.name.startswith("gke-")


OLD_CHILDREN = {
    ("gcp:serviceaccount/account:Account", "gke-control-plane"),
    ("gcp:projects/iAMMember:IAMMember", "gke-control-plane-cloudbuild-builds-builder"),
    ("gcp:projects/iAMMember:IAMMember", "gke-control-plane-containerregistry-serviceagent"),
    ("gcp:projects/iAMMember:IAMMember", "gke-control-plane-container-serviceagent"),
    ("gcp:serviceaccount/key:Key", "gke-control-plane-key"),
}
"""The control-plane resources of the previous release, children of GkeCluster 'gke', as they are
in the state of a stack created with controlPlaneServiceAccount: true. A child's URN is its
parent's URN with ``$<type>`` appended to the type chain and its own name
(``urn:pulumi:<stack>::<project>::concurrent-infra:index:GkeCluster$<type>::<name>`` under the
engine; the mock monitor puts the Stack type in the chain too)."""


def child_urn(parent_urn: str, type_: str, name: str) -> str:
    qualified_parent, _ = parent_urn.rsplit("::", 1)
    return f"{qualified_parent}${type_}::{name}"


def test_moved_control_plane_resources_alias_their_old_urns() -> None:
    # The previous release's defaults, written out: the docs' roles and a key.
    run, monitor = run_gke(
        {
            **REGIONAL,
            "controlPlaneServiceAccount": {
                "createKey": True,
                "roles": [
                    "roles/cloudbuild.builds.builder",
                    "roles/containerregistry.ServiceAgent",
                    "roles/container.serviceAgent",
                ],
            },
        },
        alias_specs=False,
    )
    (component,) = run.of_type("concurrent-infra:index:ControlPlaneAccount")
    (gke,) = run.of_type("concurrent-infra:index:GkeCluster")
    moved = [r for r in run.registrations if r.parent == component.urn]
    assert len(moved) == 5
    # Each moved resource aliases exactly its old URN (besides the old type tokens pulumi-gcp
    # itself aliases, e.g. gcp:serviceAccount/account:Account).
    old_urns = {(r.type, r.name): child_urn(gke.urn, r.type, r.name) for r in moved}
    assert set(old_urns) == OLD_CHILDREN
    for registration in moved:
        assert old_urns[registration.type, registration.name] in monitor.aliases[registration.urn]
    assert gke.urn.endswith("concurrent-infra:index:GkeCluster::gke"), "the old parent keeps its URN"
    assert all(registration.urn not in monitor.aliases[registration.urn] for registration in moved)


def test_node_pool_and_cluster_resource_names_are_unchanged() -> None:
    run = run_stack({**REGIONAL, "nodePools": {"gpu": {"enabled": True}}})
    names = {r.name for r in run.registrations if r.type.startswith("gcp:") or r.type == KUBERNETES_PROVIDER}
    assert {
        "gke-cluster",
        "gke-nodes",
        "gke-system-pool",
        "gke-cpu-pool",
        "gke-gpu-pool",
        "gke-kubernetes",
    } <= names
    (component,) = run.of_type("concurrent-infra:index:GkeCluster")
    assert component.urn.endswith("concurrent-infra:index:GkeCluster::gke")


def test_stacks_for_existing_clusters_never_import_pulumi_gcp() -> None:
    script = (
        "import sys\n"
        "from tests.support.mocks import run_program\n"
        "from concurrent_infra.program.stack import main\n"
        "from concurrent_infra.kube import guard_probe\n"
        "from tests.support.probes import ProbeRecorder\n"
        "guard_probe.kubernetes_sender = ProbeRecorder()  # no cluster to probe\n"
        "run_program(main, {'concurrent-infra:namespaces': '[\"a\"]'})\n"
        "assert 'pulumi_gcp' not in sys.modules, 'pulumi_gcp was imported'\n"
        "print('ok')\n"
    )
    root = Path(__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_gke_stack_satisfies_every_policy_of_the_pack() -> None:
    from policy.concurrent_infra_policy.rule import StackResource
    from policy.concurrent_infra_policy.rules import check_stack

    run = run_stack(
        {
            **REGIONAL,
            "controlPlaneServiceAccount": {"createKey": True},
            "nodePools": {"gpu": {"enabled": True, "nodeLocations": ["us-central1-a"]}},
        }
    )
    resources = [r for r in run.registrations if r.custom]
    assert {CLUSTER, NODE_POOL} <= {r.type for r in resources}
    stack = [StackResource(r.type, r.inputs, r.urn, r.protect) for r in resources]
    assert check_stack(stack) == []
