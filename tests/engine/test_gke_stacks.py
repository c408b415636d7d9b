"""The example GKE stacks (stacks/Pulumi.gke-*.yaml) under the mock engine: issue 12's acceptance."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra.program.stack import main
from tests.support.gke import CLUSTER, MOCK_OUTPUTS, NODE_POOL, OptionsMonitor
from tests.support.mocks import Mocks, Run, run_program

STACKS = Path(__file__).parents[2] / "stacks"


def run_stack_file(name: str) -> tuple[Run, OptionsMonitor]:
    values = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())["config"]
    config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
    monitor = OptionsMonitor(Mocks(MOCK_OUTPUTS))
    _, run = run_program(main, config, mock_outputs=MOCK_OUTPUTS, monitor=monitor)
    return run, monitor


def taints(pool: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(t["key"], t["value"], t["effect"]) for t in pool["nodeConfig"]["taints"]]


@pytest.mark.parametrize("stack", ["gke-regional", "gke-zonal"])
def test_the_example_stacks_register_the_issue_12_defaults(stack: str) -> None:
    run, monitor = run_stack_file(stack)
    (cluster,) = run.of_type(CLUSTER)
    inputs = cluster.inputs
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert monitor.ignore_changes[cluster.urn] == ["datapathProvider", "initialNodeCount", "nodeConfig"], (
        "created once"
    )
    assert inputs["anonymousAuthenticationConfig"] == {"mode": "LIMITED"}
    assert inputs["nodePoolDefaults"]["nodeConfigDefaults"]["gcfsConfig"] == {"enabled": True}
    assert inputs["maintenancePolicy"]["dailyMaintenanceWindow"] == {"startTime": "03:00"}
    pools = {r.inputs["name"]: r.inputs for r in run.of_type(NODE_POOL)}
    assert taints(pools["components"]) == [
        ("components.gke.io/gke-managed-components", "true", "NO_SCHEDULE")
    ]
    for pool in pools.values():
        assert pool["nodeConfig"]["gcfsConfig"] == {"enabled": True}
    if stack == "gke-regional":
        assert ("nvidia.com/gpu", "present", "NO_SCHEDULE") in taints(pools["gpu"])
        assert pools["gpu"]["nodeLocations"] == ["us-central1-a", "us-central1-b", "us-central1-f"]
    else:
        assert "gpu" not in pools


@pytest.mark.parametrize("stack", ["gke-regional", "gke-zonal"])
def test_the_policy_pack_passes_the_example_stacks(stack: str) -> None:
    from policy.concurrent_infra_policy.rule import StackResource
    from policy.concurrent_infra_policy.rules import check_stack

    run, _ = run_stack_file(stack)
    resources = [StackResource(r.type, r.inputs, r.urn, r.protect) for r in run.registrations if r.custom]
    assert check_stack(resources) == []
