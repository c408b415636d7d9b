"""Tenancy rules (issue 11): the Workload Identity annotation only on the package's user service
accounts, and Docker-in-Docker (a privileged Deployment) only in namespaces the config allows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from concurrent_infra.kube.names import DIND_NAME, WORKLOAD_IDENTITY_ANNOTATION

from ..props import (
    CRON_JOB,
    DAEMON_SET,
    DEPLOYMENT,
    JOB,
    NAMESPACE,
    POD,
    REPLICA_SET,
    REPLICATION_CONTROLLER,
    SERVICE_ACCOUNT,
    STATEFUL_SET,
    UNKNOWN,
    Obj,
    annotations_of,
    is_managed,
    items,
    mapping,
    metadata,
    namespace,
    text,
)
from ..rule import ConfigKey, ResourceRule, StackResource, StackRule, config_list, stack_objects
from .rbac import USER_SERVICE_ACCOUNT_PREFIX

DIND_NAMESPACES = ConfigKey(
    "dindNamespaces",
    "Namespaces that may run Docker-in-Docker (the docker-dind Deployment, or any privileged container, "
    "host namespace, hostPath volume or capability beyond Pod Security baseline).",
)

_POD_TEMPLATE_TYPES = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, REPLICATION_CONTROLLER)


def workload_identity_only_on_user_service_accounts(obj: Obj, config: Mapping[str, Any]) -> list[str]:
    """Only ``k8s-serviceaccount-for-users-<ns>`` in namespace ``<ns>`` has the Workload Identity
    annotation."""
    if obj.type != SERVICE_ACCOUNT:
        return []
    raw = metadata(obj.props).get("annotations")
    account = metadata(obj.props).get("name")
    if UNKNOWN in (raw, account) or WORKLOAD_IDENTITY_ANNOTATION not in annotations_of(obj.props):
        return []
    account_namespace = namespace(obj.props)
    if isinstance(account_namespace, str):
        allowed = account == USER_SERVICE_ACCOUNT_PREFIX + account_namespace
    else:  # unknown or the provider's default namespace: judge the name only
        allowed = text(account, "").startswith(USER_SERVICE_ACCOUNT_PREFIX)
    if allowed:
        return []
    google_account = text(annotations_of(obj.props).get(WORKLOAD_IDENTITY_ANNOTATION), "(unknown)")
    where = account_namespace if isinstance(account_namespace, str) else "?"
    return [
        f"ServiceAccount {where}/{obj.name} has the annotation {WORKLOAD_IDENTITY_ANNOTATION}="
        f"{google_account}, so its pods act as that Google service account. Only the package's user "
        f"service accounts ({USER_SERVICE_ACCOUNT_PREFIX}<namespace>, in that namespace) may carry it: "
        "remove the annotation, and give a namespace Google access with its workloadIdentity key in the "
        "stack config."
    ]


def _pod_spec(obj: Obj) -> Mapping[str, Any]:
    spec = mapping(obj.props.get("spec"))
    if obj.type == POD:
        return spec
    if obj.type == CRON_JOB:
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    elif obj.type not in _POD_TEMPLATE_TYPES:
        return {}
    return mapping(mapping(spec.get("template")).get("spec"))


def privileged_containers(obj: Obj) -> list[str]:
    """The names of the containers of a workload that run privileged (known values only)."""
    spec = _pod_spec(obj)
    return [
        text(container.get("name"))
        for field in ("initContainers", "containers", "ephemeralContainers")
        for container in map(mapping, items(spec.get(field)))
        if mapping(container.get("securityContext")).get("privileged") is True
    ]


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
"""The capabilities Pod Security's baseline level lets a container add; any other (``SYS_ADMIN``,
``NET_ADMIN``, ``ALL``...) is refused by baseline, like privileged containers, host namespaces and
hostPath volumes (https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline)."""


def host_access(obj: Obj) -> list[str]:
    """What a workload's pod spec takes from its node besides ``privileged: true`` (known values
    only): host namespaces (``hostNetwork``, ``hostPID``, ``hostIPC``), hostPath volumes and
    capabilities beyond :data:`BASELINE_CAPABILITIES`. Each is root on the node, or close to it: the
    node's processes, its network and loopback services, its files (the kubelet's credentials)."""
    spec = _pod_spec(obj)
    found = [field for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field) is True]
    found += [
        f"the hostPath volume {text(volume.get('name'))} ({text(mapping(host_path).get('path'))})"
        for volume in map(mapping, items(spec.get("volumes")))
        if (host_path := volume.get("hostPath")) is not None
    ]
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in map(mapping, items(spec.get(field))):
            capabilities = mapping(mapping(container.get("securityContext")).get("capabilities"))
            added = sorted(
                {
                    capability
                    for capability in items(capabilities.get("add"))
                    if isinstance(capability, str)
                    and capability.upper().removeprefix("CAP_") not in BASELINE_CAPABILITIES
                }
            )
            if added:
                found.append(f"container {text(container.get('name'))} adding {', '.join(added)}")
    return found


def dind_only_where_allowed(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The ``docker-dind`` Deployment, and in a managed namespace (one the stack labels as managed,
    or an object that carries the managed-by label itself) any workload with a privileged container
    or another way to the node (:func:`host_access`), only in the namespaces the config lists."""
    objects = stack_objects(resources)
    managed = {
        obj.name for _, obj in objects if obj.type == NAMESPACE and not obj.patch and is_managed(obj.props)
    }
    allowed = config_list(config, DIND_NAMESPACES)
    violations = []
    for urn, obj in objects:
        workload_namespace = namespace(obj.props)
        if workload_namespace is UNKNOWN:
            continue
        is_dind = obj.type == DEPLOYMENT and obj.name == DIND_NAME
        privileged = privileged_containers(obj)
        host = host_access(obj)
        in_managed = is_managed(obj.props) or workload_namespace in managed
        if not (is_dind or ((privileged or host) and in_managed)) or workload_namespace in allowed:
            continue
        where = workload_namespace if isinstance(workload_namespace, str) else "(the provider's default)"
        if is_dind:
            what = "(Docker-in-Docker) runs"
        elif privileged:
            what = f"runs the privileged containers {', '.join(privileged)}"
        else:
            what = f"uses {', '.join(host)} (each as good as privileged)"
        violations.append(
            (
                urn,
                f"{obj.where}{obj.kind} {obj.name} {what} in namespace {where}, which is not in this "
                f"policy's {DIND_NAMESPACES.name} config. A privileged container is root on its node. Run "
                "DinD only where it is needed: dind: true and podSecurity: privileged for that namespace "
                f"in the stack config, and the namespace listed in {DIND_NAMESPACES.name} (this policy) "
                "and privilegedNamespaces (managed-namespaces-pod-security).",
            )
        )
    return violations


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "workload-identity-only-on-user-service-accounts",
        f"Only the user service accounts ({USER_SERVICE_ACCOUNT_PREFIX}<namespace>) carry the Workload "
        f"Identity annotation {WORKLOAD_IDENTITY_ANNOTATION}.",
        workload_identity_only_on_user_service_accounts,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "dind-only-where-allowed",
        f"The Docker-in-Docker Deployment {DIND_NAME}, and in a managed namespace any privileged "
        "container, host namespace (hostNetwork, hostPID, hostIPC), hostPath volume or capability beyond "
        f"Pod Security baseline, only in namespaces listed in the policy config {DIND_NAMESPACES.name}.",
        dind_only_where_allowed,
        (DIND_NAMESPACES,),
    ),
)
