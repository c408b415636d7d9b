"""The sibling stack-file reader agrees with Pulumi's reading or refuses the file (issue 17, class 7)."""

import datetime
import json
import re
from pathlib import Path

import pytest

from concurrent_infra import verify
from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.program.shards import load_environment
from concurrent_infra.program.stack_files import StackFileError, read_stack_file
from concurrent_infra.program.yaml_scalars import yaml_v3_reading
from concurrent_infra.verify import ExpectationError, expectations_from_stack_file
from tests.support.fake_cluster import FakeCluster


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.shard-b.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "config",
    [
        "  concurrent-infra:createSystemRole: 'false'\n  concurrent-infra:config:createSystemRole: 'true'\n",
        "  createSystemRole: 'false'\n  concurrent-infra:createSystemRole: 'true'\n",
        "  createSystemRole: 'false'\n  concurrent-infra:config:createSystemRole: 'true'\n",
    ],
    ids=["prefixed-and-config-form", "bare-and-prefixed", "bare-and-config-form"],
)
def test_one_key_in_two_forms_is_refused(tmp_path: Path, config: str) -> None:
    """Pulumi keeps either value at random (Go map order), so no reading is right."""
    with pytest.raises(StackFileError, match="set the same key"):
        read_stack_file(write(tmp_path, "config:\n" + config))


def test_a_key_set_twice_is_refused_as_yaml_v3_does(tmp_path: Path) -> None:
    text = (
        "config:\n  concurrent-infra:createSystemRole: 'false'\n  concurrent-infra:createSystemRole: 'true'\n"
    )
    with pytest.raises(StackFileError, match="set twice"):
        read_stack_file(write(tmp_path, text))


def test_a_bare_key_is_the_projects_as_pulumi_reads_it(tmp_path: Path) -> None:
    stack = read_stack_file(write(tmp_path, "config:\n  createSystemRole: 'false'\n"))
    assert stack.raw == {"createSystemRole": "false"}


# Pulumi's reading of unquoted scalars (go-yaml v3.0.1 resolve.go, then pulumi sdk/go/common/
# resource/config/object.go unmarshalObject/MarshalString); measured with `pulumi config get` too.
READ_OTHERWISE_BY_PULUMI = [
    ("08", "the number 8", "'8'"),
    ("017", "the number 15", "'15'"),
    ("1e3", "the number 1000", "'1000'"),
    ("1.0", "a whole number", "as 1"),
    ("0o17", "the number 15", "'15'"),
    ("0x1F", "the number 31", "'31'"),
    ("0b101", "the number 5", "'5'"),
    ("1_000", "the number 1000", "'1000'"),
    ("2027-01-31", "a date", "'2027-01-31 00:00:00 +0000 UTC'"),
    ("2027-01-31T10:00:00Z", "a timestamp", "Go's text of that time"),
    (".inf", "a float Pulumi cannot hand to a program", "JSON has no infinity"),
    ("+5", "the number 5", "'5'"),
]
SHARD = "config:\n  concurrent-infra:shards: [prod, shard-b]\n  concurrent-infra:createSystemRole: false\n"


def quota(value: str) -> str:
    return f"  concurrent-infra:namespaces: [team-b]\n  concurrent-infra:quota:\n    pods: {value}\n"


@pytest.mark.parametrize(("value", "reading", "handed"), READ_OTHERWISE_BY_PULUMI)
def test_scalars_pulumi_reads_otherwise_are_refused_by_the_sibling_reader(
    tmp_path: Path, value: str, reading: str, handed: str
) -> None:
    write(tmp_path, SHARD + quota(value))
    this = parse_stack_config({"namespaces": '["team-a"]', "shards": '["prod", "shard-b"]'})
    with pytest.raises(ConfigError) as caught:
        load_environment("prod", this, tmp_path)
    message = str(caught.value)
    assert f"Pulumi.shard-b.yaml': concurrent-infra:quota.pods: {value} is {reading}" in message
    assert handed in message and f"quote it ('{value}')" in message


@pytest.mark.parametrize(("value", "reading", "handed"), READ_OTHERWISE_BY_PULUMI)
def test_scalars_pulumi_reads_otherwise_are_refused_by_verify_stack_file(
    tmp_path: Path, value: str, reading: str, handed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "config:\n" + quota(value))
    expected = f"concurrent-infra:quota.pods: {value} is {reading}"
    with pytest.raises(ExpectationError, match=re.escape(expected)):
        expectations_from_stack_file(path)
    assert (
        verify.main(["--context", "c", "--stack-file", str(path)], api=FakeCluster({})) == verify.EXIT_ERROR
    )
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("value", "reading", "handed"), READ_OTHERWISE_BY_PULUMI)
def test_quoted_they_are_the_text_as_written(tmp_path: Path, value: str, reading: str, handed: str) -> None:
    stack = read_stack_file(write(tmp_path, "config:\n" + quota(f"'{value}'")))
    assert json.loads(stack.raw["quota"]) == {"pods": value}


@pytest.mark.parametrize(
    ("value", "top", "nested"),
    [
        ("yes", "yes", "yes"), ("on", "on", "on"), ("1:30", "1:30", "1:30"), ("500m", "500m", "500m"),
        ("1.50", "1.5", 1.5), ("True", "true", True), ("~", "", None), ("", "", None),
    ],
)  # fmt: skip
def test_scalars_read_alike_are_read_as_pulumi_hands_them(
    tmp_path: Path, value: str, top: str, nested: object
) -> None:
    """As measured with pulumi v3.274.1 (a program printing ``Config().get``): yaml.v3 keeps
    yes/on/1:30 as strings (PyYAML's YAML 1.1 reads 1:30 as 90); a null key's value is '', a
    null inside a map JSON null."""
    text = f"config:\n  concurrent-infra:protectNamespaces: {value}\n"
    text += f"  concurrent-infra:quota:\n    pods: {value}\n"
    stack = read_stack_file(write(tmp_path, text))
    assert stack.raw["protectNamespaces"] == top
    assert json.loads(stack.raw["quota"]) == {"pods": nested}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("    08: x\n", "the map key 08 is not read as text by Pulumi (YAML 1.2); quote it ('08')"),
        ("    <<: {pods: '1'}\n", "the map key << is not read as text"),
        ("    pods: !!float '1'\n", "the YAML tag !!float is not supported"),
        ("    pods: [1, 0x1F]\n", "concurrent-infra:quota.pods[1]: 0x1F is the number 31"),
    ],
    ids=["number-key", "merge-key", "tag", "in-a-list"],
)
def test_keys_tags_and_nested_values_are_checked(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(StackFileError, match=re.escape(message)):
        read_stack_file(write(tmp_path, "config:\n  concurrent-infra:quota:\n" + text))


def test_other_providers_keys_are_not_judged_but_the_target_and_project_are(tmp_path: Path) -> None:
    assert read_stack_file(write(tmp_path, "config:\n  aws:region: 08\n")).raw == {}
    for key in ("gcp:project", "kubernetes:context"):
        with pytest.raises(StackFileError, match=f"{key}: 2027-01-31 is a date"):
            read_stack_file(write(tmp_path, f"config:\n  {key}: 2027-01-31\n"))


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("08", 8.0), ("017", 15), ("1e3", 1000.0), ("1.0", 1.0), ("0o17", 15), ("0x1F", 31),
        ("0b101", 5), ("1_000", 1000), ("-0b11", -3), (".5", 0.5), ("yes", "yes"), ("on", "on"),
        ("1:30", "1:30"), ("~", None), ("", None), ("True", True), ("2027-13-01", "2027-13-01"),
        ("1e999", "1e999"), ("500m", "500m"), ("2027-01-31", datetime.date(2027, 1, 31)),
        ("2027-01-31 10:00:00", datetime.date(2027, 1, 31)), ("2027-01-31T10:00:00", "2027-01-31T10:00:00"),
    ],
)  # fmt: skip
def test_yaml_v3_reading(text: str, reading: object) -> None:
    """go-yaml v3.0.1 resolve.go: ParseInt(s, 0, 64) after dropping '_', then yamlStyleFloat, then
    the 0b/0o forms; a timestamp only as one of allowedTimestampFormats."""
    assert yaml_v3_reading(text) == reading
    assert type(yaml_v3_reading(text)) is type(reading)
