"""The plugin package's schema, as the Python SDK's analyzer infers it from the components.

``plugin/__main__.py`` hands its components to ``component_provider_host``, which builds a
``ComponentProvider``: that runs the analyzer (``pulumi.provider.experimental.analyzer``) over each
component's ``args`` annotation and output annotations and serves the resulting schema. These
tests build the same provider from the same list, so they check the schema every other language
sees (`pulumi package get-schema plugin` gives it too: tests/e2e/test_plugin_yaml.py), and build
components from schema-spelled inputs the way the provider's ``construct`` does.
"""

import json
from typing import Any

import yaml
from pulumi.provider.experimental.component import ComponentProvider

from concurrent_infra import ConcurrentNamespace
from concurrent_infra.gke.cluster import GkeCluster
from tests.support.mocks import run_program
from tests.support.plugin import (
    NAMESPACE,
    PLUGIN_DIR,
    REPO_ROOT,
    SYSTEM_ROLE,
    YAML_EXAMPLE_DIR,
    analyzed_schema,
    plugin_module,
)

GKE_CLUSTER = "concurrent-infra:index:GkeCluster"
CONTROL_PLANE = "concurrent-infra:index:ControlPlaneAccount"


def resource(token: str) -> dict[str, Any]:
    resources = analyzed_schema()["resources"]
    assert token in resources, f"{token} is not in the schema; it has {sorted(resources)}"
    spec: dict[str, Any] = resources[token]
    return spec


def test_package_name_and_version_are_the_python_packages() -> None:
    schema = analyzed_schema()
    assert schema["name"] == "concurrent-infra"
    assert schema["version"] == plugin_module().PACKAGE_VERSION
    assert plugin_module().PACKAGE_VERSION.count(".") == 2


def test_tokens_are_the_ones_the_components_register() -> None:
    resources = analyzed_schema()["resources"]
    assert set(resources) == {SYSTEM_ROLE, NAMESPACE, GKE_CLUSTER, CONTROL_PLANE}
    assert all(token.startswith("concurrent-infra:index:") for token in resources)
    assert all(spec["isComponent"] is True for spec in resources.values())


def test_system_role_inputs_are_optional_lists_of_strings_and_its_output_is_the_role_name() -> None:
    spec = resource(SYSTEM_ROLE)
    inputs = spec["inputProperties"]
    assert {"extraUsers", "extraGroups"} <= set(inputs)
    for key in ("extraUsers", "extraGroups"):
        assert inputs[key]["type"] == "array", inputs[key]
        assert inputs[key]["items"]["type"] == "string", inputs[key]
    assert spec.get("requiredInputs", []) == []
    assert spec["properties"] == {"clusterRoleName": spec["properties"]["clusterRoleName"]}
    assert spec["properties"]["clusterRoleName"]["type"] == "string"
    assert spec["required"] == ["clusterRoleName"]


def test_namespace_requires_only_the_namespace_name_a_plain_string() -> None:
    spec = resource(NAMESPACE)
    inputs = spec["inputProperties"]
    assert spec["requiredInputs"] == ["namespace"]
    # Plain: every object name derives from it while the program runs, so it cannot be an Output.
    assert inputs["namespace"] == {**inputs["namespace"], "type": "string", "plain": True}


def test_namespace_optional_inputs_have_their_types() -> None:
    inputs = resource(NAMESPACE)["inputProperties"]
    expected_types = {
        "labels": "object",
        "annotations": "object",
        "protect": "boolean",
        "systemRoleName": "string",
        "podSecurity": "string",
    }
    missing = set(expected_types) - set(inputs)
    assert not missing, f"inputs missing from the schema: {sorted(missing)}; it has {sorted(inputs)}"
    for key, type_ in expected_types.items():
        assert inputs[key]["type"] == type_, (key, inputs[key])
    for key in ("labels", "annotations"):
        assert inputs[key]["additionalProperties"]["type"] == "string", inputs[key]
    # An Output is accepted where the value is not needed to name objects.
    assert not inputs["systemRoleName"].get("plain", False)


def test_namespace_outputs_are_the_three_names() -> None:
    spec = resource(NAMESPACE)
    outputs = {"namespaceName", "systemServiceAccountName", "userServiceAccountName"}
    assert set(spec["properties"]) == outputs
    assert set(spec["required"]) == outputs
    assert all(spec["properties"][key]["type"] == "string" for key in outputs)


def test_gke_cluster_requires_name_location_project_and_outputs_what_a_program_needs() -> None:
    spec = resource(GKE_CLUSTER)
    assert sorted(spec["requiredInputs"]) == ["location", "name", "project"]
    inputs = spec["inputProperties"]
    assert {"releaseChannel", "nodePools"} <= set(inputs)
    assert inputs["nodePools"].get("$ref", "").startswith("#/types/concurrent-infra:index:"), inputs
    outputs = {"clusterName", "location", "locationType", "project", "endpoint", "kubeconfig"}
    # ``provider`` is Python-only: another language builds its own provider from ``kubeconfig``.
    assert set(spec["properties"]) == outputs
    assert set(spec["required"]) == outputs
    assert all(spec["properties"][key]["type"] == "string" for key in outputs)


def test_schema_needs_no_other_package() -> None:
    """No input or output is another package's type, so no SDK of another package is generated."""
    assert analyzed_schema().get("dependencies", []) == []
    assert "#/types/" not in json.dumps(analyzed_schema()).replace("#/types/concurrent-infra:", "")


def test_every_component_input_and_output_is_described() -> None:
    undocumented = []
    for token, spec in analyzed_schema()["resources"].items():
        if not spec.get("description", "").strip():
            undocumented.append(token)
        for section in ("inputProperties", "properties"):
            for key, prop in spec.get(section, {}).items():
                if not prop.get("description", "").strip():
                    undocumented.append(f"{token} {section}.{key}")
    assert undocumented == []


def test_types_of_nested_inputs_are_described_and_in_the_package() -> None:
    for token, spec in analyzed_schema().get("types", {}).items():
        assert token.startswith("concurrent-infra:index:"), token
        for key, prop in spec.get("properties", {}).items():
            assert prop.get("description", "").strip(), f"{token}.{key} has no description"


def test_plugin_runs_on_python_with_the_repositorys_virtualenv() -> None:
    plugin = yaml.safe_load((PLUGIN_DIR / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    virtualenv = PLUGIN_DIR / plugin["runtime"]["options"]["virtualenv"]
    assert virtualenv.resolve() == (REPO_ROOT / ".venv").resolve()


def test_yaml_example_uses_only_what_the_schema_declares() -> None:
    """The README's YAML program (run by the e2e suite) refers to this plugin folder and uses only
    tokens, inputs and outputs that exist, with every required input set."""
    program = yaml.safe_load((YAML_EXAMPLE_DIR / "Pulumi.yaml").read_text())
    assert program["runtime"] == "yaml"
    assert (YAML_EXAMPLE_DIR / program["packages"]["concurrent-infra"]).resolve() == PLUGIN_DIR
    used = {
        name: decl
        for name, decl in program["resources"].items()
        if decl["type"].startswith("concurrent-infra:")
    }
    assert {decl["type"] for decl in used.values()} == {SYSTEM_ROLE, NAMESPACE}
    for name, decl in used.items():
        spec = resource(decl["type"])
        properties = decl.get("properties", {})
        assert set(properties) <= set(spec["inputProperties"]), name
        assert set(spec.get("requiredInputs", [])) <= set(properties), name
        # Through an explicit Kubernetes provider, never the ambient default one.
        assert decl["options"]["providers"] == ["${cluster}"], name
    assert program["resources"]["cluster"]["type"] == "pulumi:providers:kubernetes"
    namespace_outputs = set(resource(NAMESPACE)["properties"])
    for key, expression in program["outputs"].items():
        assert key in namespace_outputs and expression == f"${{team.{key}}}", (key, expression)
    assert "userServiceAccountName" in program["outputs"]


def test_readme_shows_the_yaml_program_the_e2e_suite_runs() -> None:
    readme = (REPO_ROOT / "docs" / "components.md").read_text()
    section = readme.split("## Use from TypeScript, Go, C# or YAML", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load(block)
    program = yaml.safe_load((YAML_EXAMPLE_DIR / "Pulumi.yaml").read_text())
    program.pop("description", None)
    assert shown == program


def plugin_args(component: str, inputs: dict[str, Any]) -> Any:
    """The args the plugin hands ``component``'s constructor for the schema-spelled ``inputs``:
    what ``ComponentProvider.construct`` does with a program's inputs (camelCase to the TypedDict's
    snake_case keys, nested types included)."""
    plugin = plugin_module()
    provider = ComponentProvider(plugin.COMPONENTS, plugin.PACKAGE_NAME, version=plugin.PACKAGE_VERSION)
    return provider.map_inputs(inputs, provider._component_defs[component])


def test_namespace_built_from_schema_inputs_gets_every_setting() -> None:
    args = plugin_args(
        "ConcurrentNamespace",
        {
            "namespace": "team-a",
            "labels": {"team": "a"},
            "protect": False,
            "podSecurity": "restricted",
            "systemRoleName": "k8s-role-for-parallels-lambda",
            "containerDefaults": {"requests": {"cpu": "500m"}},
        },
    )
    assert args["system_role_name"] == "k8s-role-for-parallels-lambda"
    _, run = run_program(lambda: ConcurrentNamespace("team-a", args))
    namespace = run.named("kubernetes:core/v1:Namespace", "team-a")
    assert namespace.inputs["metadata"]["labels"]["team"] == "a"
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not namespace.protect
    limit_range = run.named("kubernetes:core/v1:LimitRange", "concurrent-container-defaults")
    assert limit_range.inputs["spec"]["limits"] == [{"type": "Container", "defaultRequest": {"cpu": "500m"}}]


def test_gke_cluster_built_from_schema_inputs_gets_the_pools_and_nested_settings() -> None:
    args = plugin_args(
        "GkeCluster",
        {
            "name": "ml",
            "location": "us-central1",
            "project": "my-project",
            "nodePools": {"cpu": {"machineType": "e2-standard-8", "maxNodes": 3}},
            "maintenanceExclusions": [
                {"name": "training", "startTime": "2026-12-20T00:00:00Z", "endTime": "2026-12-21T00:00:00Z"}
            ],
        },
    )
    _, run = run_program(lambda: GkeCluster("ml", args))
    pools = {r.name: r.inputs for r in run.of_type("gcp:container/nodePool:NodePool")}
    assert set(pools) == {"ml-components-pool", "ml-system-pool", "ml-cpu-pool"}
    assert pools["ml-cpu-pool"]["nodeConfig"]["machineType"] == "e2-standard-8"
    assert pools["ml-cpu-pool"]["autoscaling"]["totalMaxNodeCount"] == 3
    (cluster,) = run.of_type("gcp:container/cluster:Cluster")
    (exclusion,) = cluster.inputs["maintenancePolicy"]["maintenanceExclusions"]
    assert exclusion["exclusionName"] == "training"
