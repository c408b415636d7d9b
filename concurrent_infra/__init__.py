"""Pulumi components that make a Kubernetes cluster ready for Concurrent for MLflow."""

from .kube.names import NamespaceObjectNames, namespace_object_names
from .kube.namespace import ConcurrentNamespace
from .kube.namespace_args import ConcurrentNamespaceArgs, ContainerDefaultsArgs, WorkloadIdentityArgs
from .kube.namespace_settings import NamespaceSettings
from .kube.system_role import SystemRole, SystemRoleArgs
from .program.config import ConfigError, StackConfig, parse_stack_config

__all__ = [
    "ConcurrentNamespace",
    "ConcurrentNamespaceArgs",
    "ConfigError",
    "ContainerDefaultsArgs",
    "NamespaceObjectNames",
    "NamespaceSettings",
    "StackConfig",
    "SystemRole",
    "SystemRoleArgs",
    "WorkloadIdentityArgs",
    "namespace_object_names",
    "parse_stack_config",
]
