"""The reference procedure's last step: the MLflow project that checks a namespace works."""

from __future__ import annotations

import json
import shlex

EXAMPLE_PROJECT = "https://github.com/jagane-infinstor/mlflow-example-docker.git"
CONTEXT_PLACEHOLDER = "<your_cluster_name_here>"


def mlflow_test_command(namespace: str, kube_context: str | None = None) -> str:
    """The ``mlflow run -b concurrent-backend ...`` command of the reference, for ``namespace``."""
    backend_config = {
        "backend-type": "gke",
        "kube-context": kube_context or CONTEXT_PLACEHOLDER,
        "kube-namespace": namespace,
        "resources.requests.memory": "1024Mi",
        "kube-client-location": "backend",
    }
    return (
        "mlflow run -b concurrent-backend --backend-config "
        f"{shlex.quote(json.dumps(backend_config))} {EXAMPLE_PROJECT} -Palpha=0.62 -Pl1_ratio=0.02"
    )
