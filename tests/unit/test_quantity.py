"""One Kubernetes quantity grammar (issue 17, class 6): k8s.io/apimachinery's ParseQuantity and the
API server's value rules for quotas and container defaults, shared by config, components, verify.

Expected values were checked against ParseQuantity of k8s.io/apimachinery v0.36.3 (a differential
run of ~170,000 generated strings agreed on acceptance and value, apart from the documented
refusal of magnitudes above 2**63-1).
"""

from fractions import Fraction

import pytest

from concurrent_infra.program.config import ConfigError, parse_stack_config
from concurrent_infra.quantity import (
    QuantityError,
    is_integer_resource,
    is_overcommit_allowed,
    parse_quantity,
    quantity_problem,
    quota_value_problem,
)
from tests.support.bad_input import assert_names_key_value_and_fix, namespaces, team_a
from tests.support.mocks import Mocks, RecordingMonitor, run_program

VALID = {
    "500u": Fraction(5, 10**4),
    "100n": Fraction(1, 10**7),
    "1e3": 1000,
    "1E3": 1000,
    "1E": 10**18,
    "1e-3": Fraction(1, 1000),
    "+1": 1,
    ".5": Fraction(1, 2),
    "5.": 5,
    "1.5Gi": 3 * 2**29,
    "0.1Ki": Fraction(512, 5),
    "1e-12": Fraction(1, 10**9),  # rounded up to 1n, as the API server stores it
    "Gi": 0,  # the scanner's leniency: no digits on the int64 path reads as zero
    "-": 0,
    "-1": -1,
}
INVALID = ("", "1K", "1ki", "1e", "1.5.5", "1 Gi", " 1", "1Gi ", "\u0661", "0x10", "1_0", "Ei", "e-96", "1mi")


@pytest.mark.parametrize(("text", "value"), VALID.items())
def test_valid_quantities_parse_to_the_api_servers_value(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", INVALID)
def test_what_parse_quantity_refuses_is_refused(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_micro_and_nano_are_accepted_and_negatives_refused() -> None:
    assert quantity_problem("500u") is None and quantity_problem("100n") is None
    assert "negative" in (quantity_problem("-1") or "")
    assert "larger" in (quantity_problem("10Ei") or "")


def test_integer_and_overcommit_resources_follow_the_helpers() -> None:
    for name in ("pods", "services.loadbalancers", "count/deployments.apps", "nvidia.com/gpu"):
        assert is_integer_resource(name), name
    for name in ("requests.cpu", "memory", "requests.nvidia.com/gpu", "hugepages-2Mi"):
        assert not is_integer_resource(name), name
    assert not is_overcommit_allowed("nvidia.com/gpu") and not is_overcommit_allowed("hugepages-2Mi")
    assert is_overcommit_allowed("cpu") and is_overcommit_allowed("kubernetes.io/x")
    assert "whole units" in (quota_value_problem("pods", "1.5") or "")
    assert quota_value_problem("pods", "1500m") is not None and quota_value_problem("pods", "2000m") is None


@pytest.mark.parametrize(
    ("entry", "key", "value", "fix"),
    [
        ({"quota": {"pods": "10.5"}}, "namespaces[0].quota.pods", '"10.5"', "write 10 or 11"),
        (
            {"quota": {"count/jobs.batch": "500m"}},
            "namespaces[0].quota.count/jobs.batch",
            '"500m"',
            "write 0 or 1",
        ),
        ({"quota": {"requests.cpu": "-1"}}, "namespaces[0].quota.requests.cpu", '"-1"', "write 1"),
        (
            {"containerDefaults": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}}},
            "namespaces[0].containerDefaults.requests.nvidia.com/gpu",
            '"1"',
            "make them equal",
        ),
        (
            {"containerDefaults": {"requests": {"nvidia.com/gpu": "1"}}},
            "namespaces[0].containerDefaults.requests.nvidia.com/gpu",
            '"1"',
            "add limits.nvidia.com/gpu: 1",
        ),
        (
            {"containerDefaults": {"limits": {"nvidia.com/gpu": "0.5", "cpu": "1"}}},
            "namespaces[0].containerDefaults.limits.nvidia.com/gpu",
            '"0.5"',
            "write 0 or 1",
        ),
        (
            {"containerDefaults": {"limits": {"hugepages-2Mi": "3Mi", "memory": "1Gi"}}},
            "namespaces[0].containerDefaults.limits.hugepages-2Mi",
            '"3Mi"',
            "a multiple of 2Mi",
        ),
        (
            {"containerDefaults": {"limits": {"hugepages-2Mi": "4Mi"}}},
            "namespaces[0].containerDefaults.limits.hugepages-2Mi",
            '"4Mi"',
            "add a cpu or memory default",
        ),
    ],
)
def test_config_refuses_what_the_api_server_refuses(
    entry: dict[str, object], key: str, value: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(namespaces({"name": "a", **entry}))
    assert_names_key_value_and_fix(caught.value.problems, key, value, fix)


def test_config_accepts_micro_and_nano_quantities() -> None:
    config = parse_stack_config(
        namespaces(
            {
                "name": "a",
                "quota": {"requests.cpu": "500u", "pods": "10"},
                "containerDefaults": {"requests": {"cpu": "100n"}, "limits": {"nvidia.com/gpu": "1"}},
            }
        )
    )
    assert config is not None


def test_the_python_api_refuses_a_fractional_pod_quota_before_registration() -> None:
    monitor = RecordingMonitor(Mocks())
    with pytest.raises(ConfigError) as caught:
        run_program(team_a(quota={"pods": "1.5"}), monitor=monitor)
    assert_names_key_value_and_fix(caught.value.problems, "args.quota.pods", '"1.5"', "write 1 or 2")
    assert monitor.registrations == []
