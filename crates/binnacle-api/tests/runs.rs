//! Runs end to end through the API: read-only questions, the approval gate (approve, deny, restart while
//! pending), stop, Last-Event-ID resume, providers (OpenAI-compatible, Anthropic, down) and the offline
//! assistant — on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_testkit::llm::{Script, ScriptedConversation, Turn};
use common::*;
use serde_json::json;
use std::time::Duration;

fn scale_script(replicas: i64) -> Script {
    Script::turns(vec![
        Turn::tool_call("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": replicas}))
            .with_text("I will scale cart.")
            .with_usage(120, 15),
        Turn::texts(["Done: ", "the result ", "is above."]).with_usage(200, 10),
    ])
}

on_both_databases!(read_only_question_streams_and_persists, |db| async move {
    let script = Script::turns(vec![
        Turn::tool_call("resources_list", json!({"kind": "pods", "namespace": "shop"})).with_usage(100, 20),
        Turn::texts(["The shop ", "namespace has ", "healthy pods."]).with_usage(300, 12),
    ]);
    let h = Harness::start(db, Model::OpenAi(script)).await;
    let admin = h.admin().await;
    let (conv, run) = h.ask(&admin, "which pods run in shop?").await;
    let events = h.run_to_end(&admin, &run).await;
    let n = names(&events);
    assert_eq!(n.first(), Some(&"run.started"));
    for expected in ["tool.started", "tool.result", "message.delta", "usage", "message.completed", "run.finished"] {
        assert!(n.contains(&expected), "{expected} missing from {n:?}");
    }
    assert!(!n.contains(&"approval.required"), "a read-only call must not wait: {n:?}");
    let ids: Vec<i64> = events.iter().map(|e| e.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids are consecutive: {ids:?}");
    let result = find(&events, "tool.result");
    assert_eq!(result.data["isError"], false, "{:?}", result.data);
    assert!(result.data["summary"].as_str().unwrap().contains("pod"));
    assert_eq!(text_of(&events), "The shop namespace has healthy pods.");
    let finished = find(&events, "run.finished");
    assert_eq!(finished.data["status"], "completed");
    assert_eq!(finished.data["promptTokens"], 400);
    assert_eq!(finished.data["completionTokens"], 32);
    let usage = events.iter().rfind(|e| e.event == "usage").unwrap();
    assert!(usage.data["costUsd"].as_f64().unwrap() > 0.0 && usage.data["ttftMs"].is_i64(), "{:?}", usage.data);

    // The model's second request carried the tool result.
    let reqs = h.llm.as_ref().unwrap().requests();
    let second = reqs.last().unwrap().body.to_string();
    assert!(second.contains("\"role\":\"tool\"") && second.contains("pods"), "{second}");

    // Everything is persisted: the replay has the messages, the tool call and the usage.
    let (s, replay) = h.send("GET", &format!("/api/v1/conversations/{conv}"), Some(&admin), None).await;
    assert_eq!(s, 200);
    assert_eq!(replay["conversation"]["title"], "which pods run in shop?");
    assert_eq!(replay["conversation"]["promptTokens"], 400);
    let roles: Vec<&str> = replay["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["user", "assistant", "tool", "assistant"]);
    assert_eq!(replay["messages"][0]["runId"], run.as_str(), "the user message names the run that answered it");
    assert_eq!(replay["toolCalls"][0]["tool"], "resources_list");
    assert_eq!(replay["toolCalls"][0]["status"], "succeeded");
    // The audit log recorded the call and its chain verifies.
    let (_, audit) = h.send("GET", "/api/v1/audit", Some(&admin), None).await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["tool"] == "resources_list" && e["decision"] == "read-only")
    );
    let (_, verify) = h.send("GET", "/api/v1/audit/verify", Some(&admin), None).await;
    assert_eq!(verify["valid"], true, "{verify}");
});

on_both_databases!(mutating_call_waits_is_approved_and_changes_the_cluster, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script(4))).await;
    let admin = h.admin().await;
    let before = h.replicas_of("shop", "cart").await;
    assert_ne!(before, 4);
    let (_, run) = h.ask(&admin, "scale cart to 4").await;
    let mut stream = h.events(&admin, &run, None).await;
    let upto = stream.until("approval.required", Duration::from_secs(20)).await;
    let required = upto.last().unwrap().clone();
    assert_eq!(required.data["tool"], "workload_scale");
    assert_eq!(required.data["arguments"]["replicas"], 4);
    let preview = &required.data["preview"];
    assert_eq!(preview["kind"], "dry-run", "{preview}");
    assert_eq!(preview["hints"]["readOnly"], false, "{preview}");
    assert!(preview["diff"].as_str().unwrap().contains("+  replicas: 4"), "{preview}");
    // Nothing changed yet: the preview was a dry run, and the run waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.replicas_of("shop", "cart").await, before);
    let (_, r) = h.send("GET", &format!("/api/v1/runs/{run}"), Some(&admin), None).await;
    assert_eq!(r["run"]["status"], "waiting_approval");
    let (_, pending) = h.send("GET", "/api/v1/approvals?status=pending", Some(&admin), None).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);

    let (s, decided) = h.decide(&admin, &required, "approve", None).await;
    assert_eq!(s, 200, "{decided}");
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decidedBy"], "admin");
    let rest = stream.until("run.finished", Duration::from_secs(20)).await;
    let n = names(&rest);
    assert!(n.contains(&"approval.resolved") && n.contains(&"tool.result"), "{n:?}");
    assert_eq!(find(&rest, "tool.result").data["isError"], false, "{:?}", find(&rest, "tool.result").data);
    assert_eq!(find(&rest, "run.finished").data["status"], "completed");
    assert_eq!(h.replicas_of("shop", "cart").await, 4);

    // The same approval cannot be decided twice.
    let (s, again) = h.decide(&admin, &required, "deny", None).await;
    assert_eq!(s, 409, "{again}");
    let (_, audit) = h.send("GET", "/api/v1/audit?limit=1000", Some(&admin), None).await;
    let items = audit["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["action"] == "approval.approved" && e["actor"] == "admin"));
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "tool.call" && e["tool"] == "workload_scale" && e["outcome"] == "succeeded")
    );
});

on_both_databases!(denied_call_is_reported_to_the_model_and_the_run_goes_on, |db| async move {
    let h = Harness::start(db, Model::OpenAi(scale_script(7))).await;
    let admin = h.admin().await;
    let before = h.replicas_of("shop", "cart").await;
    let (_, run) = h.ask(&admin, "scale cart to 7").await;
    let mut stream = h.events(&admin, &run, None).await;
    let required = stream.until("approval.required", Duration::from_secs(20)).await.pop().unwrap();
    let (s, _) = h.decide(&admin, &required, "deny", Some("not during the sale")).await;
    assert_eq!(s, 200);
    let rest = stream.until("run.finished", Duration::from_secs(20)).await;
    let result = find(&rest, "tool.result");
    assert_eq!(result.data["status"], "denied");
    assert_eq!(result.data["summary"], "denied by admin: not during the sale");
    assert_eq!(find(&rest, "run.finished").data["status"], "completed");
    assert_eq!(h.replicas_of("shop", "cart").await, before);
    let last = h.llm.as_ref().unwrap().requests().last().unwrap().body.to_string();
    assert!(last.contains("denied by admin: not during the sale"), "{last}");
});

on_both_databases!(stop_cancels_a_run_at_once, |db| async move {
    let script = Script::turns(vec![Turn::texts(["thinking about it"]).hanging()]);
    let h = Harness::start(db, Model::OpenAi(script)).await;
    let admin = h.admin().await;
    let (conv, run) = h.ask(&admin, "a long question").await;
    let mut stream = h.events(&admin, &run, None).await;
    stream.until("message.delta", Duration::from_secs(10)).await;
    let started = std::time::Instant::now();
    let (s, body) = h.send("POST", &format!("/api/v1/runs/{run}/stop"), Some(&admin), None).await;
    assert_eq!(s, 200, "{body}");
    let rest = stream.until("run.finished", Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(2), "stop took {:?}", started.elapsed());
    assert_eq!(find(&rest, "run.finished").data["status"], "stopped");
    assert!(
        h.llm.as_ref().unwrap().wait_for_disconnects(1, Duration::from_secs(2)).await,
        "the model stream was dropped"
    );
    // The partial answer is kept, and the conversation accepts a new message.
    let (_, replay) = h.send("GET", &format!("/api/v1/conversations/{conv}"), Some(&admin), None).await;
    let last = replay["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["data"]["content"], "thinking about it");
    assert_eq!(last["data"]["stopped"], true);
});

on_both_databases!(pending_approval_survives_a_restart, |db| async move {
    let mut h = Harness::start(db, Model::OpenAi(scale_script(5))).await;
    let admin = h.admin().await;
    let (_, run) = h.ask(&admin, "scale cart to 5").await;
    let mut stream = h.events(&admin, &run, None).await;
    let upto = stream.until("approval.required", Duration::from_secs(20)).await;
    let required = upto.last().unwrap().clone();
    let last_id = required.id.unwrap();
    drop(stream);

    h.restart().await;
    // The old token still works (same key); the approval is still pending.
    let (_, pending) = h.send("GET", "/api/v1/approvals?status=pending", Some(&admin), None).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1, "{pending}");
    let mut stream = h.events(&admin, &run, Some(last_id)).await;
    let (s, body) = h.decide(&admin, &required, "approve", None).await;
    assert_eq!(s, 200, "{body}");
    let rest = stream.until("run.finished", Duration::from_secs(20)).await;
    assert_eq!(rest.first().unwrap().id, Some(last_id + 1), "resumed right after the last event seen");
    assert_eq!(find(&rest, "run.finished").data["status"], "completed");
    assert_eq!(h.replicas_of("shop", "cart").await, 5);
});

on_both_databases!(last_event_id_resumes_without_gaps_or_duplicates, |db| async move {
    let deltas: Vec<String> = (0..40).map(|i| format!("w{i} ")).collect();
    let script = Script::turns(vec![Turn::texts(deltas.clone()).with_delay_ms(5)]);
    let h = Harness::start(db, Model::OpenAi(script)).await;
    let admin = h.admin().await;
    let (_, run) = h.ask(&admin, "count").await;
    let mut first = h.events(&admin, &run, None).await;
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(first.next(Duration::from_secs(10)).await.unwrap());
    }
    drop(first);
    let last = seen.last().unwrap().id.unwrap();
    let mut second = h.events(&admin, &run, Some(last)).await;
    seen.extend(second.until("run.finished", Duration::from_secs(20)).await);
    let ids: Vec<i64> = seen.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>(), "no gap, no duplicate");
    assert_eq!(text_of(&seen), deltas.concat());
    // After the run, a late follower replays everything from the store.
    let replay = h.run_to_end(&admin, &run).await;
    assert_eq!(replay.len(), seen.len());
    // A bad Last-Event-ID is refused.
    let res = h
        .http
        .get(h.url(&format!("/api/v1/runs/{run}/events")))
        .bearer_auth(&admin)
        .header("last-event-id", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
});

on_both_databases!(anthropic_provider_runs_the_same_loop, |db| async move {
    let script = Script::turns(vec![
        Turn::tool_call("resources_list", json!({"kind": "deployments", "namespace": "shop"}))
            .with_thinking("Let me list them.")
            .with_usage(50, 5),
        Turn::texts(["Two ", "deployments."]).with_usage(80, 4),
    ]);
    let h = Harness::start(db, Model::Anthropic(script)).await;
    let admin = h.admin().await;
    let (_, run) = h.ask(&admin, "deployments in shop?").await;
    let events = h.run_to_end(&admin, &run).await;
    assert!(names(&events).contains(&"thinking"));
    let (_, replay) = h.send("GET", &format!("/api/v1/runs/{run}"), Some(&admin), None).await;
    let conv = replay["run"]["conversationId"].as_str().unwrap().to_string();
    let (_, replay) = h.send("GET", &format!("/api/v1/conversations/{conv}"), Some(&admin), None).await;
    assert_eq!(replay["messages"][1]["data"]["thinking"], "Let me list them.", "thinking is kept for replay");
    assert_eq!(find(&events, "tool.result").data["isError"], false);
    assert_eq!(text_of(&events), "Two deployments.");
    assert_eq!(find(&events, "run.finished").data["status"], "completed");
    let reqs = h.llm.as_ref().unwrap().requests();
    assert!(reqs.last().unwrap().body.to_string().contains("tool_result"));
});

on_both_databases!(provider_down_ends_the_run_with_a_clear_error, |db| async move {
    let h = Harness::start(db, Model::Down).await;
    let admin = h.admin().await;
    let (_, run) = h.ask(&admin, "hello").await;
    let events = h.run_to_end(&admin, &run).await;
    let error = find(&events, "error");
    assert!(error.data["message"].as_str().unwrap().contains("unavailable"), "{:?}", error.data);
    assert_eq!(find(&events, "run.finished").data["status"], "failed");
});

on_both_databases!(offline_assistant_diagnoses_the_demo_faults, |db| async move {
    let h = Harness::start(db, Model::Offline).await;
    let admin = h.admin().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, run) = h.ask(&admin, "what is broken in namespace payments?").await;
        let events = h.run_to_end(&admin, &run).await;
        let text = text_of(&events);
        assert!(text.contains("Offline assistant"), "{text}");
        assert_eq!(find(&events, "run.finished").data["status"], "completed");
        let started = find(&events, "run.started");
        assert_eq!(started.data["offline"], true);
        if text.contains("payments-api") && text.contains("ledger") && text.to_lowercase().contains("crash") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the planted faults were not named: {text}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_postgres_share_approvals_stops_and_streams() {
    let script = Script::new(vec![
        ScriptedConversation::when("hang", vec![Turn::texts(["waiting"]).hanging()]),
        ScriptedConversation::fallback(scale_script(3).conversations[0].turns.clone()),
    ]);
    let h = Harness::start(Db::Postgres, Model::OpenAi(script)).await;
    let b = h.second_replica("replica-b").await;
    let admin = h.admin().await;
    // Started on A; followed and approved on B.
    let (_, run) = h.ask(&admin, "scale cart to 3").await;
    let mut on_b = SseStream::open(&h.http, &b.base, &admin, &run, None).await;
    let required = on_b.until("approval.required", Duration::from_secs(20)).await.pop().unwrap();
    let res = h
        .http
        .post(format!("{}/api/v1/approvals/{}", b.base, required.data["approvalId"].as_str().unwrap()))
        .bearer_auth(&admin)
        .json(&json!({"decision": "approve", "toolCallId": required.data["toolCallId"], "previewHash": required.data["previewHash"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rest = on_b.until("run.finished", Duration::from_secs(20)).await;
    assert_eq!(find(&rest, "run.finished").data["status"], "completed");
    assert_eq!(h.replicas_of("shop", "cart").await, 3);
    // Started on A; stopped on B.
    let (_, run2) = h.ask(&admin, "hang please").await;
    let mut on_a = h.events(&admin, &run2, None).await;
    on_a.until("message.delta", Duration::from_secs(10)).await;
    let res = h.http.post(format!("{}/api/v1/runs/{run2}/stop", b.base)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let rest = on_a.until("run.finished", Duration::from_secs(5)).await;
    assert_eq!(find(&rest, "run.finished").data["status"], "stopped");
    drop(b);
}

on_both_databases!(findings_endpoint_reports_the_demo_faults, |db| async move {
    let h = Harness::start(db, Model::Offline).await;
    let viewer_token = h.admin().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (s, body) = h.send("GET", "/api/v1/findings?namespace=payments", Some(&viewer_token), None).await;
        assert_eq!(s, 200, "{body}");
        let findings = body["report"]["findings"].as_array().unwrap();
        // Cluster-scoped findings (the demo's cordoned node) are in every namespace's scope.
        assert!(findings.iter().all(|f| f["namespace"] == "payments" || f["namespace"] == ""), "{body}");
        if findings.iter().any(|f| f["name"] == "payments-api") && findings.iter().any(|f| f["name"] == "ledger") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (s, body) = h
        .send("GET", "/api/v1/findings?namespace=payments&analyzer=oom-killed&cluster=sim", Some(&viewer_token), None)
        .await;
    assert_eq!(s, 200, "{body}");
    let findings = body["report"]["findings"].as_array().unwrap();
    assert!(!findings.is_empty() && findings.iter().all(|f| f["analyzer"] == "oom-killed"), "{body}");
    assert_eq!(h.send("GET", "/api/v1/findings?context=nope", Some(&viewer_token), None).await.0, 400);
    assert_eq!(h.send("GET", "/api/v1/findings?cluster=nope", Some(&viewer_token), None).await.0, 400);
    assert_eq!(h.send("GET", "/api/v1/findings?namespace=Bad_Name", Some(&viewer_token), None).await.0, 400);
    assert_eq!(h.send("GET", "/api/v1/findings", None, None).await.0, 401);
});

on_both_databases!(policy_auto_approves_listed_tools_and_namespaces_but_not_destructive_calls, |db| async move {
    let script = Script::new(vec![
        ScriptedConversation::when("scale", scale_script(3).conversations[0].turns.clone()),
        ScriptedConversation::when(
            "restart",
            vec![
                Turn::tool_call("rollout_restart", json!({"name": "cart", "namespace": "shop"})),
                Turn::text_of("restarted"),
            ],
        ),
        ScriptedConversation::when(
            "delete",
            vec![
                Turn::tool_call(
                    "resource_delete",
                    json!({"kind": "configmap", "name": "shop-config", "namespace": "shop"}),
                ),
                Turn::text_of("deleted"),
            ],
        ),
    ]);
    let policy = binnacle_engine::ApprovalPolicy {
        tools: ["workload_scale".to_string()].into(),
        namespaces: ["shop".to_string()].into(),
    };
    let config =
        binnacle_api::ApiConfig { secure_cookies: false, heartbeat: Duration::from_millis(100), ..Default::default() };
    let h = Harness::start_full(db, Model::OpenAi(script), config, policy).await;
    let admin = h.admin().await;
    // A listed tool: approved by policy, no waiting.
    let (_, run) = h.ask(&admin, "scale cart to 3").await;
    let events = h.run_to_end(&admin, &run).await;
    assert!(!names(&events).contains(&"approval.required"), "{:?}", names(&events));
    assert_eq!(find(&events, "approval.resolved").data["decidedBy"], "policy");
    assert_eq!(h.replicas_of("shop", "cart").await, 3);
    // A non-destructive call in a listed namespace: approved by policy.
    let (_, run) = h.ask(&admin, "restart cart").await;
    let events = h.run_to_end(&admin, &run).await;
    assert_eq!(find(&events, "approval.resolved").data["decidedBy"], "policy");
    assert_eq!(find(&events, "tool.result").data["isError"], false);
    // A destructive call in a listed namespace still waits for a person; heartbeats keep the stream open.
    let (_, run) = h.ask(&admin, "delete the config").await;
    let mut stream = h.events(&admin, &run, None).await;
    let required = stream.until("approval.required", Duration::from_secs(20)).await.pop().unwrap();
    assert_eq!(required.data["hints"]["destructive"], true);
    tokio::time::sleep(Duration::from_millis(350)).await;
    h.decide(&admin, &required, "deny", None).await;
    stream.until("run.finished", Duration::from_secs(10)).await;
    assert!(stream.comments >= 2, "heartbeats while waiting: {}", stream.comments);
    let (_, audit) = h.send("GET", "/api/v1/audit?limit=1000", Some(&admin), None).await;
    assert!(
        audit["items"].as_array().unwrap().iter().any(|e| e["actor"] == "policy" && e["decision"] == "auto-approved")
    );
});
