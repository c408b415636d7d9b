"""Sharding: the rules between the stacks that split one cluster's namespaces, checked by the
program (before anything is registered) and by ``verify --stack-file``."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest

from concurrent_infra.config import ConfigError, StackConfig, parse_stack_config
from concurrent_infra.shards import Shard, environment_configs, join_environment, load_environment
from concurrent_infra.stack import main
from concurrent_infra.stack_files import StackFileError, read_stack_file, stack_config_dir, stack_of_file
from concurrent_infra.verify import ExpectationError, expectation_of, expectations_from_stack_file, parse_args
from tests.harness import Mocks, RecordingMonitor, Run, run_program

SHARDS = ["prod", "prod-2"]


def parsed(namespaces: list[Any], shards: list[str] = SHARDS, **keys: Any) -> StackConfig:
    raw = {"namespaces": json.dumps(namespaces), "shards": json.dumps(shards)}
    raw.update({key: value if isinstance(value, str) else json.dumps(value) for key, value in keys.items()})
    return parse_stack_config(raw)


def other(namespaces: list[Any], stack: str = "prod-2", **keys: Any) -> Shard:
    keys.setdefault("createSystemRole", False)
    return Shard(stack, parsed(namespaces, **keys), f"'stacks/Pulumi.{stack}.yaml'")


def problems_of(this: StackConfig, *others: Shard, stack: str = "prod") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        join_environment(stack, this, others)
    return caught.value.problems


def test_disjoint_shards_with_one_system_role_are_accepted() -> None:
    this = parsed(["team-a", "team-b"])
    assert join_environment("prod", this, [other(["team-c"])]) == this
    assert join_environment("prod-2", other(["team-c"]).config, [Shard("prod", this, "x")]).shards == (
        "prod",
        "prod-2",
    )


def test_a_namespace_in_two_shards_is_refused_naming_both() -> None:
    [problem] = problems_of(parsed(["team-a", "team-b"]), other(["team-c", "team-b"]))
    assert problem.startswith("concurrent-infra:namespaces[1] = \"team-b\": also in shard 'prod-2'")
    assert "stacks/Pulumi.prod-2.yaml" in problem
    assert "fix: keep each namespace in exactly one shard" in problem


def test_the_stack_must_list_itself() -> None:
    this = parsed(["team-a"], shards=["prod-2"])
    [problem] = problems_of(this, other(["team-c"], shards=["prod-2"]), stack="prod")
    assert problem.startswith("concurrent-infra:shards = [\"prod-2\"]: does not list this stack, 'prod'")
    assert 'fix: list every shard, this one included: ["prod", "prod-2"]' in problem


def test_every_shard_lists_the_same_stacks() -> None:
    [problem] = problems_of(parsed(["team-a"]), other(["team-c"], shards=["prod-2", "prod", "prod-3"]))
    assert problem.startswith('concurrent-infra:shards[1] = "prod-2": its stack file')
    assert "fix: list the same stacks in every shard" in problem


def test_exactly_one_shard_creates_the_system_role() -> None:
    [none] = problems_of(parsed(["team-a"], createSystemRole=False), other(["team-c"]))
    assert none.startswith("concurrent-infra:createSystemRole = false: no shard of")
    assert "fix: set createSystemRole: true (the default) in exactly one shard" in none
    [two] = problems_of(parsed(["team-a"]), other(["team-c"], createSystemRole=True))
    assert two.startswith('concurrent-infra:createSystemRole = true: shards ["prod", "prod-2"]')
    # a shard without it is not told to drop what it does not have: the two holders are
    three = [*SHARDS, "prod-3"]
    holders = [
        other(["a"], "prod", shards=three, createSystemRole=True),
        other(["b"], shards=three, createSystemRole=True),
    ]
    join_environment("prod-3", parsed(["c"], shards=three, createSystemRole=False), holders)


def test_every_shard_binds_the_system_role_the_same_way() -> None:
    [scope] = problems_of(parsed(["team-a"]), other(["team-c"], systemRoleScope="namespaces"))
    assert scope == (
        "concurrent-infra:systemRoleScope = \"cluster\": shard 'prod-2' uses 'namespaces'; "
        "fix: use the same systemRoleScope in every shard"
    )
    this = parsed(["team-a"], systemRoleScope="namespaces", systemRoleUsers=["a@example.com"])
    [users] = problems_of(this, other(["team-c"], systemRoleScope="namespaces"))
    assert users == (
        "concurrent-infra:systemRoleUsers = [\"a@example.com\"]: shard 'prod-2' binds [] in its "
        "namespaces; fix: give every shard the same systemRoleUsers (systemRoleScope: namespaces "
        "binds them in each shard's own namespaces)"
    )
    groups = other(
        ["team-c"], systemRoleScope="namespaces", systemRoleUsers=["a@example.com"], systemRoleGroups=["ml"]
    )
    [group] = problems_of(this, groups)
    assert group.startswith("concurrent-infra:systemRoleGroups = []: shard 'prod-2' binds [\"ml\"]")
    same = other(["team-c"], systemRoleScope="namespaces", systemRoleUsers=["a@example.com"])
    assert join_environment("prod", this, [same]) == this


def test_the_system_role_shard_creates_the_dind_priority_class_for_every_shard() -> None:
    dind = {"name": "team-c", "podSecurity": "privileged", "dind": True}
    this = parsed(["team-a"])
    assert this.system_role is not None and not this.system_role.get("dind_priority_class")
    joined = join_environment("prod", this, [other([dind])])
    assert joined.system_role is not None and joined.system_role["dind_priority_class"] is True


def test_shards_key_is_validated() -> None:
    with pytest.raises(ConfigError) as caught:
        parsed(["team-a"], shards=["prod", "prod", "org/prod-2", ""])
    text = "\n".join(caught.value.problems)
    assert "concurrent-infra:shards = " in text and "expected a list of strings" in text
    with pytest.raises(ConfigError) as caught:
        parsed(["team-a"], shards=["prod", "prod", "org/prod-2"])
    assert caught.value.problems == [
        'concurrent-infra:shards[2] = "org/prod-2": a stack name has 1 to 100 letters, digits, '
        "'_', '.' or '-' (no organisation or project); fix: e.g. shards: [prod, prod-2]",
        'concurrent-infra:shards[1] = "prod": listed twice; fix: list each stack once',
    ]


# ---- stack files ------------------------------------------------------------------------------


def write_stack(directory: Path, stack: str, config: Mapping[str, Any]) -> Path:
    path = directory / f"Pulumi.{stack}.yaml"
    lines = ["config:"] + [f"  concurrent-infra:{key}: {json.dumps(value)}" for key, value in config.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_missing_or_refused_shard_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_environment("prod", parsed(["team-a"]), tmp_path)
    [missing] = caught.value.problems
    assert missing.startswith('concurrent-infra:shards[1] = "prod-2":')
    assert "Pulumi.prod-2.yaml" in missing and "cannot read it" in missing
    assert "fix: create it (pulumi stack init prod-2, then its namespaces)" in missing
    write_stack(tmp_path, "prod-2", {"shards": SHARDS, "namespaces": ["Team_C"]})
    with pytest.raises(ConfigError) as caught:
        load_environment("prod", parsed(["team-a"]), tmp_path)
    [refused] = caught.value.problems
    assert 'is refused: concurrent-infra:namespaces[0] = "Team_C"' in refused
    assert "fix: mend it (pulumi preview --stack prod-2 shows the same problems)" in refused


def test_stack_config_dir_follows_the_project(tmp_path: Path) -> None:
    assert stack_config_dir(tmp_path) == tmp_path
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
    assert stack_config_dir(tmp_path) == tmp_path / "stacks"


def shard_files(directory: Path) -> None:
    (directory / "Pulumi.yaml").write_text(
        "name: concurrent-infra\nruntime: python\nstackConfigDir: stacks\n"
    )
    stacks = directory / "stacks"
    stacks.mkdir()
    write_stack(stacks, "prod", {"shards": ["test", "prod-2"], "namespaces": ["team-a"]})
    write_stack(
        stacks, "prod-2", {"shards": ["test", "prod-2"], "namespaces": ["team-b"], "createSystemRole": False}
    )


def run_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, namespaces: list[str], monitor: RecordingMonitor
) -> Run:
    """Run the program as stack ``test`` (the harness's), the shard with the system role, beside
    ``prod-2``."""
    monkeypatch.setattr(pulumi, "get_root_directory", lambda: str(tmp_path))
    config = {
        "concurrent-infra:shards": json.dumps(["test", "prod-2"]),
        "concurrent-infra:namespaces": json.dumps(namespaces),
    }
    return run_program(main, config, monitor=monitor)[1]


def test_the_program_deploys_a_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shard_files(tmp_path)
    run = run_shard(tmp_path, monkeypatch, ["team-a"], RecordingMonitor(Mocks()))
    assert run.named("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "k8s-role-for-parallels-lambda")
    assert [r.k8s_name for r in run.of_type("kubernetes:core/v1:Namespace")] == ["team-a"]


def test_the_program_refuses_an_overlap_before_registering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shard_files(tmp_path)
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(pulumi.RunError, match=r"namespaces\[1\] = \"team-b\": also in shard 'prod-2'"):
        run_shard(tmp_path, monkeypatch, ["team-a", "team-b"], monitor)
    assert monitor.registrations == []


def test_verify_of_one_shard_file_expects_the_whole_environment(tmp_path: Path) -> None:
    write_stack(tmp_path, "prod", {"shards": SHARDS, "namespaces": ["team-a", "team-b"]})
    path = write_stack(
        tmp_path, "prod-2", {"shards": SHARDS, "namespaces": ["team-c"], "createSystemRole": False}
    )
    expectation = expectations_from_stack_file(path)
    assert [ns.name for ns in expectation.namespaces] == ["team-c", "team-a", "team-b"]
    assert expectation.include_system_role is True
    shard_only = expectations_from_stack_file(path, whole_environment=False)
    assert [ns.name for ns in shard_only.namespaces] == ["team-c"]
    assert shard_only.include_system_role is False
    args = ["--context", "c", "--stack-file", str(path)]
    assert [ns.name for ns in expectation_of(parse_args([*args, "--shard-only"])).namespaces] == ["team-c"]
    assert len(expectation_of(parse_args(args)).namespaces) == 3
    assert set(environment_configs("prod-2", parse_stack_config({"namespaces": '["team-c"]'}), tmp_path)) == {
        "prod-2"
    }
    write_stack(tmp_path, "prod", {"shards": SHARDS, "namespaces": ["team-a", "team-c"]})
    with pytest.raises(ExpectationError, match=r"also in shard 'prod'"):
        expectations_from_stack_file(path)


def test_stack_files_refuse_aliases_huge_and_binary_files(tmp_path: Path) -> None:
    bomb = tmp_path / "Pulumi.bomb.yaml"
    bomb.write_text("a: &a [x, x]\nb: &b [*a, *a]\nconfig: {concurrent-infra:namespaces: [*b, *b]}\n")
    with pytest.raises(StackFileError, match=r"not valid YAML: YAML aliases \(\*name\) are not supported"):
        read_stack_file(bomb)
    huge = tmp_path / "Pulumi.huge.yaml"
    huge.write_text("config:\n  concurrent-infra:namespaces: [" + "a," * (3 * 1024 * 1024) + "a]\n")
    with pytest.raises(StackFileError, match=r"bytes; a stack file of this project is at most 4194304 bytes"):
        read_stack_file(huge)
    binary = tmp_path / "Pulumi.binary.yaml"
    binary.write_bytes(b"config: \xff\xfe\n")
    with pytest.raises(StackFileError, match="not valid YAML"):
        read_stack_file(binary)
    assert stack_of_file(tmp_path / "Pulumi.prod-2.yaml") == "prod-2"
    assert stack_of_file(tmp_path / "prod.yaml") is None


def test_verify_needs_the_shard_file_under_its_stack_name(tmp_path: Path) -> None:
    copy = write_stack(tmp_path, "prod", {"shards": SHARDS, "namespaces": ["team-a"]}).rename(
        tmp_path / "prod.yaml"
    )
    with pytest.raises(ExpectationError, match=r"it lists shards, so it must be named Pulumi\.<stack>\.yaml"):
        expectations_from_stack_file(copy)
