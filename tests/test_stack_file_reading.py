"""The sibling stack-file reader agrees with Pulumi's reading or refuses the file (issue 17, class 7)."""

from pathlib import Path

import pytest

from concurrent_infra.stack_files import StackFileError, read_stack_file


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
