"""The Pulumi SDK's component analyzer reads GkeCluster and ControlPlaneAccount (issue 9)."""

from pulumi.provider.experimental.analyzer import Analyzer

from concurrent_infra.gke.cluster import GkeCluster
from concurrent_infra.gke.control_plane import ControlPlaneAccount


def test_the_analyzer_infers_the_gke_schema() -> None:
    result = Analyzer("concurrent-infra").analyze([GkeCluster, ControlPlaneAccount])
    components = result["component_definitions"]
    gke = components["GkeCluster"]
    expected = {"name", "location", "project", "releaseChannel", "nodePools", "deletionProtection",
                "privateNodes", "masterIpv4CidrBlock", "masterAuthorizedNetworks", "network", "subnetwork",
                "nodeLocations", "datapathProvider", "maintenanceExclusions", "cloudNat"}  # fmt: skip
    assert expected <= set(gke.inputs)
    assert {name for name, prop in gke.inputs.items() if not prop.optional} == {"name", "location", "project"}
    assert set(gke.outputs) == {
        "clusterName",
        "location",
        "locationType",
        "project",
        "endpoint",
        "kubeconfig",
    }
    assert (gke.inputs["datapathProvider"].description or "").startswith("ADVANCED_DATAPATH")
    account = components["ControlPlaneAccount"]
    assert set(account.outputs) == {"email", "key"}
    assert {name for name, prop in account.inputs.items() if not prop.optional} == {"accountId", "project"}
    assert {
        "NodePoolArgs",
        "NodePoolsArgs",
        "MasterAuthorizedNetworkArgs",
        "MaintenanceExclusionArgs",
    } <= set(result["type_definitions"])
