"""A throw-away local Kubernetes cluster and a real Pulumi project on it, for the e2e tests,
scripts/up-local and benchmarks/bench_engine.py (outside tests/, so tools import no test code)."""
