"""The GKE stack under the mock engine: its configs, fake provider outputs and the options monitor,
shared by the GKE test modules."""

from __future__ import annotations

import json
from typing import Any

from concurrent_infra.program.stack import main
from tests.support.mocks import RecordingMonitor, Run, run_program

CLUSTER = "gcp:container/cluster:Cluster"

NODE_POOL = "gcp:container/nodePool:NodePool"

ACCOUNT = "gcp:serviceaccount/account:Account"

KEY = "gcp:serviceaccount/key:Key"

CLUSTER_ZONES = ["us-central1-a", "us-central1-b", "us-central1-f"]


def account_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    email = f"{inputs['accountId']}@{inputs['project']}.iam.gserviceaccount.com"
    return {"email": email, "name": f"projects/{inputs['project']}/serviceAccounts/{email}"}


def cluster_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    regional = inputs["location"].count("-") == 1
    return {
        "endpoint": "203.0.113.10",
        "masterAuth": {"clusterCaCertificate": "Q0EtREFUQQ=="},
        # GKE picks three zones of a region when nodeLocations is not set.
        "nodeLocations": inputs.get("nodeLocations") or (CLUSTER_ZONES if regional else []),
    }


MOCK_OUTPUTS = {
    ACCOUNT: account_outputs,
    CLUSTER: cluster_outputs,
    KEY: lambda inputs: {"privateKey": "eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9"},
}


class OptionsMonitor(RecordingMonitor):
    """Also records what RecordingMonitor drops, by URN: ignoreChanges, aliases, deleteBeforeReplace
    and replaceOnChanges."""

    def __init__(self, mocks: Any, alias_specs: bool = True) -> None:
        super().__init__(mocks)
        self.alias_specs = alias_specs
        self.ignore_changes: dict[str, list[str]] = {}
        self.aliases: dict[str, list[Any]] = {}
        self.delete_before_replace: dict[str, bool] = {}
        self.replace_on_changes: dict[str, list[str]] = {}

    def SupportsFeature(self, request: Any) -> Any:
        if request.id == "aliasSpecs" and not self.alias_specs:
            # An engine without alias specs: the SDK computes each alias's full URN itself.
            return type("SupportsFeatureResponse", (), {"hasSupport": False})
        return super().SupportsFeature(request)  # type: ignore[no-untyped-call]

    def GetDeploymentInfo(self, request: Any) -> Any:
        info = super().GetDeploymentInfo(request)  # type: ignore[no-untyped-call]
        if not self.alias_specs:
            from pulumi.runtime.proto import resource_pb2

            features = [
                f for f in info.supportedFeatures if f != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS
            ]
            return resource_pb2.DeploymentInfo(supportedFeatures=features)
        return info

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self.ignore_changes[response.urn] = list(request.ignoreChanges)
        self.delete_before_replace[response.urn] = request.deleteBeforeReplace
        self.replace_on_changes[response.urn] = list(request.replaceOnChanges)
        self.aliases[response.urn] = [
            *request.aliasURNs,
            *(alias.urn for alias in request.aliases if alias.urn),
        ]
        return response


def run_gke(
    cluster: dict[str, Any], namespaces: list[str] | None = None, alias_specs: bool = True
) -> tuple[Run, OptionsMonitor]:
    from tests.support.mocks import Mocks

    config = {
        "concurrent-infra:namespaces": json.dumps(namespaces or ["parallelsns"]),
        "concurrent-infra:cluster": json.dumps(cluster),
        "gcp:project": "my-project",
    }
    monitor = OptionsMonitor(Mocks(MOCK_OUTPUTS), alias_specs=alias_specs)
    _, run = run_program(main, config, mock_outputs=MOCK_OUTPUTS, monitor=monitor)
    return run, monitor


REGIONAL = {"name": "concurrent-dev", "location": "us-central1"}

ZONAL = {"name": "concurrent-dev", "location": "us-central1-c"}
