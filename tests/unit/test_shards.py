"""Sharding: the rules between the stacks that split one cluster's namespaces, checked by the
program (before anything is registered) and by ``verify --stack-file``."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest

from concurrent_infra.program.config import ConfigError, StackConfig, parse_stack_config
from concurrent_infra.program.shards import Shard, environment_configs, join_environment, load_environment
from concurrent_infra.program.stack import main
from concurrent_infra.program.stack_files import (
    StackFileError,
    read_stack_file,
    stack_config_dir,
    stack_of_file,
)
from concurrent_infra.verify import ExpectationError, expectation_of, expectations_from_stack_file, parse_args
from tests.support.mocks import Mocks, RecordingMonitor, Run, run_program

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
    assert join_environment("prod", this, [other(["team-c"])]) is this  # nothing to add
    shard = other(["team-c"]).config
    joined = join_environment("prod-2", shard, [Shard("prod", this, "x")])
    assert joined.system_role is None and [ns.namespace for ns in joined.namespaces] == ["team-c"]


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
    assert this.system_role is not None and not this.system_role.dind_priority_class
    joined = join_environment("prod", this, [other([dind])])
    assert joined.system_role is not None and joined.system_role.dind_priority_class is True


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
    assert "Pulumi.prod-2.yaml': cannot read it: No such file or directory" in missing
    assert "fix: give stack prod-2 its stack file (pulumi stack init prod-2, then its namespaces)" in missing
    write_stack(tmp_path, "prod-2", {"shards": SHARDS, "namespaces": ["Team_C", "x y"]})
    with pytest.raises(ConfigError) as caught:
        load_environment("prod", parsed(["team-a"]), tmp_path)
    first, second = caught.value.problems  # one line per problem of prod-2, each with its own fix
    where = f"shard 'prod-2' ('{tmp_path}/Pulumi.prod-2.yaml', shards[1]): "
    assert first.startswith(where + 'concurrent-infra:namespaces[0] = "Team_C": not a valid namespace name')
    assert second.startswith(where + 'concurrent-infra:namespaces[1] = "x y"')
    assert first.count("fix:") == 1


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


def refused(path: Path, text: str | bytes) -> str:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a: &a [x, x]\nb: &b [*a, *a]\nconfig: {concurrent-infra:namespaces: [*b, *b]}\n",
            "not valid YAML: YAML aliases (*name) are not supported",
            id="aliases",
        ),
        pytest.param(
            "config:\n  concurrent-infra:namespaces: [" + "a," * (600 * 1024) + "a]\n",
            "larger than 1048576 bytes, the most a stack file of this project may hold",
            id="huge",
        ),
        pytest.param(b"config: \xff\xfe\n", "not UTF-8 text (invalid start byte at byte 8)", id="binary"),
        pytest.param(
            "config:\n  concurrent-infra:namespaces: " + "[" * 5000 + "]" * 5000 + "\n",
            "not valid YAML: nested too deeply",
            id="deep",
        ),
        pytest.param(
            "config:\n  concurrent-infra:namespaces: !!binary aGVsbG8=\n",
            "concurrent-infra:namespaces: the YAML tag !!binary is not supported; remove it",
            id="binary-tag",
        ),
        pytest.param(
            "config:\n  concurrent-infra:shards: !!set {prod, prod-2}\n",
            "concurrent-infra:shards: the YAML tag !!set is not supported; remove it",
            id="set-tag",
        ),
        pytest.param(
            "config:\n  concurrent-infra:namespaces: !!python/object:os.system [ls]\n",
            "concurrent-infra:namespaces: the YAML tag !!python/object:os.system is not supported",
            id="python-tag",
        ),
        pytest.param(
            "config:\n  concurrent-infra:createSystemRole:\n    secure: v1:abc\n",
            "concurrent-infra:createSystemRole is encrypted (secure:), and only its own stack can decrypt it",
            id="secure",
        ),
        pytest.param("config: [a]\n", "no 'config:' map", id="config-list"),
    ],
)
def test_stack_files_are_refused_with_a_message_never_a_traceback(
    tmp_path: Path, text: str | bytes, message: str
) -> None:
    problem = refused(tmp_path / "Pulumi.x.yaml", text)
    assert problem.startswith(f"'{tmp_path}/Pulumi.x.yaml': ")
    assert message in problem


def test_stack_files_read_scalars_as_pulumi_does(tmp_path: Path) -> None:
    """YAML 1.2 like Pulumi's reader: yes/no stay strings, a quoted date is a string (unquoted it is
    refused: tests/unit/test_stack_file_reading.py); the older key form counts."""
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "config:\n"
        "  concurrent-infra:namespaces: [{name: team-a, annotations: {example.com/expires: '2027-01-31'}}]\n"
        "  concurrent-infra:config:createSystemRole: false\n"
        "  concurrent-infra:protectNamespaces: yes\n"
        "  kubernetes:context: kind-prod\n"
        "  kubernetes:kubeconfig:\n    secure: v1:abc\n"
    )
    stack_file = read_stack_file(path)
    assert json.loads(stack_file.raw["namespaces"])[0]["annotations"] == {"example.com/expires": "2027-01-31"}
    assert stack_file.raw["createSystemRole"] == "false"
    assert stack_file.raw["protectNamespaces"] == "yes"
    assert stack_file.target == {"context": "kind-prod"}


def test_links_and_special_files_are_not_read(tmp_path: Path) -> None:
    link = tmp_path / "Pulumi.link.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(StackFileError, match="a symbolic link; give the stack file itself"):
        read_stack_file(link)
    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(StackFileError, match="not a regular file"):
        read_stack_file(fifo)
    assert stack_of_file(tmp_path / "Pulumi.prod-2.yaml") == "prod-2"
    assert stack_of_file(tmp_path / "Pulumi.prod-2.yml") is None
    assert stack_of_file(tmp_path / "prod.yaml") is None


def test_verify_needs_the_shard_file_under_its_stack_name(tmp_path: Path) -> None:
    copy = write_stack(tmp_path, "prod", {"shards": SHARDS, "namespaces": ["team-a"]}).rename(
        tmp_path / "prod.yaml"
    )
    with pytest.raises(ExpectationError, match=r"it lists shards, so it must be named Pulumi\.<stack>\.yaml"):
        expectations_from_stack_file(copy)


CLUSTER = {
    "name": "concurrent-zonal",
    "location": "us-central1-c",
    "project": "my-project",
    "controlPlaneServiceAccount": {"accountId": "concurrent-ctl"},
}
CONTROL_PLANE = "concurrent-ctl@my-project.iam.gserviceaccount.com"


def test_one_gke_cluster_created_by_the_shard_with_the_system_role() -> None:
    [two] = problems_of(parsed(["team-a"], cluster=CLUSTER), other(["team-c"], cluster=CLUSTER))
    assert two.startswith(
        'concurrent-infra:cluster = "concurrent-zonal": shards ["prod", "prod-2"] each create'
    )
    assert "fix: create it in the shard with the system role only" in two
    holder = Shard("prod", parsed(["team-a"]), "x")
    [elsewhere] = problems_of(
        parsed(["team-c"], createSystemRole=False, cluster=CLUSTER), holder, stack="prod-2"
    )
    assert "creates the GKE cluster but not the system role" in elsewhere
    assert (
        join_environment("prod", parsed(["team-a"], cluster=CLUSTER), [other(["team-c"])]).cluster is not None
    )


def test_with_namespaced_binding_every_shard_binds_the_control_plane_account() -> None:
    holder = Shard("prod", parsed(["team-a"], cluster=CLUSTER, systemRoleScope="namespaces"), "x")
    shard = parsed(["team-c"], createSystemRole=False, systemRoleScope="namespaces")
    [joined] = join_environment("prod-2", shard, [holder]).namespaces
    assert joined.namespaced_system_binding is not None
    assert joined.namespaced_system_binding.users == (CONTROL_PLANE,)
    cluster_wide = parsed(["team-c"], createSystemRole=False)  # the holder's ClusterRoleBinding has it
    assert (
        join_environment("prod-2", cluster_wide, [Shard("prod", parsed(["a"], cluster=CLUSTER), "x")])
        is cluster_wide
    )


def test_every_shard_targets_the_same_cluster() -> None:
    shard = Shard("prod-2", other(["team-c"]).config, "'f'", {"context": "kind-b"})
    with pytest.raises(ConfigError) as caught:
        join_environment("prod", parsed(["team-a"]), [shard], {"context": "kind-a", "cluster": "c"})
    assert caught.value.problems == [
        "kubernetes:context = \"kind-a\": shard 'prod-2' targets 'kind-b'; the shards of an environment "
        "share a cluster; fix: target the same cluster from every shard, or use separate environments "
        "(no shards key)"
    ]
    assert join_environment("prod", parsed(["team-a"]), [shard], {"cluster": "c"}).shards == tuple(SHARDS)


def test_duplicate_shards_are_named_by_their_index_as_written() -> None:
    with pytest.raises(ConfigError) as caught:
        parsed(["team-a"], shards=["bad/x", "prod", "prod"])
    assert (
        'concurrent-infra:shards[2] = "prod": listed twice; fix: list each stack once'
        in caught.value.problems
    )


def test_verify_names_the_shard_whose_problem_it_is(tmp_path: Path) -> None:
    three = ["prod", "prod-2", "prod-3"]
    write_stack(tmp_path, "prod", {"shards": three, "namespaces": ["team-a"]})
    write_stack(tmp_path, "prod-3", {"shards": three, "namespaces": ["team-a"], "createSystemRole": False})
    path = write_stack(tmp_path, "prod-2", {"shards": three, "namespaces": ["b"], "createSystemRole": False})
    with pytest.raises(ExpectationError) as caught:
        expectations_from_stack_file(path)
    assert (
        f"shard 'prod' ('{tmp_path}/Pulumi.prod.yaml'): "
        "concurrent-infra:namespaces[0] = \"team-a\": also in shard 'prod-3'" in str(caught.value)
    )


def test_verify_of_a_namespaced_environment_expects_its_subjects(tmp_path: Path) -> None:
    keys = {"shards": SHARDS, "systemRoleScope": "namespaces", "systemRoleGroups": ["ml-admins"]}
    write_stack(tmp_path, "prod", {**keys, "namespaces": ["team-a"]})
    path = write_stack(tmp_path, "prod-2", {**keys, "namespaces": ["team-c"], "createSystemRole": False})
    expectation = expectations_from_stack_file(path)
    assert expectation.system_role_scope == "namespaces"
    assert expectation.system_role_groups == ("ml-admins",) and expectation.include_system_role
