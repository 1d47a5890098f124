"""The MCP gateway (`binnacle gateway`) with third-party parts: an upstream written with the official Python SDK
(MCPServer, formerly FastMCP) next to `binnacle mcp`, both discovered from Services and EndpointSlices of the
simulated cluster, and the Python SDK as the gateway's client: it sees both servers' tools, calls each, and is
told (notifications/tools/list_changed) when the Python upstream dies."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp import Client

from conftest import BIN, McpServer, Process, Sim, _require, http_request
from helpers import text_of

NAMESPACE = "gateway-py"
ROOT = Path(__file__).resolve().parents[2]

UPSTREAM = '''
import sys
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

app = MCPServer("py-upstream")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def greet(name: str) -> str:
    """Greets someone."""
    return f"hello {name}"

@app.tool()
def shout(text: str) -> str:
    """Upper-cases text (no annotations: the gateway treats it as not read-only)."""
    return text.upper()

app.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(sim: Sim, method: str, path: str, body: dict | str, content_type: str = "application/json") -> dict:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    status, raw, _ = http_request(f"{sim.server}{path}", method, data, {"content-type": content_type})
    assert status in (200, 201), f"{method} {path}: {status} {raw[:300]!r}"
    return json.loads(raw)


def mcp_service(sim: Sim, name: str, port: int, annotations: dict[str, str]) -> None:
    api(sim, "POST", f"/api/v1/namespaces/{NAMESPACE}/services", {
        "metadata": {"name": name, "labels": {"mcp-enabled": "true"}, "annotations": annotations},
        "spec": {"ports": [{"name": "mcp", "port": 80, "targetPort": port}]},
    })
    api(sim, "POST", f"/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices", {
        "metadata": {"name": f"{name}-1", "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "ports": [{"name": "mcp", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
    })


def gateway_status(sim: Sim) -> dict:
    status, raw, _ = http_request(f"{sim.server}/apis/binnacle.dev/v1alpha1/namespaces/{NAMESPACE}/gateways/main")
    assert status == 200, raw
    return json.loads(raw).get("status") or {}


def wait(what: str, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.anyio
async def test_gateway_with_python_upstream_and_client(
    sim: Sim, mcp_read_only: McpServer, workdir: Path, processes: list[Process]
) -> None:
    _require(BIN, "cargo build -p binnacle-cli")
    crd = (ROOT / "deploy" / "crds" / "gateway.yaml").read_text()
    api(sim, "PATCH", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gateways.binnacle.dev?fieldManager=tests&force=true", crd, "application/apply-patch+yaml")
    api(sim, "POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
    wait("the Gateway resource is served", lambda: http_request(f"{sim.server}/apis/binnacle.dev/v1alpha1/namespaces/{NAMESPACE}/gateways")[0] == 200)
    api(sim, "POST", f"/apis/binnacle.dev/v1alpha1/namespaces/{NAMESPACE}/gateways", {
        "apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway", "metadata": {"name": "main"}, "spec": {},
    })

    script = workdir / "py_upstream.py"
    script.write_text(UPSTREAM)
    port = free_port()
    upstream = Process("py-upstream", [sys.executable, script, str(port)], workdir)
    processes.append(upstream)
    wait("the Python upstream listens", lambda: _listening(port))
    mcp_service(sim, "py-tools", port, {"mcp.fetchfy.ai/type": "tool", "mcp.fetchfy.ai/endpoint": "/mcp"})
    mcp_service(sim, "binnacle", int(mcp_read_only.url.rsplit(":", 1)[1].split("/")[0]), {"binnacle.dev/mcp-type": "tool"})

    gw = Process("gateway", [BIN, "gateway", "--gateway", f"{NAMESPACE}/main", "--kubeconfig", sim.kubeconfig, "--listen", "127.0.0.1:0", "--probe-interval", "1s"], workdir)
    processes.append(gw)
    url = gw.wait_for(r"listening on (http://\S+/mcp)").group(1)
    wait("both upstreams are available", lambda: gateway_status(sim).get("servicesAvailable") == "2/2")

    changed = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with Client(url, mode="legacy", read_timeout_seconds=60, message_handler=on_message) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "py-tools.greet" in tools and "binnacle.cluster_info" in tools, sorted(tools)
        assert tools["py-tools.greet"].annotations and tools["py-tools.greet"].annotations.read_only_hint is True
        result = await client.call_tool("py-tools.greet", {"name": "gateway"})
        assert not result.is_error and text_of(result) == "hello gateway", result
        result = await client.call_tool("binnacle.cluster_info", {})
        assert not result.is_error, text_of(result)
        result = await client.call_tool("py-tools.shout", {"text": "hi"})
        assert text_of(result) == "HI"

        # The Python upstream dies: its tools leave the list, the client is told, status says so.
        upstream.stop()
        with anyio.fail_after(20):
            await changed.wait()
        names = {t.name for t in (await client.list_tools()).tools}
        assert not any(n.startswith("py-tools.") for n in names) and "binnacle.cluster_info" in names
        status = wait("py-tools unavailable in status", lambda: (s := gateway_status(sim)).get("servicesAvailable") == "1/2" and s)
        py = next(s for s in status["mcpServices"] if s["name"] == "py-tools")
        assert py["status"] == "Unavailable" and py["namespace"] == NAMESPACE

    # A client on the stateless protocol (2026-07-28, server/discover) is served too.
    async with Client(url, mode="auto", read_timeout_seconds=60) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "binnacle.cluster_info" in names
        assert not (await client.call_tool("binnacle.cluster_info", {})).is_error


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.anyio
async def test_gateway_api_keys_and_audit_log(sim: Sim, mcp_read_only: McpServer, workdir: Path, processes: list[Process]) -> None:
    """`auth.mode: apiKeys`: the Python SDK with the right key (as an httpx header) lists and calls; no key
    gets 401 with WWW-Authenticate; every tools/call is a line of `--audit-log`."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    _require(BIN, "cargo build -p binnacle-cli")
    ns = "gateway-py-auth"
    crd = (ROOT / "deploy" / "crds" / "gateway.yaml").read_text()
    api(sim, "PATCH", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gateways.binnacle.dev?fieldManager=tests&force=true", crd, "application/apply-patch+yaml")
    api(sim, "POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    wait("the Gateway resource is served", lambda: http_request(f"{sim.server}/apis/binnacle.dev/v1alpha1/namespaces/{ns}/gateways")[0] == 200)
    api(sim, "POST", f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "keys"}, "stringData": {"py-client": "py-key-123"}})
    api(sim, "POST", f"/apis/binnacle.dev/v1alpha1/namespaces/{ns}/gateways", {
        "apiVersion": "binnacle.dev/v1alpha1", "kind": "Gateway", "metadata": {"name": "main"},
        "spec": {"namespaces": [ns], "auth": {"mode": "apiKeys", "secretRef": {"name": "keys"}}},
    })
    port = int(mcp_read_only.url.rsplit(":", 1)[1].split("/")[0])
    api(sim, "POST", f"/api/v1/namespaces/{ns}/services", {
        "metadata": {"name": "binnacle", "labels": {"mcp-enabled": "true"}},
        "spec": {"ports": [{"name": "mcp", "port": 80, "targetPort": port}]},
    })
    api(sim, "POST", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", {
        "metadata": {"name": "binnacle-1", "labels": {"kubernetes.io/service-name": "binnacle"}},
        "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
        "ports": [{"name": "mcp", "port": port, "protocol": "TCP"}],
    })
    audit = workdir / "audit.jsonl"
    gw = Process("gateway-auth", [BIN, "gateway", "--gateway", f"{ns}/main", "--kubeconfig", sim.kubeconfig, "--listen", "127.0.0.1:0", "--audit-log", str(audit)], workdir)
    processes.append(gw)
    url = gw.wait_for(r"listening on (http://\S+/mcp)").group(1)

    init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode()
    hdrs = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    status, body, headers = wait("401 without a key", lambda: (r := http_request(url, "POST", init, hdrs))[0] == 401 and r)
    assert headers.get("www-authenticate", headers.get("WWW-Authenticate", "")).startswith("Bearer"), headers
    assert b"Authorization: Bearer <key>" in body, body

    http = httpx2.AsyncClient(headers={"Authorization": "Bearer py-key-123"}, timeout=60)
    async with Client(streamable_http_client(url, http_client=http), mode="legacy", read_timeout_seconds=60) as client:
        with anyio.fail_after(30):
            while "binnacle.cluster_info" not in {t.name for t in (await client.list_tools()).tools}:
                await anyio.sleep(0.2)
        assert not (await client.call_tool("binnacle.cluster_info", {})).is_error
    lines = wait("the audit line", lambda: audit.exists() and [json.loads(l) for l in audit.read_text().splitlines()])
    assert lines[0]["caller"] == "py-client" and lines[0]["tool"] == "binnacle.cluster_info", lines
    assert lines[0]["outcome"] == "ok" and lines[0]["upstream"] == f"{ns}/binnacle", lines
