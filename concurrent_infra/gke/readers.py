"""The one validation path of the GKE settings: :func:`read_cluster` and :func:`read_control_plane`
read a mapping in either key style (camelCase from the stack config, snake_case from the
components' args) and return the settings, recording every problem with the key, the bad value
and the fix; both doors refuse the same values with the same messages. No pulumi-gcp here.
"""

import ipaddress
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..syntax import (
    broad_role_problem,
    covers_every_address,
    gcp_role_problem,
    ipv4_cidr_problem,
    project_id_problem,
)
from ..validation import PROJECT, KeyStyle, ObjectReader, Problems
from .args import MaintenanceExclusionArgs, MasterAuthorizedNetworkArgs
from .settings import (
    CLUSTER_FIELDS,
    CONTROL_PLANE_FIELDS,
    CONTROL_PLANE_ROLES,
    GPU_POOL_FIELDS,
    POOL_DEFAULTS,
    POOL_FIELDS,
    ClusterSettings,
    ControlPlaneSettings,
    MaintenanceExclusion,
    PoolSettings,
)
from .syntax import (
    _RESOURCE_NAME,
    AUTOSCALING_PROFILES,
    DATAPATH_PROVIDERS,
    DISK_TYPES,
    EXCLUSION_SCOPES,
    GPU_DRIVER_VERSIONS,
    GPU_PROVISIONING_MODELS,
    HYPERDISK_ONLY_SERIES,
    HYPERDISK_TYPES,
    NO_UPGRADES_MAX_DAYS,
    RELEASE_CHANNELS,
    STANDARD_PROVISIONING,
    _accelerator_problem,
    _location_problem,
    _machine_type_problem,
    _network_problem,
    _one_of,
    _time_of_day_problem,
    _timestamp_problem,
    _zone_problem,
    account_id_problem,
    cluster_name_problem,
    default_disk_type,
    machine_series,
    region_of,
)


def _read_pool(
    name: str, reader: ObjectReader | None, key: str, problems: Problems, style: KeyStyle
) -> PoolSettings | None:
    defaults = POOL_DEFAULTS[name]
    if reader is None:
        if not defaults.enabled:
            return None
        reader = ObjectReader({}, key, (), problems, style)
    if not reader.boolean("enabled", defaults.enabled):
        return None
    fixed = reader.has("node_count")
    if fixed and (reader.has("min_nodes") or reader.has("max_nodes")):
        problems.add(
            reader.field("node_count"),
            reader.raw("node_count"),
            "node_count fixes the size, so min_nodes/max_nodes cannot be given too"
            if style is KeyStyle.SNAKE
            else "nodeCount fixes the size, so minNodes/maxNodes cannot be given too",
            f"give {reader.spelled('node_count')}, or {reader.spelled('min_nodes')} and "
            f"{reader.spelled('max_nodes')}",
        )
    minimum = 1 if name == "components" else 0
    if fixed:
        min_nodes = max_nodes = reader.integer(
            "node_count", max(defaults.min_nodes, 1), minimum=max(minimum, 1), maximum=1000
        )
    else:
        min_nodes = reader.integer("min_nodes", defaults.min_nodes, minimum=minimum, maximum=1000)
        max_nodes = reader.integer("max_nodes", defaults.max_nodes, minimum=1, maximum=1000)
    if min_nodes > max_nodes:
        problems.add(
            reader.field("min_nodes"),
            min_nodes,
            f"greater than {reader.spelled('max_nodes')} ({max_nodes})",
            f"make {reader.spelled('min_nodes')} <= {reader.spelled('max_nodes')}",
        )
    accelerator_type: str | None = PoolSettings.accelerator_type
    accelerator_count = PoolSettings.accelerator_count
    driver = PoolSettings.gpu_driver_version
    provisioning = PoolSettings.provisioning
    if defaults.accelerator is not None:
        default_type, default_count = defaults.accelerator
        accelerator_type = reader.string(
            "accelerator_type", default_type, check=_accelerator_problem, example=default_type
        )
        accelerator_count = reader.integer("accelerator_count", default_count, minimum=1, maximum=16)
        driver = reader.string(
            "gpu_driver_version", driver, check=_one_of(GPU_DRIVER_VERSIONS), example=driver
        )
        provisioning = reader.string(
            "provisioning", provisioning, check=_one_of(GPU_PROVISIONING_MODELS), example="flex-start"
        )
    machine_type = reader.string(
        "machine_type", defaults.machine_type, check=_machine_type_problem, example=defaults.machine_type
    )
    spot = reader.boolean("spot", defaults.spot)
    if provisioning != STANDARD_PROVISIONING:
        _check_dynamic_workload_scheduler(reader, provisioning, fixed, min_nodes, spot, problems)
    return PoolSettings(
        name=name,
        node_type=defaults.node_type,
        machine_type=machine_type,
        disk_size_gb=reader.integer("disk_size_gb", defaults.disk_size_gb, minimum=10, maximum=65536),
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        spot=spot,
        node_locations=reader.strings("node_locations", example="us-central1-a", check=_zone_problem),
        accelerator_type=accelerator_type,
        accelerator_count=accelerator_count,
        gpu_driver_version=driver,
        disk_type=_read_disk_type(reader, machine_type),
        provisioning=provisioning,
        upgrade_max_surge=defaults.upgrade_max_surge,
    )


def _read_disk_type(reader: ObjectReader, machine_type: str) -> str:
    """The pool's boot disk type: Hyperdisk for the series that take nothing else (refused otherwise)."""
    default = default_disk_type(machine_type)
    disk_type = reader.string("disk_type", default, check=_one_of(DISK_TYPES), example=default)
    series = machine_series(machine_type)
    if series in HYPERDISK_ONLY_SERIES and disk_type not in HYPERDISK_TYPES:
        reader.problems.add(
            reader.field("disk_type"),
            disk_type,
            f"{machine_type} ({series.upper()} series) boots only from Hyperdisk",
            f"set {reader.spelled('disk_type')}: hyperdisk-balanced, or remove it (the default for this "
            "series)",
        )
    elif series not in HYPERDISK_ONLY_SERIES and disk_type in HYPERDISK_TYPES and series in ("e2", "n1"):
        reader.problems.add(
            reader.field("disk_type"),
            disk_type,
            f"{machine_type} ({series.upper()} series) cannot boot from Hyperdisk",
            "use pd-balanced or pd-ssd, or a machine series that supports Hyperdisk (e.g. n4, c4)",
        )
    return disk_type


def _check_dynamic_workload_scheduler(
    reader: ObjectReader, provisioning: str, fixed: bool, min_nodes: int, spot: bool, problems: Problems
) -> None:
    """What GKE requires of a flex-start or queued-provisioning pool (Google, "About GPU
    obtainability with flex-start" and "Deploy GPUs for batch workloads with ProvisioningRequest"):
    autoscaled from zero, on-demand (not spot)."""
    key = reader.field("provisioning")
    if fixed:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool is sized by GKE's Dynamic Workload Scheduler, not fixed "
            f"({reader.spelled('node_count')} is set)",
            f"give {reader.spelled('min_nodes')}: 0 and {reader.spelled('max_nodes')} instead of "
            f"{reader.spelled('node_count')}",
        )
    elif min_nodes != 0:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool must scale from zero ({reader.spelled('min_nodes')} is {min_nodes})",
            f"set {reader.spelled('min_nodes')}: 0",
        )
    if spot:
        problems.add(
            key,
            provisioning,
            f"a {provisioning} pool provisions on-demand VMs and cannot be spot",
            f"remove {reader.spelled('spot')}, or use provisioning: standard for spot GPUs",
        )


def _read_pools(
    reader: ObjectReader | None, key: str, problems: Problems, style: KeyStyle
) -> tuple[PoolSettings, ...]:
    pools = []
    for name in POOL_DEFAULTS:
        fields = GPU_POOL_FIELDS if name == "gpu" else POOL_FIELDS
        pool_reader = reader.reader(name, fields) if reader else None
        pool = _read_pool(name, pool_reader, f"{key}.{name}" if key else name, problems, style)
        if pool:
            pools.append(pool)
    return tuple(pools)


def _read_networks(reader: ObjectReader, problems: Problems) -> tuple[tuple[str, str | None], ...]:
    name = "master_authorized_networks"
    value = reader.raw(name)
    if value is None:
        return ()
    key = reader.field(name)
    example = f"{reader.spelled('cidr_block')}: 203.0.113.0/24"
    if not isinstance(value, list | tuple):
        problems.add(key, value, "expected a list of objects", f"e.g. [{{{example}}}]")
        return ()
    networks = []
    for index, entry in enumerate(value[:50]):
        if not isinstance(entry, Mapping):
            problems.add(f"{key}[{index}]", entry, "expected an object", f"e.g. {{{example}}}")
            continue
        fields = tuple(MasterAuthorizedNetworkArgs.__annotations__)
        entry_reader = ObjectReader(entry, f"{key}[{index}]", fields, problems, reader.style)
        cidr = entry_reader.required_string(
            "cidr_block", f"e.g. {example}", check=ipv4_cidr_problem, example="203.0.113.0/24"
        )
        if cidr is None:
            continue
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            problems.add(
                f"{key}[{index}].{entry_reader.spelled('cidr_block')}",
                cidr,
                "it authorizes every address on the internet, which is what having no list means",
                "list only your networks (e.g. your office or CI egress range)",
            )
            continue
        networks.append((cidr, entry_reader.string("display_name")))
    if len(value) > 50:
        problems.add(key, value, f"it has {len(value)} entries; GKE allows at most 50", "list fewer networks")
    elif networks and covers_every_address([cidr for cidr, _ in networks]):
        problems.add(
            key,
            [cidr for cidr, _ in networks],
            "together these blocks authorize every address on the internet",
            "list only your networks (e.g. your office or CI egress range)",
        )
        return ()
    return tuple(networks)


def _read_exclusions(reader: ObjectReader, problems: Problems) -> tuple[MaintenanceExclusion, ...]:
    name = "maintenance_exclusions"
    value = reader.raw(name)
    if value is None:
        return ()
    key = reader.field(name)
    fields = tuple(MaintenanceExclusionArgs.__annotations__)
    if not isinstance(value, list | tuple) or len(value) > 20:
        problems.add(
            key,
            value,
            "expected a list of at most 20 objects {name, startTime, endTime, scope?}",
            "e.g. [{name: year-end, startTime: 2026-12-20T00:00:00Z, endTime: 2027-01-05T00:00:00Z}]",
        )
        return ()
    exclusions = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping):
            problems.add(
                where, entry, "expected an object", "e.g. {name: year-end, startTime: ..., endTime: ...}"
            )
            continue
        entry_reader = ObjectReader(entry, where, fields, problems, reader.style)
        exclusion_name = entry_reader.required_string(
            "name",
            "give each exclusion a name",
            check=lambda v: (
                None
                if _RESOURCE_NAME.fullmatch(v)
                else "lowercase letters, digits and '-', starting with a letter"
            ),
            example="year-end",
        )
        start = entry_reader.required_string(
            "start_time",
            "e.g. 2026-12-20T00:00:00Z",
            check=_timestamp_problem,
            example="2026-12-20T00:00:00Z",
        )
        end = entry_reader.required_string(
            "end_time", "e.g. 2027-01-05T00:00:00Z", check=_timestamp_problem, example="2027-01-05T00:00:00Z"
        )
        scope = entry_reader.string(
            "scope", MaintenanceExclusion.scope, check=_one_of(EXCLUSION_SCOPES), example="NO_UPGRADES"
        )
        if not (exclusion_name and start and end):
            continue
        length = datetime.fromisoformat(end) - datetime.fromisoformat(start)
        if scope == "NO_UPGRADES" and length > timedelta(days=NO_UPGRADES_MAX_DAYS):
            latest_end = datetime.fromisoformat(start) + timedelta(days=NO_UPGRADES_MAX_DAYS)
            problems.add(
                f"{where}.{entry_reader.spelled('end_time')}",
                end,
                f"a NO_UPGRADES exclusion lasts at most {NO_UPGRADES_MAX_DAYS} days; this one lasts "
                f"{length.days} days from {start}",
                f"end it by {latest_end.isoformat()}, "
                "or use scope NO_MINOR_UPGRADES or NO_MINOR_OR_NODE_UPGRADES (allowed until the version's "
                "end of support)",
            )
            continue
        if datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            problems.add(
                f"{where}.{entry_reader.spelled('end_time')}",
                end,
                f"not after the start ({start})",
                "make the end later than the start",
            )
            continue
        exclusions.append(MaintenanceExclusion(exclusion_name, start, end, scope))
    return tuple(exclusions)


def read_cluster(
    value: Mapping[str, Any],
    key: str,
    problems: Problems,
    style: KeyStyle,
    default_project: str | None = None,
) -> ClusterSettings | None:
    """Validate a cluster mapping (``style`` says how its keys are spelled); None if it is invalid.

    Every problem is recorded in ``problems`` with the key, the value and the fix.
    """
    reader = ObjectReader(value, key, CLUSTER_FIELDS, problems, style)
    name = reader.required_string(
        "name",
        f"e.g. {reader.spelled('name')}: concurrent-dev",
        check=cluster_name_problem,
        example="concurrent-dev",
    )
    location = reader.required_string(
        "location",
        "a region (regional cluster) or a zone (zonal cluster)",
        check=_location_problem,
        example="us-central1",
    )
    project = reader.required_string(
        "project",
        f"pulumi config set gcp:project MY-PROJECT (or set {PROJECT}:cluster.project)"
        if style is KeyStyle.CAMEL
        else "pass project='my-project'",
        default=default_project,
        check=project_id_problem,
        example="my-project",
        why="no project: neither cluster.project nor gcp:project is set"
        if style is KeyStyle.CAMEL
        else "required",
    )
    defaults = ClusterSettings
    channel = reader.string(
        "release_channel", defaults.release_channel, check=_one_of(RELEASE_CHANNELS), example="REGULAR"
    )
    node_locations = reader.strings("node_locations", example="us-central1-a", check=_zone_problem)
    if location and node_locations:
        for index, zone in enumerate(node_locations):
            if region_of(zone) != region_of(location):
                problems.add(
                    f"{reader.field('node_locations')}[{index}]",
                    zone,
                    f"not a zone of the cluster's region {region_of(location)}",
                    f"use zones of {region_of(location)}, e.g. {region_of(location)}-a",
                )
    pools = _read_pools(
        reader.reader("node_pools", POOL_DEFAULTS), reader.field("node_pools"), problems, style
    )
    private_nodes = reader.boolean("private_nodes", defaults.private_nodes)
    master_cidr = reader.string("master_ipv4_cidr_block", check=ipv4_cidr_problem, example="172.16.0.0/28")
    cidr_key = reader.spelled("master_ipv4_cidr_block")
    if master_cidr is not None and not master_cidr.endswith("/28"):
        problems.add(
            reader.field("master_ipv4_cidr_block"),
            master_cidr,
            "GKE needs a /28 block",
            f"e.g. {cidr_key}: 172.16.0.0/28",
        )
    private_endpoint = reader.boolean("private_endpoint", defaults.private_endpoint)
    cloud_nat = reader.boolean("cloud_nat", defaults.cloud_nat)
    private_key = reader.spelled("private_nodes")
    needs_private_nodes: tuple[tuple[str, str | bool | None, str], ...] = (
        ("master_ipv4_cidr_block", master_cidr, f"only used with {private_key}: true"),
        ("private_endpoint", private_endpoint, f"needs {private_key}: true"),
        ("cloud_nat", cloud_nat, "nodes with public IPs do not need Cloud NAT"),
    )
    for key, given, why in needs_private_nodes:
        if given and not private_nodes:
            problems.add(
                reader.field(key), given, why, f"set {private_key}: true, or remove {reader.spelled(key)}"
            )
    networks = _read_networks(reader, problems)
    network = reader.string("network", check=_network_problem, example="default")
    subnetwork = reader.string("subnetwork", check=_network_problem, example="default")
    datapath = reader.string(
        "datapath_provider",
        defaults.datapath_provider,
        check=_one_of(DATAPATH_PROVIDERS),
        example="ADVANCED_DATAPATH",
    )
    profile = reader.string(
        "autoscaling_profile",
        defaults.autoscaling_profile,
        check=_one_of(AUTOSCALING_PROFILES),
        example="OPTIMIZE_UTILIZATION",
    )
    window = reader.string(
        "maintenance_start_time", defaults.maintenance_start_time, check=_time_of_day_problem, example="03:00"
    )
    deletion_protection = reader.boolean("deletion_protection", defaults.deletion_protection)
    image_streaming = reader.boolean("image_streaming", defaults.image_streaming)
    cost_allocation = reader.boolean("cost_allocation", defaults.cost_allocation)
    binary_authorization = reader.boolean("binary_authorization", defaults.binary_authorization)
    adopt_existing = reader.boolean("adopt_existing", defaults.adopt_existing)
    enable_apis = reader.boolean("enable_apis", defaults.enable_apis)
    exclusions = _read_exclusions(reader, problems)
    if not (name and location and project):
        return None
    return ClusterSettings(
        name=name,
        project=project,
        location=location,
        release_channel=channel,
        node_pools=pools,
        node_locations=node_locations,
        private_nodes=private_nodes,
        master_ipv4_cidr_block=master_cidr,
        private_endpoint=private_endpoint,
        cloud_nat=cloud_nat,
        master_authorized_networks=networks,
        network=network,
        subnetwork=subnetwork,
        datapath_provider=datapath,
        autoscaling_profile=profile,
        maintenance_start_time=window,
        maintenance_exclusions=exclusions,
        deletion_protection=deletion_protection,
        image_streaming=image_streaming,
        cost_allocation=cost_allocation,
        binary_authorization=binary_authorization,
        adopt_existing=adopt_existing,
        enable_apis=enable_apis,
    )


def read_control_plane(
    value: Mapping[str, Any],
    key: str,
    problems: Problems,
    style: KeyStyle,
    default_account_id: str | None = None,
    default_project: str | None = None,
) -> ControlPlaneSettings | None:
    """Validate a control-plane account mapping; None if it is invalid."""
    reader = ObjectReader(value, key, CONTROL_PLANE_FIELDS, problems, style)
    account_id = reader.required_string(
        "account_id",
        f"e.g. {reader.spelled('account_id')}: concurrent-ctl",
        default=default_account_id,
        check=account_id_problem,
        example=default_account_id or "concurrent-ctl",
    )
    project = reader.required_string(
        "project",
        "pass project='my-project'",
        default=default_project,
        check=project_id_problem,
        example="my-project",
    )
    allow_broad = reader.boolean("allow_broad_roles", ControlPlaneSettings.allow_broad_roles)
    roles = reader.strings("roles", example=CONTROL_PLANE_ROLES[0], check=gcp_role_problem, max_items=20)
    if not allow_broad:
        for index, role in enumerate(roles):
            if why := broad_role_problem(role):
                problems.add(
                    f"{reader.field('roles')}[{index}]",
                    role,
                    why,
                    f"grant a narrower role (default: {', '.join(CONTROL_PLANE_ROLES)}), or set "
                    f"{reader.spelled('allow_broad_roles')}: true if you really mean it",
                )
    defaults = ControlPlaneSettings
    display = reader.string("display_name", defaults.display_name)
    if not (account_id and project):
        return None
    return ControlPlaneSettings(
        account_id=account_id,
        project=project,
        display_name=display,
        roles=roles if reader.has("roles") else defaults.roles,
        create_key=reader.boolean("create_key", defaults.create_key),
        allow_broad_roles=allow_broad,
    )
