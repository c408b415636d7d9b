"""Adopting objects that already exist because an operator followed the manual procedure.

Two things are needed, and ``adoptExisting`` turns on both: the provider must update an object
that exists instead of failing (``upsertExistingObjects``, pulumi-kubernetes 4.29+), and server-side
apply must take over the fields ``kubectl apply`` manages, or every changed list (a role's rules)
is an apply conflict. The second is the ``pulumi.com/patchForce`` annotation, which every
pulumi-kubernetes 4.x honours.
"""

from __future__ import annotations

from typing import Any, cast

import pulumi

PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


def take_over_fields(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Resource transform: annotate each Kubernetes object so server-side apply forces conflicts."""
    if not (args.custom and args.type_.startswith("kubernetes:")):
        return None
    metadata = dict(cast("dict[str, Any]", args.props.get("metadata") or {}))
    metadata["annotations"] = {**(metadata.get("annotations") or {}), PATCH_FORCE_ANNOTATION: "true"}
    return pulumi.ResourceTransformResult(props={**args.props, "metadata": metadata}, opts=args.opts)


def adoption_transforms(adopt_existing: bool) -> list[pulumi.ResourceTransform] | None:
    """The transforms to put on components when adopting (None otherwise)."""
    return [take_over_fields] if adopt_existing else None
