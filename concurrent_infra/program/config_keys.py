"""The config keys of this project: their one home.

The stack config parser reads exactly these keys; the key table of ``docs/configuration.md`` and
the config section of ``Pulumi.yaml`` (its comment, and the typed declarations of the boolean
keys) are rendered from them, and a test keeps those files equal to the rendering. Pure.
"""

import textwrap
from dataclasses import dataclass

from ..validation import PROJECT, KeyStyle


@dataclass(frozen=True)
class ConfigKey:
    """One ``concurrent-infra:*`` key."""

    field: str
    """The key as the parser reads it (snake_case)."""
    type: str
    """What it holds, as the docs say it (``boolean``, ``list (required)``, ...)."""
    default: str
    """Its default as written in a stack file; empty when unset means none."""
    meaning: str
    """What it does: the docs table's text (Markdown)."""
    summary: str
    """One plain line: ``Pulumi.yaml``'s comment, or the description of a declared key."""
    declared: bool = False
    """Typed in ``Pulumi.yaml`` (its project schema types only scalars and lists of them; the
    structured keys are described in its comment)."""

    @property
    def name(self) -> str:
        """The key as a stack file spells it (camelCase, without the ``concurrent-infra:`` prefix)."""
        return KeyStyle.CAMEL.spell(self.field)


NAMESPACE_OBJECT = (
    "{name, labels?, annotations?, protect?, podSecurity?, quota?, containerDefaults?, "
    "workloadIdentity?, networkIsolation?, dind?}"
)

CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "namespaces",
        "list (required)",
        "",
        f"namespace names, or objects `{NAMESPACE_OBJECT}`; labels and annotations go on the "
        "Namespace object",
        f"namespace names, or objects {NAMESPACE_OBJECT}; e.g. pulumi config set --path "
        f"'{PROJECT}:namespaces[0]' parallelsns",
    ),
    ConfigKey(
        "create_system_role",
        "boolean",
        "true",
        "create the cluster-wide role; `false` for a second stack on the same cluster",
        "Create the cluster-wide ClusterRole k8s-role-for-parallels-lambda and its binding. Set false "
        "for a second stack that targets the same cluster.",
        declared=True,
    ),
    ConfigKey(
        "adopt_existing",
        "boolean",
        "false",
        "adopt objects that already exist (a cluster prepared by hand)",
        "Adopt objects that already exist (a cluster prepared by hand with the manual procedure) "
        "instead of failing with AlreadyExists.",
        declared=True,
    ),
    ConfigKey(
        "protect_namespaces",
        "boolean",
        "true",
        "the default of each namespace's `protect`",
        "Default for each namespace's protect. A protected Namespace is never deleted by pulumi up "
        "or pulumi destroy.",
        declared=True,
    ),
    ConfigKey(
        "pod_security",
        "string",
        "baseline",
        "the default Pod Security level of each namespace: `restricted`, `baseline` or `privileged` "
        "(see [Security model](security-model.md))",
        "restricted | baseline (default) | privileged, for every namespace.",
    ),
    ConfigKey(
        "system_role_users",
        "list",
        "[]",
        "extra `User` subjects of the system binding (e.g. a Google service account email); never `system:*`",
        "extra users (e.g. Google service account emails) of the system role; never system:*.",
    ),
    ConfigKey(
        "system_role_groups",
        "list",
        "[]",
        "extra `Group` subjects of the system binding; never `system:*`",
        "extra groups of the system role; never system:*.",
    ),
    ConfigKey(
        "system_role_scope",
        "string",
        "cluster",
        "`cluster`: the system group and users are bound cluster-wide, as upstream; `namespaces`: "
        "only in each managed namespace (the narrower option, see [Security model](security-model.md))",
        "cluster (default) | namespaces (the narrower binding; docs/security-model.md).",
    ),
    ConfigKey(
        "quota",
        "map",
        "",
        "the default of every namespace's `quota`, a ResourceQuota's hard limits (see "
        "[Quotas and container defaults](tenancy.md#quotas-and-container-defaults))",
        "the default of every namespace's quota.",
    ),
    ConfigKey(
        "container_defaults",
        "object",
        "",
        "the default of every namespace's `containerDefaults`, a LimitRange (see "
        "[Quotas and container defaults](tenancy.md#quotas-and-container-defaults))",
        "the default of every namespace's containerDefaults.",
    ),
    ConfigKey(
        "network_isolation",
        "boolean",
        "false",
        "the default of every namespace's `networkIsolation` (see "
        "[Network isolation](tenancy.md#network-isolation))",
        "the default of every namespace's networkIsolation (ingress only from its own pods).",
    ),
    ConfigKey(
        "cluster",
        "object",
        "",
        "create a GKE cluster and deploy onto it (see [GKE](gke.md))",
        "a GKE cluster to create (docs/gke.md).",
    ),
    ConfigKey(
        "shards",
        "list",
        "",
        "the stacks of this project that split one cluster's namespaces, this one included: each "
        "lists the same stacks, exactly one creates the system role, no namespace is in two (see "
        "[Sharding](operations.md#sharding))",
        "the stacks that split one cluster's namespaces, this one included (docs/operations.md).",
    ),
)
"""Every ``concurrent-infra:*`` key, in the order the docs list them."""

TOP_LEVEL_FIELDS = tuple(key.field for key in CONFIG_KEYS)
"""The keys as the parser reads them."""

OTHER_KEY_ROWS = (
    "| `kubernetes:context`, `kubernetes:kubeconfig`, `kubernetes:cluster` | string | current context "
    "| the target cluster, when the stack creates none (other `kubernetes:*` keys are ignored, with a "
    "warning: the program builds its own provider) |",
    "| `kubernetes:renderYamlToDirectory` | string | none | write manifests to this directory instead "
    "of deploying (see [GitOps: rendering manifests](operations.md#gitops-rendering-manifests)); "
    "refused with `adoptExisting` and with a `cluster` |",
    "| `gcp:project` | string | none | the default project of `cluster` and of each namespace's "
    "`workloadIdentity` |",
)
"""The other providers' keys the program reads, documented beside ours."""


def key_table() -> str:
    """The docs' table of config keys (Markdown)."""
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key in CONFIG_KEYS:
        default = f"`{key.default}`" if key.default else "none"
        rows.append(f"| `{PROJECT}:{key.name}` | {key.type} | {default} | {key.meaning} |")
    return "\n".join([*rows, *OTHER_KEY_ROWS]) + "\n"


COMMENT_WIDTH = 100


def pulumi_yaml_config() -> str:
    """``Pulumi.yaml``'s config section: a comment on every key, then the typed boolean keys."""
    lines = [
        "# Config keys of this project (rendered from concurrent_infra/program/config_keys.py; a test keeps",
        "# this in step). Pulumi's project schema types only strings, integers, booleans and arrays",
        "# of those, so the scalar keys it declares are below; the program validates all of them.",
    ]
    for key in CONFIG_KEYS:
        if not key.declared:
            lines += textwrap.wrap(
                f"{key.name} ({key.type}): {key.summary}",
                width=COMMENT_WIDTH,
                initial_indent="#   ",
                subsequent_indent="#       ",
                break_on_hyphens=False,
            )
    lines += [
        "# The target cluster is the standard kubernetes:context / kubernetes:kubeconfig /",
        "# kubernetes:cluster provider config.",
        "config:",
    ]
    for key in CONFIG_KEYS:
        if key.declared:
            lines += [
                f"  {PROJECT}:{key.name}:",
                "    type: boolean",
                f"    default: {key.default}",
                f"    description: {key.summary}",
            ]
    return "\n".join(lines) + "\n"
