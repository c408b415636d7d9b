"""The cluster the stack deploys onto when it creates none: the standard ``kubernetes:*`` provider
config, render mode included, and the program's own config values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..kube.guard_probe import WaitForGuardArgs
from ..validation import PROJECT
from .stack_files import project_key


def project_config_values(project: str = PROJECT) -> dict[str, str]:
    """Every config value set for ``project`` (key without the ``project:`` prefix)."""
    everything = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values: dict[str, str] = {}
    for full_key, value in everything.items():
        if (key := project_key(full_key, project)) is not None:
            values[key] = value
    return values


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


def refuse_render_with_a_cluster() -> None:
    """A stack that creates a GKE cluster cannot render manifests instead: refuse, do not ignore."""
    render = pulumi.Config("kubernetes").get("renderYamlToDirectory")
    if render:
        raise pulumi.RunError(
            f"kubernetes:renderYamlToDirectory = {render!r}: this stack creates a GKE cluster "
            f"({PROJECT}:cluster), and render mode writes manifests instead of deploying; fix: render "
            "from a stack without a cluster (its namespaces), or remove kubernetes:renderYamlToDirectory"
        )
