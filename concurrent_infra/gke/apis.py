"""The Google APIs a GkeCluster needs, by setting (pure: no pulumi-gcp).

A fresh project has none of them enabled, and the first resource that needs one fails. GkeCluster
enables them (``gcp.projects.Service``, never disabled on destroy) unless ``enable_apis`` is false.
"""

from .settings import ClusterSettings

BASE_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
)
"""Compute Engine (nodes, networks, Cloud NAT), GKE, service accounts, and project IAM grants
(``gcp.projects.IAMMember`` reads and writes the project's policy through Resource Manager)."""
IMAGE_STREAMING_API = "containerfilesystem.googleapis.com"
"""Image streaming needs the Container File System API (Google, "Use Image streaming to pull
container images", requirements)."""
BINARY_AUTHORIZATION_API = "binaryauthorization.googleapis.com"


def required_apis(settings: ClusterSettings) -> tuple[str, ...]:
    """The APIs ``settings`` need, in a stable order."""
    apis = list(BASE_APIS)
    if settings.image_streaming:
        apis.append(IMAGE_STREAMING_API)
    if settings.binary_authorization:
        apis.append(BINARY_AUTHORIZATION_API)
    return tuple(apis)
