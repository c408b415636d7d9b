"""Pulumi program of the concurrent-infra project: see concurrent_infra.program.stack."""

from concurrent_infra.program.stack import main

main()
