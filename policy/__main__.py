"""Entry point of the policy pack: serves the policies of :mod:`concurrent_policies` to the engine."""

import sys
from pathlib import Path

# The rules import concurrent_infra (object names, RBAC rules, labels) from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.concurrent_policies import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.MANDATORY)
