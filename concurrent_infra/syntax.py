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
_QUANTITY = re.compile(r"(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?")
_GCP_ROLE = re.compile(
    r"roles/[A-Za-z0-9_.]{3,128}|(projects|organizations)/[a-z0-9-]{1,40}/roles/[A-Za-z0-9_.]{3,64}"
)

PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
"""Google Cloud's basic roles: thousands of permissions across every service."""


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


def quantity_problem(quantity: str) -> str | None:
    """Why ``quantity`` is not a non-negative Kubernetes quantity (``500m``, ``4Gi``, ``2``), or None."""
    if len(quantity) <= 64 and _QUANTITY.fullmatch(quantity):
        return None
    return "not a Kubernetes quantity: a number with an optional suffix such as m, Ki, Mi, Gi, k, M, G"


def ipv4_cidr_problem(cidr: str) -> str | None:
    """Why ``cidr`` is not an IPv4 CIDR block with its host bits zero, or None if it is."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as error:
        return f"not an IPv4 CIDR block ({error})"
    if network.version != 4 or "/" not in cidr:
        return "not an IPv4 CIDR block such as 203.0.113.0/24"
    return None


def gcp_role_problem(role: str) -> str | None:
    """Why ``role`` is not a Google Cloud IAM role name, or None if it is."""
    if _GCP_ROLE.fullmatch(role):
        return None
    return "not an IAM role name (roles/NAME, or projects/PROJECT/roles/NAME for a custom role)"


def broad_role_problem(role: str) -> str | None:
    """Why ``role`` is too broad to grant an automation identity, or None.

    Refused: the basic roles (owner, editor, viewer) and administrator roles (``*Admin``,
    ``*.admin``), which let their holder change the project's security itself.
    """
    if role in PRIMITIVE_ROLES:
        return f"{role} is a basic role with thousands of permissions across every service"
    leaf = role.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    if leaf == "admin" or leaf.endswith("Admin"):
        return f"{role} is an administrator role"
    return None
