"""Syntax checks of single values, each matched against the whole string.

Each ``*_problem`` function returns why a value is wrong, or None when it is fine. Patterns use
``re.fullmatch``: ``re.match`` with ``$`` accepts a trailing newline, which would then reach an
object name.
"""

import ipaddress
import re

_GOOGLE_SERVICE_ACCOUNT_EMAIL = re.compile(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]@([a-z][a-z0-9-]{4,28}[a-z0-9]\.)?"
    r"([a-z0-9.-]+\.)?(iam\.gserviceaccount\.com|developer\.gserviceaccount\.com)"
)
_PROJECT_ID = re.compile(r"[a-z][-a-z0-9]{4,28}[a-z0-9]")
_GCP_ROLE = re.compile(
    r"roles/[a-z][A-Za-z0-9_.]{2,127}|(projects|organizations)/[a-z0-9-]{1,40}/roles/[A-Za-z0-9_.]{3,64}"
)
_CIDR_FORM = re.compile(r"([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}")

PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
"""Google Cloud's basic roles: thousands of permissions across every service."""

ESCALATING_ROLES = frozenset(
    {
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.workloadIdentityUser",
        "roles/container.developer",
        "roles/deploymentmanager.editor",
    }
)
"""Roles that are not called admin but let their holder act as other identities (mint tokens or
keys of any service account of the project, run as it), or reach the Kubernetes API of every
cluster in the project, across tenants. Granted to a namespace's user code or to an automation
identity on the whole project, they undo the namespace boundary."""


def google_service_account_email_problem(email: str) -> str | None:
    """Why ``email`` is not a Google service account email, or None if it is."""
    if _GOOGLE_SERVICE_ACCOUNT_EMAIL.fullmatch(email):
        return None
    return "not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com)"


def project_id_problem(project: str) -> str | None:
    """Why ``project`` is not a Google Cloud project ID, or None if it is."""
    if _PROJECT_ID.fullmatch(project):
        return None
    return "not a Google Cloud project ID (6-30 lowercase letters, digits and '-', starting with a letter)"


def ipv4_cidr_problem(cidr: str) -> str | None:
    """Why ``cidr`` is not an IPv4 CIDR block ``a.b.c.d/n`` with its host bits zero, or None."""
    if not _CIDR_FORM.fullmatch(cidr):
        return "not an IPv4 CIDR block such as 203.0.113.0/24 (dotted address, '/', prefix length)"
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as error:
        return f"not an IPv4 CIDR block ({error})"
    return None


def covers_every_address(cidrs: "list[str]") -> bool:
    """Whether the IPv4 blocks ``cidrs`` together cover the whole IPv4 space (e.g. 0.0.0.0/1 and
    128.0.0.0/1: the internet, however it is written)."""
    networks = [ipaddress.IPv4Network(cidr, strict=False) for cidr in cidrs]
    return sum(network.num_addresses for network in ipaddress.collapse_addresses(networks)) >= 2**32


def gcp_role_problem(role: str) -> str | None:
    """Why ``role`` is not a Google Cloud IAM role name, or None if it is."""
    if _GCP_ROLE.fullmatch(role):
        return None
    return "not an IAM role name (roles/NAME, or projects/PROJECT/roles/NAME for a custom role)"


def broad_role_problem(role: str) -> str | None:
    """Why ``role`` is too broad to grant an automation identity or user code, or None.

    Refused: the basic roles (owner, editor, viewer), administrator roles (any part ``admin`` or
    ``*Admin``, versioned ones such as ``roles/compute.instanceAdmin.v1`` included), which let
    their holder change the project's security itself, and :data:`ESCALATING_ROLES`.
    """
    lowered = role.lower()
    if lowered in PRIMITIVE_ROLES or lowered.rsplit("/", 1)[-1] in ("owner", "editor", "viewer"):
        return f"{role} is a basic role with thousands of permissions across every service"
    if role in ESCALATING_ROLES:
        return f"{role} lets its holder act as other identities, or reach every cluster of the project"
    parts = role.rsplit("/", 1)[-1].split(".")
    if any(part.lower() == "admin" or part.endswith("Admin") for part in parts):
        return f"{role} is an administrator role"
    return None
