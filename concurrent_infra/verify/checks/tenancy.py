"""The ``tenancy`` area: quota, LimitRange, NetworkPolicy, the Workload Identity annotation and
DinD of each namespace."""

from __future__ import annotations

from collections.abc import Sequence

from ...kube.names import (
    DIND_NAME,
    LIMIT_RANGE,
    NETWORK_POLICY,
    RESOURCE_QUOTA,
    namespace_object_names,
)
from ...quantity import same_quantity
from ..api import ClusterApi, KubeObject
from ..expectations import NamespaceExpectation
from .result import CheckResult

WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"


def _exists(kind: str, namespace: str, name: str, obj: KubeObject | None, want: bool = True) -> CheckResult:
    found = obj is not None
    return CheckResult(
        "tenancy",
        f"{kind} {namespace}/{name} {'exists' if want else 'is absent'}",
        "exists" if want else "absent",
        "exists" if found else "missing" if want else "absent",
        found == want,
    )


def tenancy_results(
    api: ClusterApi, expected: NamespaceExpectation, service_accounts: Sequence[KubeObject]
) -> list[CheckResult]:
    """Quota, LimitRange and NetworkPolicy when configured; Workload Identity and DinD both ways."""
    ns = expected.name
    results: list[CheckResult] = []
    if expected.quota is not None:
        quota = api.get_object("ResourceQuota", RESOURCE_QUOTA, ns)
        results.append(_exists("ResourceQuota", ns, RESOURCE_QUOTA, quota))
        if quota is not None:
            hard = {str(k): str(v) for k, v in ((quota.get("spec") or {}).get("hard") or {}).items()}
            same = hard.keys() == expected.quota.keys() and all(
                same_quantity(hard[key], value) for key, value in expected.quota.items()
            )
            results.append(
                CheckResult(
                    "tenancy",
                    f"ResourceQuota {ns}/{RESOURCE_QUOTA} hard limits",
                    ", ".join(f"{k}={v}" for k, v in sorted(expected.quota.items())),
                    ", ".join(f"{k}={v}" for k, v in sorted(hard.items())) or "(none)",
                    same,
                )
            )
    if expected.container_defaults:
        results.append(_exists("LimitRange", ns, LIMIT_RANGE, api.get_object("LimitRange", LIMIT_RANGE, ns)))
    if expected.network_isolation:
        policy = api.get_object("NetworkPolicy", NETWORK_POLICY, ns)
        results.append(_exists("NetworkPolicy", ns, NETWORK_POLICY, policy))
    user = namespace_object_names(ns).user_service_account
    for account in service_accounts:
        metadata = account.get("metadata") or {}
        name = str(metadata.get("name", ""))
        email = (metadata.get("annotations") or {}).get(WORKLOAD_IDENTITY_ANNOTATION)
        if name == user:
            want = expected.workload_identity_email
            if want is None and email is None:
                continue
            results.append(
                CheckResult(
                    "tenancy",
                    f"ServiceAccount {ns}/{name} {WORKLOAD_IDENTITY_ANNOTATION}",
                    want or "(none)",
                    str(email) if email is not None else "(none)",
                    email == want,
                )
            )
        elif email is not None:
            results.append(
                CheckResult(
                    "tenancy",
                    f"ServiceAccount {ns}/{name} {WORKLOAD_IDENTITY_ANNOTATION}",
                    "(none): only the package's user service account",
                    str(email),
                    False,
                )
            )
    dind = api.get_object("Deployment", DIND_NAME, ns)
    results.append(_exists("Deployment", ns, DIND_NAME, dind, want=expected.dind))
    if expected.dind:
        results.append(_exists("Service", ns, DIND_NAME, api.get_object("Service", DIND_NAME, ns)))
    return results
