"""Every tool the server offers is called at least once, from the table in tool_calls.py."""

from __future__ import annotations

import pytest
from conftest import Cluster, McpServer, available_needs
from helpers import connect, text_of
from tool_calls import TOOL_CALLS

pytestmark = pytest.mark.anyio


async def served_tools(mcp: McpServer) -> list[str]:
    async with connect(mcp.url) as client:
        return [t.name for t in (await client.list_tools()).tools]


async def test_every_served_tool_has_a_call(mcp: McpServer) -> None:
    missing = [name for name in await served_tools(mcp) if name not in TOOL_CALLS]
    assert not missing, f"tools served without an entry in tests/python/tool_calls.py (add one call each): {missing}"


@pytest.mark.parametrize("name", list(TOOL_CALLS))
async def test_tool_call(mcp: McpServer, cluster: Cluster, name: str) -> None:
    call = TOOL_CALLS[name]
    if missing := call.needs - available_needs():
        pytest.skip(f"{name} needs {', '.join(sorted(missing))}, which this machine lacks")
    args = call.args(cluster) if callable(call.args) else call.args
    async with connect(mcp.url) as client:
        served = {t.name for t in (await client.list_tools()).tools}
        assert name in served, f"{name} is listed in tool_calls.py but the server does not offer it"
        # The SDK validates structured content against the tool's output schema here.
        result = await client.call_tool(name, args)
    message = text_of(result)
    assert not result.is_error, f"{name}({args}) failed: {message}"
    assert message.strip(), f"{name} returned no summary"
    assert isinstance(result.structured_content, dict), f"{name} returned no structured content"
    if call.expect:
        assert call.expect in message, message
