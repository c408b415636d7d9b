"""Kubernetes objects: names, RBAC rules, labels and the SystemRole and ConcurrentNamespace components."""
