"""Small helpers shared by the test modules."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp_types import CallToolResult

INVALID_PARAMS = -32602
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
HINTS = ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint")


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def connect(server: Any, mode: str = "legacy") -> Client:
    """A client for a URL (Streamable HTTP) or StdioServerParameters. `legacy` uses the initialize handshake
    and a stateful session; `auto` probes server/discover (protocol 2026-07-28). No request waits longer
    than 60 s, so a hung server fails the test instead of stalling the suite."""
    return Client(server, mode=mode, read_timeout_seconds=60)
