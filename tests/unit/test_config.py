import json
from pathlib import Path

import pytest
import yaml

from concurrent_infra.kube.namespace_settings import NamespaceSettings
from concurrent_infra.kube.system_role import SystemRoleSettings
from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.program.config_keys import CONFIG_KEYS, key_table, pulumi_yaml_config


def ns(value: object) -> dict[str, str]:
    return {"namespaces": json.dumps(value)}


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return caught.value.problems


def only_problem(raw: dict[str, str]) -> str:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


def test_plain_names_take_the_defaults() -> None:
    config = parse_stack_config(ns(["parallelsns", "team-b"]))
    assert config.namespaces == (
        NamespaceSettings(namespace="parallelsns"),
        NamespaceSettings(namespace="team-b"),
    )
    assert config.system_role == SystemRoleSettings(
        users=(), groups=(), cluster_wide_binding=True, namespace_guard=True, dind_priority_class=False
    )
    assert config.adopt_existing is False


def test_objects_carry_labels_annotations_and_protect() -> None:
    config = parse_stack_config(
        {
            **ns(
                [{"name": "ml", "labels": {"team": "a"}, "annotations": {"owner": "x y"}, "protect": False}]
            ),
            "adoptExisting": "true",
            "systemRoleUsers": json.dumps(["ctrl@p.iam.gserviceaccount.com"]),
        }
    )
    assert config.namespaces == (
        NamespaceSettings(namespace="ml", labels={"team": "a"}, annotations={"owner": "x y"}, protect=False),
    )
    assert config.adopt_existing is True
    assert config.system_role is not None
    assert config.system_role.users == ("ctrl@p.iam.gserviceaccount.com",)
    assert parse_stack_config({**ns(["ml"]), "createSystemRole": "false"}).system_role is None


def test_protect_namespaces_sets_the_default_and_entries_override_it() -> None:
    config = parse_stack_config({**ns(["a", {"name": "b", "protect": True}]), "protectNamespaces": "false"})
    assert [spec.protect for spec in config.namespaces] == [False, True]


def test_missing_namespaces_is_refused_with_how_to_set_it() -> None:
    message = only_problem({})
    assert "concurrent-infra:namespaces" in message and "required" in message
    assert "pulumi config set --path 'concurrent-infra:namespaces[0]' parallelsns" in message


def test_a_string_where_the_list_belongs_says_how_to_set_a_list() -> None:
    message = only_problem({"namespaces": "parallelsns"})
    assert '"parallelsns"' in message and "where a list belongs" in message
    assert "pulumi config set --path 'concurrent-infra:namespaces[0]' parallelsns" in message


@pytest.mark.parametrize("value", [{"name": "a"}, 5, True])
def test_wrong_type_for_namespaces(value: object) -> None:
    assert "expected a list" in only_problem(ns(value))


def test_empty_list_is_refused() -> None:
    assert "empty" in only_problem(ns([]))


@pytest.mark.parametrize(
    ("name", "why", "suggestion"),
    [
        ("Parallels", "DNS-1123", "parallels"),
        ("parallels_ns", "DNS-1123", "parallels-ns"),
        ("", "empty", "parallelsns"),
        ("a" * 64, "64 characters", "a" * 63),
        ("kube-system", "reserved", "concurrent-kube-system"),
        ("kube-public", "reserved", "concurrent-kube-public"),
        ("kube-node-lease", "reserved", "concurrent-kube-node-lease"),
    ],
)
def test_bad_namespace_names_name_key_value_and_fix(name: str, why: str, suggestion: str) -> None:
    message = only_problem(ns(["ok", name]))
    assert message.startswith(f"concurrent-infra:namespaces[1] = {json.dumps(name)}:")
    assert why in message and f"use a name such as '{suggestion}'" in message


def test_bad_name_inside_an_object_points_at_its_name_key() -> None:
    assert only_problem(ns([{"name": "Bad"}])).startswith('concurrent-infra:namespaces[0].name = "Bad"')


def test_duplicates_are_refused() -> None:
    message = only_problem(ns(["a", {"name": "a"}]))
    assert "namespaces[1]" in message and "duplicate of namespaces[0]" in message


def test_unknown_keys_in_a_namespace_object_suggest_the_right_one() -> None:
    message = only_problem(ns([{"name": "a", "lables": {"x": "y"}}]))
    assert "namespaces[0].lables" in message and "did you mean 'labels'?" in message


def test_unknown_top_level_keys_suggest_the_right_one() -> None:
    message = only_problem({**ns(["a"]), "adoptExistng": "true"})
    assert "concurrent-infra:adoptExistng" in message and "did you mean 'adoptExisting'?" in message


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"protect": "yes"}, "namespaces[0].protect"),
        ({"labels": ["a"]}, "expected a map"),
        ({"labels": {"team": 5}}, "expected a string"),
        ({"labels": {"bad key!": "x"}}, "not a valid key"),
        ({"labels": {"team": "has space"}}, "not a valid value"),
        ({"labels": {"app.kubernetes.io/managed-by": "me"}}, "set by the package"),
        ({"annotations": {"owner": 1}}, "expected a string"),
    ],
)
def test_wrong_types_and_bad_labels_inside_objects(entry: dict[str, object], fragment: str) -> None:
    assert fragment in only_problem(ns([{"name": "a", **entry}]))


def test_an_object_without_a_name_is_refused() -> None:
    assert "needs a name" in only_problem(ns([{"labels": {}}]))


@pytest.mark.parametrize("key", ["createSystemRole", "adoptExisting", "protectNamespaces"])
def test_booleans_must_be_booleans(key: str) -> None:
    message = only_problem({**ns(["a"]), key: "yes"})
    assert f"concurrent-infra:{key}" in message and "expected a boolean" in message


def test_system_role_users_must_be_a_list_of_names() -> None:
    assert "systemRoleUsers" in only_problem({**ns(["a"]), "systemRoleUsers": "someone"})


def test_every_problem_is_reported_at_once() -> None:
    found = problems({**ns(["Bad", "kube-system", "ok", "ok"]), "createSystemRole": "maybe"})
    assert len(found) == 4
    assert "4 problem(s)" in str(ConfigError(found))


def test_pulumi_yaml_declares_the_boolean_keys_with_the_parsers_defaults() -> None:
    declared = yaml.safe_load((Path(__file__).parents[2] / "Pulumi.yaml").read_text())["config"]
    defaults = parse_stack_config(ns(["a"]))
    attributes = {"createSystemRole": "creates_system_role", "adoptExisting": "adopt_existing"}
    declared_keys = {key.split(":", 1)[1] for key in declared}
    assert declared_keys == {"createSystemRole", "adoptExisting", "protectNamespaces"}
    for full_key, declaration in declared.items():
        key = full_key.split(":", 1)[1]
        assert key in {known.name for known in CONFIG_KEYS}
        assert declaration["type"] == "boolean" and declaration["description"]
        if key == "createSystemRole":
            assert (defaults.system_role is not None) is declaration["default"]
        elif key in attributes:
            assert getattr(defaults, attributes[key]) is declaration["default"]
        else:
            assert all(spec.protect is declaration["default"] for spec in defaults.namespaces)


def test_pulumi_yaml_config_section_is_rendered_from_the_config_keys() -> None:
    text = (Path(__file__).parents[2] / "Pulumi.yaml").read_text()
    section = pulumi_yaml_config()
    assert text.endswith(section), (
        "Pulumi.yaml's config section differs from concurrent_infra/program/config_keys.py; replace "
        f"everything from '# Config keys' on with:\n{section}"
    )
    assert text.count("# Config keys") == 1


def test_the_docs_key_table_is_rendered_from_the_config_keys() -> None:
    text = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    begin, end = "<!-- config-keys:begin -->\n", "<!-- config-keys:end -->"
    table = text[text.index(begin) + len(begin) : text.index(end)]
    assert table == key_table(), (
        "docs/configuration.md's key table differs from concurrent_infra/program/config_keys.py; "
        f"replace the lines between the config-keys markers with:\n{key_table()}"
    )
