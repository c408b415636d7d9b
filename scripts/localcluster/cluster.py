"""A throw-away local Kubernetes control plane for end-to-end tests.

Runs etcd, kube-apiserver and kube-controller-manager built by
``scripts/build-toolchain`` as plain processes, all on 127.0.0.1 with free
ports and every file in one temporary directory. There is no kubelet, no
scheduler and no networking: objects are stored and the selected controllers
run (by default namespace deletion, garbage collection, service accounts and
their tokens, and the kube-root-ca.crt publisher), but pods never start.

Usage from tests, scripts and benchmarks::

    from scripts.localcluster.cluster import LocalCluster

    with LocalCluster() as cluster:        # bin dir from scripts/build-toolchain
        env = {"KUBECONFIG": cluster.kubeconfig_path}
        ...
        cluster.stop()                      # API server only (etcd keeps data)
        cluster.start()                     # same port, same etcd

From a shell (prints the kubeconfig path, runs until Ctrl-C / SIGTERM)::

    python -m scripts.localcluster.cluster [--bin-dir DIR]

Only the standard library and the ``openssl`` command are used.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_TOOLCHAIN = REPO_ROOT / "scripts" / "build-toolchain"

CLUSTER_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")

# Controller names as kube-controller-manager v1.36 spells them
# (cmd/kube-controller-manager/names).
DEFAULT_CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
LOG_TAIL_LINES = 60


class ClusterError(RuntimeError):
    """A component failed to start or to become ready."""


def find_bin_dir(required: Iterable[str] = CLUSTER_BINARIES) -> Path:
    """Locate the toolchain bin dir: $CONCURRENT_TOOLCHAIN_BIN, else ask
    ``scripts/build-toolchain --print-bin-dir`` (whose exit status only says
    whether the *whole* toolchain is there; here just ``required`` matters)."""
    env_dir = os.environ.get("CONCURRENT_TOOLCHAIN_BIN")
    if env_dir:
        bin_dir = Path(env_dir)
    else:
        proc = subprocess.run(
            [str(BUILD_TOOLCHAIN), "--print-bin-dir", "--require", ",".join(required)],
            capture_output=True,
            text=True,
            check=False,
        )
        out = proc.stdout.strip()
        if not out:
            raise ClusterError(f"{BUILD_TOOLCHAIN} --print-bin-dir printed nothing: {proc.stderr.strip()}")
        bin_dir = Path(out.splitlines()[-1])
    missing = [b for b in required if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        raise ClusterError(
            f"toolchain binaries missing in {bin_dir}: {', '.join(missing)}; run {BUILD_TOOLCHAIN}"
        )
    return bin_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(data.splitlines()[-lines:])


def _openssl(command_line: str, cwd: Path) -> None:
    args = shlex.split(command_line)
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ClusterError(f"openssl {command_line} failed: {proc.stderr.strip()}")


class _Component:
    """One control-plane process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        if self.running:
            return
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - open while the process runs
        self._log.write(
            f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(self.argv)}\n".encode()
        )
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,  # own process group, so killpg reaches children
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ClusterError(
                f"{self.name} exited with status {self.proc.returncode}; "
                f"last lines of {self.log_path}:\n{self.tail()}"
            )

    def tail(self) -> str:
        return _tail(self.log_path)

    def stop(self, graceful: bool = True, timeout: float = 30.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            sig = signal.SIGTERM if graceful else signal.SIGKILL
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=timeout if graceful else 10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        else:
            # The leader is gone; make sure nothing it started lingers.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.write(
                f"==== {time.strftime('%Y-%m-%dT%H:%M:%S')} stopped (status {proc.returncode})\n".encode()
            )
            self._log.close()
            self._log = None
        self.proc = None


class LocalCluster:
    """etcd + kube-apiserver + kube-controller-manager on loopback.

    Use as a context manager (everything is torn down on exit, exceptions
    included) or call :meth:`up` / :meth:`close` yourself. :meth:`stop` and
    :meth:`start` act on the API server alone, which comes back on the same
    port with the same etcd, certificates and tokens.
    """

    def __init__(
        self,
        bin_dir: str | os.PathLike[str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        *,
        context: str = "concurrent-e2e",
        controllers: Sequence[str] = DEFAULT_CONTROLLERS,
        keep_workdir: bool = False,
        startup_timeout: float = 120.0,
        verbosity: int = 1,
    ):
        self.bin_dir = Path(bin_dir) if bin_dir else find_bin_dir()
        missing = [b for b in CLUSTER_BINARIES if not os.access(self.bin_dir / b, os.X_OK)]
        if missing:
            raise ClusterError(f"missing in {self.bin_dir}: {', '.join(missing)}")
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="concurrent-e2e-"))
        self.keep_workdir = keep_workdir
        self.context = context
        self.controllers = list(controllers)
        self.startup_timeout = startup_timeout
        self.verbosity = verbosity

        self.log_dir = self.workdir / "logs"
        self.pki_dir = self.workdir / "pki"
        self.etcd_data_dir = self.workdir / "etcd-data"
        self.kubeconfig_path = str(self.workdir / "kubeconfig")
        self.controller_manager_kubeconfig_path = str(self.workdir / "kube-controller-manager.kubeconfig")

        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.apiserver_port = free_port()
        self.server = f"https://127.0.0.1:{self.apiserver_port}"
        self.admin_token = secrets.token_hex(24)
        self.controller_manager_token = secrets.token_hex(24)

        self._etcd: _Component | None = None
        self._apiserver: _Component | None = None
        self._controller_manager: _Component | None = None
        self._ssl: ssl.SSLContext | None = None

    # ---- public API -----------------------------------------------------------

    @property
    def ca_path(self) -> str:
        return str(self.pki_dir / "ca.crt")

    @property
    def apiserver_log(self) -> Path:
        return self.log_dir / "kube-apiserver.log"

    def env(self) -> dict[str, str]:
        """Environment variables pointing kubectl / Pulumi at this cluster."""
        return {"KUBECONFIG": self.kubeconfig_path}

    def __enter__(self) -> LocalCluster:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def up(self) -> None:
        """Start the whole control plane and wait until it is usable."""
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._make_pki()
            self._write_kubeconfigs()
            self._start_etcd()
            self.start()
            self._start_controller_manager()
            self._wait_for_default_service_account()
        except BaseException:
            self.close()
            raise

    def start(self, timeout: float | None = None) -> None:
        """(Re)start the API server on its port and wait for /readyz."""
        if self._apiserver is None:
            self._apiserver = _Component(
                "kube-apiserver", self._apiserver_argv(), self.apiserver_log, self._child_env()
            )
        self._apiserver.start()
        self._wait_ready(timeout or self.startup_timeout)

    def stop(self, graceful: bool = True, timeout: float = 10.0) -> None:
        """Stop the API server alone (SIGTERM, or SIGKILL when not graceful).

        Returns once the process is gone and the port refuses connections.
        kube-apiserver stops listening at once on SIGTERM, but its HTTP
        server then waits for open connections (the controller manager's
        watches) for up to --request-timeout (60s) before the process exits;
        it is SIGKILLed after ``timeout`` seconds instead.
        """
        if self._apiserver is not None:
            self._apiserver.stop(graceful=graceful, timeout=timeout)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._port_open(self.apiserver_port):
            time.sleep(0.1)

    @property
    def apiserver_running(self) -> bool:
        return self._apiserver is not None and self._apiserver.running

    def close(self) -> None:
        """Stop every component and remove the work dir (unless kept)."""
        for comp in (self._controller_manager, self._apiserver, self._etcd):
            if comp is not None:
                with contextlib.suppress(Exception):  # keep tearing down the rest
                    comp.stop(graceful=True, timeout=10)
        if self._own_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        kubectl = self.bin_dir / "kubectl"
        exe = str(kubectl) if os.access(kubectl, os.X_OK) else (shutil.which("kubectl") or "kubectl")
        return subprocess.run(
            [exe, "--kubeconfig", self.kubeconfig_path, "--context", self.context, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def api_get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET a path on the API server as the admin user: (status, body)."""
        req = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._ssl_context()) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def logs(self) -> dict[str, Path]:
        return {p.stem: p for p in sorted(self.log_dir.glob("*.log"))}

    # ---- setup ----------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The control plane must never reach for a real cluster or proxy.
        for var in ("KUBECONFIG", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(var, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return env

    def _make_pki(self) -> None:
        d = self.pki_dir
        d.mkdir(parents=True, exist_ok=True)
        ca_ext = "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        _openssl(
            f"req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 "
            f"-subj /CN=concurrent-e2e-ca {ca_ext}",
            d,
        )
        (d / "server.ext").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,"
            "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
            "DNS:kubernetes.default.svc.cluster.local\n"
        )
        _openssl(
            "req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=kube-apiserver",
            d,
        )
        _openssl(
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
            "-days 3650 -extfile server.ext",
            d,
        )
        # Service-account token signing key pair.
        _openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key", d)
        _openssl("pkey -in sa.key -pubout -out sa.pub", d)
        # Static bearer tokens: token,user,uid,"group1,group2"
        (d / "tokens.csv").write_text(
            f'{self.admin_token},admin,admin,"system:masters"\n'
            f"{self.controller_manager_token},system:kube-controller-manager,"
            f'system:kube-controller-manager,"system:masters"\n'
        )
        for p in d.iterdir():
            p.chmod(0o600)

    def _kubeconfig(self, user: str, token: str) -> str:
        ca = base64.b64encode((self.pki_dir / "ca.crt").read_bytes()).decode()
        # JSON is YAML; kubectl, client-go and the Pulumi provider all read it.
        return (
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": self.context,
                            "cluster": {"server": self.server, "certificate-authority-data": ca},
                        }
                    ],
                    "users": [{"name": user, "user": {"token": token}}],
                    "contexts": [
                        {
                            "name": self.context,
                            "context": {"cluster": self.context, "user": user, "namespace": "default"},
                        }
                    ],
                    "current-context": self.context,
                    "preferences": {},
                },
                indent=2,
            )
            + "\n"
        )

    def _write_kubeconfigs(self) -> None:
        for path, user, token in (
            (self.kubeconfig_path, f"{self.context}-admin", self.admin_token),
            (
                self.controller_manager_kubeconfig_path,
                "kube-controller-manager",
                self.controller_manager_token,
            ),
        ):
            Path(path).write_text(self._kubeconfig(user, token))
            os.chmod(path, 0o600)

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._etcd = _Component(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=default",
                f"--data-dir={self.etcd_data_dir}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=default={peer}",
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",  # throw-away data: skip fsync for speed
                "--log-level=warn",
            ],
            self.log_dir / "etcd.log",
            self._child_env(),
        )
        self._etcd.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            self._etcd.check_alive()
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=2) as resp:
                    if json.loads(resp.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"etcd not healthy after {self.startup_timeout}s:\n{self._etcd.tail()}")
            time.sleep(0.2)

    def _apiserver_argv(self) -> list[str]:
        pki = self.pki_dir
        return [
            str(self.bin_dir / "kube-apiserver"),
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki / 'server.crt'}",
            f"--tls-private-key-file={pki / 'server.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--allow-privileged=true",
            "--profiling=false",
            f"--v={self.verbosity}",
        ]

    def _start_controller_manager(self) -> None:
        self._controller_manager = _Component(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.controller_manager_kubeconfig_path}",
                f"--controllers={','.join(self.controllers)}",
                f"--service-account-private-key-file={self.pki_dir / 'sa.key'}",
                f"--root-ca-file={self.pki_dir / 'ca.crt'}",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--secure-port=0",  # no HTTPS endpoint needed
                "--profiling=false",
                f"--v={self.verbosity}",
            ],
            self.log_dir / "kube-controller-manager.log",
            self._child_env(),
        )
        self._controller_manager.start()

    # ---- waiting --------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_path)
        return self._ssl

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _wait_ready(self, timeout: float) -> None:
        assert self._apiserver is not None
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            self._apiserver.check_alive()
            if self._etcd is not None:
                self._etcd.check_alive()
            try:
                status, body = self.api_get("/readyz", timeout=3)
                if status == 200:
                    return
                last = f"HTTP {status}: {body.decode('utf-8', 'replace')[-2000:]}"
            except (OSError, ssl.SSLError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"kube-apiserver not ready after {timeout}s (last /readyz: {last}); "
                    f"last lines of {self._apiserver.log_path}:\n{self._apiserver.tail()}"
                )
            time.sleep(0.25)

    def _wait_for_default_service_account(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            for comp in (self._etcd, self._apiserver, self._controller_manager):
                if comp is not None:
                    comp.check_alive()
            try:
                ns_status, _ = self.api_get("/api/v1/namespaces/default")
                sa_status, _ = self.api_get("/api/v1/namespaces/default/serviceaccounts/default")
                if ns_status == 200 and sa_status == 200:
                    return
            except (OSError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                cm = self._controller_manager
                raise ClusterError(
                    f"default namespace / service account missing after {self.startup_timeout}s; "
                    f"last lines of kube-controller-manager log:\n{cm.tail() if cm else ''}\n"
                    f"last lines of kube-apiserver log:\n{self._apiserver.tail() if self._apiserver else ''}"
                )
            time.sleep(0.25)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bin-dir", help="toolchain bin dir (default: scripts/build-toolchain --print-bin-dir)"
    )
    parser.add_argument("--workdir", help="directory for data, certs, logs (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir on exit")
    args = parser.parse_args(argv)

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    started = time.monotonic()
    try:
        with LocalCluster(args.bin_dir, args.workdir, keep_workdir=args.keep) as cluster:
            elapsed = time.monotonic() - started
            print(f"cluster ready in {elapsed:.1f}s: {cluster.server} (context {cluster.context})")
            print(f"logs: {cluster.log_dir}")
            print(f"kubeconfig: {cluster.kubeconfig_path}")
            print(f"export KUBECONFIG={cluster.kubeconfig_path}")
            print("Ctrl-C to stop.", flush=True)
            while True:
                time.sleep(1)
                for comp in (cluster._etcd, cluster._apiserver, cluster._controller_manager):
                    if comp is not None:
                        comp.check_alive()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        return 0
    except ClusterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
