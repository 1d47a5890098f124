"""MCP over Streamable HTTP and stdio with the official Python SDK: initialize, tools/list, errors,
read-only mode, and a server that has no (reachable) cluster."""

from __future__ import annotations

import subprocess

import pytest
from conftest import BIN, McpServer, Sim, stdio_command
from helpers import HINTS, INVALID_PARAMS, connect, text_of
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


async def test_initialize(mcp: McpServer) -> None:
    async with connect(mcp.url) as client:
        info = client.server_info
        assert info is not None and info.name == "binnacle"
        assert info.version
        assert client.server_capabilities.tools is not None
        result = client.session.initialize_result
        assert result is not None
        for needle in ("context", "budgetTokens", "readOnlyHint", "destructiveHint", "approve"):
            assert needle in (result.instructions or ""), f"instructions lack {needle!r}: {result.instructions}"


async def test_discover_with_the_newest_protocol(mcp: McpServer) -> None:
    """mode="auto" probes server/discover (protocol 2026-07-28, no session) and works as well."""
    async with connect(mcp.url, mode="auto") as client:
        tools = await client.list_tools()
        assert any(t.name == "cluster_info" for t in tools.tools)
        result = await client.call_tool("cluster_info", {})
        assert not result.is_error, text_of(result)


async def test_tools_list_has_annotations_and_schemas(mcp: McpServer) -> None:
    async with connect(mcp.url) as client:
        tools = (await client.list_tools()).tools
    assert tools, "no tools listed"
    names = [t.name for t in tools]
    assert len(names) == len(set(names)), f"duplicate names: {names}"
    for tool in tools:
        assert tool.title, tool.name
        assert tool.description and len(tool.description) > 20, tool.name
        assert tool.annotations is not None, tool.name
        for hint in HINTS:
            assert isinstance(getattr(tool.annotations, hint), bool), f"{tool.name} lacks {hint}"
        if tool.annotations.read_only_hint:
            assert not tool.annotations.destructive_hint, f"{tool.name} is read-only and destructive"
        assert tool.input_schema.get("type") == "object", tool.name
        assert "context" in tool.input_schema.get("properties", {}), tool.name
        if tool.annotations.read_only_hint:
            assert "budgetTokens" in tool.input_schema.get("properties", {}), tool.name
        assert isinstance(tool.output_schema, dict) and tool.output_schema, tool.name
        meta = tool.meta or {}
        assert isinstance(meta.get("binnacle.dev/tags"), list) and meta["binnacle.dev/tags"], tool.name
        assert meta["binnacle.dev/tags"][0] in ("k8s", "k8s-admin", "helm", "argo", "jenkins", "findings"), tool.name


async def test_unknown_tool_is_an_invalid_params_error(mcp: McpServer) -> None:
    async with connect(mcp.url) as client:
        with pytest.raises(MCPError) as err:
            await client.call_tool("no_such_tool", {})
        assert err.value.code == INVALID_PARAMS
        assert "no_such_tool" in err.value.message
        # The session goes on.
        assert not (await client.call_tool("cluster_info", {})).is_error


async def test_invalid_arguments_are_invalid_params_errors(mcp: McpServer) -> None:
    async with connect(mcp.url) as client:
        for args, needle in [({"bogus": 1}, "bogus"), ({"budgetTokens": 3}, "budgetTokens"), ({"context": "nowhere"}, "nowhere")]:
            with pytest.raises(MCPError) as err:
                await client.call_tool("cluster_info", args)
            assert err.value.code == INVALID_PARAMS, args
            assert needle in err.value.message, err.value.message


async def test_read_only_mode_hides_and_refuses_writes(mcp: McpServer, mcp_read_only: McpServer) -> None:
    async with connect(mcp.url) as client:
        everything = (await client.list_tools()).tools
    writes = [t.name for t in everything if not t.annotations.read_only_hint]
    async with connect(mcp_read_only.url) as client:
        listed = (await client.list_tools()).tools
        assert listed, "read-only mode lists nothing"
        assert all(t.annotations.read_only_hint for t in listed), [t.name for t in listed if not t.annotations.read_only_hint]
        assert {t.name for t in listed} == {t.name for t in everything if t.annotations.read_only_hint}
        if not writes:
            pytest.skip("no write tool exists yet")
        for name in writes:
            with pytest.raises(MCPError) as err:
                await client.call_tool(name, {})
            assert err.value.code == INVALID_PARAMS
            assert "read-only" in err.value.message and name in err.value.message, err.value.message


async def test_unreachable_cluster_is_a_tool_error(mcp_unreachable: McpServer) -> None:
    async with connect(mcp_unreachable.url) as client:
        assert (await client.list_tools()).tools
        for _ in range(2):
            result = await client.call_tool("cluster_info", {})
            assert result.is_error
            message = text_of(result)
            assert "cannot reach the cluster" in message and "check that it is running" in message, message
    assert mcp_unreachable.process.alive()
    async with connect(mcp_unreachable.url) as client:
        assert (await client.call_tool("cluster_info", {})).is_error


async def test_no_kubeconfig_still_serves(mcp_no_kubeconfig: McpServer) -> None:
    async with connect(mcp_no_kubeconfig.url) as client:
        assert any(t.name == "cluster_info" for t in (await client.list_tools()).tools)
        result = await client.call_tool("cluster_info", {})
        assert result.is_error
        assert "no cluster is configured" in text_of(result), text_of(result)
    assert mcp_no_kubeconfig.process.alive()


async def test_stdio_transport(sim: Sim) -> None:
    command, args = stdio_command(sim, "--read-only")
    async with connect(StdioServerParameters(command=command, args=args)) as client:
        assert client.server_info is not None and client.server_info.name == "binnacle"
        tools = (await client.list_tools()).tools
        assert tools and all(t.annotations.read_only_hint for t in tools)
        result = await client.call_tool("cluster_info", {})
        assert not result.is_error, text_of(result)
        assert result.structured_content["version"].startswith("v1.32")
        with pytest.raises(MCPError) as err:
            await client.call_tool("no_such_tool", {})
        assert err.value.code == INVALID_PARAMS


def test_unknown_tool_names_in_filters_fail_at_start_up() -> None:
    for flag in ("--allow-tools", "--deny-tools"):
        done = subprocess.run([str(BIN), "mcp", "--transport", "http", flag, "cluster_info,no_such_tool"], capture_output=True, timeout=30)
        assert done.returncode != 0
        assert b"no_such_tool" in done.stderr, done.stderr
