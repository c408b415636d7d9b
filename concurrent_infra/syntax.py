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
        "roles/iam.serviceAccountOpenIdTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.workloadIdentityUser",
        "roles/container.developer",
        "roles/deploymentmanager.editor",
    }
)
"""Roles that are not called admin but let their holder act as other identities (mint access or
OpenID Connect tokens or keys of any service account of the project, attach it to a resource and
run as it: the service account roles of https://cloud.google.com/iam/docs/service-account-permissions),
or reach the Kubernetes API of every cluster in the project, across tenants. Granted to a
namespace's user code or to an automation identity on the whole project, they undo the namespace
boundary."""

OS_ADMIN_ROLES = frozenset(
    {
        "roles/compute.osAdminLogin",
        "roles/compute.osLogin",
        "roles/osconfig.patchJobExecutor",
        "roles/osconfig.osPolicyAssignmentEditor",
        "roles/osconfig.guestPolicyEditor",
    }
)
"""Roles that run code on the project's VMs, GKE nodes included: OS Login over SSH, as root
(``osAdminLogin``) or as a user (``osLogin``: any process on a VM gets its Google service account's
token from the metadata server; https://cloud.google.com/compute/docs/oslogin/set-up-oslogin), and
VM Manager's patch jobs and OS policies, whose steps run as root
(https://cloud.google.com/iam/docs/roles-permissions/osconfig). On a node, that is every pod's
secrets and the kubelet's credentials."""

_ESCALATING_LOWERED = frozenset(role.lower() for role in ESCALATING_ROLES)
_OS_ADMIN_LOWERED = frozenset(role.lower() for role in OS_ADMIN_ROLES)


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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NON_PUBLIC_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    )
)
"""IPv4 blocks no one on the internet connects from: private, shared (carrier-grade NAT), loopback,
link-local, documentation, benchmarking, multicast and reserved (the IANA IPv4 Special-Purpose
Address Registry, https://www.iana.org/assignments/iana-ipv4-special-registry/). IPv6 addresses are
public only in global unicast, 2000::/3."""
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def collapsed(networks: "list[IPNetwork]", version: int) -> "list[IPNetwork]":
    """The IPv``version`` networks of ``networks``, overlapping and adjacent ones merged."""
    if version == 4:
        return list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv4Network)))
    return list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv6Network)))


def public_address_share(networks: "list[IPNetwork]", version: int) -> float:
    """The share of the internet's IPv``version`` addresses that ``networks`` (of that version)
    cover together: overlaps merged, :data:`NON_PUBLIC_NETWORKS` left out (an office's
    ``10.0.0.0/8`` opens nothing to the internet)."""
    merged = collapsed(networks, version)
    if version == 6:
        public_space: list[IPNetwork] = [_IPV6_GLOBAL_UNICAST]
        non_public: list[IPNetwork] = []
    else:
        public_space = [ipaddress.IPv4Network("0.0.0.0/0")]
        non_public = list(NON_PUBLIC_NETWORKS)
    total = sum(block.num_addresses for block in public_space) - sum(b.num_addresses for b in non_public)
    covered = 0
    for network in merged:
        for space in public_space:
            covered += _overlap(network, space)
        for block in non_public:
            covered -= _overlap(network, block)
    return covered / total


def _overlap(left: IPNetwork, right: IPNetwork) -> int:
    """How many addresses two networks share (one contains the other, or none)."""
    if left.version != right.version:
        return 0
    if left.subnet_of(right):  # type: ignore[arg-type]
        return left.num_addresses
    if right.subnet_of(left):  # type: ignore[arg-type]
        return right.num_addresses
    return 0


def gcp_role_problem(role: str) -> str | None:
    """Why ``role`` is not a Google Cloud IAM role name, or None if it is."""
    if _GCP_ROLE.fullmatch(role):
        return None
    return "not an IAM role name (roles/NAME, or projects/PROJECT/roles/NAME for a custom role)"


def broad_role_problem(role: str) -> str | None:
    """Why ``role`` is too broad to grant an automation identity or user code, or None.

    Refused: the basic roles (owner, editor, viewer), administrator roles (any part ``admin`` or
    ``*Admin``, versioned ones such as ``roles/compute.instanceAdmin.v1`` included), which let
    their holder change the project's security itself, :data:`ESCALATING_ROLES` and
    :data:`OS_ADMIN_ROLES` (compared case-insensitively).
    """
    lowered = role.lower()
    if lowered in PRIMITIVE_ROLES or lowered.rsplit("/", 1)[-1] in ("owner", "editor", "viewer"):
        return f"{role} is a basic role with thousands of permissions across every service"
    if lowered in _ESCALATING_LOWERED:
        return f"{role} lets its holder act as other identities, or reach every cluster of the project"
    if lowered in _OS_ADMIN_LOWERED:
        return (
            f"{role} runs code on the project's VMs (GKE nodes included), as root or as their service account"
        )
    parts = role.rsplit("/", 1)[-1].split(".")
    if any(part.lower() == "admin" or part.endswith("Admin") for part in parts):
        return f"{role} is an administrator role"
    return None
