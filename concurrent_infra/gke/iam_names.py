"""Google IAM names, pure: workload identity pools and members, and the resource names of grants.

Documented forms: https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity
(``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]`` and the ``principal://`` form).
"""

WORKLOAD_IDENTITY_USER_ROLE = "roles/iam.workloadIdentityUser"


WORKLOAD_POOL_SUFFIX = ".svc.id.goog"


def workload_pool(project: str) -> str:
    """The workload identity pool of a GKE cluster in ``project``."""
    return f"{project}{WORKLOAD_POOL_SUFFIX}"


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
    """The part of a Workload Identity grant's resource name that names ``role``: one per role, so
    two roles never share a resource name (``roles/storage.objectUser`` -> ``storage.objectUser``,
    ``projects/p/roles/x`` -> ``projects-p-roles-x``)."""
    return role.removeprefix("roles/").replace("/", "-")


def service_account_role_suffix(role: str) -> str:
    """The part of a service account grant's resource name that names ``role`` (the node and
    control-plane accounts: ``roles/logging.logWriter`` -> ``logging-logwriter``).

    A second rule, kept because resource names are the API: these grants were named so from
    release 0.1.0 on, the Workload Identity grants by :func:`role_suffix`; one rule for both would
    rename the grants of every existing stack (replacing them, or aliasing them forever)."""
    return role.removeprefix("roles/").replace(".", "-").lower()
