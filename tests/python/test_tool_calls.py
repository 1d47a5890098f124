"""Every tool the server offers is called at least once, from the table in tool_calls.py."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import Cluster, Jenkins, McpServer, available_needs
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
async def test_tool_call(mcp: McpServer, cluster: Cluster, jenkins: Jenkins, name: str) -> None:
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
    # Credentials never leave the server: not the kubeconfig's token, not a Secret's value (the Jenkins API
    # token lives in a Secret of the simulated cluster), except through the explicit reveal tool.
    if name != "secret_reveal":
        output = message + json.dumps(result.structured_content)
        for credential in secrets_that_must_not_leak(jenkins):
            assert credential not in output, f"{name} leaked a credential in its output"


def secrets_that_must_not_leak(jenkins: Jenkins) -> list[str]:
    return [KUBECONFIG_TOKEN, jenkins.token, base64.b64encode(jenkins.token.encode()).decode()]


# The token of the simulated cluster's kubeconfig user (binnacle_sim::kubeconfig).
KUBECONFIG_TOKEN = "sim-admin-token"


async def test_no_credential_in_the_server_log(mcp: McpServer, jenkins: Jenkins) -> None:
    """Runs after every tool call above: the server's log (stderr) holds no credential either."""
    log = mcp.process.log_path.read_text(errors="replace")
    assert log, "the server wrote no log at all"
    for credential in secrets_that_must_not_leak(jenkins):
        assert credential not in log, "the MCP server logged a credential"
