"""Namespace rules (protection, Pod Security) and tenancy rules (Workload Identity, DinD)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from concurrent_infra.kube.labels import with_common_labels
from concurrent_infra.kube.names import namespace_object_names
from policy.concurrent_infra_policy import props as p
from policy.concurrent_infra_policy.rule import StackResource
from policy.concurrent_infra_policy.rules import namespaces, tenancy
from tests.support.policy_objects import namespace

NAMES = namespace_object_names("team-b")
NO_CONFIG: dict[str, Any] = {}
WI = "iam.gke.io/gcp-service-account"


def check(
    policy: str,
    resource_type: str,
    props: Mapping[str, Any],
    protect: bool = True,
    config: Mapping[str, Any] = NO_CONFIG,
) -> list[str]:
    [found] = [r for r in (*namespaces.RULES, *tenancy.RESOURCE_RULES) if r.name == policy]
    return found.check(resource_type, props, protect, config)


# ---- managed-namespaces-protected ----------------------------------------------------------------


def test_protected_managed_namespace_complies() -> None:
    assert check("managed-namespaces-protected", p.NAMESPACE, namespace("team-b")) == []


def test_unprotected_managed_namespace_is_a_violation() -> None:
    [message] = check("managed-namespaces-protected", p.NAMESPACE, namespace("team-b"), protect=False)
    assert "Namespace team-b" in message and "unprotectedNamespaces" in message


def test_unprotected_namespace_listed_in_config_complies() -> None:
    config = {"unprotectedNamespaces": ["team-b"]}
    assert check("managed-namespaces-protected", p.NAMESPACE, namespace("team-b"), False, config) == []
    assert len(check("managed-namespaces-protected", p.NAMESPACE, namespace("team-c"), False, config)) == 1


def test_unmanaged_namespace_is_not_checked() -> None:
    assert check("managed-namespaces-protected", p.NAMESPACE, namespace("other", managed=False), False) == []


# ---- managed-namespaces-pod-security -------------------------------------------------------------


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_managed_namespace_with_a_pod_security_level_complies(level: str) -> None:
    assert check("managed-namespaces-pod-security", p.NAMESPACE, namespace("team-b", level)) == []


def test_managed_namespace_without_pod_security_labels_is_a_violation() -> None:
    config = {"privilegedNamespaces": ["team-b"]}  # allows privileged, never a missing label
    [message] = check(
        "managed-namespaces-pod-security", p.NAMESPACE, namespace("team-b", None), config=config
    )
    assert "has no pod-security.kubernetes.io/enforce label" in message and "podSecurity" in message


def test_managed_namespace_with_a_bad_level_is_a_violation() -> None:
    props = namespace("team-b")
    props["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "lenient"
    [message] = check("managed-namespaces-pod-security", p.NAMESPACE, props)
    assert "'lenient', not a Pod Security level" in message


def test_privileged_managed_namespace_is_a_violation_unless_allowed() -> None:
    [message] = check("managed-namespaces-pod-security", p.NAMESPACE, namespace("team-b", "privileged"))
    assert "enforce=privileged" in message and "privilegedNamespaces" in message
    config = {"privilegedNamespaces": ["team-b"]}
    assert (
        check(
            "managed-namespaces-pod-security", p.NAMESPACE, namespace("team-b", "privileged"), config=config
        )
        == []
    )


def test_namespace_patch_that_makes_a_namespace_privileged_is_a_violation() -> None:
    patch = {"metadata": {"name": "team-b", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert len(check("managed-namespaces-pod-security", p.NAMESPACE + "Patch", patch)) == 1
    unrelated = {"metadata": {"name": "team-b", "labels": {"team": "x"}}}
    assert check("managed-namespaces-pod-security", p.NAMESPACE + "Patch", unrelated) == []


def test_unmanaged_or_unknown_namespaces_are_not_judged() -> None:
    assert (
        check("managed-namespaces-pod-security", p.NAMESPACE, namespace("other", None, managed=False)) == []
    )
    assert (
        check(
            "managed-namespaces-pod-security", p.NAMESPACE, {"metadata": {"name": "x", "labels": p.UNKNOWN}}
        )
        == []
    )
    props = namespace("team-b")
    props["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = p.UNKNOWN
    assert check("managed-namespaces-pod-security", p.NAMESPACE, props) == []


# ---- managed-namespace-labels-kept (stack; review finding 9) -------------------------------------

ENFORCE, MANAGED_BY = "pod-security.kubernetes.io/enforce", "app.kubernetes.io/managed-by"


def namespace_patch(name: Any, labels: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def kept(*resources: tuple[str, dict[str, Any]]) -> list[tuple[str, str]]:
    return namespaces.managed_namespace_labels_kept(stack(*resources), NO_CONFIG)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({ENFORCE: None}, f"removes the label that the managed Namespace team-b sets ({ENFORCE}=baseline)"),
        ({ENFORCE: "privileged"}, f"sets {ENFORCE}='privileged' over"),
        ({ENFORCE: "Privileged"}, f"sets {ENFORCE}='Privileged' over"),
        ({"pod-security.kubernetes.io/enforce-version": "v1.0"}, "enforce-version='v1.0'"),
        ({"pod-security.kubernetes.io/audit": None}, "removes the label"),
        (
            {"pod-security.kubernetes.io/warn-version": "v1.0"},
            "(no pod-security.kubernetes.io/warn-version label)",
        ),
        ({MANAGED_BY: None}, f"({MANAGED_BY}=concurrent-infra)"),
        ({MANAGED_BY: "someone-else"}, f"sets {MANAGED_BY}='someone-else' over"),
    ],
)
def test_namespace_patch_that_changes_the_labels_of_a_managed_namespace_is_a_violation(
    labels: dict[str, Any], expected: str
) -> None:
    [(urn, message)] = kept(
        (p.NAMESPACE, namespace("team-b")), (p.NAMESPACE + "Patch", namespace_patch("team-b", labels))
    )
    assert urn == "urn:1"
    assert "NamespacePatch team-b" in message and expected in message and "podSecurity" in message


def test_namespace_patches_that_keep_the_labels_comply() -> None:
    same = namespace_patch("team-b", {ENFORCE: "baseline", MANAGED_BY: "concurrent-infra", "team": "x"})
    assert kept((p.NAMESPACE, namespace("team-b")), (p.NAMESPACE + "Patch", same)) == []
    # Namespaces the stack does not manage, and unknown values, are not judged by this rule.
    removal = namespace_patch("other", {ENFORCE: None})
    assert kept((p.NAMESPACE, namespace("team-b")), (p.NAMESPACE + "Patch", removal)) == []
    unmanaged = (p.NAMESPACE, namespace("other", managed=False))
    assert kept(unmanaged, (p.NAMESPACE + "Patch", removal)) == []
    for patch in (
        namespace_patch("team-b", p.UNKNOWN),
        namespace_patch(p.UNKNOWN, {ENFORCE: None}),
        namespace_patch("team-b", {ENFORCE: p.UNKNOWN}),
        {"metadata": p.UNKNOWN},
    ):
        assert kept((p.NAMESPACE, namespace("team-b")), (p.NAMESPACE + "Patch", patch)) == []
    unknown_level = namespace("team-b")
    unknown_level["metadata"]["labels"][ENFORCE] = p.UNKNOWN
    assert (
        kept(
            (p.NAMESPACE, unknown_level), (p.NAMESPACE + "Patch", namespace_patch("team-b", {ENFORCE: None}))
        )
        == []
    )


# ---- workload-identity-only-on-user-service-accounts ---------------------------------------------


def service_account(name: str, namespace: Any = "team-b", annotations: Any = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": with_common_labels()}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata}


ANNOTATION = {WI: "team-b@my-project.iam.gserviceaccount.com"}


def test_workload_identity_annotation_on_the_user_service_account_complies() -> None:
    props = service_account(NAMES.user_service_account, annotations=ANNOTATION)
    assert check("workload-identity-only-on-user-service-accounts", p.SERVICE_ACCOUNT, props) == []


@pytest.mark.parametrize(
    ("account", "namespace_name"),
    [
        (NAMES.system_service_account, "team-b"),
        ("default", "team-b"),
        (NAMES.user_service_account, "team-c"),  # the name of team-b's account, in another namespace
    ],
)
def test_workload_identity_annotation_elsewhere_is_a_violation(account: str, namespace_name: str) -> None:
    for resource_type in (p.SERVICE_ACCOUNT, p.SERVICE_ACCOUNT + "Patch"):
        props = service_account(account, namespace_name, ANNOTATION)
        [message] = check("workload-identity-only-on-user-service-accounts", resource_type, props)
        assert f"ServiceAccount {namespace_name}/{account}" in message and WI in message


def test_service_accounts_without_the_annotation_or_unknown_are_not_judged() -> None:
    rule = "workload-identity-only-on-user-service-accounts"
    assert check(rule, p.SERVICE_ACCOUNT, service_account("default", annotations={"a": "b"})) == []
    assert check(rule, p.SERVICE_ACCOUNT, service_account("default", annotations=p.UNKNOWN)) == []
    props = service_account(NAMES.user_service_account, p.UNKNOWN, ANNOTATION)
    assert check(rule, p.SERVICE_ACCOUNT, props) == []


# ---- dind-only-where-allowed (stack) -------------------------------------------------------------


def deployment(name: str, namespace_name: Any, privileged: bool, managed: bool = False) -> dict[str, Any]:
    container = {"name": "dind", "image": "docker:dind", "securityContext": {"privileged": privileged}}
    labels = with_common_labels() if managed else {}
    return {
        "metadata": {"name": name, "namespace": namespace_name, "labels": labels},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def stack(*resources: tuple[str, dict[str, Any]]) -> list[StackResource]:
    return [StackResource(t, props, f"urn:{i}") for i, (t, props) in enumerate(resources)]


def dind(resources: list[StackResource], config: Mapping[str, Any] = NO_CONFIG) -> list[tuple[str, str]]:
    return tenancy.dind_only_where_allowed(resources, config)


def test_dind_deployment_is_a_violation_unless_its_namespace_is_allowed() -> None:
    resources = stack(
        (p.NAMESPACE, namespace("team-b", "privileged")),
        (p.DEPLOYMENT, deployment("docker-dind", "team-b", True, True)),
    )
    [(urn, message)] = dind(resources)
    assert (
        urn == "urn:1"
        and "Deployment docker-dind (Docker-in-Docker)" in message
        and "dindNamespaces" in message
    )
    assert dind(resources, {"dindNamespaces": ["team-b"]}) == []


def test_dind_deployment_outside_managed_namespaces_is_a_violation_too() -> None:
    [(_, message)] = dind(stack((p.DEPLOYMENT, deployment("docker-dind", "sandbox", False))))
    assert "in namespace sandbox" in message


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (
            p.POD,
            {
                "metadata": {"name": "x", "namespace": "team-b"},
                "spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
            },
        ),
        (p.STATEFUL_SET, deployment("x", "team-b", True)),
        (p.JOB, deployment("x", "team-b", True)),
        (
            p.CRON_JOB,
            {
                "metadata": {"name": "x", "namespace": "team-b"},
                "spec": {"jobTemplate": {"spec": deployment("x", "team-b", True)["spec"]}},
            },
        ),
        (p.DEPLOYMENT + "List", {"metadata": {"name": "l"}, "items": [deployment("x", "team-b", True)]}),
    ],
)
def test_privileged_container_in_a_managed_namespace_is_a_violation(
    resource_type: str, props: dict[str, Any]
) -> None:
    resources = stack((p.NAMESPACE, namespace("team-b")), (resource_type, props))
    [(_, message)] = dind(resources)
    assert "runs the privileged containers" in message and "namespace team-b" in message


def test_privileged_containers_elsewhere_and_plain_workloads_are_not_judged() -> None:
    resources = stack(
        (p.NAMESPACE, namespace("team-b")),
        (p.DEPLOYMENT, deployment("agent", "monitoring", True)),
        (p.DEPLOYMENT, deployment("web", "team-b", False)),
        (p.DEPLOYMENT, deployment("docker-dind", p.UNKNOWN, True)),
    )
    assert dind(resources) == []
    # An object that carries the managed-by label is judged wherever it is.
    assert len(dind(stack((p.DEPLOYMENT, deployment("agent", "monitoring", True, managed=True))))) == 1


def pod_with(spec: dict[str, Any], namespace_name: str = "team-b") -> dict[str, Any]:
    container = {"name": "c", "image": "busybox", **spec.pop("container", {})}
    return {
        "metadata": {"name": "x", "namespace": namespace_name},
        "spec": {"containers": [container], **spec},
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"hostPID": True}, "uses hostPID"),
        ({"hostNetwork": True}, "uses hostNetwork"),
        ({"hostIPC": True}, "uses hostIPC"),
        ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "the hostPath volume root (/)"),
        ({"volumes": [{"name": "kubelet", "hostPath": p.UNKNOWN}]}, "the hostPath volume kubelet (?)"),
        (
            {"container": {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}}},
            "container c adding SYS_ADMIN",
        ),
        ({"container": {"securityContext": {"capabilities": {"add": ["ALL"]}}}}, "container c adding ALL"),
    ],
)
def test_host_namespaces_paths_and_capabilities_in_a_managed_namespace_are_violations(
    spec: dict[str, Any], expected: str
) -> None:
    # Issue 17: without privileged: true, these reached the node in a managed namespace.
    for resource_type, props in (
        (p.POD, pod_with(dict(spec))),
        (
            p.DEPLOYMENT,
            {
                "metadata": {"name": "x", "namespace": "team-b"},
                "spec": {"template": {"spec": pod_with(dict(spec))["spec"]}},
            },
        ),
    ):
        resources = stack((p.NAMESPACE, namespace("team-b")), (resource_type, props))
        [(_, message)] = dind(resources)
        assert expected in message and "namespace team-b" in message and "dindNamespaces" in message
        assert dind(resources, {"dindNamespaces": ["team-b"]}) == []


def test_host_access_outside_managed_namespaces_and_baseline_capabilities_are_not_judged() -> None:
    resources = stack(
        (p.NAMESPACE, namespace("team-b")),
        (p.POD, pod_with({"hostNetwork": True}, "monitoring")),
        (
            p.POD,
            pod_with({"container": {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}}),
        ),
        (p.POD, pod_with({"hostPID": False, "volumes": [{"name": "v", "emptyDir": {}}]})),
        (p.POD, pod_with({"hostPID": p.UNKNOWN})),
    )
    assert dind(resources) == []
