"""The concurrent-infra Pulumi policy pack (``pulumi preview --policy-pack policy``)."""
