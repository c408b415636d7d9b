"""The stack config's ``cluster`` object: the GKE cluster and Concurrent's control-plane account,
read with the GKE readers, and the placement of Docker-in-Docker pods on its pools.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..gke.readers import read_cluster, read_control_plane
from ..gke.settings import ClusterSettings, ControlPlaneSettings
from ..gke.syntax import service_account_id
from ..validation import KeyStyle, Problems


@dataclass(frozen=True)
class GkeStackCluster:
    """The stack config's ``cluster`` object: the cluster, and Concurrent's control-plane account."""

    settings: ClusterSettings
    control_plane: ControlPlaneSettings | None = None
    """The account, when ``controlPlaneServiceAccount`` is set."""

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def project(self) -> str:
        return self.settings.project


CONTROL_PLANE_KEY = "controlPlaneServiceAccount"


def dind_placement_problem(
    dind_namespaces: list[str], cluster: "GkeStackCluster", problems: Problems, where: str = ""
) -> bool:
    """Record why DinD pods cannot run on ``cluster`` (no ``dind`` pool: every other pool is tainted,
    so the pod would never be scheduled and ``pulumi up`` would time out); True if recorded."""
    if not dind_namespaces or cluster.settings.dind_pool:
        return False
    problems.add(
        "cluster.nodePools.dind.enabled",
        False,
        f"namespaces {', '.join(dind_namespaces)} run Docker-in-Docker{where}, and every pool of this "
        "cluster is tainted, so the docker-dind pod would never be scheduled",
        "set cluster.nodePools.dind.enabled: true (a pool that runs the privileged DinD pods and "
        "nothing else), or drop dind from those namespaces",
    )
    return True


def parse_cluster_config(
    value: Any, default_project: str | None, problems: Problems
) -> GkeStackCluster | None:
    """Validate the ``cluster`` stack config object; ``default_project`` is ``gcp:project`` when set."""
    if not isinstance(value, Mapping):
        problems.add(
            "cluster",
            value,
            "expected an object {name, location, project?, ...}",
            "see docs/gke.md",
        )
        return None
    cluster_value = {k: v for k, v in value.items() if k != CONTROL_PLANE_KEY}
    settings = read_cluster(cluster_value, "cluster", problems, KeyStyle.CAMEL, default_project)
    control_plane = None
    account = value.get(CONTROL_PLANE_KEY)
    key = f"cluster.{CONTROL_PLANE_KEY}"
    if account is True:
        account = {}
    if account is not None and account is not False:
        if not isinstance(account, Mapping):
            problems.add(
                key,
                account,
                "expected true, false or an object {accountId?, roles?, createKey?, allowBroadRoles?}",
                f"e.g. {CONTROL_PLANE_KEY}: true",
            )
        else:
            name = settings.name if settings else "cluster"
            account_settings = read_control_plane(
                {"project": settings.project if settings else None, **account}
                if "project" not in account
                else account,
                key,
                problems,
                KeyStyle.CAMEL,
                default_account_id=service_account_id(name, "concurrent"),
                default_project=default_project,
            )
            control_plane = account_settings
    if settings is None:
        return None
    return GkeStackCluster(settings=settings, control_plane=control_plane)
