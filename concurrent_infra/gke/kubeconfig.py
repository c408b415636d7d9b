"""A kubeconfig for a GKE cluster that authenticates with ``gke-gcloud-auth-plugin``."""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def gke_context_name(project: str, location: str, cluster: str) -> str:
    """The context name ``gcloud container clusters get-credentials`` gives the same cluster."""
    return f"gke_{project}_{location}_{cluster}"


def gke_kubeconfig(context: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig (JSON, which is YAML) with one cluster, user and context named ``context``.

    The user has no credentials of its own: kubectl and the Kubernetes provider run
    ``gke-gcloud-auth-plugin`` (installed with the gcloud CLI) for a fresh token each time.
    """
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate},
            }
        ],
        "users": [
            {
                "name": context,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": AUTH_PLUGIN,
                        "installHint": f"Install it with: gcloud components install {AUTH_PLUGIN}",
                        "provideClusterInfo": True,
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    return json.dumps(config, indent=2)
