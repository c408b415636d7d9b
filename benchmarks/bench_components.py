"""Program evaluation time and peak memory of the components vs. the same bare resources.

Runs each case in a fresh subprocess under Pulumi's mock engine: N ConcurrentNamespaces plus the
SystemRole, next to the same 6N+2 objects created directly with pulumi_kubernetes. Prints the
medians and the ratio (goal: components at most 1.15x the bare resources).

    .venv/bin/python benchmarks/bench_components.py [--sizes 1 10 100 500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.15


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def components_program(count: int) -> None:
    from concurrent_infra import ConcurrentNamespace, SystemRole

    system_role = SystemRole("system-role", {})
    for index in range(count):
        name = f"ns-{index}"
        ConcurrentNamespace(name, {"namespace": name, "system_role_name": system_role.cluster_role_name})


def bare_program(count: int) -> None:
    """The same objects with the same inputs and options, without the component layer."""
    import pulumi
    import pulumi_kubernetes as k8s

    from concurrent_infra.kube.guardrails import namespace_guard_binding_spec, namespace_guard_policy_spec
    from concurrent_infra.kube.names import (
        NAMESPACE_GUARD_POLICY,
        SYSTEM_CLUSTER_ROLE,
        SYSTEM_CLUSTER_ROLE_BINDING,
        SYSTEM_GROUP,
        namespace_object_names,
    )
    from concurrent_infra.kube.objects import (
        cluster_role_ref,
        name_of,
        object_metadata,
        service_account_subject,
    )
    from concurrent_infra.kube.pod_security import DEFAULT_POD_SECURITY, pod_security_labels
    from concurrent_infra.kube.rbac import RBAC_API_GROUP, SYSTEM_RULES, USER_RULES, k8s_rules

    role = k8s.rbac.v1.ClusterRole(
        "system-role-cluster-role",
        metadata=object_metadata(SYSTEM_CLUSTER_ROLE),
        rules=k8s_rules(SYSTEM_RULES),
    )
    k8s.rbac.v1.ClusterRoleBinding(
        "system-role-cluster-role-binding",
        metadata=object_metadata(SYSTEM_CLUSTER_ROLE_BINDING),
        role_ref=cluster_role_ref(SYSTEM_CLUSTER_ROLE),
        subjects=[{"kind": "Group", "name": SYSTEM_GROUP, "api_group": RBAC_API_GROUP}],
        opts=pulumi.ResourceOptions(depends_on=[role]),
    )
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        "system-role-namespace-guard",
        metadata=object_metadata(NAMESPACE_GUARD_POLICY),
        spec=namespace_guard_policy_spec(),
    )
    k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        "system-role-namespace-guard-binding",
        metadata=object_metadata(NAMESPACE_GUARD_POLICY),
        spec=namespace_guard_binding_spec(),
        opts=pulumi.ResourceOptions(depends_on=[policy]),
    )
    role_name = role.urn.apply(lambda _: SYSTEM_CLUSTER_ROLE)
    for index in range(count):
        names = namespace_object_names(f"ns-{index}")
        prefix = names.namespace
        namespace_object = k8s.core.v1.Namespace(
            f"{prefix}-namespace",
            metadata=object_metadata(names.namespace, labels=pod_security_labels(DEFAULT_POD_SECURITY)),
            opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True),
        )
        namespace = name_of(namespace_object.metadata)
        system_sa = k8s.core.v1.ServiceAccount(
            f"{prefix}-system-service-account",
            metadata=object_metadata(names.system_service_account, namespace),
        )
        k8s.rbac.v1.RoleBinding(
            f"{prefix}-system-role-binding",
            metadata=object_metadata(names.system_role_binding, namespace),
            role_ref=cluster_role_ref(role_name),
            subjects=[service_account_subject(names.system_service_account, names.namespace)],
            opts=pulumi.ResourceOptions(depends_on=[system_sa]),
        )
        user_role = k8s.rbac.v1.ClusterRole(
            f"{prefix}-user-cluster-role",
            metadata=object_metadata(names.user_cluster_role),
            rules=k8s_rules(USER_RULES),
        )
        user_sa = k8s.core.v1.ServiceAccount(
            f"{prefix}-user-service-account", metadata=object_metadata(names.user_service_account, namespace)
        )
        k8s.rbac.v1.RoleBinding(
            f"{prefix}-user-role-binding",
            metadata=object_metadata(names.user_role_binding, namespace),
            role_ref=cluster_role_ref(names.user_cluster_role),
            subjects=[service_account_subject(names.user_service_account, names.namespace)],
            opts=pulumi.ResourceOptions(depends_on=[user_sa, user_role]),
        )
        # The components' outputs: the service accounts' names once they exist.
        name_of(system_sa.metadata)
        name_of(user_sa.metadata)


PROGRAMS = {"components": components_program, "bare": bare_program}


def measure_once(mode: str, count: int) -> dict[str, Any]:
    """Run one program under mocks in this process and return its time and memory."""
    import pulumi

    import concurrent_infra  # noqa: F401 (imported before timing: both programs use it)
    from scripts.pulumi_mocks import Mocks

    registrations = []

    class Counting(Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registrations.append(args.typ)
            return super().new_resource(args)

    pulumi.runtime.set_mocks(Counting(), project="concurrent-infra", stack="bench", preview=False)
    baseline = rss_kib()
    program = PROGRAMS[mode]

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        program(count)

    start, cpu_start = time.perf_counter(), time.process_time()
    run()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    custom = sum(1 for typ in registrations if typ.startswith("kubernetes:"))
    growth = max(peak - baseline, 0)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_growth_kib": growth, "objects": custom}


def measure(mode: str, count: int) -> dict[str, Any]:
    """Run one case in a fresh interpreter, so imports and caches do not leak between cases."""
    output = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(count)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 500])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure_once(args.one[0], int(args.one[1]))))
        return

    print(
        f"{'namespaces':>10} {'objects':>7} {'bare s':>8} {'comp s':>8} {'wall x':>6} "
        f"{'bare cpu':>8} {'comp cpu':>8} {'cpu x':>6} {'bare MiB':>8} {'comp MiB':>8} {'mem x':>6}"
    )
    worst: dict[str, float] = {"wall": 0.0, "cpu": 0.0, "memory": 0.0}
    for count in args.sizes:
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "components": []}
        for _ in range(args.repeats):  # interleaved, so drifting machine load hits both alike
            for mode in runs:
                runs[mode].append(measure(mode, count))
        objects = {r["objects"] for mode_runs in runs.values() for r in mode_runs}
        assert len(objects) == 1, f"the two programs created different object counts: {objects}"

        row = [str(count).rjust(10), str(objects.pop()).rjust(7)]
        for name, key, scale, width in (
            ("wall", "seconds", 1.0, 8),
            ("cpu", "cpu_seconds", 1.0, 8),
            ("memory", "peak_growth_kib", 1 / 1024, 8),
        ):
            bare, components = (statistics.median(r[key] for r in runs[mode]) * scale for mode in runs)
            ratio = components / bare if bare > 0 else float("nan")
            if count >= 10:  # a single namespace measures start-up noise, not the components
                worst[name] = max(worst[name], ratio)
            row += [f"{bare:>{width}.3f}", f"{components:>{width}.3f}", f"{ratio:>6.3f}"]
        print(" ".join(row))
    for name, ratio in worst.items():
        verdict = "within" if ratio <= GOAL else "OVER"
        print(f"worst {name} ratio (10+ namespaces): {ratio:.3f}, {verdict} the {GOAL}x goal")


if __name__ == "__main__":
    main()
