"""The local cluster as the end-to-end tests use it (JSON reads for assertions)."""

from __future__ import annotations

import json
import time
from typing import Any

from scripts.localcluster.cluster import LocalCluster


class Cluster(LocalCluster):
    """LocalCluster with JSON reads for assertions."""

    def get(self, *args: str) -> dict[str, Any] | None:
        """``kubectl get ARGS -o json``, or None when the object does not exist."""
        result = self.kubectl("get", *args, "-o", "json", check=False)
        if result.returncode != 0:
            if "NotFound" in result.stderr or "not found" in result.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}: {result.stderr}")
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def wait_gone(self, *args: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.get(*args) is not None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{' '.join(args)} still exists after {timeout}s")
            time.sleep(1)
