//! Auth and roles through the API: login, refresh rotation, reuse detection revoking the family, logout,
//! expiry, tampering, rate limiting, role checks on every endpoint, and bad input that changes nothing.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use binnacle_api::ApiConfig;
use binnacle_testkit::llm::{Script, Turn};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn refresh(h: &Harness, cookie: Option<&str>) -> (u16, Value, Option<String>) {
    let mut req = h.http.post(h.url("/api/v1/auth/refresh"));
    if let Some(c) = cookie {
        req = req.header("cookie", format!("binnacle_refresh={c}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let set = refresh_cookie_of(&res);
    (status, res.json().await.unwrap_or(Value::Null), set)
}

on_both_databases!(refresh_rotates_and_reuse_revokes_the_family, |db| async move {
    let h = Harness::start(db, Model::Offline).await;
    let (s, body, cookie) = h.login_raw("admin", ADMIN_PASSWORD).await;
    assert_eq!(s, 200);
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["user"]["role"], "admin");
    let first = cookie.expect("a refresh cookie");
    // The cookie is HttpOnly and SameSite.
    let raw = h
        .http
        .post(h.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let set_cookie = raw.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && set_cookie.contains("Path=/api/v1/auth"),
        "{set_cookie}"
    );

    let (s, body, second) = refresh(&h, Some(&first)).await;
    assert_eq!(s, 200, "{body}");
    let second = second.expect("rotated cookie");
    assert_ne!(first, second);
    let token = body["accessToken"].as_str().unwrap().to_string();
    assert_eq!(h.send("GET", "/api/v1/auth/me", Some(&token), None).await.0, 200);

    // Reusing the first (already rotated) token: refused, and the whole family is revoked.
    let (s, body, _) = refresh(&h, Some(&first)).await;
    assert_eq!(s, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("already used"), "{body}");
    let (s, _, _) = refresh(&h, Some(&second)).await;
    assert_eq!(s, 401, "the family is revoked, so the newest token fails too");
    // A separate login is its own family and still works.
    let (_, _, other) = h.login_raw("admin", ADMIN_PASSWORD).await;
    let other = other.unwrap();
    let (s, _, third) = refresh(&h, Some(&other)).await;
    assert_eq!(s, 200);
    // Logout revokes it.
    let res = h
        .http
        .post(h.url("/api/v1/auth/logout"))
        .header("cookie", format!("binnacle_refresh={}", third.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(refresh(&h, None).await.0, 401);
    assert_eq!(refresh(&h, Some("made-up")).await.0, 401);
    // The reuse is in the audit log.
    let admin = h.admin().await;
    let (_, audit) = h.send("GET", "/api/v1/audit", Some(&admin), None).await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "auth.refresh_reuse"));
});

on_both_databases!(expired_and_tampered_tokens_are_refused, |db| async move {
    let config = ApiConfig { secure_cookies: false, access_ttl: Duration::from_secs(1), ..ApiConfig::default() };
    let h = Harness::start_with(db, Model::Offline, config).await;
    let token = h.admin().await;
    assert_eq!(h.send("GET", "/api/v1/auth/me", Some(&token), None).await.0, 200);
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[2] = "AAAA".repeat(10);
    let (s, body) = h.send("GET", "/api/v1/auth/me", Some(&parts.join(".")), None).await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(h.send("GET", "/api/v1/auth/me", None, None).await.0, 401);
    assert_eq!(h.send("GET", "/api/v1/auth/me", Some("garbage"), None).await.0, 401);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, body) = h.send("GET", "/api/v1/auth/me", Some(&token), None).await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["code"], "token_expired", "{body}");
});

on_both_databases!(logins_are_rate_limited, |db| async move {
    let config = ApiConfig { secure_cookies: false, login_max_failures: 3, ..ApiConfig::default() };
    let h = Harness::start_with(db, Model::Offline, config).await;
    // Unknown users get the same answer as wrong passwords.
    let (s, body, _) = h.login_raw("nobody", "whatever-password").await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["message"], "wrong username or password");
    for _ in 0..2 {
        assert_eq!(h.login_raw("admin", "wrong-password-xx").await.0, 401);
    }
    let res = h
        .http
        .post(h.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429, "even the right password waits once the limit is hit");
    assert!(res.headers().contains_key("retry-after"));
});

on_both_databases!(roles_are_checked_on_every_endpoint, |db| async move {
    let script = Script::turns(vec![
        Turn::tool_call("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 2})),
        Turn::text_of("ok"),
    ]);
    let h = Harness::start(db, Model::OpenAi(script)).await;
    let admin = h.admin().await;
    let operator = h.create_user(&admin, "olivia", "operator").await;
    let viewer = h.create_user(&admin, "victor", "viewer").await;

    // Admin-only endpoints.
    let admin_only: &[(&str, &str, Option<Value>)] = &[
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", Some(json!({"username": "zed", "password": "zed-password-1", "role": "viewer"}))),
        ("PATCH", "/api/v1/users/x", Some(json!({"disabled": true}))),
        ("DELETE", "/api/v1/users/x", None),
        ("GET", "/api/v1/audit", None),
        ("GET", "/api/v1/audit/verify", None),
        ("GET", "/api/v1/usage", None),
        (
            "POST",
            "/api/v1/integrations",
            Some(
                json!({"kind": "jenkins", "name": "ci", "url": "http://jenkins:8080", "credentialsSecret": "ci/jenkins"}),
            ),
        ),
        (
            "PUT",
            "/api/v1/integrations/x",
            Some(
                json!({"kind": "jenkins", "name": "ci", "url": "http://jenkins:8080", "credentialsSecret": "ci/jenkins"}),
            ),
        ),
        ("DELETE", "/api/v1/integrations/x", None),
    ];
    for (m, p, b) in admin_only {
        for (who, t) in [("operator", &operator), ("viewer", &viewer)] {
            let (s, body) = h.send(m, p, Some(t), b.clone()).await;
            assert_eq!(s, 403, "{who} {m} {p}: {body}");
        }
        let (s, _) = h.send(m, p, None, b.clone()).await;
        assert_eq!(s, 401, "anonymous {m} {p}");
    }
    // Endpoints every signed-in role may use.
    for p in [
        "/api/v1/auth/me",
        "/api/v1/conversations",
        "/api/v1/approvals",
        "/api/v1/integrations",
        "/api/v1/clusters",
        "/api/v1/tools",
    ] {
        for t in [&admin, &operator, &viewer] {
            assert_eq!(h.send("GET", p, Some(t), None).await.0, 200, "{p}");
        }
        assert_eq!(h.send("GET", p, None, None).await.0, 401, "anonymous {p}");
    }
    // Public endpoints.
    for p in ["/api/v1/health", "/api/v1/health/database", "/api/v1/openapi.json", "/metrics"] {
        assert_eq!(h.send("GET", p, None, None).await.0, 200, "{p}");
    }

    // A viewer's run offers only read-only tools; a viewer cannot approve.
    let (_, vrun) = h.ask(&viewer, "just looking").await;
    h.run_to_end(&viewer, &vrun).await;
    let tools_offered = h.llm.as_ref().unwrap().requests()[0].body["tools"].as_array().unwrap().len();
    let all = h.send("GET", "/api/v1/tools", Some(&admin), None).await.1["items"].as_array().unwrap().len();
    assert!(tools_offered < all, "viewer saw {tools_offered} of {all} tools");
    let (_, run) = h.ask(&operator, "scale cart to 2").await;
    let mut s = h.events(&operator, &run, None).await;
    let required = s.until("approval.required", Duration::from_secs(20)).await.pop().unwrap();
    let (st, body) = h.decide(&viewer, &required, "approve", None).await;
    assert_eq!(st, 403, "{body}");
    // Others cannot see the operator's conversation or run.
    assert_eq!(h.send("GET", &format!("/api/v1/runs/{run}"), Some(&viewer), None).await.0, 404);
    assert_eq!(h.send("POST", &format!("/api/v1/runs/{run}/stop"), Some(&viewer), None).await.0, 404);
    // The operator approves.
    let (st, _) = h.decide(&operator, &required, "approve", None).await;
    assert_eq!(st, 200);
    s.until("run.finished", Duration::from_secs(20)).await;

    // Disabling a user locks them out at once.
    let (_, users) = h.send("GET", "/api/v1/users", Some(&admin), None).await;
    let vid = users.as_array().unwrap().iter().find(|u| u["username"] == "victor").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        h.send("PATCH", &format!("/api/v1/users/{vid}"), Some(&admin), Some(json!({"disabled": true}))).await.0,
        200
    );
    assert_eq!(h.send("GET", "/api/v1/auth/me", Some(&viewer), None).await.0, 401);
});

on_both_databases!(bad_input_gets_a_clear_error_and_changes_nothing, |db| async move {
    let script = Script::turns(vec![
        Turn::tool_call("workload_scale", json!({"name": "cart", "namespace": "shop", "replicas": 6})),
        Turn::text_of("ok"),
    ]);
    let h = Harness::start(db, Model::OpenAi(script)).await;
    let admin = h.admin().await;
    let raw = |body: &'static str| {
        h.http
            .post(h.url("/api/v1/conversations"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = raw("{not json").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    assert_eq!(raw(r#"{"message": 42}"#).await.unwrap().status(), 422);
    assert_eq!(raw(r#"{"message": "hi", "extra": 1}"#).await.unwrap().status(), 422);
    let res = h.http.post(h.url("/api/v1/conversations")).bearer_auth(&admin).body("{}").send().await.unwrap();
    assert_eq!(res.status(), 415);
    let (s, body) = h.send("POST", "/api/v1/conversations", Some(&admin), Some(json!({"message": "   "}))).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) =
        h.send("POST", "/api/v1/conversations", Some(&admin), Some(json!({"message": "x".repeat(40_000)}))).await;
    assert_eq!(s, 400, "{body}");
    let res = h
        .http
        .post(h.url("/api/v1/conversations"))
        .bearer_auth(&admin)
        .json(&json!({"message": "x".repeat(100_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let (s, body) =
        h.send("POST", "/api/v1/conversations", Some(&admin), Some(json!({"message": "hi", "context": "nope"}))).await;
    assert_eq!(s, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown cluster context"), "{body}");
    let (_, list) = h.send("GET", "/api/v1/conversations", Some(&admin), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing was created by bad input");

    assert_eq!(h.send("GET", "/api/v1/conversations/nope", Some(&admin), None).await.0, 404);
    assert_eq!(
        h.send("POST", "/api/v1/conversations/nope/messages", Some(&admin), Some(json!({"message": "hi"}))).await.0,
        404
    );
    assert_eq!(h.send("GET", "/api/v1/runs/nope/events", Some(&admin), None).await.0, 404);
    assert_eq!(h.send("GET", "/api/v1/no-such-endpoint", Some(&admin), None).await.0, 404);

    // Approvals: unknown, foreign call, stale preview, bad decision.
    let (_, run) = h.ask(&admin, "scale cart to 6").await;
    let mut s = h.events(&admin, &run, None).await;
    let required = s.until("approval.required", Duration::from_secs(20)).await.pop().unwrap();
    let id = required.data["approvalId"].as_str().unwrap();
    let post = |path: String, body: Value| {
        let path: &'static str = path.leak();
        h.send("POST", path, Some(&admin), Some(body))
    };
    let (st, _) =
        post("/api/v1/approvals/nope".into(), json!({"decision": "approve", "toolCallId": "x", "previewHash": "y"}))
            .await;
    assert_eq!(st, 404);
    let (st, body) = post(
        format!("/api/v1/approvals/{id}"),
        json!({"decision": "approve", "toolCallId": "another-call", "previewHash": required.data["previewHash"]}),
    )
    .await;
    assert_eq!(st, 409, "{body}");
    let (st, body) = post(
        format!("/api/v1/approvals/{id}"),
        json!({"decision": "approve", "toolCallId": required.data["toolCallId"], "previewHash": "0".repeat(64)}),
    )
    .await;
    assert_eq!(st, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("preview"), "{body}");
    let (st, _) = post(format!("/api/v1/approvals/{id}"), json!({"decision": "maybe", "toolCallId": required.data["toolCallId"], "previewHash": required.data["previewHash"]})).await;
    assert_eq!(st, 400);
    // None of that decided anything: the approval is still pending and the cluster unchanged.
    let (_, a) = h.send("GET", &format!("/api/v1/approvals/{id}"), Some(&admin), None).await;
    assert_eq!(a["status"], "pending");
    assert_ne!(h.replicas_of("shop", "cart").await, 6);
    // A second message while the run is in progress is refused.
    let conv = a["conversationId"].as_str().unwrap();
    let (st, _) = h
        .send(
            "POST",
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&admin),
            Some(json!({"message": "again"})),
        )
        .await;
    assert_eq!(st, 409);
    h.send("POST", &format!("/api/v1/runs/{run}/stop"), Some(&admin), None).await;
    let rest = s.until("run.finished", Duration::from_secs(10)).await;
    assert_eq!(find(&rest, "run.finished").data["status"], "stopped");
    let (_, a) = h.send("GET", &format!("/api/v1/approvals/{id}"), Some(&admin), None).await;
    assert_eq!(a["status"], "cancelled");
});

on_both_databases!(conversations_rename_search_delete_and_integrations, |db| async move {
    let h = Harness::start(db, Model::OpenAi(Script::turns(vec![Turn::text_of("hello")]))).await;
    let admin = h.admin().await;
    let (c1, r1) = h.ask(&admin, "first question about payments").await;
    h.run_to_end(&admin, &r1).await;
    let (c2, r2) = h.ask(&admin, "second about shop").await;
    h.run_to_end(&admin, &r2).await;
    let (_, found) = h.send("GET", "/api/v1/conversations?search=PAYMENTS", Some(&admin), None).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (s, renamed) = h
        .send("PATCH", &format!("/api/v1/conversations/{c1}"), Some(&admin), Some(json!({"title": "Payments triage"})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(renamed["title"], "Payments triage");
    assert_eq!(
        h.send("PATCH", &format!("/api/v1/conversations/{c1}"), Some(&admin), Some(json!({"title": ""}))).await.0,
        400
    );
    assert_eq!(h.send("DELETE", &format!("/api/v1/conversations/{c2}"), Some(&admin), None).await.0, 204);
    assert_eq!(h.send("GET", &format!("/api/v1/conversations/{c2}"), Some(&admin), None).await.0, 404);

    let (s, i) = h.send("POST", "/api/v1/integrations", Some(&admin), Some(json!({"kind": "jenkins", "name": "ci", "url": "http://jenkins.ci:8080/", "credentialsSecret": "ci/jenkins-creds"}))).await;
    assert_eq!(s, 201, "{i}");
    assert_eq!(i["url"], "http://jenkins.ci:8080");
    assert!(!i.to_string().contains("password"));
    for bad in [
        json!({"kind": "gitlab", "name": "x", "url": "http://a", "credentialsSecret": "a/b"}),
        json!({"kind": "jenkins", "name": "x", "url": "http://user:pw@a", "credentialsSecret": "a/b"}),
        json!({"kind": "jenkins", "name": "x", "url": "http://a", "credentialsSecret": "no-namespace"}),
        json!({"kind": "jenkins", "name": "x", "url": "http://a", "credentialsSecret": "a/b", "password": "p"}),
    ] {
        let (s, body) = h.send("POST", "/api/v1/integrations", Some(&admin), Some(bad)).await;
        assert!(s == 400 || s == 422, "{s} {body}");
    }
    let (s, _) = h
        .send(
            "POST",
            "/api/v1/integrations",
            Some(&admin),
            Some(json!({"kind": "jenkins", "name": "ci", "url": "http://b", "credentialsSecret": "ci/x"})),
        )
        .await;
    assert_eq!(s, 409, "duplicate name");
    let (_, usage) = h.send("GET", "/api/v1/usage", Some(&admin), None).await;
    assert_eq!(usage["items"].as_array().unwrap().len(), 1, "{usage}");
    let (_, doc) = h.send("GET", "/api/v1/openapi.json", None, None).await;
    assert!(doc["paths"]["/api/v1/approvals/{id}"]["post"]["requestBody"].is_object());
    let metrics = h.http.get(h.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("binnacle_runs_started_total 2"), "{metrics}");
});
