"""What `pip install concurrent-infra` pulls in, and what the extras add (read from pyproject.toml)."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def project() -> dict[str, object]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table: dict[str, object] = data["project"]
    return table


def names(requirements: object) -> set[str]:
    assert isinstance(requirements, list)
    return {
        str(requirement).split(">")[0].split("<")[0].split("=")[0].split("[")[0]
        for requirement in requirements
    }


def test_the_plain_package_needs_neither_pulumi_gcp_nor_the_kubernetes_client() -> None:
    assert names(project()["dependencies"]) == {"pulumi", "pulumi-kubernetes"}


def test_extras_add_gcp_and_the_verify_client() -> None:
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    assert names(extras["gke"]) == {"pulumi-gcp"}
    assert names(extras["verify"]) == {"kubernetes", "pyyaml"}


def test_the_stack_programs_requirements_match_the_package_ranges() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    # The program waits for the namespace guard (SystemRole's wait_for_guard): the kubernetes
    # client of the verify extra, which the plain package does without.
    kubernetes = [req for req in extras["verify"] if req.startswith("kubernetes")]
    declared = [*project()["dependencies"], *extras["gke"], *kubernetes]  # type: ignore[misc]
    assert sorted(lines) == sorted(declared)
