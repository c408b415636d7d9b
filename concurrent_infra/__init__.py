"""Pulumi components that make a Kubernetes cluster ready for Concurrent for MLflow."""

from .config import ConfigError, NamespaceSpec, StackConfig, parse_stack_config
from .names import NamespaceObjectNames, namespace_object_names
from .namespace import ConcurrentNamespace, ConcurrentNamespaceArgs
from .system_role import RbacSubject, SystemRole, SystemRoleArgs

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
