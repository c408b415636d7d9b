"""Waiting for the namespace guard: the system role is granted only once the API server enforces it.

A ValidatingAdmissionPolicy is enforced once the API server's policy informer has loaded the
policy and its binding, some time after both are stored (kubernetes.io, "Validating Admission
Policy": the policy source watches policies and bindings). Creating them first is not enough: on a
fresh cluster the system service account could relabel its namespace ``privileged`` for about a
second after ``pulumi up`` returned. So the grants wait for proof: a **probe**, a server-side dry
run (admission runs, nothing is stored) that patches Namespace ``default`` with the managed-by
label and :data:`~concurrent_infra.kube.guardrails.PROBE_LABEL` set to the guard's token. Only
this version of the guard refuses it, with a message naming the token; until then the API server
admits it. :data:`REFUSALS_NEEDED` refusals in a row, each on a new connection (so that a
load balancer may spread them over the API server's replicas), and the guard counts as enforced.

The probe needs ``patch`` on Namespace ``default`` (whoever creates the system role's
ClusterRoleBinding already holds it: the role grants it) and no impersonation. It runs during
``pulumi up`` only, never in a preview.
"""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from .guardrails import PROBE_LABEL
from .labels import COMMON_LABELS, MANAGED_BY_LABEL
from .names import NAMESPACE_GUARD_POLICY

PROBE_NAMESPACE = "default"
"""A namespace every cluster has (the API server recreates it); the dry run changes nothing."""
REFUSALS_NEEDED = 3
"""Consecutive refusals that count as enforced."""
PROBE_INTERVAL = 0.5
"""Seconds between probes while the guard is not yet enforced."""
DEFAULT_TIMEOUT = 120.0
"""How long ``pulumi up`` waits for the guard before it fails without granting the system role."""


class WaitForGuardArgs(TypedDict):
    """How to reach the cluster to probe the namespace guard: the same cluster as the Kubernetes
    provider of SystemRole (give the provider's own settings)."""

    kubeconfig: NotRequired[pulumi.Input[str]]
    """A kubeconfig's contents or its path; default ``$KUBECONFIG`` or ``~/.kube/config``."""
    context: NotRequired[str]
    """The kubeconfig context; default its current context."""
    cluster: NotRequired[str]
    """The kubeconfig cluster, instead of the context's."""


class GuardProbeError(Exception):
    """The guard cannot be probed, or is not enforced in time."""


@dataclass(frozen=True)
class ProbeAnswer:
    """The API server's answer to one probe: HTTP status (0: no answer) and message."""

    status: int
    message: str = ""


def probe_patch(token: str) -> dict[str, Any]:
    """The probe's patch of Namespace :data:`PROBE_NAMESPACE`: the managed-by label (so the guard's
    selector matches) and the probe label carrying the guard's token."""
    return {"metadata": {"labels": {MANAGED_BY_LABEL: COMMON_LABELS[MANAGED_BY_LABEL], PROBE_LABEL: token}}}


def enforced(answer: ProbeAnswer, token: str) -> bool:
    """Whether ``answer`` proves the guard with ``token`` enforced: True when it refused the probe,
    False when the probe was admitted or not answered (not yet: try again). Raises
    :class:`GuardProbeError` for answers that waiting cannot change (no right to patch Namespace
    ``default``, no such namespace, bad credentials)."""
    if 400 <= answer.status < 500 and token in answer.message:
        return True
    if answer.status in (401, 404) or (answer.status == 403 and "cannot patch" in answer.message):
        raise GuardProbeError(
            f"the probe of the namespace guard (a dry-run patch of Namespace {PROBE_NAMESPACE}) was "
            f"refused ({answer.status}): {answer.message.strip()[:300]}; the identity that runs "
            f"pulumi up needs patch on namespaces (the system role grants it)"
        )
    return False


def wait_until_enforced(
    send: Callable[[], ProbeAnswer],
    token: str,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Probe with ``send`` until :data:`REFUSALS_NEEDED` answers in a row prove the guard
    enforced; returns the number of probes. :class:`GuardProbeError` after ``timeout`` seconds
    (default :data:`DEFAULT_TIMEOUT`)."""
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    deadline = clock() + timeout
    in_a_row = probes = 0
    while True:
        answer = send()
        probes += 1
        in_a_row = in_a_row + 1 if enforced(answer, token) else 0
        if in_a_row >= REFUSALS_NEEDED:
            return probes
        if clock() > deadline:
            last = "admitted" if answer.status == 200 else f"{answer.status} {answer.message.strip()[:300]}"
            raise GuardProbeError(
                f"the namespace guard ({NAMESPACE_GUARD_POLICY}, version {token}) is not in force "
                f"after {timeout:.0f}s, so the system role was not granted; last probe answer: "
                f"{last}. The guard needs Kubernetes 1.30 or later (the "
                "ValidatingAdmissionPolicy API); run pulumi up again once it is enforced"
            )
        if in_a_row == 0:
            sleep(PROBE_INTERVAL)


def _kubeconfig_dict(kubeconfig: str | None) -> dict[str, Any] | None:
    """The kubeconfig given as contents, parsed; None when it is a path or not given."""
    if kubeconfig is None or ("\n" not in kubeconfig.strip() and Path(kubeconfig).expanduser().exists()):
        return None
    import yaml

    parsed = yaml.safe_load(kubeconfig)
    if not isinstance(parsed, dict):
        raise GuardProbeError("kubeconfig is neither a path to a file nor a kubeconfig's contents")
    return parsed


def kubernetes_sender(
    token: str, kubeconfig: str | None = None, context: str | None = None, cluster: str | None = None
) -> Callable[[], ProbeAnswer]:
    """A probe sender that uses the ``kubernetes`` client with this kubeconfig, context and cluster
    (as the Kubernetes provider reads them), each probe on a new connection."""
    try:
        from kubernetes import client, config
        from kubernetes.client.exceptions import ApiException
    except ImportError as error:
        raise GuardProbeError(
            "waiting for the namespace guard needs the kubernetes client: pip install kubernetes"
        ) from error
    configuration = client.Configuration()
    contents = _kubeconfig_dict(kubeconfig)
    if contents is None and cluster is not None:
        import yaml

        path = Path(kubeconfig or config.KUBE_CONFIG_DEFAULT_LOCATION.split(":")[0]).expanduser()
        contents = yaml.safe_load(path.read_text())
    if contents is not None:
        if cluster is not None:
            name = context or contents.get("current-context")
            for entry in contents.get("contexts") or []:
                if entry.get("name") == name:
                    entry.setdefault("context", {})["cluster"] = cluster
        config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
            contents, context=context, client_configuration=configuration
        )
    else:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    body = probe_patch(token)

    def send() -> ProbeAnswer:
        try:
            with client.ApiClient(configuration) as api:
                client.CoreV1Api(api).patch_namespace(PROBE_NAMESPACE, body, dry_run="All")
            return ProbeAnswer(200)
        except ApiException as error:
            return ProbeAnswer(int(error.status or 0), str(error.body or error.reason))
        except OSError as error:  # urllib3's connection errors are OSErrors
            return ProbeAnswer(0, f"no answer: {error}")

    return send


def when_enforced(
    after: Sequence[pulumi.Output[Any]], wait: WaitForGuardArgs | None, token: str
) -> pulumi.Output[bool]:
    """Resolves once ``after`` (the guard's policy and binding) are created and, during ``pulumi
    up`` with ``wait`` given, the guard with ``token`` is enforced (True; False when not probed).
    A guard that is not enforced in time fails the update with :class:`pulumi.RunError`."""
    if wait is None:
        return pulumi.Output.all(*after).apply(lambda _: False)
    settings: Mapping[str, Any] = wait

    def probe(values: list[Any]) -> Any:
        if pulumi.runtime.is_dry_run():
            return False
        kubeconfig = values[-1]

        def blocking() -> bool:
            try:
                send = kubernetes_sender(token, kubeconfig, settings.get("context"), settings.get("cluster"))
                wait_until_enforced(send, token)
            except GuardProbeError as error:
                raise pulumi.RunError(str(error)) from None
            return True

        return asyncio.get_running_loop().run_in_executor(None, blocking)

    return pulumi.Output.unsecret(pulumi.Output.all(*after, settings.get("kubeconfig")).apply(probe))
