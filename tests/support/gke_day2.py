"""The model of what the GKE provider reads back after create (the day-2 plan), shared by the day-2
and upgrade tests."""

from __future__ import annotations

import copy
from typing import Any

from concurrent_infra.gke.syntax import location_type
from tests.support.gke import CLUSTER_ZONES

State = dict[str, Any]


def _zones_of(cluster_inputs: State) -> list[str]:
    """Every zone of the cluster's nodes, as GKE holds them (``Cluster.locations``)."""
    location = cluster_inputs["location"]
    given = list(cluster_inputs.get("nodeLocations") or [])
    if location_type(location) == "zonal":
        return [location, *given]  # create adds the cluster's zone back (cluster.go l.3291-3293)
    return given or CLUSTER_ZONES  # GKE picks the region's zones when none are given


def cluster_state(inputs: State, datapath: str | None = None) -> State:
    """The Cluster's state after create and refresh, per the provider's Read."""
    state = copy.deepcopy(inputs)
    # removeDefaultNodePool deletes default-pool right after create (cluster.go l.3515-3533), before
    # the read (l.3640); with no pool left GKE reports no nodeConfig and flattenNodeConfig gives []
    # (node_config.go l.3032-3036).
    del state["nodeConfig"]
    # The deprecated Cluster.initialNodeCount is read back (l.3749); with the default pool gone it
    # no longer describes a pool: modelled as 0.
    state["initialNodeCount"] = 0
    # node_locations is read as Cluster.locations minus the zonal cluster's own zone (l.3725-3729);
    # Optional + Computed (l.336-342).
    state["nodeLocations"] = [zone for zone in _zones_of(inputs) if zone != inputs["location"]]
    # Computed sub-fields the API fills in.
    state["ipAllocationPolicy"] = {
        "clusterIpv4CidrBlock": "10.4.0.0/14",
        "servicesIpv4CidrBlock": "10.8.0.0/20",
    }
    state["endpoint"] = "203.0.113.10"
    if datapath:
        state["datapathProvider"] = datapath
    return state


def pool_state(inputs: State, cluster_inputs: State) -> State:
    """The NodePool's state after it was created with ``inputs``, per the provider's Read."""
    state = copy.deepcopy(inputs)
    # node_locations: Optional + Computed (node_pool.go l.435), read verbatim from NodePool.locations
    # (l.1583), which holds every zone of the pool, the cluster's own included.
    state["nodeLocations"] = list(inputs.get("nodeLocations") or _zones_of(cluster_inputs))
    # node_count: Optional + Computed (l.553), read as the instance groups' size per zone
    # (l.1552-1577); the autoscaler may have moved it.
    if "autoscaling" in inputs:
        state["nodeCount"] = 0
    # initial_node_count (ForceNew, l.480) is read back as created (l.1582): kept from ``inputs``.
    # node_config: Computed fields GKE fills in (node_config.go schemaNodeConfig).
    state["nodeConfig"] = {
        "imageType": "COS_CONTAINERD",
        "metadata": {"disable-legacy-endpoints": "true"},
        **copy.deepcopy(inputs["nodeConfig"]),
    }
    state["version"] = "1.33.5-gke.1000000"
    # upgrade_settings: Optional + Computed (node_pool.go l.443), read back as GKE holds it
    # (l.1468-1481): GKE gives flex-start and queued pools the SHORT_LIVED strategy itself
    # (crossplane-contrib/provider-upjet-gcp#1028 shows the endless SURGE -> SHORT_LIVED diff).
    node_config = inputs["nodeConfig"]
    if node_config.get("flexStart") or inputs.get("queuedProvisioning"):
        state["upgradeSettings"] = {"strategy": "SHORT_LIVED", "maxSurge": 0, "maxUnavailable": 0}
    return state


def planned_changes(inputs: State, state: State, prefix: str = "") -> list[str]:
    """The input paths the next diff shows: set in the inputs and not held so in the state."""
    paths = []
    for key, value in inputs.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in state:
            paths.append(path)  # a field or a whole block the state lacks: added
        elif isinstance(value, dict) and isinstance(state[key], dict):
            paths += planned_changes(value, state[key], path)
        elif value != state[key]:
            paths.append(path)
    return paths


def not_ignored(paths: list[str], ignored: list[str]) -> list[str]:
    return [p for p in paths if not any(p == i or p.startswith(f"{i}.") for i in ignored)]
