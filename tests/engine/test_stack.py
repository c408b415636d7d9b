"""The stack program (``concurrent_infra.program.stack.main``) under the mock engine, driven by config."""

import gc
import json
import pathlib

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from concurrent_infra.kube.adoption import take_over_fields
from concurrent_infra.program.config import parse_stack_config
from concurrent_infra.program.stack import GC_THRESHOLDS, main
from tests.support.mocks import Mocks, RecordingMonitor, Run, resolve, run_program

NAMESPACE = "kubernetes:core/v1:Namespace"
PROVIDER = "pulumi:providers:kubernetes"


def run_main(**config: object) -> Run:
    raw = {
        (key if ":" in key else f"concurrent-infra:{key}"): value
        if isinstance(value, str)
        else json.dumps(value)
        for key, value in config.items()
    }
    _, run = run_program(main, raw)
    return run


def test_two_namespaces_and_the_system_role() -> None:
    run = run_main(namespaces=["parallelsns", {"name": "team-b", "protect": False}])
    assert len(run.of_type("concurrent-infra:index:SystemRole")) == 1
    assert len(run.of_type("concurrent-infra:index:ConcurrentNamespace")) == 2
    # The system role, its binding, the namespace guard and its binding; six objects per namespace.
    assert len([r for r in run.registrations if r.custom and r.type.startswith("kubernetes:")]) == 4 + 2 * 6
    assert run.named(NAMESPACE, "parallelsns").protect
    assert not run.named(NAMESPACE, "team-b").protect


def test_outputs() -> None:
    run = run_main(namespaces=["parallelsns", "team-b"], **{"kubernetes:context": "gke_p_us-central1_c1"})
    exports = resolve(run.exports)
    assert exports["namespaces"] == ["parallelsns", "team-b"]
    assert exports["serviceAccounts"]["parallelsns"] == {
        "system": "k8s-serviceaccount-for-parallels-parallelsns",
        "user": "k8s-serviceaccount-for-users-parallelsns",
    }
    command = exports["testCommands"]["team-b"]
    assert command.startswith("mlflow run -b concurrent-backend --backend-config '")
    config = json.loads(command.split("'")[1])
    assert config["kube-namespace"] == "team-b" and config["kube-context"] == "gke_p_us-central1_c1"
    assert command.endswith("mlflow-example-docker.git -Palpha=0.62 -Pl1_ratio=0.02")


def test_every_object_uses_the_stack_provider_configured_from_kubernetes_config() -> None:
    run = run_main(namespaces=["a"], **{"kubernetes:context": "ctx", "kubernetes:kubeconfig": "/tmp/kc"})
    (provider,) = run.of_type(PROVIDER)
    assert provider.inputs["context"] == "ctx"
    assert provider.inputs["kubeconfig"]["value"] == "/tmp/kc", "kubeconfig is passed on as a secret"
    assert rpc._special_secret_sig in provider.inputs["kubeconfig"].values()
    assert provider.inputs["upsertExistingObjects"] == "false"
    assert all(r.transforms == 0 for r in run.registrations), "no forced applies unless adopting"
    for registration in run.registrations:
        if registration.custom and registration.type.startswith("kubernetes:"):
            assert registration.provider.startswith(provider.urn + "::")


def test_adopt_existing_turns_on_upserts() -> None:
    run = run_main(namespaces=["a"], adoptExisting="true")
    (provider,) = run.of_type(PROVIDER)
    assert provider.inputs["upsertExistingObjects"] == "true"
    # The engine runs the transform on the components' children (the mock engine does not).
    components = [r for r in run.registrations if r.type.startswith("concurrent-infra:")]
    assert len(components) == 2 and all(r.transforms == 1 for r in components)


def test_take_over_fields_forces_server_side_apply_on_kubernetes_objects_only() -> None:
    metadata = {"name": "x", "annotations": {"owner": "me"}}
    args = pulumi.ResourceTransformArgs(
        True, "kubernetes:core/v1:Namespace", "x", {"metadata": metadata}, pulumi.ResourceOptions()
    )
    result = take_over_fields(args)
    assert result is not None
    assert result.props["metadata"]["annotations"] == {"owner": "me", "pulumi.com/patchForce": "true"}  # type: ignore[index]
    assert metadata == {"name": "x", "annotations": {"owner": "me"}}, "the input is not mutated"
    for custom, type_ in (
        (False, "concurrent-infra:index:SystemRole"),
        (True, "pulumi:providers:kubernetes"),
    ):
        assert (
            take_over_fields(pulumi.ResourceTransformArgs(custom, type_, "x", {}, pulumi.ResourceOptions()))
            is None
        )


def test_a_second_stack_on_the_same_cluster_skips_the_system_role() -> None:
    run = run_main(namespaces=["a"], createSystemRole="false")
    assert not run.of_type("concurrent-infra:index:SystemRole")
    binding = run.named(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "k8s-service-account-binding-a"
    )
    assert binding.inputs["roleRef"]["name"] == "k8s-role-for-parallels-lambda"


def test_system_role_users_become_user_subjects() -> None:
    run = run_main(namespaces=["a"], systemRoleUsers=["ctrl@p.iam.gserviceaccount.com"])
    (binding,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["subjects"][-1]["kind"] == "User"
    assert binding.inputs["subjects"][-1]["name"] == "ctrl@p.iam.gserviceaccount.com"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"namespaces": "parallelsns"},
        {"namespaces": ["Bad_Name"]},
        {"namespaces": ["a", "a"]},
        {"namespaces": ["kube-system"]},
        {"namespaces": [{"name": "a", "protekt": False}]},
        {"namespaces": ["a"], "createSystemRole": "sometimes"},
        {"namespaces": ["a"], "namespace": ["b"]},
    ],
)
def test_bad_config_fails_before_any_resource_is_registered(config: dict[str, object]) -> None:
    monitor = RecordingMonitor(Mocks())
    raw = {f"concurrent-infra:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    with pytest.raises(pulumi.RunError, match="invalid stack config") as caught:
        run_program(main, raw, monitor=monitor)
    assert "fix:" in str(caught.value)
    assert monitor.registrations == []


def test_the_example_stacks_are_valid() -> None:
    stacks = sorted((pathlib.Path(__file__).parents[2] / "stacks").glob("Pulumi.*.yaml"))
    assert len(stacks) >= 2
    for stack_file in stacks:
        values = yaml.safe_load(stack_file.read_text())["config"]
        raw = {
            key.split(":", 1)[1]: value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
            if key.startswith("concurrent-infra:")
        }
        assert parse_stack_config(raw, gcp_project=values.get("gcp:project")).namespaces, stack_file


def test_kubernetes_settings_the_program_does_not_pass_on_are_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run_main(namespaces=["a"], **{"kubernetes:context": "ctx", "kubernetes:namespace": "other"})
    assert warnings == [
        "kubernetes:namespace is ignored: this program builds its own provider from "
        "kubernetes:context, kubernetes:cluster and kubernetes:kubeconfig"
    ]


def test_system_role_scope_namespaces_binds_users_in_each_namespace() -> None:
    run = run_main(
        namespaces=["team-a", "team-b"],
        systemRoleScope="namespaces",
        systemRoleUsers=["ctrl@proj.iam.gserviceaccount.com"],
    )
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    bindings = [
        r
        for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        if r.k8s_name == "k8s-role-for-parallels-lambda-binding"
    ]
    assert sorted(b.k8s_namespace or "" for b in bindings) == ["team-a", "team-b"]
    for binding in bindings:
        assert {s["name"] for s in binding.inputs["subjects"]} == {
            "k8s-role-for-parallels-lambda-group",
            "ctrl@proj.iam.gserviceaccount.com",
        }


def test_the_program_collects_garbage_less_often() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        run_main(namespaces=["parallelsns"])
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > 700
    finally:
        gc.set_threshold(*before)
