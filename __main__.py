"""Pulumi program of the concurrent-infra project: see concurrent_infra.stack."""

from concurrent_infra.stack import main

main()
