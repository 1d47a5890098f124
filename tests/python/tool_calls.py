"""One minimal valid call of every tool, against the demo scenario of `binnacle sim`.

`test_tool_calls.py` calls each entry over MCP and checks the result: no `isError`, a text summary, and
structured content (which the MCP SDK validates against the tool's output schema). It fails for an entry
whose tool is not served, and for a served tool that has no entry here: when you add a tool, add its call.

- `args`: the arguments (the common ones, `context` and `budgetTokens`, may be left out), or a function
  of a `Cluster` (see conftest.py: `first_pod(namespace, selector)`, ...) for names known only at run time;
- `needs`: the stand-ins the call needs besides the simulated cluster: "jenkins" (the Jenkins stand-in of
  `binnacle-testkit`, with the server's default Jenkins URL and credentials Secret pointing at it);
- `expect`: text that must appear in the summary, when something specific is worth checking.

Entries run in this order within one server, so a write may prepare what a later read looks at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    args: dict | Callable[[Any], dict] = field(default_factory=dict)
    needs: frozenset[str] = frozenset()
    expect: str | None = None


JENKINS = frozenset({"jenkins"})
CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: mcp-tests, labels: {app: mcp-tests}}
data: {checked-by: binnacle MCP tests}
"""

TOOL_CALLS: dict[str, Call] = {
    # Kubernetes
    "cluster_info": Call(expect="v1.32.5"),
    "api_resources_list": Call({"group": "apps"}),
    "resources_list": Call({"kind": "pods", "namespace": "shop"}),
    "resource_get": Call({"kind": "Deployment", "name": "frontend", "namespace": "shop"}),
    "resource_describe": Call({"kind": "Deployment", "name": "payments-api", "namespace": "payments"}),
    "events_list": Call({"namespace": "payments"}),
    "pod_logs": Call(
        lambda k: {"name": k.first_pod("payments", "app=payments-api"), "namespace": "payments", "tailLines": 20},
        expect="payments",
    ),
    "resource_diff": Call({"manifest": CONFIGMAP, "namespace": "shop"}),
    "resources_apply": Call({"manifest": CONFIGMAP, "namespace": "shop"}),
    # Argo Rollouts (the demo's rollouts/checkout canary waits at an indefinite pause)
    "argo_rollouts_list": Call({"namespace": "rollouts"}, expect="checkout"),
    "argo_rollout_status": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_describe": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_history": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_experiments_list": Call({"namespace": "rollouts"}),
    "argo_analysis_runs_list": Call({"namespace": "rollouts"}),
    "argo_rollout_promote": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_pause": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_resume": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_set_image": Call({"name": "checkout", "namespace": "rollouts", "image": "ghcr.io/acme/checkout:1.6.0"}),
    "argo_rollout_restart": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_abort": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_retry": Call({"name": "checkout", "namespace": "rollouts"}),
    "argo_rollout_undo": Call({"name": "checkout", "namespace": "rollouts"}),
    # Jenkins (the stand-in's seeded jobs: hello, team/api with builds 1-3, team/nested/worker, team/app build)
    "jenkins_whoami": Call(needs=JENKINS),
    "jenkins_jobs_list": Call({"depth": 2}, needs=JENKINS),
    "jenkins_job_get": Call({"job": "team/api"}, needs=JENKINS),
    "jenkins_job_parameters": Call({"job": "team/api"}, needs=JENKINS),
    "jenkins_job_scm": Call({"job": "team/api"}, needs=JENKINS),
    "jenkins_build_trigger": Call({"job": "hello"}, needs=JENKINS),
    "jenkins_build_get": Call({"job": "team/api", "number": 3}, needs=JENKINS),
    "jenkins_builds_last": Call({"job": "team/api", "count": 2}, needs=JENKINS),
    "jenkins_build_update": Call({"job": "team/api", "number": 3, "description": "checked by the MCP tests"}, needs=JENKINS),
    "jenkins_build_stop": Call({"job": "team/api", "number": 2}, needs=JENKINS),
    "jenkins_build_log": Call({"job": "team/api", "number": 3, "tail": True}, needs=JENKINS),
    "jenkins_build_scm": Call({"job": "team/api", "number": 3}, needs=JENKINS),
    "jenkins_build_changesets": Call({"job": "team/api", "number": 3}, needs=JENKINS),
}
