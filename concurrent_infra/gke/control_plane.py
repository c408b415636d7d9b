"""The ControlPlaneAccount component: the Google service account Concurrent's control plane uses.

It belongs to Concurrent, not to the cluster, so it is its own component (earlier releases created
it inside GkeCluster). Its email is what the system ClusterRoleBinding names as a ``User``.

Key hand-over: no JSON key by default (``create_key``). A key is a long-lived credential, never
rotated, stored in the Pulumi state, and refused by the ``iam.disableServiceAccountKeyCreation``
organization policy that Google enforces on organizations created since May 2024. See docs/gke.md
("Control-plane service account") for creating and handing over a key when the organization
allows one.
"""

from typing import Optional

import pulumi
import pulumi_gcp as gcp

from ..validation import KeyStyle, component_args_problems
from .args import ControlPlaneAccountArgs
from .cluster import service_account_with_roles
from .readers import read_control_plane
from .settings import ControlPlaneSettings

TYPE = "concurrent-infra:index:ControlPlaneAccount"


class ControlPlaneAccount(pulumi.ComponentResource):
    """A Google service account (with project roles, and optionally a key) for Concurrent's control plane.

    Child resource names derive from the component name: ``<name>`` (the account),
    ``<name>-<role>`` (each grant) and ``<name>-key``.
    """

    email: pulumi.Output[str]
    """The account's email: bind it to the system role as a User."""
    key: pulumi.Output[Optional[str]]  # noqa: UP045 (the schema analyzer reads Optional)
    """The base64 JSON key when create_key is true, else None (secret)."""

    def __init__(
        self,
        name: str,
        args: ControlPlaneAccountArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from: pulumi.Resource | None = None,
    ) -> None:
        """``moved_from``: the GkeCluster these resources were children of (stacks created by an
        earlier release): each child gets an alias with that parent, so nothing is replaced."""
        problems = component_args_problems(
            "ControlPlaneAccount", name, args, "{'account_id': ..., 'project': ...}"
        )
        settings = read_control_plane(args, "", problems, KeyStyle.SNAKE)
        problems.raise_if_any()
        assert settings is not None, "read_control_plane returns settings when there is no problem"
        self._create(name, settings, opts, moved_from)

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: ControlPlaneSettings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from: pulumi.Resource | None = None,
    ) -> "ControlPlaneAccount":
        """The stack program's door: ``settings`` were validated from the stack config already."""
        component = cls.__new__(cls)
        component._create(name, settings, opts, moved_from)
        return component

    def _create(
        self,
        name: str,
        settings: ControlPlaneSettings,
        opts: pulumi.ResourceOptions | None,
        moved_from: pulumi.Resource | None,
    ) -> None:
        super().__init__(TYPE, name, {}, opts)
        aliases = [pulumi.Alias(parent=moved_from)] if moved_from is not None else None
        self.account, self.grants = service_account_with_roles(
            self, name, settings.project, settings.account_id, settings.display_name, settings.roles, aliases
        )
        self.email = self.account.email
        self.private_key: gcp.serviceaccount.Key | None = None
        if settings.create_key:
            self.private_key = gcp.serviceaccount.Key(
                f"{name}-key",
                service_account_id=self.account.name,
                opts=pulumi.ResourceOptions(
                    parent=self, additional_secret_outputs=["privateKey"], aliases=aliases
                ),
            )
            self.key = pulumi.Output.secret(self.private_key.private_key)
        else:
            self.key = pulumi.Output.from_input(None)
        self.register_outputs({"email": self.email, "key": self.key})
