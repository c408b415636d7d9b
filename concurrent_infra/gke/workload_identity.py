"""GKE Workload Identity for a namespace's user service account, in Google's two documented forms.

- Impersonation: the Kubernetes service account is annotated ``iam.gke.io/gcp-service-account``
  and the Google service account lets it act as itself (``roles/iam.workloadIdentityUser`` to
  ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``).
- Direct access: the roles are granted on the project to the Kubernetes service account's
  principal (``principal://iam.googleapis.com/projects/<number>/locations/global/
  workloadIdentityPools/<project>.svc.id.goog/subject/ns/<namespace>/sa/<ksa>``).

The member strings are pure functions; :func:`grant_workload_identity` creates the IAM grants and
is the only part that needs pulumi-gcp.
"""

import pulumi

from ..kube.namespace_settings import WorkloadIdentity
from .iam_names import (
    WORKLOAD_IDENTITY_USER_ROLE,
    google_service_account_resource,
    impersonation_member,
    principal_member,
    role_suffix,
)


def grant_workload_identity(
    resource_name: str,
    identity: WorkloadIdentity,
    namespace: str,
    service_account: str,
    parent: pulumi.Resource,
) -> list[pulumi.CustomResource]:
    """The IAM grants that let ``namespace/service_account`` act in Google Cloud (children of ``parent``)."""
    import pulumi_gcp as gcp  # only stacks that use Workload Identity need pulumi-gcp

    child = pulumi.ResourceOptions(parent=parent)
    if identity.google_service_account:
        return [
            gcp.serviceaccount.IAMMember(
                f"{resource_name}-workload-identity-user",
                service_account_id=google_service_account_resource(identity.google_service_account),
                role=WORKLOAD_IDENTITY_USER_ROLE,
                member=impersonation_member(identity.project, namespace, service_account),
                opts=child,
            )
        ]
    number: pulumi.Input[str]
    if identity.project_number:
        number = identity.project_number
    else:
        number = gcp.organizations.get_project_output(
            project_id=identity.project, opts=pulumi.InvokeOutputOptions(parent=parent)
        ).number
    member = pulumi.Output.from_input(number).apply(
        lambda value: principal_member(identity.project, value, namespace, service_account)
    )
    return [
        gcp.projects.IAMMember(
            f"{resource_name}-workload-identity-{role_suffix(role)}",
            project=identity.project,
            role=role,
            member=member,
            opts=child,
        )
        for role in identity.roles
    ]
