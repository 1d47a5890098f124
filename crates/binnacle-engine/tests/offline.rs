//! The offline assistant driven in a loop, as the engine drives a model, against the real tool catalog
//! and the in-process simulated cluster with the demo scenario: each turn's tool calls are run with
//! `DynTool::call`, rendered with `tool_text`, and appended to the conversation until the turn ends.

#![allow(missing_docs)]

use binnacle_engine::offline::{OFFLINE_NOTE, OfflineAssistant};
use binnacle_engine::tool_text::{render_tool_error, render_tool_result};
use binnacle_llm::{ChatMessage, ChatRequest, LlmEvent, LlmProvider, StopReason, ToolCallRequest, ToolDef};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use binnacle_tools::context::Settings;
use binnacle_tools::{Catalog, CatalogFilter, ClusterSet, ToolContext};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A simulated demo cluster, the tools over it, and the tool definitions offered to the assistant.
struct Harness {
    _sim: SimCluster,
    ctx: ToolContext,
    catalog: Catalog,
    tools: Vec<ToolDef>,
}

/// How the harness answers mutating calls.
#[derive(Clone, Copy)]
enum Gate<'a> {
    /// Run them.
    Approve,
    /// Answer with a denial by this user.
    Deny(&'a str),
}

/// One finished run.
struct Run {
    /// The answer text.
    text: String,
    /// Every tool call made, in order, with the turn it was made in.
    calls: Vec<(usize, ToolCallRequest)>,
    /// The whole conversation, ending with the answer.
    messages: Vec<ChatMessage>,
    /// The events of the answering turn.
    last_events: Vec<LlmEvent>,
}

impl Run {
    fn tools_called(&self) -> Vec<&str> {
        self.calls.iter().map(|(_, c)| c.name.as_str()).collect()
    }
}

fn defs(catalog: &Catalog) -> Vec<ToolDef> {
    catalog
        .tools()
        .iter()
        .map(|t| ToolDef {
            name: t.spec().name.to_string(),
            description: t.spec().description.to_string(),
            input_schema: t.spec().input_schema.clone(),
        })
        .collect()
}

/// Starts the demo cluster and waits until its planted faults have shown up (crash loops with logs, the
/// OOM kill, the pull error, the config error, the unschedulable pod), as the findings tests do.
async fn harness() -> Harness {
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Demo, speed: 20.0, ..SimOptions::default() })
        .await
        .expect("the simulated cluster starts");
    let client = kube::Client::new(sim.router(), "default");
    let ctx = ToolContext::new(Arc::new(ClusterSet::from_client("sim", client)), Arc::new(Settings::default()));
    let catalog = Catalog::builtin();
    let tools = defs(&catalog);
    let h = Harness { _sim: sim, ctx, catalog, tools };
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = h.call("find_issues", json!({})).await;
        let findings = out.get("findings").and_then(Value::as_array).cloned().unwrap_or_default();
        let has = |analyzer: &str, name: &str| findings.iter().any(|f| f["analyzer"] == analyzer && f["name"] == name);
        let crash_logs = findings
            .iter()
            .any(|f| f["analyzer"] == "crash-loop" && f["evidence"]["logs"].as_array().is_some_and(|l| !l.is_empty()));
        // The crash-looping pods have restarted at least once, so their previous instance has logs.
        let restarted = h
            .call(
                "resources_list",
                json!({"kind": "pods", "namespace": "payments", "labelSelector": "app=payments-api"}),
            )
            .await["items"]
            .as_array()
            .is_some_and(|pods| {
                !pods.is_empty() && pods.iter().all(|p| p["restarts"].as_str().is_some_and(|r| !r.starts_with('0')))
            });
        if restarted
            && has("crash-loop", "payments-api")
            && crash_logs
            && has("oom-killed", "ledger")
            && has("config-error", "fraud-detector")
            && has("image-pull", "storefront")
            && has("unschedulable", "analytics")
        {
            return h;
        }
        assert!(Instant::now() < deadline, "the demo faults did not show up in time: {findings:#?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

impl Harness {
    /// Calls a tool directly and returns its structured output.
    async fn call(&self, tool: &str, args: Value) -> Value {
        let tool = self.catalog.get(tool).unwrap_or_else(|| panic!("tool {tool} exists"));
        tool.call(&self.ctx, args).await.expect("the tool call succeeds").structured
    }

    /// Runs one tool call as the engine would, rendering the result into the conversation's text.
    async fn execute(&self, call: &ToolCallRequest, gate: Gate<'_>) -> (String, bool) {
        let Some(tool) = self.catalog.get(&call.name) else {
            return (render_tool_error(&format!("unknown tool {}", call.name)), true);
        };
        if !tool.spec().annotations.read_only
            && let Gate::Deny(user) = gate
        {
            return (render_tool_error(&format!("the call was denied by {user}: not during the change freeze")), true);
        }
        match tool.call(&self.ctx, call.arguments.clone()).await {
            Ok(out) => (render_tool_result(&out.summary, &out.structured), false),
            Err(e) => (render_tool_error(&e.to_string()), true),
        }
    }

    /// Asks until the answer shows `ready` (the cluster is live: a crash-looping pod is briefly running
    /// between crashes), for at most 20 seconds; returns the last run.
    async fn ask_until(&self, question: &str, ready: impl Fn(&str) -> bool) -> Run {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let run = self.ask(question).await;
            if ready(&run.text) || Instant::now() > deadline {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn ask(&self, question: &str) -> Run {
        self.ask_with(question, &self.tools, Gate::Approve).await
    }

    /// Drives the assistant until it ends its turn.
    async fn ask_with(&self, question: &str, tools: &[ToolDef], gate: Gate<'_>) -> Run {
        let assistant = OfflineAssistant::new();
        let mut messages = vec![ChatMessage::User { content: question.to_string() }];
        let mut calls = Vec::new();
        for turn in 0..6 {
            let request = ChatRequest {
                system: String::new(),
                messages: messages.clone(),
                tools: tools.to_vec(),
                max_tokens: None,
            };
            let events: Vec<LlmEvent> =
                assistant.stream(request).map(|e| e.expect("the offline assistant never fails")).collect().await;
            let text: String = events
                .iter()
                .filter_map(|e| if let LlmEvent::TextDelta(t) = e { Some(t.as_str()) } else { None })
                .collect();
            let turn_calls: Vec<ToolCallRequest> = events
                .iter()
                .filter_map(|e| if let LlmEvent::ToolCall(c) = e { Some(c.clone()) } else { None })
                .collect();
            match events.last() {
                Some(LlmEvent::Finished(StopReason::EndTurn)) => {
                    assert!(turn_calls.is_empty(), "an answer carries no tool calls");
                    assert!(matches!(events[events.len() - 2], LlmEvent::Usage(_)), "usage before the end");
                    messages.push(ChatMessage::Assistant { content: text.clone(), tool_calls: Vec::new() });
                    println!("──── {question}\n{text}\n");
                    return Run { text, calls, messages, last_events: events };
                }
                Some(LlmEvent::Finished(StopReason::ToolUse)) => {
                    assert!(!turn_calls.is_empty(), "a tool-use turn has calls");
                    assert!(text.is_empty(), "a tool-use turn has no text");
                    messages.push(ChatMessage::Assistant { content: String::new(), tool_calls: turn_calls.clone() });
                    for call in &turn_calls {
                        assert!(tools.iter().any(|t| t.name == call.name), "{} is offered", call.name);
                        let (content, is_error) = self.execute(call, gate).await;
                        messages.push(ChatMessage::Tool {
                            call_id: call.id.clone(),
                            name: call.name.clone(),
                            content,
                            is_error,
                        });
                        calls.push((turn, call.clone()));
                    }
                }
                other => panic!("unexpected end of turn: {other:?}"),
            }
        }
        panic!("the assistant did not finish within 6 turns: {calls:#?}");
    }

    /// Names of the pods in a namespace whose names start with `prefix`.
    /// The replicas of Deployment shop/cart.
    async fn cart_replicas(&self) -> Option<i64> {
        let got = self.call("resource_get", json!({"kind": "Deployment", "name": "cart", "namespace": "shop"})).await;
        got["object"]["spec"]["replicas"].as_i64()
    }

    async fn pods(&self, namespace: &str, prefix: &str) -> Vec<String> {
        let list = self.call("resources_list", json!({"kind": "pods", "namespace": namespace})).await;
        list["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|p| p["name"].as_str())
                    .filter(|n| n.starts_with(prefix))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn assert_offline(run: &Run) {
    assert!(run.text.starts_with(OFFLINE_NOTE), "every answer starts with the offline note:\n{}", run.text);
    let deltas = run.last_events.iter().filter(|e| matches!(e, LlmEvent::TextDelta(_))).count();
    assert!(deltas > 5, "the answer is streamed in pieces ({deltas})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_broken_names_the_planted_faults() {
    let h = harness().await;
    let run = h
        .ask_until("What is broken in namespace payments?", |t| {
            ["CrashLoopBackOff", "OOMKilled", "CreateContainerConfigError"].iter().all(|s| t.contains(s))
        })
        .await;
    assert_offline(&run);
    assert_eq!(run.calls.len(), 1);
    assert_eq!(run.calls[0].1.name, "find_issues");
    assert_eq!(run.calls[0].1.arguments, json!({"namespaces": ["payments"]}));
    assert_eq!(run.calls[0].1.id, "offline-1");
    let text = &run.text;
    for expected in [
        "### Critical",
        "`payments/payments-api`",
        "CrashLoopBackOff",
        "`payments/ledger`",
        "OOMKilled",
        "128Mi",
        "`payments/fraud-detector`",
        "CreateContainerConfigError",
        "ConfigMap fraud-rules is missing",
        "**Likely cause:**",
        "**Suggested next step:** `pod_logs`",
        "```text",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("storefront"), "other namespaces are left out:\n{text}");

    let web = h.ask("any problems in web?").await;
    assert_offline(&web);
    assert_eq!(web.calls[0].1.arguments, json!({"namespaces": ["web"]}));
    for expected in ["`web/storefront`", "nginx:does-not-exist", "`web/checkout`", "app=checkout-v2"] {
        assert!(web.text.contains(expected), "missing {expected:?} in:\n{}", web.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn why_is_a_pod_failing() {
    let h = harness().await;

    // Crash loop, asked by the pod's own name.
    let pod = h.pods("payments", "payments-api-").await.into_iter().next().expect("a payments-api pod");
    let run = h.ask(&format!("why is pod {pod} failing?")).await;
    assert_offline(&run);
    assert_eq!(run.tools_called(), ["resources_list", "resource_describe", "pod_logs"]);
    assert_eq!(run.calls[1].1.arguments, json!({"kind": "Pod", "name": pod, "namespace": "payments"}));
    assert_eq!(run.calls[1].0, 1, "describe and logs are one turn");
    assert_eq!(run.calls[2].0, 1);
    for expected in [
        "CrashLoopBackOff",
        &format!("`payments/{pod}`"),
        "**Events**",
        "Last log lines",
        "database",
        "**Suggested fix:**",
        "restart payments-api in payments",
    ] {
        assert!(run.text.contains(expected), "missing {expected:?} in:\n{}", run.text);
    }
    assert!(run.text.contains("```text\n"), "logs are in a code block");

    // OOM, asked by the Deployment's name.
    let oom = h.ask("what's wrong with ledger in payments").await;
    assert_offline(&oom);
    for expected in ["OOMKilled", "128Mi", "`ledger` is not a pod name", "Deployment payments/ledger", "heap"] {
        assert!(oom.text.contains(expected), "missing {expected:?} in:\n{}", oom.text);
    }

    // Image pull error, without a namespace.
    let pull = h.ask("Why is storefront not ready?").await;
    assert_offline(&pull);
    assert_eq!(pull.calls[0].1.arguments, json!({"kind": "pods", "allNamespaces": true, "limit": 500}));
    for expected in ["cannot be pulled", "nginx:does-not-exist", "`web/storefront-"] {
        assert!(pull.text.contains(expected), "missing {expected:?} in:\n{}", pull.text);
    }

    // Pending: the scheduler's message.
    let pending = h.ask("why is analytics pending").await;
    for expected in ["Pending", "cannot be scheduled", "Insufficient cpu"] {
        assert!(pending.text.contains(expected), "missing {expected:?} in:\n{}", pending.text);
    }

    // Missing ConfigMap.
    let config = h.ask("debug deploy/fraud-detector -n payments").await;
    for expected in ["CreateContainerConfigError", "fraud-rules"] {
        assert!(config.text.contains(expected), "missing {expected:?} in:\n{}", config.text);
    }

    // Unknown pod: a clear "not found", no further calls.
    let missing = h.ask("why is pod no-such-pod-xyz failing").await;
    assert_offline(&missing);
    assert_eq!(missing.tools_called(), ["resources_list"]);
    assert!(missing.text.contains("**Not found:**") && missing.text.contains("`no-such-pod-xyz`"), "{}", missing.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_logs() {
    let h = harness().await;
    let run = h.ask("show logs of payments-api in payments").await;
    assert_offline(&run);
    assert_eq!(run.tools_called(), ["resources_list", "pod_logs"]);
    let args = &run.calls[1].1.arguments;
    assert_eq!(args["namespace"], "payments");
    assert_eq!(args["tailLines"], 50);
    assert!(args["name"].as_str().is_some_and(|n| n.starts_with("payments-api-")), "{args}");
    assert!(run.text.contains("```text\n") && run.text.contains("database"), "{}", run.text);

    let previous = h.ask("previous logs for ledger -n payments, last 5 lines").await;
    let args = &previous.calls[1].1.arguments;
    assert_eq!((args["previous"].as_bool(), args["tailLines"].as_i64()), (Some(true), Some(5)), "{args}");
    assert!(
        previous.text.contains("previous (crashed) instance") && previous.text.contains("heap"),
        "{}",
        previous.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_go_through_the_gate() {
    let h = harness().await;
    assert_eq!(h.cart_replicas().await, Some(2));

    // The first turn is exactly one workload_scale call.
    let first: Vec<LlmEvent> = OfflineAssistant::new()
        .stream(ChatRequest {
            messages: vec![ChatMessage::User { content: "scale deployment cart in shop to 3".into() }],
            tools: h.tools.clone(),
            ..Default::default()
        })
        .map(|e| e.expect("no errors"))
        .collect()
        .await;
    assert_eq!(
        first,
        vec![
            LlmEvent::ToolCall(ToolCallRequest {
                id: "offline-1".into(),
                name: "workload_scale".into(),
                arguments: json!({"name": "cart", "namespace": "shop", "kind": "Deployment", "replicas": 3}),
            }),
            LlmEvent::Finished(StopReason::ToolUse),
        ]
    );

    // Denied: nothing changes, and the answer says who denied it.
    let denied = h.ask_with("scale deployment cart in shop to 3", &h.tools, Gate::Deny("alice")).await;
    assert_offline(&denied);
    assert_eq!(denied.tools_called(), ["workload_scale"]);
    assert!(denied.text.contains("**Not changed.**") && denied.text.contains("denied by alice"), "{}", denied.text);
    assert_eq!(h.cart_replicas().await, Some(2));

    // Approved: it happens.
    let done = h.ask("scale deployment cart in shop to 3").await;
    assert!(done.text.contains("**Done.**") && done.text.contains("from 2 to 3 replicas"), "{}", done.text);
    assert_eq!(h.cart_replicas().await, Some(3));

    // No namespace: the workload is looked up first (a StatefulSet here), then restarted.
    let restart = h.ask("please restart redis").await;
    assert_eq!(restart.tools_called(), ["resources_list", "resources_list", "resources_list", "rollout_restart"]);
    assert_eq!(restart.calls[3].1.arguments, json!({"name": "redis", "namespace": "shop", "kind": "StatefulSet"}));
    assert!(restart.text.contains("**Done.**") && restart.text.contains("StatefulSet shop/redis"), "{}", restart.text);

    // A failed change is explained.
    let undo = h.ask("roll back cart in shop").await;
    assert_eq!(undo.tools_called(), ["rollout_undo"]);
    assert!(undo.text.contains("Nothing was changed") || undo.text.contains("**Done.**"), "{}", undo.text);

    // With writes hidden (read-only), the assistant says which tool is missing.
    let read_only = defs(&h.catalog.filtered(&CatalogFilter { read_only: true, ..Default::default() }));
    let refused = h.ask_with("scale deployment cart in shop to 1", &read_only, Gate::Approve).await;
    assert!(refused.calls.is_empty());
    assert!(refused.text.contains("`workload_scale`") && refused.text.contains("not enabled"), "{}", refused.text);
    assert_eq!(h.cart_replicas().await, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_help_and_determinism() {
    let h = harness().await;
    let list = h.ask("list pods in payments").await;
    assert_offline(&list);
    assert_eq!(list.calls[0].1.arguments, json!({"kind": "pods", "namespace": "payments", "limit": 100}));
    assert!(list.text.contains("| Name | Ready | Status | Restarts |"), "{}", list.text);
    for pod in ["ledger-", "payments-api-", "fraud-detector-"] {
        assert!(list.text.contains(pod), "{pod} is listed:\n{}", list.text);
    }
    assert!(!list.text.contains("| Namespace |"), "one namespace needs no column:\n{}", list.text);

    let help = h.ask("help").await;
    assert_offline(&help);
    assert!(help.calls.is_empty());
    assert!(help.text.contains("what is broken in namespace payments") && help.text.contains("scale deployment"));
    let unknown = h.ask("tell me a joke").await;
    assert!(unknown.calls.is_empty() && unknown.text.contains("did not understand"), "{}", unknown.text);

    // Same conversation, same events: replay every turn of a finished run.
    let run = h.ask("what's wrong with ledger in payments").await;
    let assistant = OfflineAssistant::new();
    for end in 1..run.messages.len() {
        if !matches!(run.messages[end], ChatMessage::Assistant { .. }) {
            continue;
        }
        let request =
            ChatRequest { messages: run.messages[..end].to_vec(), tools: h.tools.clone(), ..Default::default() };
        let a = assistant.respond(&request);
        let b = assistant.respond(&request);
        assert_eq!(a, b, "deterministic at message {end}");
        match &run.messages[end] {
            ChatMessage::Assistant { content, tool_calls } if tool_calls.is_empty() => {
                let text: String = a
                    .iter()
                    .filter_map(|e| if let LlmEvent::TextDelta(t) = e { Some(t.as_str()) } else { None })
                    .collect();
                assert_eq!(&text, content);
            }
            ChatMessage::Assistant { tool_calls, .. } => {
                let calls: Vec<&ToolCallRequest> =
                    a.iter().filter_map(|e| if let LlmEvent::ToolCall(c) = e { Some(c) } else { None }).collect();
                assert_eq!(calls, tool_calls.iter().collect::<Vec<_>>());
            }
            _ => {}
        }
    }
}
