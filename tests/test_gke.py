"""The GKE cluster stack under the mock engine: cluster, pools, provider, outputs."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from concurrent_infra.stack import main
from tests.harness import Run, is_secret, resolve, run_program

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
ACCOUNT = "gcp:serviceaccount/account:Account"
IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
ZONES = ["us-central1-f", "us-central1-b", "us-central1-a", "us-central1-c"]


def account_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    email = f"{inputs['accountId']}@{inputs['project']}.iam.gserviceaccount.com"
    return {"email": email, "name": f"projects/{inputs['project']}/serviceAccounts/{email}"}


MOCK_OUTPUTS = {
    ACCOUNT: account_outputs,
    CLUSTER: lambda inputs: {
        "endpoint": "203.0.113.10",
        "masterAuth": {"clusterCaCertificate": "Q0EtREFUQQ=="},
    },
    "gcp:serviceaccount/key:Key": lambda inputs: {"privateKey": "eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9"},
}
MOCK_CALLS = {"gcp:compute/getZones:getZones": lambda args: {"names": ZONES}}


def run_gke(cluster: dict[str, Any], namespaces: list[str] | None = None) -> Run:
    config = {
        "concurrent-infra:namespaces": json.dumps(namespaces or ["parallelsns"]),
        "concurrent-infra:cluster": json.dumps(cluster),
        "gcp:project": "my-project",
    }
    _, run = run_program(main, config, mock_outputs=MOCK_OUTPUTS, mock_calls=MOCK_CALLS)
    return run


REGIONAL = {"name": "concurrent-dev", "location": "us-central1"}
ZONAL = {"name": "concurrent-dev", "location": "us-central1-c"}


def pools(run: Run) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in run.of_type(NODE_POOL)}


def test_cluster_secure_defaults() -> None:
    run = run_gke(REGIONAL)
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
    assert roles == {"roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader"}


def test_deletion_protection_private_nodes_and_authorized_networks_are_configurable() -> None:
    run = run_gke(
        {
            **REGIONAL,
            "deletionProtection": False,
            "releaseChannel": "STABLE",
            "privateNodes": True,
            "masterIpv4CidrBlock": "172.16.0.0/28",
            "masterAuthorizedNetworks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}],
        }
    )
    inputs = run.of_type(CLUSTER)[0].inputs
    assert inputs["deletionProtection"] is False
    assert inputs["releaseChannel"] == {"channel": "STABLE"}
    assert inputs["privateClusterConfig"]["enablePrivateNodes"] is True
    assert inputs["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]
    }


def test_regional_pools_taints_spot_autoscaling_and_totals() -> None:
    found = pools(run_gke(REGIONAL))
    assert set(found) == {"system", "cpu"}
    system, cpu = found["system"], found["cpu"]
    assert system["nodeConfig"]["machineType"] == "e2-standard-2"
    assert system["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "system", "effect": "NO_SCHEDULE"}
    ]
    assert not system["nodeConfig"]["spot"]
    # Regional: a fixed pool is pinned to one zone so that nodeCount 1 means one node in all.
    assert system["nodeCount"] == 1 and system["nodeLocations"] == ["us-central1-a"]
    assert "autoscaling" not in system
    assert cpu["nodeConfig"]["machineType"] == "e2-standard-4"
    assert cpu["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "worker", "effect": "NO_SCHEDULE"}
    ]
    assert cpu["nodeConfig"]["spot"] is True
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
        assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert (pool["cluster"], pool["location"]) == ("concurrent-dev", "us-central1")


def test_regional_pinning_uses_configured_node_locations_first() -> None:
    found = pools(run_gke({**REGIONAL, "nodeLocations": ["us-central1-b", "us-central1-c"]}))
    assert found["system"]["nodeLocations"] == ["us-central1-b"]


def test_zonal_pools_are_not_pinned() -> None:
    run = run_gke(ZONAL)
    found = pools(run)
    assert found["system"]["nodeCount"] == 1 and "nodeLocations" not in found["system"]
    assert found["cpu"]["location"] == "us-central1-c"
    assert resolve(run.exports["clusterLocationType"]) == "zonal"


def test_gpu_pool_accelerator_and_driver_installed_by_gke() -> None:
    gpu = pools(run_gke({**REGIONAL, "nodePools": {"gpu": {"enabled": True, "maxNodes": 2}}}))["gpu"]
    assert gpu["nodeConfig"]["machineType"] == "n1-standard-4"
    assert gpu["nodeConfig"]["guestAccelerators"] == [
        {
            "type": "nvidia-tesla-t4",
            "count": 1,
            "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
        }
    ]
    assert gpu["nodeConfig"]["taints"] == [
        {"key": "concurrent-node-type", "value": "worker", "effect": "NO_SCHEDULE"}
    ]
    assert gpu["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": 2, "locationPolicy": "ANY"}


def test_every_kubernetes_object_uses_the_new_clusters_provider() -> None:
    run = run_gke(REGIONAL, namespaces=["parallelsns", "team-b"])
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
    assert len(objects) == 2 + 2 * 6
    assert all(r.provider.startswith(provider.urn + "::") for r in objects), (
        "no object on the default provider"
    )


def test_outputs_and_secrets() -> None:
    run = run_gke({**REGIONAL, "controlPlaneServiceAccount": True})
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


def test_control_plane_account_roles_and_system_role_subject() -> None:
    run = run_gke({**REGIONAL, "controlPlaneServiceAccount": True})
    roles = {r.inputs["role"] for r in run.of_type(IAM_MEMBER) if r.name.startswith("gke-control-plane-")}
    assert roles == {
        "roles/cloudbuild.builds.builder",
        "roles/containerregistry.ServiceAgent",
        "roles/container.serviceAgent",
    }
    (binding,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["subjects"][-1] == {
        "kind": "User",
        "name": "concurrent-dev-concurrent@my-project.iam.gserviceaccount.com",
        "apiGroup": "rbac.authorization.k8s.io",
    }


def test_without_control_plane_account_nothing_extra_is_created_or_bound() -> None:
    run = run_gke(REGIONAL)
    assert [r.name for r in run.of_type(ACCOUNT)] == ["gke-nodes"]
    assert not run.of_type("gcp:serviceaccount/key:Key")
    (binding,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert len(binding.inputs["subjects"]) == 1
    assert "controlPlaneServiceAccountKey" not in run.exports


def test_children_are_parented_to_the_gke_component() -> None:
    run = run_gke({**REGIONAL, "controlPlaneServiceAccount": True})
    (component,) = run.of_type("concurrent-infra:index:GkeCluster")
    for registration in run.registrations:
        if registration.type.startswith("gcp:") or registration.type == KUBERNETES_PROVIDER:
            assert registration.parent == component.urn, registration.name
            assert registration.name.startswith("gke-")


def test_stacks_for_existing_clusters_never_import_pulumi_gcp() -> None:
    script = (
        "import sys\n"
        "from tests.harness import run_program\n"
        "from concurrent_infra.stack import main\n"
        "run_program(main, {'concurrent-infra:namespaces': '[\"a\"]'})\n"
        "assert 'pulumi_gcp' not in sys.modules, 'pulumi_gcp was imported'\n"
        "print('ok')\n"
    )
    root = Path(__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_gke_stack_satisfies_every_policy_of_the_pack() -> None:
    from policy import concurrent_policies as policies

    run = run_gke({**REGIONAL, "controlPlaneServiceAccount": True, "nodePools": {"gpu": {"enabled": True}}})
    resources = [r for r in run.registrations if r.custom]
    assert {CLUSTER, NODE_POOL} <= {r.type for r in resources}
    for resource in resources:
        for rule in policies.RESOURCE_RULES:
            assert rule.check(resource.type, resource.inputs, resource.protect, {}) == [], (
                rule.name,
                resource.name,
            )
    stack = [policies.StackResource(r.type, r.inputs, r.urn) for r in resources]
    assert policies.user_binding_roles_read_only(stack) == []
