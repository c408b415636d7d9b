"""Entry point of the concurrent-infra plugin package: serves the components over Pulumi's provider
protocol, so that TypeScript, Go, C#, Java and YAML programs can use them.

The Pulumi engine starts this file through the Python language host (``python <this folder>
ENGINE_ADDRESS ...``); ``component_provider_host`` infers the package schema from the components'
``args`` TypedDicts and output annotations, prints the port it serves on and serves until the
engine stops it. The package is named ``concurrent-infra``, so the type tokens are
``concurrent-infra:index:<Component>``, the same ones the components register from Python.
"""

from importlib.metadata import version

import pulumi
from pulumi.provider.experimental import component_provider_host

from concurrent_infra import ConcurrentNamespace, SystemRole
from concurrent_infra.gke import ControlPlaneAccount, GkeCluster

PACKAGE_NAME = "concurrent-infra"
"""The package name: the first part of every type token."""
PACKAGE_VERSION = version("concurrent-infra")
"""The plugin's version is the Python package's."""
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    SystemRole,
    ConcurrentNamespace,
    GkeCluster,
    ControlPlaneAccount,
]
"""The components the package serves (the schema's resources). GkeCluster and ControlPlaneAccount
(the Google service account of Concurrent's control plane) need pulumi-gcp (the
``[gke]`` extra, in requirements.txt); its Python-only ``provider`` is not part of the schema (a
program in another language builds its own Kubernetes provider from ``kubeconfig``)."""

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE_NAME, version=PACKAGE_VERSION)
