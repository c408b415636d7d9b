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

WORKLOAD_IDENTITY_USER_ROLE = "roles/iam.workloadIdentityUser"


def workload_pool(project: str) -> str:
    """The workload identity pool of a GKE cluster in ``project``."""
    return f"{project}.svc.id.goog"


def impersonation_member(project: str, namespace: str, service_account: str) -> str:
    """The member that may impersonate a Google service account from ``namespace/service_account``."""
    return f"serviceAccount:{workload_pool(project)}[{namespace}/{service_account}]"


def principal_member(project: str, project_number: str, namespace: str, service_account: str) -> str:
    """The principal of Kubernetes service account ``namespace/service_account`` (direct access)."""
    return (
        f"principal://iam.googleapis.com/projects/{project_number}/locations/global/"
        f"workloadIdentityPools/{workload_pool(project)}/subject/ns/{namespace}/sa/{service_account}"
    )


def google_service_account_resource(email: str) -> str:
    """The resource name of a Google service account, from its email."""
    domain = email.partition("@")[2]
    project = domain.split(".")[0] if domain.endswith(".iam.gserviceaccount.com") else "-"
    return f"projects/{project}/serviceAccounts/{email}"


def role_suffix(role: str) -> str:
    """The part of a grant's resource name that names ``role``: one per role, so two roles never
    share a resource name (``roles/storage.objectUser`` -> ``storage.objectUser``,
    ``projects/p/roles/x`` -> ``projects-p-roles-x``)."""
    return role.removeprefix("roles/").replace("/", "-")


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
