"""Pulumi components that make a Kubernetes cluster ready for Concurrent for MLflow."""

from .config import ConfigError, NamespaceSpec, StackConfig, parse_stack_config
from .kube.names import NamespaceObjectNames, namespace_object_names
from .kube.namespace import ConcurrentNamespace, ConcurrentNamespaceArgs
from .kube.system_role import RbacSubject, SystemRole, SystemRoleArgs

__all__ = [
    "ConcurrentNamespace",
    "ConcurrentNamespaceArgs",
    "ConfigError",
    "NamespaceObjectNames",
    "NamespaceSpec",
    "RbacSubject",
    "StackConfig",
    "SystemRole",
    "SystemRoleArgs",
    "namespace_object_names",
    "parse_stack_config",
]
