"""One minimal valid call of every tool, against the demo scenario of `binnacle sim`.

`test_tool_calls.py` calls each entry over MCP and checks the result: no `isError`, a text summary, and
structured content (which the MCP SDK validates against the tool's output schema). It fails for an entry
whose tool is not served, and for a served tool that has no entry here: when you add a tool, add its call.

- `args`: the arguments (the common ones, `context` and `budgetTokens`, may be left out), or a function
  of a `Cluster` (see conftest.py: `first_pod(namespace, selector)`, ...) for names known only at run time;
- `needs`: what the call needs besides the simulated cluster: "jenkins" (the Jenkins stand-in of
  `binnacle-testkit`, with the server's default Jenkins URL and credentials Secret pointing at it, always
  there), "helm" (a `helm` binary on PATH; without one the call is skipped), "chart-repo" (a chart
  repository to add; none is served yet, so those calls are skipped);
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
HELM = frozenset({"helm"})
CHART_REPO = frozenset({"helm", "chart-repo"})
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
    "rollout_status": Call({"name": "frontend", "namespace": "shop"}),
    "rollout_history": Call({"name": "frontend", "namespace": "shop"}),
    "pods_top": Call({"allNamespaces": True}),
    "nodes_top": Call({}),
    "resource_wait": Call({"kind": "Deployment", "name": "frontend", "namespace": "shop", "jsonPath": "{.metadata.name}=frontend"}),
    "pod_exec": Call(lambda k: {"name": k.first_pod("shop", "app=redis"), "namespace": "shop", "command": ["ls", "/"]}),
    "secret_reveal": Call({"namespace": "default", "name": "jenkins-creds", "keys": ["username"]}, needs=JENKINS),
    # Kubernetes writes (after the reads: they change what the reads would see)
    "resource_diff": Call({"manifest": CONFIGMAP, "namespace": "shop"}),
    "resources_apply": Call({"manifest": CONFIGMAP, "namespace": "shop"}),
    "resource_patch": Call({"kind": "ConfigMap", "name": "mcp-tests", "namespace": "shop", "patch": {"data": {"patched": "yes"}}, "type": "merge"}),
    "workload_scale": Call({"name": "cart", "namespace": "shop", "replicas": 2}),
    "workload_set_image": Call({"name": "cart", "namespace": "shop", "image": "ghcr.io/acme/cart:2.0.0"}),
    "rollout_undo": Call({"name": "cart", "namespace": "shop"}),
    "rollout_restart": Call({"name": "frontend", "namespace": "shop"}),
    "pod_run": Call({"name": "mcp-tests", "namespace": "shop", "image": "busybox:1.36", "command": ["sleep", "3600"]}),
    "node_cordon": Call({"name": "sim-worker-1"}),
    "node_uncordon": Call({"name": "sim-worker-1"}),
    "node_drain": Call({"name": "sim-control-plane", "ignoreDaemonSets": True, "deleteEmptyDirData": True, "timeout": "30s"}),
    "resource_delete": Call({"kind": "ConfigMap", "name": "mcp-tests", "namespace": "shop"}),
    # Findings: the analyzers over one snapshot
    "find_issues": Call({"namespaces": ["web", "payments"]}),
    "explain_finding": Call(
        {"analyzer": "crash-loop", "kind": "Deployment", "namespace": "payments", "name": "payments-api"},
        expect="payments-api",
    ),
    # Helm: reads come from the release Secrets (the demo's podinfo release in apps), no helm binary needed
    "helm_releases_list": Call({}, expect="podinfo"),
    "helm_release_status": Call({"release": "podinfo", "namespace": "apps"}),
    "helm_release_history": Call({"release": "podinfo", "namespace": "apps"}),
    "helm_release_values": Call({"release": "podinfo", "namespace": "apps"}),
    "helm_release_manifest": Call({"release": "podinfo", "namespace": "apps"}),
    # Helm through the helm binary, with a chart the fixture writes (k.chart)
    "helm_chart_values": Call(lambda k: {"chart": k.chart}, needs=HELM),
    "helm_template": Call(lambda k: {"release": "mcp-tests", "namespace": "default", "chart": k.chart}, needs=HELM),
    "helm_release_install": Call(lambda k: {"release": "mcp-tests", "namespace": "default", "chart": k.chart}, needs=HELM),
    "helm_release_upgrade": Call(lambda k: {"release": "mcp-tests", "namespace": "default", "chart": k.chart, "values": "greeting: hi"}, needs=HELM),
    "helm_release_rollback": Call({"release": "mcp-tests", "namespace": "default"}, needs=HELM),
    "helm_release_uninstall": Call({"release": "mcp-tests", "namespace": "default"}, needs=HELM),
    "helm_release_install_with_values": Call(
        lambda k: {"release": "mcp-tests-2", "namespace": "default", "chart": k.chart, "values": "greeting: hello"}, needs=HELM
    ),
    "helm_repo_add": Call(lambda k: {"name": "mcp-tests", "url": k.chart_repo}, needs=CHART_REPO),
    "helm_repo_update": Call({"names": ["mcp-tests"]}, needs=CHART_REPO),
    "helm_repo_search": Call({"keyword": "mcp-tests/"}, needs=CHART_REPO),
    "helm_repo_remove": Call({"name": "mcp-tests"}, needs=CHART_REPO),
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
