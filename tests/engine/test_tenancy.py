"""Tenancy (issue 11): quota, container defaults, Workload Identity, network isolation, DinD and
render mode, from the stack config and from ConcurrentNamespace's args, under the mock engine."""

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from concurrent_infra import ConcurrentNamespace
from concurrent_infra.gke.iam_names import (
    impersonation_member,
    principal_member,
    role_suffix,
)
from concurrent_infra.kube.names import (
    DIND_NAME,
    DIND_PRIORITY_CLASS,
    LIMIT_RANGE,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
)
from concurrent_infra.kube.namespace_settings import (
    ContainerDefaults,
    container_resource_problem,
    quota_resource_problem,
    unset_quota_resources,
)
from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.program.stack import main
from concurrent_infra.quantity import quantity_value
from tests.support.mocks import Mocks, RecordingMonitor, Run, resolve, run_program

RESOURCE_QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE_TYPE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
SERVICE_TYPE = "kubernetes:core/v1:Service"
PRIORITY_CLASS_TYPE = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount"
SA_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROVIDER = "pulumi:providers:kubernetes"
GET_PROJECT = "gcp:organizations/getProject:getProject"
TENANCY_TYPES = (
    RESOURCE_QUOTA_TYPE, LIMIT_RANGE_TYPE, NETWORK_POLICY_TYPE, DEPLOYMENT_TYPE, SERVICE_TYPE,
    PRIORITY_CLASS_TYPE, SA_IAM_MEMBER, PROJECT_IAM_MEMBER,
)  # fmt: skip
UPSTREAM_DIND = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "latest"
"""The upstream manifests, copied into the repository's test fixtures (tests/fixtures/README.md)."""

USER_SA = "k8s-serviceaccount-for-users-team-a"
SYSTEM_SA = "k8s-serviceaccount-for-parallels-team-a"


def project_number_lookup(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """mock_calls answering getProject with a fixed number, recording each call's args."""

    def answer(args: dict[str, Any]) -> dict[str, Any]:
        answers.append(args)
        return {"number": "123456789012", "projectId": args.get("projectId")}

    return {GET_PROJECT: answer}


def run_main(config: dict[str, Any], calls: dict[str, Any] | None = None) -> Run:
    raw = {
        (key if ":" in key else f"concurrent-infra:{key}"): value
        if isinstance(value, str)
        else json.dumps(value)
        for key, value in config.items()
    }
    _, run = run_program(main, raw, mock_calls=calls)
    return run


def namespace_run(calls: dict[str, Any] | None = None, **args: Any) -> tuple[ConcurrentNamespace, Run]:
    return run_program(
        lambda: ConcurrentNamespace("team-a", {"namespace": "team-a", **args}),  # type: ignore[typeddict-item]
        mock_calls=calls,
    )


def tenancy_objects(run: Run) -> list[tuple[str, str | None, str | None]]:
    """(type, namespace, name) of every tenancy object registered."""
    return sorted(
        (r.type, r.k8s_namespace, r.k8s_name or r.name) for r in run.registrations if r.type in TENANCY_TYPES
    )


# ---- nothing unless asked ----------------------------------------------------------------------


def test_no_tenancy_key_no_tenancy_object() -> None:
    component, run = namespace_run()
    assert tenancy_objects(run) == []
    user = run.named(SERVICE_ACCOUNT_TYPE, USER_SA)
    assert "annotations" not in user.inputs["metadata"]
    assert component.resource_quota is None and component.workload_identity_grants == []

    run = run_main({"namespaces": ["team-a", "team-b"]})
    assert tenancy_objects(run) == []


# ---- quota and container defaults ---------------------------------------------------------------


def test_quota_is_one_resource_quota_with_exactly_these_hard_limits() -> None:
    quota = {"requests.cpu": "8", "requests.memory": "32Gi", "requests.nvidia.com/gpu": "2", "pods": "50"}
    _, run = namespace_run(quota=quota)
    assert tenancy_objects(run) == [(RESOURCE_QUOTA_TYPE, "team-a", RESOURCE_QUOTA)]
    registration = run.named(RESOURCE_QUOTA_TYPE, RESOURCE_QUOTA)
    assert registration.inputs["spec"] == {"hard": quota}
    namespace = run.named("kubernetes:core/v1:Namespace", "team-a")
    assert namespace.urn in registration.dependencies, "the quota waits for its namespace"


def test_container_defaults_are_one_limit_range_for_containers() -> None:
    defaults = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
    _, run = namespace_run(container_defaults=defaults)
    assert tenancy_objects(run) == [(LIMIT_RANGE_TYPE, "team-a", LIMIT_RANGE)]
    assert run.named(LIMIT_RANGE_TYPE, LIMIT_RANGE).inputs["spec"] == {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
                "default": {"memory": "2Gi"},
            }
        ]
    }


def test_only_limits_gives_a_limit_range_without_default_request() -> None:
    _, run = namespace_run(container_defaults={"limits": {"nvidia.com/gpu": "1"}})
    assert run.named(LIMIT_RANGE_TYPE, LIMIT_RANGE).inputs["spec"] == {
        "limits": [{"type": "Container", "default": {"nvidia.com/gpu": "1"}}]
    }


def test_stack_wide_defaults_apply_to_every_namespace_and_an_entry_overrides_them() -> None:
    run = run_main(
        {
            "namespaces": ["team-a", {"name": "team-b", "quota": {"pods": "5"}, "networkIsolation": False}],
            "quota": {"requests.cpu": "4"},
            "containerDefaults": {"requests": {"cpu": "250m"}},
            "networkIsolation": True,
        }
    )
    assert tenancy_objects(run) == sorted(
        [
            (RESOURCE_QUOTA_TYPE, "team-a", RESOURCE_QUOTA),
            (RESOURCE_QUOTA_TYPE, "team-b", RESOURCE_QUOTA),
            (LIMIT_RANGE_TYPE, "team-a", LIMIT_RANGE),
            (LIMIT_RANGE_TYPE, "team-b", LIMIT_RANGE),
            (NETWORK_POLICY_TYPE, "team-a", NETWORK_POLICY),
        ]
    )
    quotas = {r.k8s_namespace: r.inputs["spec"]["hard"] for r in run.of_type(RESOURCE_QUOTA_TYPE)}
    assert quotas == {"team-a": {"requests.cpu": "4"}, "team-b": {"pods": "5"}}


# ---- network isolation -------------------------------------------------------------------------


def test_network_isolation_admits_ingress_only_from_the_namespace_and_leaves_egress_alone() -> None:
    _, run = namespace_run(network_isolation=True)
    assert tenancy_objects(run) == [(NETWORK_POLICY_TYPE, "team-a", NETWORK_POLICY)]
    spec = run.named(NETWORK_POLICY_TYPE, NETWORK_POLICY).inputs["spec"]
    # Every pod of the namespace; ingress only from pods of the same namespace (a podSelector
    # without namespaceSelector means "this namespace"); Egress not listed, so not restricted.
    assert spec == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    }


def test_network_isolation_false_is_no_policy() -> None:
    _, run = namespace_run(network_isolation=False)
    assert tenancy_objects(run) == []


# ---- Docker-in-Docker --------------------------------------------------------------------------


def upstream_dind() -> dict[str, dict[str, Any]]:
    documents = yaml.safe_load_all((UPSTREAM_DIND / "k8s-dind-service.yaml").read_text())
    return {document["kind"]: document for document in documents if document}


def test_dind_is_the_upstream_deployment_and_service_in_the_namespace() -> None:
    _, run = namespace_run(pod_security="privileged", dind=True)
    assert tenancy_objects(run) == [
        (DEPLOYMENT_TYPE, "team-a", DIND_NAME),
        (SERVICE_TYPE, "team-a", DIND_NAME),
    ]
    upstream = upstream_dind()
    deployment = run.named(DEPLOYMENT_TYPE, DIND_NAME).inputs
    want = upstream["Deployment"]["spec"]
    assert deployment["spec"]["selector"] == want["selector"]
    assert deployment["spec"]["replicas"] == want["replicas"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == want["template"]["spec"]["priorityClassName"] == DIND_PRIORITY_CLASS
    (container,) = pod["containers"]
    (upstream_container,) = want["template"]["spec"]["containers"]
    for key in ("image", "name", "env", "securityContext"):
        assert container[key] == upstream_container[key], key
    assert [{**port, "containerPort": int(port["containerPort"])} for port in container["ports"]] == (
        upstream_container["ports"]
    )
    assert deployment["spec"]["template"]["metadata"]["labels"]["app"] == DIND_NAME
    service = run.named(SERVICE_TYPE, DIND_NAME).inputs
    assert service["spec"]["selector"] == upstream["Service"]["spec"]["selector"]
    assert [
        {k: int(v) if k != "protocol" else v for k, v in p.items()} for p in service["spec"]["ports"]
    ] == (upstream["Service"]["spec"]["ports"])


def test_the_dind_priority_class_is_created_once_per_cluster_only_when_a_namespace_uses_dind() -> None:
    dind = {"podSecurity": "privileged", "dind": True}
    run = run_main({"namespaces": [{"name": "team-a", **dind}, {"name": "team-b", **dind}, "team-c"]})
    (priority_class,) = run.of_type(PRIORITY_CLASS_TYPE)
    assert priority_class.k8s_name == DIND_PRIORITY_CLASS
    assert priority_class.inputs["value"] == 10000 and priority_class.inputs["globalDefault"] is False
    assert {r.k8s_namespace for r in run.of_type(DEPLOYMENT_TYPE)} == {"team-a", "team-b"}
    assert run_main({"namespaces": ["team-a"]}).of_type(PRIORITY_CLASS_TYPE) == []


# ---- Workload Identity -------------------------------------------------------------------------


def test_the_member_strings_are_exactly_googles() -> None:
    assert (
        impersonation_member("my-project", "team-a", USER_SA)
        == "serviceAccount:my-project.svc.id.goog[team-a/k8s-serviceaccount-for-users-team-a]"
    )
    assert principal_member("my-project", "123456789012", "team-a", USER_SA) == (
        "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
        "my-project.svc.id.goog/subject/ns/team-a/sa/k8s-serviceaccount-for-users-team-a"
    )


def test_google_service_account_form_annotates_the_user_account_and_grants_workload_identity_user() -> None:
    email = "team-a@data-project.iam.gserviceaccount.com"
    calls: list[dict[str, Any]] = []
    run = run_main(
        {"namespaces": [{"name": "team-a", "workloadIdentity": {"googleServiceAccount": email}}],
         "gcp:project": "my-project"},
        project_number_lookup(calls),
    )  # fmt: skip
    (grant,) = run.of_type(SA_IAM_MEMBER)
    assert grant.inputs == {
        "serviceAccountId": f"projects/data-project/serviceAccounts/{email}",
        "role": "roles/iam.workloadIdentityUser",
        "member": "serviceAccount:my-project.svc.id.goog[team-a/k8s-serviceaccount-for-users-team-a]",
    }
    assert run.of_type(PROJECT_IAM_MEMBER) == [] and calls == [], "no project roles, no number lookup"
    user = run.named(SERVICE_ACCOUNT_TYPE, USER_SA)
    assert user.inputs["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": email}
    system = run.named(SERVICE_ACCOUNT_TYPE, SYSTEM_SA)
    assert "annotations" not in system.inputs["metadata"], "the system account never gets an identity"


def test_roles_form_grants_each_role_on_the_project_to_the_principal() -> None:
    calls: list[dict[str, Any]] = []
    run = run_main(
        {"namespaces": [{"name": "team-a",
                         "workloadIdentity": {"roles": [OBJECT_USER, "roles/bigquery.dataViewer"]}}],
         "gcp:project": "my-project"},
        project_number_lookup(calls),
    )  # fmt: skip
    principal = (
        "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
        "my-project.svc.id.goog/subject/ns/team-a/sa/k8s-serviceaccount-for-users-team-a"
    )
    grants = sorted(
        (r.inputs["project"], r.inputs["role"], r.inputs["member"]) for r in run.of_type(PROJECT_IAM_MEMBER)
    )
    assert grants == [
        ("my-project", "roles/bigquery.dataViewer", principal),
        ("my-project", "roles/storage.objectUser", principal),
    ]
    assert [call.get("projectId") for call in calls] == ["my-project"]
    assert run.of_type(SA_IAM_MEMBER) == []
    for account in (USER_SA, SYSTEM_SA):
        assert "annotations" not in run.named(SERVICE_ACCOUNT_TYPE, account).inputs["metadata"]


def test_a_given_project_number_is_used_without_a_lookup() -> None:
    calls: list[dict[str, Any]] = []
    _, run = namespace_run(
        project_number_lookup(calls),
        workload_identity={
            "roles": ["roles/storage.objectViewer"],
            "project": "my-project",
            "project_number": "42",
        },
    )
    (grant,) = run.of_type(PROJECT_IAM_MEMBER)
    assert resolve(grant.inputs["member"]).startswith("principal://iam.googleapis.com/projects/42/locations/")
    assert calls == []


def test_the_cluster_project_is_the_default_workload_identity_project() -> None:
    config = parse_stack_config(
        {
            "namespaces": json.dumps(
                [{"name": "team-a", "workloadIdentity": {"roles": ["roles/storage.objectUser"]}}]
            ),
            "cluster": json.dumps({"name": "c1", "location": "us-central1", "project": "cluster-project"}),
        },
        gcp_project="other-project",
    )
    (settings,) = config.namespaces
    assert settings.workload_identity is not None
    assert settings.workload_identity.project == "cluster-project"


def test_roles_with_the_same_last_segment_get_distinct_resource_names() -> None:
    assert role_suffix("roles/storage.objectUser") != role_suffix("projects/p1/roles/storage.objectUser")
    _, run = namespace_run(
        workload_identity={
            "roles": ["roles/storage.objectUser", "projects/my-project/roles/storage.objectUser"],
            "project": "my-project",
            "project_number": "42",
        }
    )
    assert len({r.name for r in run.of_type(PROJECT_IAM_MEMBER)}) == 2


# ---- bad values: refused with key, value and fix, before anything is registered -----------------

GSA = "team-a@my-project.iam.gserviceaccount.com"
OBJECT_USER = "roles/storage.objectUser"
BAD_NAMESPACE_ENTRIES = [
    # (id, the entry's tenancy keys, the key in the message, a detail of the message)
    ("quota-lots", {"quota": {"requests.cpu": "lots"}}, "quota.requests.cpu", '= "lots"'),
    ("quota-typo", {"quota": {"requests.cpuu": "2"}}, "quota.requests.cpuu", "'requests.cpu'?"),
    ("quota-empty", {"quota": {}}, "quota", "it is empty"),
    ("quota-number", {"quota": {"pods": 50}}, "quota.pods", "quote it"),
    ("defaults-bad", {"containerDefaults": {"requests": {"cpu": "1O0m"}}},
     "containerDefaults.requests.cpu", "a number with an optional suffix"),
    ("defaults-quota-name", {"containerDefaults": {"requests": {"requests.cpu": "1"}}},
     "containerDefaults.requests.requests.cpu", "write 'cpu'"),
    ("defaults-over-limit",
     {"containerDefaults": {"requests": {"memory": "4Gi"}, "limits": {"memory": "2Gi"}}},
     "containerDefaults.requests.memory", "at most 2Gi"),
    ("defaults-empty", {"containerDefaults": {}}, "containerDefaults", "neither requests nor limits"),
    ("gsa-not-email", {"workloadIdentity": {"googleServiceAccount": "team-a@gmail.com"}},
     "workloadIdentity.googleServiceAccount", "NAME@PROJECT.iam.gserviceaccount.com"),
    ("gsa-no-at", {"workloadIdentity": {"googleServiceAccount": "team-a"}},
     "workloadIdentity.googleServiceAccount", '= "team-a"'),
    ("roles-empty", {"workloadIdentity": {"roles": []}}, "workloadIdentity.roles", "the list is empty"),
    ("roles-owner", {"workloadIdentity": {"roles": ["roles/owner"]}},
     "workloadIdentity.roles[0]", "roles/owner"),
    ("roles-twice", {"workloadIdentity": {"roles": [OBJECT_USER] * 2}},
     "workloadIdentity.roles", "listed twice"),
    ("identity-neither", {"workloadIdentity": {}}, "workloadIdentity", "exactly one of"),
    ("identity-both", {"workloadIdentity": {"googleServiceAccount": GSA, "roles": [OBJECT_USER]}},
     "workloadIdentity", "exactly one of"),
    ("dind-baseline", {"dind": True}, "dind", "podSecurity: privileged"),
    ("dind-restricted", {"dind": True, "podSecurity": "restricted"}, "dind", "'restricted'"),
    ("dind-quota-without-defaults",
     {"dind": True, "podSecurity": "privileged", "quota": {"requests.cpu": "4"}},
     "dind", "add containerDefaults with requests.cpu"),
    ("isolation-not-bool", {"networkIsolation": "yes"}, "networkIsolation", '= "yes"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "key", "detail"), [pytest.param(*case[1:], id=case[0]) for case in BAD_NAMESPACE_ENTRIES]
)
def test_bad_tenancy_config_is_refused_before_anything_is_registered(
    entry: dict[str, Any], key: str, detail: str
) -> None:
    monitor = RecordingMonitor(Mocks())
    raw = {
        "concurrent-infra:namespaces": json.dumps([{"name": "team-a", **entry}]),
        "gcp:project": "my-project",
    }
    with pytest.raises(pulumi.RunError, match="invalid stack config") as caught:
        run_program(main, raw, monitor=monitor)
    message = str(caught.value)
    where = f"concurrent-infra:namespaces[0].{key} = "
    (line,) = [line for line in message.splitlines() if where in line]
    assert detail in line and "; fix: " in line, line
    assert monitor.registrations == []


def test_workload_identity_without_any_project_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            {
                "namespaces": json.dumps(
                    [{"name": "team-a", "workloadIdentity": {"roles": ["roles/storage.objectUser"]}}]
                )
            }
        )
    assert "namespaces[0].workloadIdentity.project = null" in str(caught.value)
    assert "gcp:project" in str(caught.value)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"quota": {"requests.cpu": "lots"}}, "args.quota.requests.cpu"),
        ({"workload_identity": {"google_service_account": "nope", "project": "my-project"}},
         "args.workload_identity.google_service_account"),
        ({"dind": True}, "args.dind"),
        ({"container_defaults": {"limits": {"memory": "lots"}}}, "args.container_defaults.limits.memory"),
    ],
)  # fmt: skip
def test_the_component_refuses_the_same_values_with_its_snake_case_keys(
    args: dict[str, Any], key: str
) -> None:
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(ConfigError) as caught:
        run_program(lambda: ConcurrentNamespace("team-a", {"namespace": "team-a", **args}), monitor=monitor)  # type: ignore[typeddict-item]
    assert f"ConcurrentNamespace('team-a') {key} = " in str(caught.value)
    assert "; fix: " in str(caught.value)
    assert monitor.registrations == []


def test_resource_name_rules() -> None:
    quota_names = (
        "requests.cpu", "limits.memory", "pods", "count/deployments.apps", "requests.nvidia.com/gpu",
        "gold.storageclass.storage.k8s.io/requests.storage", "requests.hugepages-2Mi",
        "services.loadbalancers",
    )  # fmt: skip
    for name in quota_names:
        assert quota_resource_problem(name) is None, name
    for name in ("requests.gpu", "cpus", "nvidia.com"):
        assert quota_resource_problem(name), name
    for name in ("cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "hugepages-1Gi"):
        assert container_resource_problem(name) is None, name
    for name in ("requests.cpu", "limits.memory", "gpu", "requests.nvidia.com/gpu"):
        assert container_resource_problem(name), name
    assert quantity_value("1Gi") == quantity_value("1024Mi") == 2**30
    assert quantity_value("500m") == quantity_value("0.5") < quantity_value("1")  # type: ignore[operator]
    assert quantity_value("2e3") == 2000


# ---- render mode -------------------------------------------------------------------------------


def test_render_yaml_to_directory_reaches_the_stack_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run = run_main(
        {
            "namespaces": ["team-a"],
            "kubernetes:renderYamlToDirectory": "rendered",
            "kubernetes:context": "ctx",
            "kubernetes:kubeconfig": "/tmp/kc",
        }
    )
    (provider,) = run.of_type(PROVIDER)
    assert provider.inputs["renderYamlToDirectory"] == "rendered"
    # The provider refuses context and kubeconfig next to renderYamlToDirectory.
    assert not {"context", "cluster", "upsertExistingObjects"} & set(provider.inputs)
    assert provider.inputs["kubeconfig"] == "", "explicitly empty, or the SDK fills in $KUBECONFIG"
    assert warnings == [
        f"kubernetes:{key} is not used in render mode: the provider writes the manifests to "
        "'rendered' and contacts no cluster"
        for key in ("context", "kubeconfig")
    ]
    # The test commands still name the context.
    assert '"kube-context": "ctx"' in resolve(run.exports["testCommands"])["team-a"]
    for registration in run.registrations:
        if registration.custom and registration.type.startswith("kubernetes:"):
            assert registration.provider.startswith(provider.urn + "::")


def test_without_render_mode_the_provider_has_no_render_directory() -> None:
    (provider,) = run_main({"namespaces": ["team-a"]}).of_type(PROVIDER)
    assert "renderYamlToDirectory" not in provider.inputs


def test_render_mode_refuses_adoption_before_anything_is_registered() -> None:
    monitor = RecordingMonitor(Mocks())
    raw = {
        "concurrent-infra:namespaces": json.dumps(["team-a"]),
        "concurrent-infra:adoptExisting": "true",
        "kubernetes:renderYamlToDirectory": "rendered",
    }
    with pytest.raises(pulumi.RunError) as caught:
        run_program(main, raw, monitor=monitor)
    message = str(caught.value)
    assert message.startswith("concurrent-infra:adoptExisting = true: ")
    assert "'rendered'" in message and "fix: remove concurrent-infra:adoptExisting" in message
    assert monitor.registrations == []


def test_an_empty_render_directory_is_refused() -> None:
    monitor = RecordingMonitor(Mocks())
    raw = {"concurrent-infra:namespaces": json.dumps(["team-a"]), "kubernetes:renderYamlToDirectory": " "}
    with pytest.raises(
        pulumi.RunError, match=r"kubernetes:renderYamlToDirectory = ' ': .*fix: set a directory"
    ):
        run_program(main, raw, monitor=monitor)
    assert monitor.registrations == []


def test_render_mode_is_refused_for_a_stack_that_creates_a_cluster() -> None:
    monitor = RecordingMonitor(Mocks())
    raw = {
        "concurrent-infra:namespaces": json.dumps(["team-a"]),
        "concurrent-infra:cluster": json.dumps(
            {"name": "ml", "location": "us-central1", "project": "my-project"}
        ),
        "kubernetes:renderYamlToDirectory": "rendered",
    }
    with pytest.raises(
        pulumi.RunError, match=r"renderYamlToDirectory = 'rendered': this stack creates a GKE"
    ):
        run_program(main, raw, monitor=monitor)
    assert monitor.registrations == []


def test_what_a_container_without_resources_lacks_under_a_quota() -> None:
    quota = {"requests.cpu": "4", "limits.memory": "8Gi", "pods": "10", "requests.nvidia.com/gpu": "1"}
    assert unset_quota_resources(quota, None) == ["requests.cpu", "limits.memory"]
    # A default limit is also the default request (LimitRange defaulting); a request is no limit.
    assert unset_quota_resources(quota, ContainerDefaults(limits={"cpu": "1", "memory": "1Gi"})) == []
    assert unset_quota_resources(quota, ContainerDefaults(requests={"cpu": "1", "memory": "1Gi"})) == [
        "limits.memory"
    ]


def test_dind_under_a_quota_with_container_defaults_is_accepted() -> None:
    entry = {"name": "team-a", "podSecurity": "privileged", "dind": True, "quota": {"requests.cpu": "4"}}
    run = run_main({"namespaces": [entry], "containerDefaults": {"requests": {"cpu": "250m"}}})
    assert len(run.of_type(DEPLOYMENT_TYPE)) == 1 and len(run.of_type(LIMIT_RANGE_TYPE)) == 1
