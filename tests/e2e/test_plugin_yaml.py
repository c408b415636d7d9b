"""End to end: the plugin package (plugin/) from another Pulumi language.

`pulumi package get-schema plugin` runs the plugin through the real engine and the Python language
host; the Pulumi YAML program in plugin/examples/yaml (the README's example) creates SystemRole
and a ConcurrentNamespace through it, with an explicit Kubernetes provider, on a local cluster.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_object_names,
)
from scripts.localcluster.cluster import CLUSTER_BINARIES, ClusterError, find_bin_dir
from scripts.localcluster.pulumi_project import E2E_BINARIES, STACK, PulumiProject, pulumi_env
from tests.support.cluster import Cluster
from tests.support.e2e_asserts import assert_namespace_objects
from tests.support.plugin import (
    NAMESPACE,
    PLUGIN_DIR,
    SYSTEM_ROLE,
    YAML_EXAMPLE_DIR,
    analyzed_schema,
    schema_summary,
)

pytestmark = pytest.mark.e2e

YAML_BINARIES = (*CLUSTER_BINARIES, *E2E_BINARIES, "pulumi-language-yaml")


@pytest.fixture(scope="module")
def yaml_toolchain() -> Path:
    """The toolchain with the YAML language host; missing binaries fail, never skip."""
    try:
        return find_bin_dir(YAML_BINARIES)
    except ClusterError as error:
        pytest.fail(f"the e2e toolchain is incomplete: {error}")


class YamlProject(PulumiProject):
    """plugin/examples/yaml/Pulumi.yaml copied to ``workdir``, its package path made absolute.

    Only ``packages.concurrent-infra`` changes: the example names the plugin folder relative to
    itself, and the copy lives elsewhere. Everything else (resources, options, outputs) is the
    README's program, byte for byte the same YAML data.
    """

    def __init__(self, workdir: Path, bin_dir: Path, cluster: Cluster) -> None:
        self.dir = workdir / "yaml-project"
        self.dir.mkdir(parents=True)
        self.kubeconfig = cluster.kubeconfig_path
        self.context = cluster.context
        self.program: dict[str, Any] = yaml.safe_load((YAML_EXAMPLE_DIR / "Pulumi.yaml").read_text())
        source = YAML_EXAMPLE_DIR / self.program["packages"]["concurrent-infra"]
        assert source.resolve() == PLUGIN_DIR, f"the example's package path {source} is not plugin/"
        copy = {**self.program, "packages": {"concurrent-infra": str(PLUGIN_DIR)}}
        (self.dir / "Pulumi.yaml").write_text(yaml.safe_dump(copy, sort_keys=False))
        self.env = pulumi_env(bin_dir, workdir, cluster.kubeconfig_path)
        self.run("stack", "init", STACK, "--secrets-provider", "passphrase", check=True)

    @property
    def stack_file(self) -> Path:
        return self.dir / f"Pulumi.{STACK}.yaml"

    def configure_yaml(self, **config: str) -> None:
        name = self.program["name"]
        stack = {"config": {f"{name}:{key}": value for key, value in config.items()}}
        self.stack_file.write_text(yaml.safe_dump(stack, sort_keys=False))


def test_get_schema_of_the_plugin_folder_is_the_analyzers_schema(
    yaml_toolchain: Path, tmp_path: Path
) -> None:
    """The CLI starts plugin/__main__.py through the Python language host (RunPlugin) and asks it
    for its schema: the same resources and types as the analyzer gives in-process."""
    completed = subprocess.run(
        ["pulumi", "package", "get-schema", str(PLUGIN_DIR), "--non-interactive"],
        cwd=tmp_path,
        env=pulumi_env(yaml_toolchain, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    schema = json.loads(completed.stdout)
    assert schema["name"] == "concurrent-infra"
    assert {SYSTEM_ROLE, NAMESPACE} <= set(schema["resources"])
    assert schema_summary(schema) == schema_summary(analyzed_schema())


def test_yaml_program_creates_the_reference_objects_and_exports_the_names(
    yaml_toolchain: Path, tmp_path: Path, cluster: Cluster
) -> None:
    project = YamlProject(tmp_path, yaml_toolchain, cluster)
    namespace = "yaml-team"
    project.configure_yaml(kubeContext=cluster.context, namespace=namespace)

    project.up()

    names = namespace_object_names(namespace)
    assert project.outputs() == {
        "namespaceName": namespace,
        "systemServiceAccountName": names.system_service_account,
        "userServiceAccountName": names.user_service_account,
    }

    binding = cluster.get("clusterrolebinding", SYSTEM_CLUSTER_ROLE_BINDING)
    assert cluster.get("clusterrole", SYSTEM_CLUSTER_ROLE) is not None
    assert binding is not None
    assert binding["roleRef"]["name"] == SYSTEM_CLUSTER_ROLE
    assert {(s["kind"], s["name"]) for s in binding["subjects"]} == {("Group", SYSTEM_GROUP)}

    namespace_object = cluster.get("namespace", namespace)
    assert namespace_object is not None
    assert namespace_object["metadata"]["labels"]["team"] == namespace
    assert_namespace_objects(cluster, namespace)

    # The components' children are in the YAML stack's state under the component, through the
    # explicit provider: a second preview has nothing to do.
    preview = project.preview("--expect-no-changes")
    assert preview.ok, preview.output

    # A bad argument from YAML stops the component's constructor in the plugin with the message
    # Python gets: the key, the bad value and the fix.
    project.configure_yaml(kubeContext=cluster.context, namespace="Team_A")
    bad = project.preview()
    assert not bad.ok, bad.output
    for part in ("args.namespace", '"Team_A"', "'team-a'"):
        assert part in bad.output, (part, bad.output)
