"""GKE: the GkeCluster component and its settings (needs the [gke] extra, pulumi-gcp)."""
