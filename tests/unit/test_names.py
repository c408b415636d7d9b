import pytest

from concurrent_infra.kube.names import (
    SYSTEM_CLUSTER_ROLE,
    SYSTEM_CLUSTER_ROLE_BINDING,
    SYSTEM_GROUP,
    namespace_name_problem,
    namespace_object_names,
    suggest_namespace_name,
)


def test_names_match_the_reference_table_for_parallelsns() -> None:
    names = namespace_object_names("parallelsns")
    assert names.namespace == "parallelsns"
    assert names.system_service_account == "k8s-serviceaccount-for-parallels-parallelsns"
    assert names.system_role_binding == "k8s-service-account-binding-parallelsns"
    assert names.user_cluster_role == "k8s-role-for-users-parallelsns"
    assert names.user_service_account == "k8s-serviceaccount-for-users-parallelsns"
    assert names.user_role_binding == "k8s-serviceaccount-for-users-parallelsns-binding"


def test_cluster_wide_names_match_the_reference_table() -> None:
    assert SYSTEM_CLUSTER_ROLE == "k8s-role-for-parallels-lambda"
    assert SYSTEM_CLUSTER_ROLE_BINDING == "k8s-role-for-parallels-lambda-binding"
    assert SYSTEM_GROUP == "k8s-role-for-parallels-lambda-group"


@pytest.mark.parametrize("name", ["parallelsns", "a", "ml-team-1", "0abc", "a" * 63])
def test_valid_namespace_names(name: str) -> None:
    assert namespace_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("a" * 64, "64 characters"),
        ("Parallels", "DNS-1123"),
        ("parallels_ns", "DNS-1123"),
        ("-abc", "DNS-1123"),
        ("abc-", "DNS-1123"),
        ("a.b", "DNS-1123"),
        ("kube-system", "reserved"),
        ("kube-public", "reserved"),
        ("kube-node-lease", "reserved"),
        ("default", "reserved"),
    ],
)
def test_invalid_namespace_names(name: str, fragment: str) -> None:
    problem = namespace_name_problem(name)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("Parallels_NS", "parallels-ns"), ("kube-system", "concurrent-kube-system"), ("___", "parallelsns")],
)
def test_suggestions_are_valid(name: str, suggestion: str) -> None:
    assert suggest_namespace_name(name) == suggestion
    assert namespace_name_problem(suggestion) is None
