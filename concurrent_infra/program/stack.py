"""The stack program: read the stack config, build the components, export the outputs."""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi

from ..kube.adoption import adoption_transforms
from ..kube.guard_probe import WaitForGuardArgs
from ..kube.names import DIND_PRIORITY_CLASS
from ..kube.namespace import ConcurrentNamespace
from ..kube.system_role import SystemRole
from ..validation import ConfigError
from .config import StackConfig, parse_stack_config
from .mlflow_command import mlflow_test_command
from .shards import load_environment
from .stack_files import TARGET_KEYS, stack_config_dir
from .target_cluster import ExistingCluster, project_config_values, refuse_render_with_a_cluster

if TYPE_CHECKING:
    from ..gke.cluster import GkeCluster
    from ..gke.control_plane import ControlPlaneAccount


GC_THRESHOLDS = (100_000, 50, 100)
"""Python's garbage collector thresholds while the stack program runs (default 700, 10, 10)."""


def tune_garbage_collector() -> None:
    """Collect garbage less often in this short-lived program: with Python's default a young
    collection runs every 700 allocations, and each one walks the thousands of live SDK objects of
    a large stack. Faster for 3% more memory (figures: docs/benchmarks.md, "What dominates"). A
    program of its own that creates hundreds of components can do the same."""
    gc.set_threshold(*GC_THRESHOLDS)


def load_stack_config() -> StackConfig:
    """Parse this stack's config, and check it against the other shards' stack files when it lists
    ``shards``; a mistake stops the program before anything is registered."""
    try:
        config = parse_stack_config(project_config_values(), gcp_project=pulumi.Config("gcp").get("project"))
        if config.shards:
            directory = stack_config_dir(Path(pulumi.get_root_directory()))
            kubernetes = project_config_values("kubernetes")
            target = {key: kubernetes[key] for key in TARGET_KEYS if key in kubernetes}
            config = load_environment(pulumi.get_stack(), config, directory, target)
        return config
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None


@dataclass(frozen=True)
class ConcurrentDeployment:
    """What :func:`deploy` built, and the stack outputs derived from it."""

    system_role: SystemRole | None
    namespaces: dict[str, ConcurrentNamespace]
    outputs: dict[str, Any]


def deploy(
    config: StackConfig,
    provider: pulumi.ProviderResource,
    kube_context: str | None = None,
    extra_system_users: tuple[str, ...] = (),
    wait_for_guard: WaitForGuardArgs | None = None,
) -> ConcurrentDeployment:
    """Create the system role (when configured) and every namespace on ``provider``;
    ``wait_for_guard`` reaches the provider's cluster (SystemRole's ``wait_for_guard``)."""
    opts = pulumi.ResourceOptions(provider=provider, transforms=adoption_transforms(config.adopt_existing))
    system_role = None
    if config.system_role is not None:
        role = config.system_role
        role = replace(role, users=(*extra_system_users, *role.users), wait_for_guard=wait_for_guard)
        system_role = SystemRole.from_settings("system-role", role, opts)
    namespaces: dict[str, ConcurrentNamespace] = {}
    for settings in config.namespaces:
        binding = settings.namespaced_system_binding
        if binding is not None and extra_system_users:
            binding = replace(binding, users=(*extra_system_users, *binding.users))
            settings = replace(settings, namespaced_system_binding=binding)
        namespaces[settings.namespace] = ConcurrentNamespace.from_settings(
            settings.namespace,
            settings,
            opts,
            system_role_name=system_role.cluster_role_name if system_role is not None else None,
        )
    outputs: dict[str, Any] = {
        "namespaces": list(namespaces),
        "serviceAccounts": {
            name: {
                "system": component.system_service_account_name,
                "user": component.user_service_account_name,
            }
            for name, component in namespaces.items()
        },
        "testCommands": {name: mlflow_test_command(name, kube_context) for name in namespaces},
    }
    return ConcurrentDeployment(system_role=system_role, namespaces=namespaces, outputs=outputs)


def gke_outputs(gke: GkeCluster, control_plane: ControlPlaneAccount | None = None) -> dict[str, Any]:
    """What Concurrent's control plane needs to reach the new cluster (secrets stay secret)."""
    outputs: dict[str, Any] = {
        "clusterName": gke.cluster_name,
        "clusterLocation": gke.location,
        "clusterLocationType": gke.location_type,
        "clusterProject": gke.project,
        "clusterEndpoint": gke.endpoint,
        "kubeconfig": gke.kubeconfig,
    }
    if control_plane is not None:
        outputs["controlPlaneServiceAccountEmail"] = control_plane.email
        if control_plane.private_key is not None:
            outputs["controlPlaneServiceAccountKey"] = control_plane.key
    return outputs


def warn_about_a_missing_priority_class(config: StackConfig) -> None:
    """DinD pods need the PriorityClass the system role's stack creates; say so when this stack
    does not create it and is not a shard (the shard with the system role creates it for all)."""
    dind = [settings.namespace for settings in config.namespaces if settings.dind]
    if dind and config.system_role is None and not config.shards:
        pulumi.log.warn(
            f"Docker-in-Docker in {', '.join(dind)} needs PriorityClass {DIND_PRIORITY_CLASS}, which "
            "the stack that creates the system role makes when one of its namespaces has dind; "
            "without it the docker-dind pods are refused and the Deployment never becomes ready"
        )


def main() -> None:
    """The program of this project's stacks (``__main__.py`` calls it)."""
    tune_garbage_collector()
    config = load_stack_config()
    warn_about_a_missing_priority_class(config)
    if config.cluster is None:
        cluster = ExistingCluster.from_config(adopt_existing=config.adopt_existing)
        provider = cluster.provider("kubernetes", adopt_existing=config.adopt_existing)
        deployment = deploy(
            config, provider, kube_context=cluster.context, wait_for_guard=cluster.wait_for_guard()
        )
        outputs = deployment.outputs
    else:
        refuse_render_with_a_cluster()
        # pulumi-gcp only for stacks that need it
        from ..gke.cluster import GkeCluster
        from ..gke.control_plane import ControlPlaneAccount

        cluster_settings = replace(config.cluster.settings, adopt_existing=config.adopt_existing)
        gke = GkeCluster.from_settings("gke", cluster_settings)
        control_plane = None
        users: tuple[str, ...] = ()
        if config.cluster.control_plane is not None:
            account = config.cluster.control_plane
            # Same resource names as when GkeCluster owned the account, plus an alias to that
            # parent: stacks created by earlier releases keep their account, grants and key.
            control_plane = ControlPlaneAccount.from_settings("gke-control-plane", account, moved_from=gke)
            users = (account.email,)
        deployment = deploy(
            config,
            gke.provider,
            kube_context=config.cluster.name,
            extra_system_users=users,
            wait_for_guard={"kubeconfig": gke.kubeconfig},
        )
        outputs = {**gke_outputs(gke, control_plane), **deployment.outputs}
    for key, value in outputs.items():
        pulumi.export(key, value)
