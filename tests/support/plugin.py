"""The plugin package's paths, its analyzed schema and the environment its examples run in, shared by
the plugin tests."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

REPO_ROOT = Path(__file__).resolve().parents[2]

PLUGIN_DIR = REPO_ROOT / "plugin"

YAML_EXAMPLE_DIR = PLUGIN_DIR / "examples" / "yaml"

SYSTEM_ROLE = "concurrent-infra:index:SystemRole"

NAMESPACE = "concurrent-infra:index:ConcurrentNamespace"


@cache
def plugin_module() -> ModuleType:
    """``plugin/__main__.py`` imported under another name, so it defines but does not serve."""
    spec = importlib.util.spec_from_file_location("concurrent_infra_plugin", PLUGIN_DIR / "__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def analyzed_schema() -> dict[str, Any]:
    """The schema the plugin serves: the analyzer's, through the SDK's component provider."""
    plugin = plugin_module()
    provider = ComponentProvider(plugin.COMPONENTS, plugin.PACKAGE_NAME, version=plugin.PACKAGE_VERSION)
    assert provider.schema is not None
    schema: dict[str, Any] = json.loads(provider.schema)
    return schema


def _property_summary(prop: dict[str, Any]) -> dict[str, Any]:
    """What a property means: its type (or reference), plainness, element types and description."""
    summary = {key: prop.get(key) for key in ("type", "$ref", "plain", "description", "secret")}
    for nested in ("items", "additionalProperties"):
        if nested in prop:
            summary[nested] = {key: prop[nested].get(key) for key in ("type", "$ref", "plain")}
    return summary


def _object_summary(spec: dict[str, Any], inputs: str, required_inputs: str) -> dict[str, Any]:
    return {
        "description": spec.get("description"),
        "inputs": {key: _property_summary(p) for key, p in spec.get(inputs, {}).items()},
        "required_inputs": sorted(spec.get(required_inputs, [])),
    }


def schema_summary(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema's meaning, independent of how it was serialized. The CLI re-encodes the provider's
    schema through its own types (dropping, e.g., the descriptions the analyzer repeats on list
    items and empty ``requiredInputs``), so `pulumi package get-schema` is compared through this."""
    return {
        "name": schema["name"],
        "version": schema.get("version"),
        "resources": {
            token: {
                "isComponent": spec.get("isComponent", False),
                **_object_summary(spec, "inputProperties", "requiredInputs"),
                "outputs": _object_summary(spec, "properties", "required"),
            }
            for token, spec in schema.get("resources", {}).items()
        },
        "types": {
            token: _object_summary(spec, "properties", "required")
            for token, spec in schema.get("types", {}).items()
        },
        "functions": sorted(schema.get("functions", {})),
    }
