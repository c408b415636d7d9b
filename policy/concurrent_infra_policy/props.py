"""Reading resource inputs as the rules see them: plain values, :data:`UNKNOWN`, lists and patches.

The engine hands a policy the inputs of one resource with its camelCase property names. During a
preview, a value that depends on another resource's output is not known yet; it is
:data:`UNKNOWN` here, and a rule never reports a violation on an unknown value (``pulumi up``
runs the pack again with the values known). The readers below never raise on a missing, unknown
or ill-typed value: they return an empty container or a default, so a rule reads the props as it
would read a well-formed object.

:func:`expand` turns one resource into the objects the rules check: a ``*List`` kind
(``kubernetes:rbac.authorization.k8s.io/v1:RoleBindingList``...) into its items, each checked as
the kind it is, and a ``*Patch`` kind into its object kind with ``patch=True`` (a patch sets only
some fields, so a rule does not report a field that a patch leaves out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concurrent_infra.kube.labels import COMMON_LABELS, MANAGED_BY_LABEL


class Unknown:
    """The type of :data:`UNKNOWN`."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
"""A value the engine does not know during a preview (it depends on another resource's output)."""

MANAGED_BY_VALUE = COMMON_LABELS[MANAGED_BY_LABEL]

# ---- type tokens -----------------------------------------------------------------------------

_RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
CLUSTER_ROLE = f"{_RBAC}ClusterRole"
ROLE = f"{_RBAC}Role"
CLUSTER_ROLE_BINDING = f"{_RBAC}ClusterRoleBinding"
ROLE_BINDING = f"{_RBAC}RoleBinding"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
POD = "kubernetes:core/v1:Pod"
REPLICATION_CONTROLLER = "kubernetes:core/v1:ReplicationController"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE_ACCOUNT_IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
SERVICE_ACCOUNT_IAM_POLICY = "gcp:serviceaccount/iAMPolicy:IAMPolicy"

_KUBERNETES = "kubernetes:"
_LIST_SUFFIX = "List"
_PATCH_SUFFIX = "Patch"


# ---- readers ---------------------------------------------------------------------------------


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping; an empty mapping for a missing or unknown one."""
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Any]:
    """The elements of a list value; nothing for a missing or unknown list."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def strings(value: object) -> list[str]:
    """The string elements of a list value."""
    return [item for item in items(value) if isinstance(item, str)]


def text(value: object, default: str = "?") -> str:
    """``value`` if it is a string, else ``default`` (for messages)."""
    return value if isinstance(value, str) else default


def has_unknown(value: object) -> bool:
    """Whether ``value`` is, or contains at any depth, an unknown value."""
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return any(has_unknown(item) for item in value)
    return False


def metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("metadata"))


def name(props: Mapping[str, Any]) -> str:
    """The object's ``metadata.name`` (for messages)."""
    return text(metadata(props).get("name"), "(unnamed)")


def namespace(props: Mapping[str, Any]) -> str | Unknown | None:
    """The object's ``metadata.namespace``: a string, :data:`UNKNOWN`, or None when it is not set
    (the provider's default namespace)."""
    value: object = metadata(props).get("namespace")
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str) and value:
        return value
    return None


def labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(metadata(props).get("labels"))


def annotations_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(metadata(props).get("annotations"))


def is_managed(props: Mapping[str, Any]) -> bool:
    """Whether the object carries this package's managed-by label."""
    return labels(props).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


# ---- objects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """One object a rule checks: a resource, or one item of a ``*List`` resource."""

    type: str
    """The object's type token, without a ``Patch`` or ``List`` suffix."""
    props: Mapping[str, Any]
    protect: bool = False
    patch: bool = False
    """From a ``*Patch`` resource: fields it leaves out are not the object's."""
    where: str = ""
    """For an item of a list: ``item 2 of RoleBindingList x: ``, the prefix of its messages."""

    @property
    def kind(self) -> str:
        return self.type.rpartition(":")[2]

    @property
    def name(self) -> str:
        return name(self.props)


def _item_type(list_type: str, item: Mapping[str, Any]) -> str:
    """The type token of a list item: from its apiVersion and kind, else the list's item kind."""
    api_version, kind = item.get("apiVersion"), item.get("kind")
    if isinstance(api_version, str) and isinstance(kind, str) and api_version and kind:
        group, _, version = api_version.rpartition("/")
        return f"{_KUBERNETES}{group or 'core'}/{version}:{kind}"
    return list_type.removesuffix(_LIST_SUFFIX)


def expand(resource_type: str, props: Mapping[str, Any], protect: bool = False) -> list[Obj]:
    """The objects the rules check for one resource (see the module docstring).

    The items of a list whose ``items`` are not known yet are checked when they are (the engine
    runs the pack again on ``pulumi up``).
    """
    if resource_type.startswith(_KUBERNETES) and resource_type.endswith(_LIST_SUFFIX):
        list_kind = resource_type.rpartition(":")[2]
        objects = []
        for index, item in enumerate(items(props.get("items"))):
            item = mapping(item)
            item_type = _item_type(resource_type, item)
            base, patch = _without_patch(item_type)
            where = f"item {index} of {list_kind} {name(props)}: "
            objects.append(Obj(base, item, protect, patch, where))
        return objects
    base, patch = _without_patch(resource_type)
    return [Obj(base, props, protect, patch)]


def _without_patch(resource_type: str) -> tuple[str, bool]:
    if resource_type.startswith(_KUBERNETES) and resource_type.endswith(_PATCH_SUFFIX):
        return resource_type.removesuffix(_PATCH_SUFFIX), True
    return resource_type, False
