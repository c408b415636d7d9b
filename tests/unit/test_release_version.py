"""The release version is written in several files that cannot import it (the package metadata, the
policy pack's PulumiPolicy.yaml, the TypeScript example's lock of the generated SDK); they and the
newest CHANGELOG entry name the same semantic version."""

import json
import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def package_version() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert isinstance(version, str)
    return version


def test_the_version_is_semantic() -> None:
    assert SEMVER.match(package_version())


def test_every_written_version_is_the_package_version() -> None:
    policy = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    lock_file = ROOT / "plugin" / "examples" / "typescript" / "package-lock.json"
    lock = json.loads(lock_file.read_text(encoding="utf-8"))
    sdk = lock["packages"]["sdks/concurrent-infra"]
    assert sdk["name"] == "@pulumi/concurrent-infra"
    assert {str(policy["version"]), sdk["version"]} == {package_version()}


def test_the_newest_changelog_entry_is_the_package_version() -> None:
    releases = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert releases and releases[0] == package_version()
    assert all(SEMVER.match(release) for release in releases)
