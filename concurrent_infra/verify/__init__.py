"""``verify``: audit a live cluster against what this package creates, and nothing more.

Usage::

    python -m concurrent_infra.verify --context CTX (--namespace NS ... | --stack-file FILE)
        [--kubeconfig PATH] [--shard-only] [--skip-system-role] [--system-role-user U ...]
        [--system-role-group G ...] [--cross-namespace-sample K] [--verbose] [--json]

Checks (``checks`` package): exact object names and ``roleRef``; role rules compared exactly with
``rbac.SYSTEM_RULES`` / ``rbac.USER_RULES``; binding subjects compared exactly; every binding in
the cluster that reaches a package service account, and every binding of the system role (only
the package's subjects); Pod Security labels; the namespace guard policy; quota, LimitRange,
NetworkPolicy, Workload Identity annotation and DinD; SubjectAccessReviews of both service
accounts, and of them, each namespace's ``default`` account, the system role's subjects and everyone
about impersonation and token requests (a review error is a failure, never "denied").

Exit status: 0 when every check passes, 1 when one fails, 2 on a usage or connection error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..kube.names import SYSTEM_CLUSTER_ROLE
from .api import AccessReview, ClusterApi, ExpectedAccess, KubernetesApi, VerifyError
from .checks import CheckResult, expected_access, expected_objects, run_checks
from .expectations import (
    ClusterExpectation,
    ExpectationError,
    NamespaceExpectation,
    default_expectation,
    expectations_from_stack_file,
)
from .report import render_json, render_text

__all__ = [
    "EXIT_ERROR",
    "EXIT_MISMATCH",
    "EXIT_OK",
    "AccessReview",
    "CheckResult",
    "ClusterApi",
    "ClusterExpectation",
    "ExpectationError",
    "ExpectedAccess",
    "KubernetesApi",
    "NamespaceExpectation",
    "VerifyError",
    "expectations_from_stack_file",
    "expected_access",
    "expected_objects",
    "main",
    "render_json",
    "render_text",
    "run_checks",
]

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="concurrent-infra-verify",
        description="Audit a cluster prepared by concurrent-infra: every object, exactly the expected "
        "rules, subjects and bindings, Pod Security, tenancy objects and permissions "
        "(exit 0: all good, 1: a check failed, 2: usage or connection error).",
    )
    parser.add_argument("--context", required=True, help="kubeconfig context of the cluster")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NAMESPACE",
        help="a namespace to verify with default settings (repeat for more)",
    )
    source.add_argument(
        "--stack-file",
        metavar="FILE",
        help="verify the namespaces and settings of a stack file (stacks/Pulumi.<stack>.yaml)",
    )
    parser.add_argument(
        "--shard-only",
        action="store_true",
        help="with the stack file of a shard (concurrent-infra:shards): only that shard's objects "
        "(default: every shard's namespaces, the whole cluster's environment)",
    )
    parser.add_argument(
        "--skip-system-role",
        action="store_true",
        help=f"do not check ClusterRole {SYSTEM_CLUSTER_ROLE}, its binding and the namespace guard "
        "policy (another stack creates them)",
    )
    parser.add_argument(
        "--system-role-user",
        action="append",
        default=[],
        metavar="USER",
        help="a User the system ClusterRoleBinding may have (systemRoleUsers; repeat for more)",
    )
    parser.add_argument(
        "--system-role-group",
        action="append",
        default=[],
        metavar="GROUP",
        help="a Group the system ClusterRoleBinding may have (systemRoleGroups; repeat for more)",
    )
    parser.add_argument(
        "--system-role-scope",
        choices=("cluster", "namespaces"),
        default=None,
        help="where the system group and users are bound (systemRoleScope; default: the stack "
        "file's, else cluster)",
    )
    parser.add_argument(
        "--cross-namespace-sample",
        type=int,
        default=3,
        metavar="K",
        help="check each namespace's cross-namespace denials against K other namespaces "
        "(default 3; every binding in the cluster is scanned regardless)",
    )
    parser.add_argument("--verbose", action="store_true", help="list every check, not only failures")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser.parse_args(argv)


def expectation_of(args: argparse.Namespace) -> ClusterExpectation:
    """The expectation the flags describe (:class:`ExpectationError` if they cannot be checked)."""
    if args.stack_file:
        base = expectations_from_stack_file(args.stack_file, whole_environment=not args.shard_only)
    else:
        base = default_expectation(args.namespaces)
    return ClusterExpectation(
        namespaces=base.namespaces,
        include_system_role=base.include_system_role and not args.skip_system_role,
        system_role_users=tuple(dict.fromkeys((*base.system_role_users, *args.system_role_user))),
        system_role_groups=tuple(dict.fromkeys((*base.system_role_groups, *args.system_role_group))),
        namespace_guard=base.namespace_guard,
        system_role_scope=args.system_role_scope or base.system_role_scope,
        cross_namespace_sample=args.cross_namespace_sample,
    )


def main(argv: Sequence[str] | None = None, api: ClusterApi | None = None) -> int:
    """The ``concurrent-infra-verify`` command; returns the exit status."""
    args = parse_args(argv)
    try:
        expectation = expectation_of(args)
    except ExpectationError as error:
        print(f"concurrent-infra-verify: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        cluster = api or KubernetesApi(args.context, args.kubeconfig)
        results = run_checks(cluster, expectation)
    except VerifyError as error:
        print(f"concurrent-infra-verify: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(render_json(results, expectation))
    else:
        print(render_text(results, expectation, verbose=args.verbose))
    return EXIT_OK if all(r.ok for r in results) else EXIT_MISMATCH
