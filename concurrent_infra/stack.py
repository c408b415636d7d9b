"""The stack program: read the stack config, build the components, export the outputs."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from .config import StackConfig, parse_stack_config
from .kube.adoption import adoption_transforms
from .kube.guard_probe import WaitForGuardArgs
from .kube.names import DIND_PRIORITY_CLASS
from .kube.namespace import ConcurrentNamespace
from .kube.system_role import SystemRole, SystemRoleArgs
from .mlflow_command import mlflow_test_command
from .shards import load_environment
from .stack_files import TARGET_KEYS, project_key, stack_config_dir
from .validation import PROJECT, ConfigError

if TYPE_CHECKING:
    from .gke.cluster import GkeCluster
    from .gke.cluster_config import GkeClusterArgs
    from .gke.control_plane import ControlPlaneAccount


GC_THRESHOLDS = (100_000, 50, 100)
"""Python's garbage collector thresholds while the stack program runs (default 700, 10, 10)."""


def tune_garbage_collector() -> None:
    """Collect garbage less often in this short-lived program: with Python's default a young
    collection runs every 700 allocations, and each one walks the thousands of live SDK objects of
    a large stack. Faster for 3% more memory (figures: docs/benchmarks.md, "What dominates"). A
    program of its own that creates hundreds of components can do the same."""
    gc.set_threshold(*GC_THRESHOLDS)


def project_config_values(project: str = PROJECT) -> dict[str, str]:
    """Every config value set for ``project`` (key without the ``project:`` prefix)."""
    everything = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values: dict[str, str] = {}
    for full_key, value in everything.items():
        if (key := project_key(full_key, project)) is not None:
            values[key] = value
    return values


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
class ExistingCluster:
    """The cluster to deploy onto, as the standard ``kubernetes:*`` provider config names it.

    ``render_yaml_to_directory`` (``kubernetes:renderYamlToDirectory``) turns on pulumi-kubernetes'
    render mode: every object's manifest is written to ``<dir>/1-manifest/`` (CustomResourceDefinitions
    to ``<dir>/0-crd/``), one file per object named ``<apiVersion>-<kind>-<namespace>-<name>.yaml``,
    and no cluster is touched (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go,
    ``renderYaml`` and ``renderPathForResource``). Outputs are the inputs: nothing the API server
    computes is known. Secret values would be written in plaintext (the provider warns); this
    package's objects hold none.
    """

    context: str | None = None
    cluster: str | None = None
    kubeconfig: pulumi.Input[str] | None = None
    render_yaml_to_directory: str | None = None

    SETTINGS = ("context", "cluster", "kubeconfig", "renderYamlToDirectory")

    @staticmethod
    def from_config(adopt_existing: bool = False) -> ExistingCluster:
        """Read ``kubernetes:context``, ``:cluster``, ``:kubeconfig`` and ``:renderYamlToDirectory``;
        warn about the rest. Render mode with ``adopt_existing`` is refused: adopting reads the live
        objects, and render mode has no cluster."""
        for key in sorted(set(project_config_values("kubernetes")) - set(ExistingCluster.SETTINGS)):
            pulumi.log.warn(
                f"kubernetes:{key} is ignored: this program builds its own provider from "
                "kubernetes:context, kubernetes:cluster and kubernetes:kubeconfig"
            )
        kubernetes = pulumi.Config("kubernetes")
        render = kubernetes.get("renderYamlToDirectory")
        if render is not None and not render.strip():
            raise pulumi.RunError(
                f"kubernetes:renderYamlToDirectory = {render!r}: an empty directory; fix: set a "
                "directory (pulumi config set kubernetes:renderYamlToDirectory rendered) or remove it"
            )
        if render and adopt_existing:
            raise pulumi.RunError(
                f"{PROJECT}:adoptExisting = true: adopting takes over objects that already exist in "
                f"the cluster, and render mode (kubernetes:renderYamlToDirectory = {render!r}) has no "
                f"cluster; fix: remove {PROJECT}:adoptExisting (the rendered files are applied by "
                "your GitOps tool, which takes over existing objects itself), or remove "
                "kubernetes:renderYamlToDirectory"
            )
        return ExistingCluster(
            context=kubernetes.get("context"),
            cluster=kubernetes.get("cluster"),
            kubeconfig=kubernetes.get_secret("kubeconfig"),
            render_yaml_to_directory=render,
        )

    def wait_for_guard(self) -> WaitForGuardArgs | None:
        """How SystemRole reaches this cluster to wait for the namespace guard: the provider's own
        settings; None in render mode (no cluster: the rendered files are applied elsewhere)."""
        if self.render_yaml_to_directory:
            return None
        wait: WaitForGuardArgs = {}
        if self.kubeconfig is not None:
            wait["kubeconfig"] = self.kubeconfig
        if self.context is not None:
            wait["context"] = self.context
        if self.cluster is not None:
            wait["cluster"] = self.cluster
        return wait

    def provider(self, name: str, adopt_existing: bool) -> k8s.Provider:
        """A provider for this cluster; ``adopt_existing``: see :mod:`concurrent_infra.kube.adoption`.

        In render mode the provider gets the directory alone: it refuses ``context`` and
        ``kubeconfig`` next to ``renderYamlToDirectory`` ("arg is not compatible", measured with
        pulumi-kubernetes 4.25), so they are not passed on (a warning says so), and the kubeconfig
        is an explicit empty string, as the Python SDK fills in ``$KUBECONFIG`` for a missing one."""
        if self.render_yaml_to_directory:
            for key, value in (
                ("context", self.context),
                ("cluster", self.cluster),
                ("kubeconfig", self.kubeconfig),
            ):
                if value is not None:
                    pulumi.log.warn(
                        f"kubernetes:{key} is not used in render mode: the provider writes the "
                        f"manifests to {self.render_yaml_to_directory!r} and contacts no cluster"
                    )
            # An explicit empty kubeconfig: left unset, the SDK would fill in $KUBECONFIG.
            return k8s.Provider(name, kubeconfig="", render_yaml_to_directory=self.render_yaml_to_directory)
        return k8s.Provider(
            name,
            context=self.context,
            cluster=self.cluster,
            kubeconfig=self.kubeconfig,
            upsert_existing_objects=adopt_existing,
        )


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
        args: SystemRoleArgs = {**config.system_role}
        args["extra_users"] = [*extra_system_users, *config.system_role.get("extra_users", [])]
        if wait_for_guard is not None:
            args["wait_for_guard"] = wait_for_guard
        system_role = SystemRole("system-role", args, opts)
    namespaces: dict[str, ConcurrentNamespace] = {}
    for namespace_args in config.namespace_args:
        if system_role is not None:
            namespace_args["system_role_name"] = system_role.cluster_role_name
        binding = namespace_args.get("namespaced_system_binding")
        if binding is not None:
            binding["users"] = [*extra_system_users, *binding.get("users", [])]
        name = namespace_args["namespace"]
        namespaces[name] = ConcurrentNamespace(name, namespace_args, opts)
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


def refuse_render_with_a_cluster() -> None:
    """A stack that creates a GKE cluster cannot render manifests instead: refuse, do not ignore."""
    render = pulumi.Config("kubernetes").get("renderYamlToDirectory")
    if render:
        raise pulumi.RunError(
            f"kubernetes:renderYamlToDirectory = {render!r}: this stack creates a GKE cluster "
            f"({PROJECT}:cluster), and render mode writes manifests instead of deploying; fix: render "
            "from a stack without a cluster (its namespaces), or remove kubernetes:renderYamlToDirectory"
        )


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
        from .gke.cluster import GkeCluster
        from .gke.cluster_config import control_plane_email
        from .gke.control_plane import ControlPlaneAccount

        gke_args: GkeClusterArgs = config.cluster.args
        gke = GkeCluster("gke", {**gke_args, "adopt_existing": config.adopt_existing})
        control_plane = None
        users: tuple[str, ...] = ()
        if config.cluster.control_plane is not None:
            account = config.cluster.control_plane
            # Same resource names as when GkeCluster owned the account, plus an alias to that
            # parent: stacks created by earlier releases keep their account, grants and key.
            control_plane = ControlPlaneAccount("gke-control-plane", account, moved_from=gke)
            users = (control_plane_email(account),)
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
