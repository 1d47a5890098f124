"""The HTTP front door, with raw requests: health, Origin refusal, body limit, and JSON-RPC errors for
bodies that are not one valid message, after which the server keeps serving."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from conftest import McpServer, http_request
from helpers import INVALID_REQUEST, PARSE_ERROR, connect

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }
).encode()


def test_healthz(mcp: McpServer) -> None:
    status, body, _ = http_request(f"{mcp.base}/healthz")
    assert (status, body) == (200, b"ok")


@pytest.mark.parametrize(
    "body, code",
    [
        (b"this is not json {", PARSE_ERROR),
        (b"", PARSE_ERROR),
        (b"[1, 2, 3]", INVALID_REQUEST),
        (b'"a string"', INVALID_REQUEST),
        (b"42", INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 5, "method": 7}', INVALID_REQUEST),
    ],
)
def test_malformed_json_rpc(mcp: McpServer, body: bytes, code: int) -> None:
    status, raw, headers = http_request(mcp.url, "POST", body, HEADERS)
    assert status == 400, raw
    assert headers.get("content-type", "").startswith("application/json")
    reply = json.loads(raw)
    assert reply["jsonrpc"] == "2.0"
    assert reply["error"]["code"] == code, reply
    assert mcp.process.alive()
    status, raw, _ = http_request(mcp.url, "POST", INITIALIZE, HEADERS)
    assert status == 200 and b'"serverInfo"' in raw, raw


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "https://localhost", "http://127.0.0.1.evil.example:8080"])
def test_disallowed_origin_is_refused(mcp: McpServer, origin: str) -> None:
    status, raw, _ = http_request(mcp.url, "POST", INITIALIZE, {**HEADERS, "origin": origin})
    assert status == 403, raw
    reply = json.loads(raw)
    assert reply["error"] == "forbidden_origin" and "--allowed-origins" in reply["message"], reply


def test_local_origin_is_allowed(mcp: McpServer) -> None:
    status, raw, _ = http_request(mcp.url, "POST", INITIALIZE, {**HEADERS, "origin": "http://localhost:5173"})
    assert status == 200 and b'"serverInfo"' in raw, raw


def test_body_size_limit(mcp: McpServer) -> None:
    """A body declared larger than 4 MiB is refused before it is read (the refusal comes while a client
    would still be sending, so the request goes out as headers only)."""
    url = urllib.parse.urlsplit(mcp.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        conn.putrequest("POST", url.path)
        for k, v in HEADERS.items():
            conn.putheader(k, v)
        conn.putheader("content-length", str(5 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    assert resp.status == 413, raw
    assert json.loads(raw)["error"] == "payload_too_large"
    assert mcp.process.alive()
    status, raw, _ = http_request(mcp.url, "POST", INITIALIZE, HEADERS)
    assert status == 200, raw


@pytest.mark.anyio
async def test_server_keeps_serving_after_bad_requests(mcp: McpServer) -> None:
    for body in (b"garbage", b"[]", b"{}"):
        http_request(mcp.url, "POST", body, HEADERS)
    async with connect(mcp.url) as client:
        assert not (await client.call_tool("cluster_info", {})).is_error
