"""Entry point of the policy pack: the engine runs ``python policy/``; see concurrent_infra_policy."""

# Run as `python policy/`, the pack's directory is the first import path: concurrent_infra_policy is
# found there, and concurrent_infra in the project's virtualenv. mypy checks the package itself as
# policy.concurrent_infra_policy, hence the ignore on this one import.
from concurrent_infra_policy.pack import serve  # type: ignore[import-not-found]

serve()
