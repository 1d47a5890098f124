"""`binnacle serve` as an MCP agent: the official Python SDK calls `ask` and `run_status` on `/mcp` with the
engine's bearer token, over the simulated cluster, with the scripted model of `binnacle-testkit llm`.
A direct answer comes back with progress; a change stops at the approval gate (nothing approved), is
approved through the REST API, and `run_status` then shows the answer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import BIN, TESTKIT_BIN, Process, Sim, _require, http_request
from helpers import text_of

ADMIN_PASSWORD = "python-agent-admin-password"

SCRIPT = {
    "conversations": [
        {
            "when_user_says": "scale cart",
            "turns": [
                {
                    "text": ["I will scale cart."],
                    "tool_calls": [{"name": "workload_scale", "arguments": {"name": "cart", "namespace": "shop", "replicas": 5}}],
                },
                {"text": ["cart runs ", "5 replicas now."]},
            ],
        },
        {"turns": [{"text": ["The shop namespace ", "looks healthy."]}]},
    ]
}


@pytest.fixture(scope="module")
def engine(sim: Sim, workdir: Path, processes: list[Process]) -> str:
    """`binnacle serve` over the simulated cluster with the scripted model; answers its base URL."""
    _require(BIN, "cargo build -p binnacle-cli")
    _require(TESTKIT_BIN, "cargo build -p binnacle-testkit")
    script = workdir / "agent-script.json"
    script.write_text(json.dumps(SCRIPT))
    llm = Process("agent-llm", [TESTKIT_BIN, "llm", "--script", script], workdir)
    processes.append(llm)
    llm_url = llm.wait_for(r"^(http://\S+/v1)$").group(1)
    env = {
        **os.environ,
        "BINNACLE_LLM_PROVIDER": "openai",
        "BINNACLE_LLM_BASE_URL": llm_url,
        "BINNACLE_LLM_MODEL": "scripted",
        "BINNACLE_LLM_API_KEY": "test-key",
        "BINNACLE_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    db = workdir / "agent-engine.db"
    serve = Process(
        "agent-serve",
        [BIN, "serve", "--listen", "127.0.0.1:0", "--database", f"sqlite://{db}", "--kubeconfig", sim.kubeconfig],
        workdir,
        env=env,
    )
    processes.append(serve)
    return serve.wait_for(r"API:\s+(http://\S+)/api/v1").group(1)


def rest(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    status, raw, _ = http_request(f"{base}{path}", method, json.dumps(body).encode() if body is not None else None, headers)
    return status, json.loads(raw) if raw else {}


def login(base: str) -> str:
    status, body = rest(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, body
    return body["accessToken"]


def agent(base: str, token: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy", read_timeout_seconds=60)


def test_mcp_without_a_token_is_refused(engine: str) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    status, raw, headers = http_request(
        f"{engine}/mcp", "POST", json.dumps(init).encode(), {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    )
    assert status == 401, raw
    assert "bearer token" in json.loads(raw)["error"]["message"]


@pytest.mark.anyio
async def test_ask_answers_and_waits_at_the_gate(engine: str, sim: Sim) -> None:
    token = login(engine)
    # The client authenticates as a gateway would: with a long-lived API token an admin created.
    status, created = rest(engine, "POST", "/api/v1/tokens", token, {"name": "python-gateway", "expiresInDays": 1})
    assert status == 201, created
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with agent(engine, created["token"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert sorted(tools) == ["ask", "run_status"]
        ask = tools["ask"].annotations
        assert ask and (ask.read_only_hint, ask.destructive_hint, ask.open_world_hint) == (False, False, True)
        assert tools["run_status"].annotations and tools["run_status"].annotations.read_only_hint is True

        result = await client.call_tool("ask", {"prompt": "how is shop?"}, progress_callback=on_progress)
        assert not result.is_error, text_of(result)
        assert text_of(result) == "The shop namespace looks healthy."
        assert result.structured_content and result.structured_content["status"] == "completed"
        assert "The shop namespace " in progress, progress

        result = await client.call_tool("ask", {"prompt": "scale cart to 5"})
        assert not result.is_error, text_of(result)
        s = result.structured_content
        assert s and s["status"] == "awaiting_approval", s
        [pending] = s["pendingApprovals"]
        assert pending["tool"] == "workload_scale" and "replicas" in json.dumps(pending["preview"])
        assert s["commandCenterUrl"] == f"{engine}/conversations/{s['conversationId']}"

        # Nothing changed; the approval waits in the REST API; approving it there lets the run finish.
        status, raw, _ = http_request(f"{sim.server}/apis/apps/v1/namespaces/shop/deployments/cart")
        assert status == 200 and json.loads(raw)["spec"]["replicas"] != 5
        status, listed = rest(engine, "GET", "/api/v1/approvals?status=pending", token)
        assert any(a["id"] == pending["approvalId"] for a in listed["items"]), listed
        status, decided = rest(engine, "POST", f"/api/v1/approvals/{pending['approvalId']}", token, pending["approve"]["body"])
        assert status == 200, decided

        final = None
        for _ in range(100):
            r = await client.call_tool("run_status", {"runId": s["runId"]})
            if r.structured_content and r.structured_content["status"] == "completed":
                final = r
                break
            await anyio.sleep(0.1)
        assert final is not None, "the run did not complete after approval"
        assert final.structured_content["answer"] == "cart runs 5 replicas now."
        status, raw, _ = http_request(f"{sim.server}/apis/apps/v1/namespaces/shop/deployments/cart")
        assert json.loads(raw)["spec"]["replicas"] == 5
