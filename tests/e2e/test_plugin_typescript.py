"""End to end: the plugin package (plugin/) from TypeScript, through the Node.js language host.

The TypeScript program in plugin/examples/typescript (the README's example) is copied without the
package: `pulumi package add plugin` generates its SDK (pkg/v3's Node.js generator in the
toolchain's `pulumi-language-nodejs`) and links it, `pulumi install` runs `npm install`, then
`pulumi up` runs the program with the SDK's own run entry point and ts-node, on a local cluster.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from concurrent_infra.kube.names import namespace_object_names
from scripts.localcluster.cluster import CLUSTER_BINARIES, ClusterError, find_bin_dir
from scripts.localcluster.pulumi_project import E2E_BINARIES, STACK, PulumiProject, pulumi_env
from tests.support.cluster import Cluster
from tests.support.e2e_asserts import assert_namespace_objects, assert_system_role
from tests.support.plugin import PLUGIN_DIR

pytestmark = pytest.mark.e2e

TYPESCRIPT_EXAMPLE_DIR = PLUGIN_DIR / "examples" / "typescript"
TYPESCRIPT_BINARIES = (*CLUSTER_BINARIES, *E2E_BINARIES, "pulumi-language-nodejs")
SDK_DEPENDENCY = "@pulumi/concurrent-infra"
# The example's own files; sdks/ and node_modules/ are generated.
EXAMPLE_FILES = ("index.ts", "tsconfig.json", "package-lock.json")


@pytest.fixture(scope="module")
def typescript_toolchain() -> Path:
    """The toolchain with the Node.js language host; missing binaries fail, never skip."""
    try:
        return find_bin_dir(TYPESCRIPT_BINARIES)
    except ClusterError as error:
        pytest.fail(f"the e2e toolchain is incomplete: {error}")


def example_package_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TYPESCRIPT_EXAMPLE_DIR / "package.json").read_text())
    return data


def example_project() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((TYPESCRIPT_EXAMPLE_DIR / "Pulumi.yaml").read_text())
    return data


class TypeScriptProject(PulumiProject):
    """plugin/examples/typescript copied to ``workdir`` as it is before `pulumi package add`: its
    Pulumi.yaml without ``packages`` and its package.json without the SDK's dependency."""

    def __init__(self, workdir: Path, bin_dir: Path, kubeconfig: str | None = None) -> None:
        self.dir = workdir / "typescript-project"
        self.dir.mkdir(parents=True)
        for name in EXAMPLE_FILES:
            if (TYPESCRIPT_EXAMPLE_DIR / name).exists():
                shutil.copy(TYPESCRIPT_EXAMPLE_DIR / name, self.dir / name)
        project = {key: value for key, value in example_project().items() if key != "packages"}
        (self.dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        package = example_package_json()
        package["dependencies"] = {k: v for k, v in package["dependencies"].items() if k != SDK_DEPENDENCY}
        (self.dir / "package.json").write_text(json.dumps(package, indent=4) + "\n")
        self.env = pulumi_env(bin_dir, workdir, kubeconfig)

    def init_stack(self, **config: str) -> None:
        self.run("stack", "init", STACK, "--secrets-provider", "passphrase", check=True)
        name = example_project()["name"]
        stack = {"config": {f"{name}:{key}": value for key, value in config.items()}}
        (self.dir / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))

    def package_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dir / "package.json").read_text())
        return data


@pytest.fixture(scope="module")
def installed(typescript_toolchain: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example after `pulumi package add <plugin>` and `pulumi install` (npm install)."""
    workdir = tmp_path_factory.mktemp("typescript")
    project = TypeScriptProject(workdir, typescript_toolchain)
    project.run("package", "add", str(PLUGIN_DIR), check=True)
    # --no-plugins: the Kubernetes provider @pulumi/kubernetes asks for (4.34.2) cannot be
    # downloaded here; the engine uses the toolchain's, found on PATH.
    project.run("install", "--no-plugins", check=True)
    yield project.dir


def test_package_add_generates_the_sdk_and_records_what_the_example_has(installed: Path) -> None:
    """`pulumi package add` records the plugin folder in Pulumi.yaml and links the generated SDK
    in package.json: the example's committed files are exactly that, with its relative path."""
    recorded = yaml.safe_load((installed / "Pulumi.yaml").read_text())
    assert recorded["packages"] == {"concurrent-infra": str(PLUGIN_DIR)}
    assert (
        TYPESCRIPT_EXAMPLE_DIR / example_project()["packages"]["concurrent-infra"]
    ).resolve() == PLUGIN_DIR
    package = json.loads((installed / "package.json").read_text())
    assert package["dependencies"] == example_package_json()["dependencies"]
    sdk = json.loads((installed / "sdks" / "concurrent-infra" / "package.json").read_text())
    assert sdk["name"] == SDK_DEPENDENCY
    # `pulumi install` ran npm install: the SDK is linked and compiled by its postinstall script.
    assert (installed / "node_modules" / SDK_DEPENDENCY).resolve() == installed / "sdks" / "concurrent-infra"
    assert (installed / "sdks" / "concurrent-infra" / "bin" / "index.js").is_file()


def copy_of(
    installed: Path, workdir: Path, bin_dir: Path, kubeconfig: str | None = None
) -> TypeScriptProject:
    """A project sharing ``installed``'s node_modules and SDK (one npm install for the module)."""
    project = TypeScriptProject(workdir, bin_dir, kubeconfig)
    for name in ("Pulumi.yaml", "package.json"):
        shutil.copy(installed / name, project.dir / name)
    for name in ("node_modules", "sdks"):
        (project.dir / name).symlink_to(installed / name)
    return project


def test_typescript_program_creates_the_reference_objects_then_nothing_then_destroy_keeps_namespaces(
    installed: Path, typescript_toolchain: Path, tmp_path: Path, cluster: Cluster
) -> None:
    project = copy_of(installed, tmp_path, typescript_toolchain, cluster.kubeconfig_path)
    namespace = "ts-team"
    project.init_stack(kubeContext=cluster.context, namespace=namespace)

    project.up()

    names = namespace_object_names(namespace)
    assert project.outputs() == {
        "namespaceName": namespace,
        "systemServiceAccountName": names.system_service_account,
        "userServiceAccountName": names.user_service_account,
    }
    assert_system_role(cluster)
    namespace_object = cluster.get("namespace", namespace)
    assert namespace_object is not None
    assert namespace_object["metadata"]["labels"]["team"] == namespace
    assert_namespace_objects(cluster, namespace)

    # Day 2: the same program again plans and does nothing.
    again = project.run("up", "--yes", "--expect-no-changes")
    assert again.ok, again.output

    # The namespace is protected: destroy stops; --exclude-protected leaves the namespace and its
    # objects in place, and with them the system role their system RoleBinding depends on.
    refused = project.run("destroy", "--yes")
    assert not refused.ok and "protected" in refused.output, refused.output
    project.run("destroy", "--yes", "--exclude-protected", check=True)
    assert_namespace_objects(cluster, namespace)
    assert_system_role(cluster)


def test_a_wrong_argument_name_fails_the_preview_with_the_typescript_error(
    installed: Path, typescript_toolchain: Path, tmp_path: Path
) -> None:
    """ts-node type-checks the program against the generated SDK before anything runs: no cluster
    is needed, the preview stops with TypeScript's own message."""
    project = copy_of(installed, tmp_path, typescript_toolchain)
    program = (TYPESCRIPT_EXAMPLE_DIR / "index.ts").read_text()
    assert "    namespace: namespace," in program
    (project.dir / "index.ts").write_text(
        program.replace("    namespace: namespace,", "    nameSpace: namespace,")
    )
    project.init_stack(kubeContext="unused")

    preview = project.preview()

    assert not preview.ok, preview.output
    for part in (
        "Unable to compile TypeScript",
        "index.ts",
        "error TS",
        "'nameSpace'",
        "ConcurrentNamespaceArgs",
    ):
        assert part in preview.output, (part, preview.output)
