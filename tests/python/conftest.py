"""Fixtures of the MCP integration tests: the `binnacle` binary (built beforehand; BINNACLE_BIN overrides
target/debug/binnacle) runs a simulated cluster with the demo scenario and MCP servers over it, on
127.0.0.1 with ports picked at run time, all stopped at teardown. The Jenkins stand-in comes from
`binnacle-testkit` (BINNACLE_TESTKIT_BIN overrides target/debug/binnacle-testkit)."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("BINNACLE_BIN", ROOT / "target" / "debug" / "binnacle"))
TESTKIT_BIN = Path(os.environ.get("BINNACLE_TESTKIT_BIN", ROOT / "target" / "debug" / "binnacle-testkit"))
START_TIMEOUT = 30.0
JENKINS_SECRET = "default/jenkins-creds"

# Plain HTTP to 127.0.0.1 must never go through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP request; returns status, body and headers, whatever the status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(req, timeout=15) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


class Process:
    """A child process whose stdout lines are read by a thread (so its pipe never fills) and whose stderr
    goes to a log file shown when something fails."""

    def __init__(self, name: str, args: list[str], workdir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.log_path = workdir / f"{name}.stderr.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log, env=env
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)

    def stderr_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """Waits for a stdout line matching `pattern`."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no line matching {pattern!r} within {timeout}s; stdout: {seen}; stderr:\n{self.stderr_tail()}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.name} exited with {self.proc.wait()}; stdout: {seen}; stderr:\n{self.stderr_tail()}")
            seen.append(line)
            if m := re.search(pattern, line):
                return m

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def _require(binary: Path, build: str) -> None:
    if not binary.is_file():
        pytest.exit(f"{binary} does not exist: build it first ({build}) or point the environment variable at it", returncode=2)


@dataclass
class Sim:
    kubeconfig: Path
    server: str


@dataclass
class Cluster:
    """Look-ups against the simulated cluster, for tool calls whose arguments are known only at run time."""

    server: str
    # A minimal chart directory (Chart.yaml, values.yaml, one ConfigMap template).
    chart: str = ""
    # The URL of a chart repository serving that chart (when helm is available to package it).
    chart_repo: str = ""

    def get(self, path: str) -> dict:
        status, body, _ = http_request(f"{self.server}{path}", headers={"accept": "application/json"})
        assert status == 200, f"GET {path}: {status} {body[:300]!r}"
        return json.loads(body)

    def first_pod(self, namespace: str, selector: str) -> str:
        query = urllib.parse.urlencode({"labelSelector": selector})
        items = self.get(f"/api/v1/namespaces/{namespace}/pods?{query}")["items"]
        assert items, f"no pod matches {selector} in {namespace}"
        return sorted(i["metadata"]["name"] for i in items)[0]


@dataclass
class Jenkins:
    url: str
    user: str
    token: str


@dataclass
class McpServer:
    url: str
    process: Process

    @property
    def base(self) -> str:
        return self.url.removesuffix("/mcp")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("binnacle")


@pytest.fixture(scope="session")
def processes():
    started: list[Process] = []
    yield started
    for p in reversed(started):
        p.stop()


@pytest.fixture(scope="session")
def sim(workdir: Path, processes: list[Process]) -> Sim:
    _require(BIN, "cargo build -p binnacle-cli")
    kubeconfig = workdir / "sim.kubeconfig"
    p = Process("sim", [BIN, "sim", "--scenario", "demo", "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig], workdir)
    processes.append(p)
    server = p.wait_for(r"serving the Kubernetes API at (http://\S+)").group(1)
    p.wait_for(r"kubeconfig written to")
    return Sim(kubeconfig=kubeconfig, server=server)


@pytest.fixture(scope="session")
def cluster(sim: Sim, workdir: Path, processes: list[Process]) -> Cluster:
    chart = workdir / "mcp-tests-chart"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mcp-tests\nversion: 0.1.0\nappVersion: '1.0'\n")
    (chart / "values.yaml").write_text("# What the ConfigMap says.\ngreeting: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    return Cluster(sim.server, chart=str(chart), chart_repo=chart_repository(chart, workdir, processes))


def chart_repository(chart: Path, workdir: Path, processes: list[Process]) -> str:
    """Packages the test chart into a local Helm repository served on loopback; "" without helm."""
    helm = helm_binary()
    if not helm:
        return ""
    _require(TESTKIT_BIN, "cargo build -p binnacle-testkit")
    repo = workdir / "chart-repo"
    repo.mkdir(exist_ok=True)
    env = {**os.environ, **helm_dirs(workdir)}
    subprocess.run([helm, "package", str(chart), "--destination", str(repo)], check=True, capture_output=True, env=env)
    p = Process("chart-repo", [TESTKIT_BIN, "files", "--listen", "127.0.0.1:0", "--dir", repo], workdir)
    processes.append(p)
    url = p.wait_for(r"^(http://\S+)").group(1)
    subprocess.run([helm, "repo", "index", str(repo), "--url", url], check=True, capture_output=True, env=env)
    return url


def helm_dirs(workdir: Path) -> dict[str, str]:
    """Helm's config, cache and data directories inside the test's work directory (never the user's home)."""
    return {name: str(workdir / "helm" / name.lower()) for name in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME")}


def helm_binary() -> str | None:
    """The helm binary: $HELM_BIN (scripts/test.sh installs one) or helm on PATH."""
    candidate = os.environ.get("HELM_BIN") or shutil.which("helm")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def available_needs() -> set[str]:
    """What tool calls may need that this machine has (see tool_calls.py)."""
    have = {"jenkins"}
    if helm_binary():
        have.update({"helm", "chart-repo"})
    return have


@pytest.fixture(scope="session")
def jenkins(sim: Sim, workdir: Path, processes: list[Process]) -> Jenkins:
    """The Jenkins stand-in, with its credentials in the Secret default/jenkins-creds of the simulated cluster."""
    _require(TESTKIT_BIN, "cargo build -p binnacle-testkit")
    p = Process("jenkins", [TESTKIT_BIN, "jenkins", "--listen", "127.0.0.1:0", "--build-seconds", "2"], workdir)
    processes.append(p)
    url = p.wait_for(r"^(http://\S+)").group(1)
    user = p.wait_for(r"^user=(.*)$").group(1)
    token = p.wait_for(r"^token=(.*)$").group(1)
    ns, name = JENKINS_SECRET.split("/")
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "type": "Opaque",
        "data": {"username": b64(user), "api-token": b64(token)},
    }
    status, body, _ = http_request(
        f"{sim.server}/api/v1/namespaces/{ns}/secrets", "POST", json.dumps(secret).encode(), {"content-type": "application/json"}
    )
    assert status == 201, f"creating the Jenkins credentials Secret: {status} {body!r}"
    return Jenkins(url=url, user=user, token=token)


def start_mcp(name: str, workdir: Path, processes: list[Process], *args: str, env: dict[str, str] | None = None) -> McpServer:
    """Starts `binnacle mcp --transport http` with `args` and waits for its URL."""
    _require(BIN, "cargo build -p binnacle-cli")
    p = Process(name, [BIN, "mcp", "--transport", "http", "--listen", "127.0.0.1:0", *args], workdir, env=env)
    processes.append(p)
    url = p.wait_for(r"MCP server listening on (http://\S+/mcp)").group(1)
    return McpServer(url=url, process=p)


@pytest.fixture(scope="session")
def mcp(sim: Sim, jenkins: Jenkins, workdir: Path, processes: list[Process]) -> McpServer:
    """An MCP server over the demo cluster (and the Jenkins stand-in), every tool enabled."""
    helm = ["--helm", helm_binary()] if helm_binary() else []
    return start_mcp(
        "mcp", workdir, processes, "--output-schemas", "--kubeconfig", str(sim.kubeconfig), "--jenkins-url", jenkins.url, "--jenkins-secret", JENKINS_SECRET, *helm,
        env={**os.environ, **helm_dirs(workdir)},
    )


@pytest.fixture(scope="session")
def mcp_read_only(sim: Sim, workdir: Path, processes: list[Process]) -> McpServer:
    return start_mcp("mcp-read-only", workdir, processes, "--kubeconfig", str(sim.kubeconfig), "--read-only")


@pytest.fixture(scope="session")
def mcp_unreachable(workdir: Path, processes: list[Process]) -> McpServer:
    """An MCP server whose only cluster is at 127.0.0.1:1, where nothing listens."""
    kubeconfig = workdir / "unreachable.kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: down\n"
        "clusters: [{name: down, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: down, user: {}}]\n"
        "contexts: [{name: down, context: {cluster: down, user: down}}]\n"
    )
    return start_mcp("mcp-unreachable", workdir, processes, "--kubeconfig", str(kubeconfig))


@pytest.fixture(scope="session")
def mcp_no_kubeconfig(workdir: Path, processes: list[Process]) -> McpServer:
    """An MCP server started with no kubeconfig at all."""
    home = workdir / "empty-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    return start_mcp("mcp-no-kubeconfig", workdir, processes, env=env)


def stdio_command(sim: Sim, *args: str) -> tuple[str, list[str]]:
    """The command line of `binnacle mcp --transport stdio` over the demo cluster."""
    _require(BIN, "cargo build -p binnacle-cli")
    return str(BIN), ["mcp", "--transport", "stdio", "--kubeconfig", str(sim.kubeconfig), *args]
