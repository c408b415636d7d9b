"""``concurrent_infra.gke`` serves stacks without a cluster without pulumi-gcp, and exports the
components for those with one."""

import subprocess
import sys


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_the_stack_config_and_the_gke_package_do_not_load_pulumi_gcp() -> None:
    loaded = run(
        "import sys, concurrent_infra.gke, concurrent_infra.program.config, concurrent_infra.gke.readers; "
        "print('pulumi_gcp' in sys.modules)"
    )
    assert loaded.strip() == "False"


def test_the_components_are_importable_from_their_package() -> None:
    names = run(
        "from concurrent_infra.gke import ControlPlaneAccount, GkeCluster; "
        "print(GkeCluster.__module__, ControlPlaneAccount.__module__)"
    )
    assert names.split() == ["concurrent_infra.gke.cluster", "concurrent_infra.gke.control_plane"]
