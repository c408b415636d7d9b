"""Waiting for the namespace guard: the probe's verdicts, the wait loop, and the wiring that makes
every grant of the system role wait for it (under the mock engine)."""

from collections.abc import Iterator

import pytest

from concurrent_infra import ConcurrentNamespace, SystemRole
from concurrent_infra.kube.guard_probe import (
    REFUSALS_NEEDED,
    GuardProbeError,
    ProbeAnswer,
    enforced,
    probe_patch,
    wait_until_enforced,
)
from concurrent_infra.kube.guardrails import PROBE_LABEL, guard_token
from concurrent_infra.kube.labels import MANAGED_BY_LABEL
from concurrent_infra.kube.names import SYSTEM_CLUSTER_ROLE
from concurrent_infra.program.config import ConfigError, parse_stack_config
from tests.support.mocks import run_program
from tests.support.probes import ProbeRecorder

TOKEN = "0123456789abcdef"
REFUSED = ProbeAnswer(403, f"ValidatingAdmissionPolicy denied request: {PROBE_LABEL} {TOKEN}: in force")
ADMITTED = ProbeAnswer(200)
VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
VAPB = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def answers(*sequence: ProbeAnswer) -> Iterator[ProbeAnswer]:
    yield from sequence
    while True:
        yield sequence[-1]


def test_the_probe_is_a_labelled_patch_the_guard_selects() -> None:
    assert probe_patch(TOKEN) == {
        "metadata": {"labels": {MANAGED_BY_LABEL: "concurrent-infra", PROBE_LABEL: TOKEN}}
    }


def test_verdicts() -> None:
    assert enforced(REFUSED, TOKEN)
    assert not enforced(ADMITTED, TOKEN)
    assert not enforced(ProbeAnswer(0, "no answer: connection refused"), TOKEN)
    assert not enforced(ProbeAnswer(403, f"denied request: {PROBE_LABEL} fedcba9876543210"), TOKEN)
    for hopeless in (
        ProbeAnswer(403, 'User "ci" cannot patch resource "namespaces" in API group ""'),
        ProbeAnswer(401, "Unauthorized"),
        ProbeAnswer(404, 'namespaces "default" not found'),
    ):
        with pytest.raises(GuardProbeError, match="patch on namespaces"):
            enforced(hopeless, TOKEN)


def test_waits_for_refusals_in_a_row() -> None:
    clock = Clock()
    sequence = answers(ADMITTED, ADMITTED, REFUSED, ADMITTED, REFUSED, REFUSED, REFUSED)
    probes = wait_until_enforced(lambda: next(sequence), TOKEN, timeout=60, sleep=clock.sleep, clock=clock)
    assert probes == 4 + REFUSALS_NEEDED


def test_a_guard_never_enforced_fails_the_update_with_the_last_answer() -> None:
    clock = Clock()
    with pytest.raises(GuardProbeError, match=r"not in force after 5s.*admitted.*1\.30"):
        wait_until_enforced(lambda: ADMITTED, TOKEN, timeout=5, sleep=clock.sleep, clock=clock)


WAIT = {"kubeconfig": "/tmp/kubeconfig", "context": "kind"}


def test_every_grant_of_the_system_role_waits_for_the_probe(guard_probes: ProbeRecorder) -> None:
    def program() -> None:
        role = SystemRole("sr", {"extra_users": ["ops@example.com"], "wait_for_guard": WAIT})  # type: ignore[typeddict-item]
        ConcurrentNamespace("ns", {"namespace": "ns", "system_role_name": role.cluster_role_name})

    before = len(guard_probes.senders)
    _, run = run_program(program)
    assert guard_probes.senders[before:] == [
        (guard_token(["ops@example.com"], []), "/tmp/kubeconfig", "kind", None)
    ]
    guard = {run.of_type(VAP)[0].urn, run.of_type(VAPB)[0].urn}
    # The role too: a binding made before it (a shard that deployed first) grants it at once.
    grants = [
        run.named(CLUSTER_ROLE, SYSTEM_CLUSTER_ROLE),
        *run.of_type(CLUSTER_ROLE_BINDING),
        run.named(ROLE_BINDING, "k8s-service-account-binding-ns"),
    ]
    assert len(grants) == 3
    for grant in grants:
        assert guard <= set(grant.dependencies), (grant.name, grant.dependencies)


def test_wait_for_guard_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"wait_for_guard\.namespace.*not a key"):
        run_program(lambda: SystemRole("sr", {"wait_for_guard": {"namespace": "x"}}))  # type: ignore[typeddict-unknown-key]


def test_the_stack_program_waits_with_the_providers_settings(guard_probes: ProbeRecorder) -> None:
    from concurrent_infra.program.stack import main

    before = len(guard_probes.senders)
    run_program(
        main,
        {
            "concurrent-infra:namespaces": '["a"]',
            "kubernetes:context": "prod",
            "kubernetes:cluster": "prod-cluster",
        },
    )
    assert guard_probes.senders[before:] == [(guard_token(), None, "prod", "prod-cluster")]


def test_a_second_stack_that_binds_its_own_subjects_outside_shards_is_refused() -> None:
    raw = {
        "namespaces": '["team-c"]',
        "createSystemRole": "false",
        "systemRoleScope": "namespaces",
        "systemRoleUsers": '["other-plane@p.iam.gserviceaccount.com"]',
    }
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    message = str(caught.value)
    assert "systemRoleUsers" in message and "other-plane@p.iam.gserviceaccount.com" in message
    assert "namespace guard" in message and "concurrent-infra:shards" in message
    parse_stack_config({**raw, "shards": '["prod", "prod-2"]'})  # the environment checks them
    without = {key: value for key, value in raw.items() if key != "systemRoleUsers"}
    parse_stack_config(without)  # only the system group, which every guard holds back


def test_a_stack_that_creates_the_cluster_but_not_the_system_role_is_refused() -> None:
    """Its control-plane account would be bound to the system role where no guard lists it."""
    cluster = '{"name": "ml", "location": "us-central1", "controlPlaneServiceAccount": {}}'
    raw = {"namespaces": '["team-c"]', "createSystemRole": "false", "cluster": cluster}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, "my-project")
    message = str(caught.value)
    assert "concurrent-infra:cluster" in message and "createSystemRole: true" in message
    parse_stack_config({**raw, "createSystemRole": "true"}, "my-project")
