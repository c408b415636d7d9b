"""verify and what an earlier guard let through (issue 17, review finding 5): the previous release's
guard compared neither ownerReferences nor finalizers, so the system service account could plant an
owner (a live Node, deleted later: the garbage collector then deletes the namespace), a finalizer or
a node-placement annotation; today's guard refuses removing it too. verify must see each, and say
how a cluster admin removes it (against the fake cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from concurrent_infra import verify
from concurrent_infra.kube.guardrails import GUARDED_ANNOTATIONS
from concurrent_infra.verify import ClusterExpectation, NamespaceExpectation, checks
from tests.support.fake_cluster import FakeCluster
from tests.support.verify_run import clean_cluster, failed, failures, run_verify

NODE_SELECTOR = "scheduler.alpha.kubernetes.io/node-selector"


def team_a(cluster: FakeCluster) -> dict[str, Any]:
    namespace: dict[str, Any] = cluster.objects[("Namespace", "", "team-a")]
    return namespace


def test_a_clean_namespace_passes_every_metadata_check() -> None:
    rows = checks.namespace_metadata_results(NamespaceExpectation("team-a"), team_a(clean_cluster()))
    assert len(rows) == 3 + len(GUARDED_ANNOTATIONS)
    assert all(row.ok and row.area == "guard" for row in rows)


def test_an_owner_reference_fails_and_says_how_to_remove_it(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clean_cluster()
    team_a(cluster)["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "0f1e"}
    ]
    [row] = failed(cluster)
    assert row.check.startswith("Namespace team-a has no ownerReferences")
    assert row.actual.startswith("Node node-1 (uid 0f1e); remove it as a cluster admin: ")
    status, output = run_verify(cluster, capsys)
    assert status == verify.EXIT_MISMATCH
    [entry] = failures(output)  # the whole command is in the text report
    remove = """-p '[{"op":"remove","path":"/metadata/ownerReferences"}]'"""
    assert f"kubectl patch namespace team-a --type=json {remove}" in entry


def test_a_metadata_finalizer_fails() -> None:
    cluster = clean_cluster()
    team_a(cluster)["metadata"]["finalizers"] = ["example.com/hold"]
    [row] = failed(cluster)
    assert row.check == "Namespace team-a has no metadata.finalizers (they hold its deletion)"
    assert row.actual.startswith("example.com/hold; remove it as a cluster admin: kubectl patch namespace")
    assert '"path":"/metadata/finalizers"' in row.actual


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        ({}, "(none)"),  # the kubernetes finalizer removed through namespaces/finalize
        ({"finalizers": []}, "(none)"),
        ({"finalizers": ["kubernetes", "example.com/hold"]}, "kubernetes, example.com/hold"),
    ],
)
def test_spec_finalizers_other_than_kubernetes_fail(
    spec: dict[str, Any], found: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = clean_cluster()
    team_a(cluster)["spec"] = spec
    [row] = failed(cluster)
    assert row.check.startswith("Namespace team-a spec.finalizers")
    assert row.expected == "kubernetes"
    assert row.actual.startswith(f"{found}; restore it as a cluster admin: ")
    _, output = run_verify(cluster, capsys)
    [entry] = failures(output)
    assert (
        """kubectl get namespace team-a -o json | jq '.spec.finalizers=["kubernetes"]' | """
        "kubectl replace --raw /api/v1/namespaces/team-a/finalize -f -"
    ) in entry


@pytest.mark.parametrize("key", GUARDED_ANNOTATIONS)
def test_a_node_placement_annotation_not_configured_fails(key: str) -> None:
    cluster = clean_cluster()
    team_a(cluster)["metadata"]["annotations"] = {key: "pool=gpu", "example.com/other": "kept"}
    [row] = failed(cluster)
    assert row.check == f"Namespace team-a annotation {key} (where its pods may run)"
    assert row.expected == "(none): not configured"
    assert row.actual == (
        f'"pool=gpu"; remove it as a cluster admin: kubectl annotate namespace team-a {key}-'
    )


def configured(value: str) -> ClusterExpectation:
    return ClusterExpectation(
        namespaces=(NamespaceExpectation("team-a", annotations={NODE_SELECTOR: value}),)
    )


def test_a_configured_node_placement_annotation_must_keep_its_value() -> None:
    expectation = configured("pool=team-a")
    cluster = clean_cluster(expectation)
    assert team_a(cluster)["metadata"]["annotations"] == {NODE_SELECTOR: "pool=team-a"}
    assert failed(cluster, expectation) == []
    team_a(cluster)["metadata"]["annotations"][NODE_SELECTOR] = "pool=gpu"
    [row] = failed(cluster, expectation)
    assert (row.expected, row.actual) == (
        '"pool=team-a"',
        '"pool=gpu"; restore it as a cluster admin: kubectl annotate --overwrite namespace team-a '
        f"{NODE_SELECTOR}=pool=team-a",
    )
    del team_a(cluster)["metadata"]["annotations"][NODE_SELECTOR]
    [row] = failed(cluster, expectation)
    assert row.actual.startswith("(none); restore it")


def test_an_empty_node_selector_is_not_an_absent_one() -> None:
    """PodNodeSelector uses a namespace's annotation whenever it is present, an empty one too,
    instead of the cluster's default (``getNodeSelectorMap`` in kubernetes/kubernetes
    plugin/pkg/admission/podnodeselector/admission.go): present and empty differs from absent."""
    cluster = clean_cluster()
    team_a(cluster)["metadata"]["annotations"] = {NODE_SELECTOR: ""}
    [row] = failed(cluster)
    assert row.actual.startswith('""; remove it')
    expectation = configured("")
    assert failed(clean_cluster(expectation), expectation) == []


def test_a_restored_value_is_quoted_for_the_shell() -> None:
    key = "scheduler.alpha.kubernetes.io/defaultTolerations"
    value = '[{"key": "gpu", "operator": "Exists"}]'
    expectation = ClusterExpectation(namespaces=(NamespaceExpectation("team-a", annotations={key: value}),))
    cluster = clean_cluster(expectation)
    team_a(cluster)["metadata"]["annotations"] = {}
    [row] = failed(cluster, expectation)
    assert row.actual.endswith(f"""namespace team-a '{key}=[{{"key": "gpu", "operator": "Exists"}}]'""")
