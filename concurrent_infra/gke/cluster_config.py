"""The ``cluster`` stack config object: an optional GKE cluster, validated without pulumi-gcp.

Node counts are cluster totals, whatever the location type: autoscaled pools use GKE's total
limits, and a fixed-size pool of a regional cluster is pinned to one zone (see the README).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..validation import PROJECT, ObjectReader, Problems

CLUSTER_NAME_MAX_LENGTH = 40
_CLUSTER_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
_PROJECT_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]{4,28}[a-z0-9])$")
_CIDR = re.compile(r"^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$")

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
GPU_DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")
NODE_TYPE_TAINT_KEY = "concurrent-node-type"
"""The taint (and node label) key the Concurrent docs give their node pools."""

CONTROL_PLANE_ROLES = (
    "roles/cloudbuild.builds.builder",
    "roles/containerregistry.ServiceAgent",
    "roles/container.serviceAgent",
)
"""Cloud Build Service Account, Container Registry Service Agent, Kubernetes Engine Service Agent:
the roles the Concurrent docs give the control plane's Google service account."""

LocationType = Literal["regional", "zonal"]


def cluster_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a GKE cluster, or None if it can."""
    if len(name) > CLUSTER_NAME_MAX_LENGTH:
        return f"it has {len(name)} characters; GKE allows at most {CLUSTER_NAME_MAX_LENGTH}"
    if not _CLUSTER_NAME.match(name):
        return "GKE cluster names are lowercase letters, digits and '-', starting with a letter"
    return None


def location_type(location: str) -> LocationType | None:
    """``regional`` for a region (``us-central1``), ``zonal`` for a zone (``us-central1-c``)."""
    if _REGION.match(location):
        return "regional"
    if _ZONE.match(location):
        return "zonal"
    return None


def _location_problem(location: str) -> str | None:
    if location_type(location) is None:
        return "neither a region (e.g. us-central1) nor a zone (e.g. us-central1-c)"
    return None


def _project_problem(project: str) -> str | None:
    if not _PROJECT_ID.match(project):
        return "not a Google Cloud project ID (6-30 lowercase letters, digits and '-')"
    return None


def _cidr_problem(cidr: str) -> str | None:
    return None if _CIDR.match(cidr) else "not an IPv4 CIDR block"


def _account_id_problem(account_id: str) -> str | None:
    if not _SERVICE_ACCOUNT_ID.match(account_id):
        return "a service account ID is 6-30 lowercase letters, digits and '-', starting with a letter"
    return None


def service_account_id(cluster_name: str, suffix: str) -> str:
    """A service account ID (at most 30 characters) made from the cluster name and ``suffix``."""
    return f"{cluster_name[: 29 - len(suffix)].rstrip('-')}-{suffix}"


@dataclass(frozen=True)
class NodePoolSpec:
    """One node pool. ``min_nodes``/``max_nodes`` are cluster totals; equal means a fixed size."""

    name: str
    node_type: Literal["system", "worker"]
    machine_type: str
    disk_size_gb: int
    min_nodes: int
    max_nodes: int
    spot: bool
    accelerator_type: str | None = None
    accelerator_count: int = 0
    gpu_driver_version: str = "DEFAULT"

    @property
    def autoscaled(self) -> bool:
        return self.min_nodes != self.max_nodes


@dataclass(frozen=True)
class ControlPlaneAccountSpec:
    """The Google service account Concurrent's control plane uses to reach the cluster."""

    account_id: str
    roles: tuple[str, ...] = CONTROL_PLANE_ROLES
    create_key: bool = True


@dataclass(frozen=True)
class MasterAuthorizedNetwork:
    cidr_block: str
    display_name: str | None = None


@dataclass(frozen=True)
class ClusterSpec:
    """A GKE cluster made for Concurrent, as the ``cluster`` config object describes it."""

    name: str
    project: str
    location: str
    release_channel: str = "REGULAR"
    deletion_protection: bool = True
    private_nodes: bool = False
    master_ipv4_cidr_block: str | None = None
    master_authorized_networks: tuple[MasterAuthorizedNetwork, ...] = ()
    network: str | None = None
    subnetwork: str | None = None
    node_locations: tuple[str, ...] = ()
    node_pools: tuple[NodePoolSpec, ...] = field(default_factory=tuple)
    control_plane_account: ControlPlaneAccountSpec | None = None

    @property
    def location_type(self) -> LocationType:
        kind = location_type(self.location)
        assert kind is not None, "validated by parse_cluster_config"
        return kind

    @property
    def workload_pool(self) -> str:
        return f"{self.project}.svc.id.goog"


CLUSTER_KEYS = (
    "name", "project", "location", "releaseChannel", "deletionProtection", "privateNodes",
    "masterIpv4CidrBlock", "masterAuthorizedNetworks", "network", "subnetwork", "nodeLocations",
    "nodePools", "controlPlaneServiceAccount",
)  # fmt: skip
POOL_KEYS = ("machineType", "diskSizeGb", "minNodes", "maxNodes", "nodeCount", "spot")
GPU_POOL_KEYS = (*POOL_KEYS, "enabled", "acceleratorType", "acceleratorCount", "gpuDriverVersion")


@dataclass(frozen=True)
class _PoolDefaults:
    node_type: Literal["system", "worker"]
    machine_type: str
    min_nodes: int
    max_nodes: int
    spot: bool


POOL_DEFAULTS = {
    # The Concurrent docs' pools. Disk: 100 GB (GKE's default) instead of the docs' 500 GB.
    "system": _PoolDefaults("system", "e2-standard-2", 1, 1, spot=False),
    "cpu": _PoolDefaults("worker", "e2-standard-4", 0, 1, spot=True),
    "gpu": _PoolDefaults("worker", "n1-standard-4", 0, 1, spot=False),
}
DEFAULT_DISK_SIZE_GB = 100


def _parse_pool(name: str, value: Mapping[str, Any], key: str, problems: Problems) -> NodePoolSpec | None:
    defaults = POOL_DEFAULTS[name]
    reader = ObjectReader(value, key, GPU_POOL_KEYS if name == "gpu" else POOL_KEYS, problems)
    if name == "gpu" and not reader.boolean("enabled", False):
        return None
    if "nodeCount" in value and ("minNodes" in value or "maxNodes" in value):
        problems.add(
            f"{key}.nodeCount",
            value["nodeCount"],
            "nodeCount fixes the size",
            "give nodeCount, or minNodes and maxNodes",
        )
    fixed = reader.integer("nodeCount", defaults.min_nodes, minimum=1) if "nodeCount" in value else None
    min_nodes = fixed if fixed is not None else reader.integer("minNodes", defaults.min_nodes)
    max_nodes = fixed if fixed is not None else reader.integer("maxNodes", defaults.max_nodes, minimum=1)
    if min_nodes > max_nodes:
        problems.add(
            f"{key}.minNodes", min_nodes, f"greater than maxNodes ({max_nodes})", "make minNodes <= maxNodes"
        )
    accelerator_type = None
    accelerator_count = 0
    driver = "DEFAULT"
    if name == "gpu":
        accelerator_type = reader.string("acceleratorType", "nvidia-tesla-t4", example="nvidia-tesla-t4")
        if not accelerator_type:
            problems.add(
                f"{key}.acceleratorType",
                accelerator_type,
                "a GPU pool needs an accelerator",
                "e.g. acceleratorType: nvidia-tesla-t4",
            )
        accelerator_count = reader.integer("acceleratorCount", 1, minimum=1)
        driver = reader.string(
            "gpuDriverVersion", "DEFAULT",
            check=lambda v: None if v in GPU_DRIVER_VERSIONS else f"one of {', '.join(GPU_DRIVER_VERSIONS)}",
            example="DEFAULT",
        ) or "DEFAULT"  # fmt: skip
    return NodePoolSpec(
        name=name,
        node_type=defaults.node_type,
        machine_type=reader.string("machineType", defaults.machine_type, example=defaults.machine_type)
        or defaults.machine_type,
        disk_size_gb=reader.integer("diskSizeGb", DEFAULT_DISK_SIZE_GB, minimum=10),
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        spot=reader.boolean("spot", defaults.spot),
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
        gpu_driver_version=driver,
    )


def _parse_pools(value: Mapping[str, Any] | None, problems: Problems) -> tuple[NodePoolSpec, ...]:
    reader = ObjectReader(value or {}, "cluster.nodePools", POOL_DEFAULTS, problems)
    pools = (
        _parse_pool(name, reader.object(name) or {}, f"cluster.nodePools.{name}", problems)
        for name in POOL_DEFAULTS
    )
    return tuple(pool for pool in pools if pool)


def _parse_control_plane_account(
    value: Any, cluster_name: str, problems: Problems
) -> ControlPlaneAccountSpec | None:
    key = "cluster.controlPlaneServiceAccount"
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        problems.add(
            key, value, "expected true, false or an object {accountId?, roles?, createKey?}", "e.g. true"
        )
        return None
    reader = ObjectReader(value, key, ("accountId", "roles", "createKey"), problems)
    default_id = service_account_id(cluster_name, "concurrent")
    return ControlPlaneAccountSpec(
        account_id=reader.string("accountId", default_id, check=_account_id_problem, example=default_id)
        or default_id,
        roles=reader.strings("roles", example=CONTROL_PLANE_ROLES[0])
        if "roles" in value
        else CONTROL_PLANE_ROLES,
        create_key=reader.boolean("createKey", True),
    )


def _parse_networks(value: Any, problems: Problems) -> tuple[MasterAuthorizedNetwork, ...]:
    key = "cluster.masterAuthorizedNetworks"
    if not isinstance(value, list):
        problems.add(
            key, value, "expected a list of {cidrBlock, displayName?}", "e.g. [{cidrBlock: 203.0.113.0/24}]"
        )
        return ()
    networks = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            problems.add(f"{key}[{index}]", entry, "expected an object", "e.g. {cidrBlock: 203.0.113.0/24}")
            continue
        reader = ObjectReader(entry, f"{key}[{index}]", ("cidrBlock", "displayName"), problems)
        cidr = reader.required_string(
            "cidrBlock", "e.g. cidrBlock: 203.0.113.0/24", check=_cidr_problem, example="203.0.113.0/24"
        )
        if cidr is None:
            continue
        networks.append(MasterAuthorizedNetwork(cidr, reader.string("displayName")))
    return tuple(networks)


def parse_cluster_config(value: Any, default_project: str | None, problems: Problems) -> ClusterSpec | None:
    """Validate the ``cluster`` object; ``default_project`` is ``gcp:project`` when set."""
    if not isinstance(value, dict):
        problems.add(
            "cluster",
            value,
            "expected an object {name, location, project?, ...}",
            "see the README's GKE section",
        )
        return None
    reader = ObjectReader(value, "cluster", CLUSTER_KEYS, problems)
    name = reader.required_string(
        "name", "e.g. cluster.name: concurrent-dev", check=cluster_name_problem, example="concurrent-dev"
    )
    location = reader.required_string(
        "location", "a region (regional cluster) or a zone (zonal cluster)",
        check=_location_problem, example="us-central1",
    )  # fmt: skip
    project = reader.required_string(
        "project", f"pulumi config set gcp:project MY-PROJECT (or set {PROJECT}:cluster.project)",
        default=default_project, check=_project_problem, example="my-project",
        why="no project: neither cluster.project nor gcp:project is set",
    )  # fmt: skip
    channel = reader.string(
        "releaseChannel", "REGULAR",
        check=lambda v: None if v in RELEASE_CHANNELS else f"one of {', '.join(RELEASE_CHANNELS)}",
        example="REGULAR",
    )  # fmt: skip
    private_nodes = reader.boolean("privateNodes", False)
    node_locations = reader.strings("nodeLocations", example="us-central1-a")
    for zone in node_locations:
        if location_type(zone) != "zonal":
            problems.add("cluster.nodeLocations", zone, "not a zone", "e.g. us-central1-a")
    pools = _parse_pools(reader.object("nodePools"), problems)
    control_plane = _parse_control_plane_account(
        value.get("controlPlaneServiceAccount"), name or "cluster", problems
    )
    networks = _parse_networks(value.get("masterAuthorizedNetworks", []), problems)
    deletion_protection = reader.boolean("deletionProtection", True)
    master_cidr = reader.string("masterIpv4CidrBlock", check=_cidr_problem, example="172.16.0.0/28")
    network, subnetwork = reader.string("network"), reader.string("subnetwork")
    if not (name and location and project and channel):
        return None
    return ClusterSpec(
        name=name,
        project=project,
        location=location,
        release_channel=channel,
        deletion_protection=deletion_protection,
        private_nodes=private_nodes,
        master_ipv4_cidr_block=master_cidr,
        master_authorized_networks=networks,
        network=network,
        subnetwork=subnetwork,
        node_locations=node_locations,
        node_pools=pools,
        control_plane_account=control_plane,
    )
