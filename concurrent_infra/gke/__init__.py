"""GKE: the GkeCluster and ControlPlaneAccount components, their args and settings.

``from concurrent_infra.gke import GkeCluster`` loads pulumi-gcp (the ``[gke]`` extra) only then:
the components are imported on first use, so the pure modules of this package (args, settings,
readers, syntax, IAM names) serve stacks that create no cluster without it.
"""

from typing import TYPE_CHECKING, Any

from .args import (
    ControlPlaneAccountArgs,
    GkeClusterArgs,
    MaintenanceExclusionArgs,
    MasterAuthorizedNetworkArgs,
    NodePoolArgs,
    NodePoolsArgs,
)

if TYPE_CHECKING:
    from .cluster import GkeCluster
    from .control_plane import ControlPlaneAccount

__all__ = [
    "ControlPlaneAccount",
    "ControlPlaneAccountArgs",
    "GkeCluster",
    "GkeClusterArgs",
    "MaintenanceExclusionArgs",
    "MasterAuthorizedNetworkArgs",
    "NodePoolArgs",
    "NodePoolsArgs",
]


def __getattr__(name: str) -> Any:
    """The components, imported (with pulumi-gcp) when first asked for."""
    if name == "GkeCluster":
        from .cluster import GkeCluster

        return GkeCluster
    if name == "ControlPlaneAccount":
        from .control_plane import ControlPlaneAccount

        return ControlPlaneAccount
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
