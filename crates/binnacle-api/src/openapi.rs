//! The OpenAPI 3.1 document of the REST API (`GET /api/v1/openapi.json`), built from the route table
//! below and the request types' JSON Schemas (schemars), so it cannot drift from what the handlers parse.

use crate::routes::{approvals, auth, conversations, integrations, tokens, users};
use axum::Json;
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// A request body: its schema name and how to make its schema.
type Body = (&'static str, fn() -> Value);

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    role: &'static str,
    body: Option<Body>,
    ok: (&'static str, &'static str),
}

fn schema<T: JsonSchema>() -> Value {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}));
    if let Some(m) = v.as_object_mut() {
        m.remove("$schema");
    }
    v
}

const OPS: &[Op] = &[
    Op {
        method: "get",
        path: "/health",
        summary: "Liveness and the model in use",
        role: "public",
        body: None,
        ok: ("200", "status"),
    },
    Op {
        method: "get",
        path: "/health/database",
        summary: "A database round trip",
        role: "public",
        body: None,
        ok: ("200", "status; 503 when down"),
    },
    Op {
        method: "post",
        path: "/auth/login",
        summary: "Log in: access token + HttpOnly refresh cookie (rate-limited)",
        role: "public",
        body: Some(("LoginRequest", schema::<auth::LoginRequest>)),
        ok: ("200", "accessToken, tokenType, expiresIn, user"),
    },
    Op {
        method: "post",
        path: "/auth/refresh",
        summary: "Rotate the refresh cookie; reuse revokes the session family",
        role: "cookie",
        body: None,
        ok: ("200", "accessToken, tokenType, expiresIn, user"),
    },
    Op {
        method: "post",
        path: "/auth/logout",
        summary: "Revoke the session and clear the cookie",
        role: "cookie",
        body: None,
        ok: ("204", "signed out"),
    },
    Op { method: "get", path: "/auth/me", summary: "The caller", role: "viewer", body: None, ok: ("200", "user") },
    Op {
        method: "post",
        path: "/auth/password",
        summary: "Change one's password (signs out other sessions)",
        role: "viewer",
        body: Some(("PasswordChange", schema::<auth::PasswordChange>)),
        ok: ("204", "changed"),
    },
    Op { method: "get", path: "/users", summary: "Team members", role: "admin", body: None, ok: ("200", "users") },
    Op {
        method: "post",
        path: "/users",
        summary: "Add a member",
        role: "admin",
        body: Some(("NewUser", schema::<users::NewUser>)),
        ok: ("201", "user"),
    },
    Op {
        method: "patch",
        path: "/users/{id}",
        summary: "Change role, disable, reset password",
        role: "admin",
        body: Some(("UserUpdate", schema::<users::UserUpdate>)),
        ok: ("200", "user"),
    },
    Op {
        method: "delete",
        path: "/users/{id}",
        summary: "Remove a member",
        role: "admin",
        body: None,
        ok: ("204", "deleted"),
    },
    Op {
        method: "get",
        path: "/tokens",
        summary: "API tokens for machines (never the token itself)",
        role: "admin",
        body: None,
        ok: ("200", "items"),
    },
    Op {
        method: "post",
        path: "/tokens",
        summary: "Create a long-lived API token acting as a user (e.g. for an MCP gateway on /mcp); shown once",
        role: "admin",
        body: Some(("NewToken", schema::<tokens::NewToken>)),
        ok: ("201", "token, id, name, userId, username, expiresAt"),
    },
    Op {
        method: "delete",
        path: "/tokens/{id}",
        summary: "Revoke an API token at once",
        role: "admin",
        body: None,
        ok: ("204", "revoked"),
    },
    Op {
        method: "get",
        path: "/conversations",
        summary: "The caller's conversations (?search, limit, offset; admins ?scope=all)",
        role: "viewer",
        body: None,
        ok: ("200", "items"),
    },
    Op {
        method: "post",
        path: "/conversations",
        summary: "Start a conversation and its first run",
        role: "viewer",
        body: Some(("SendMessage", schema::<conversations::SendMessage>)),
        ok: ("202", "conversation, run, events URL"),
    },
    Op {
        method: "get",
        path: "/conversations/{id}",
        summary: "Replay: messages, runs, tool calls, approvals",
        role: "viewer",
        body: None,
        ok: ("200", "conversation"),
    },
    Op {
        method: "patch",
        path: "/conversations/{id}",
        summary: "Rename",
        role: "viewer",
        body: Some(("Rename", schema::<conversations::Rename>)),
        ok: ("200", "conversation"),
    },
    Op {
        method: "delete",
        path: "/conversations/{id}",
        summary: "Delete (not while a run is in progress)",
        role: "viewer",
        body: None,
        ok: ("204", "deleted"),
    },
    Op {
        method: "post",
        path: "/conversations/{id}/messages",
        summary: "Send a message: starts a run",
        role: "viewer",
        body: Some(("SendMessage", schema::<conversations::SendMessage>)),
        ok: ("202", "conversation, run, events URL"),
    },
    Op {
        method: "get",
        path: "/runs/{id}",
        summary: "A run with its tool calls and approvals",
        role: "viewer",
        body: None,
        ok: ("200", "run"),
    },
    Op {
        method: "get",
        path: "/runs/{id}/events",
        summary: "SSE: run.started, message.delta, thinking, tool.started, tool.progress, tool.result, approval.required, approval.resolved, usage, message.completed, error, run.finished. Resume with Last-Event-ID or ?after=",
        role: "viewer",
        body: None,
        ok: ("200", "text/event-stream"),
    },
    Op {
        method: "post",
        path: "/runs/{id}/stop",
        summary: "Stop a run at once (any replica)",
        role: "viewer (own) / operator",
        body: None,
        ok: ("200", "run"),
    },
    Op {
        method: "get",
        path: "/approvals",
        summary: "Approvals (?status=pending)",
        role: "viewer",
        body: None,
        ok: ("200", "items"),
    },
    Op {
        method: "get",
        path: "/approvals/{id}",
        summary: "An approval with its preview",
        role: "viewer",
        body: None,
        ok: ("200", "approval"),
    },
    Op {
        method: "post",
        path: "/approvals/{id}",
        summary: "Approve or deny, bound to toolCallId and previewHash",
        role: "operator",
        body: Some(("DecisionBody", schema::<approvals::DecisionBody>)),
        ok: ("200", "approval"),
    },
    Op {
        method: "get",
        path: "/audit",
        summary: "Audit entries (?after, limit)",
        role: "admin",
        body: None,
        ok: ("200", "items"),
    },
    Op {
        method: "get",
        path: "/audit/verify",
        summary: "Recompute the audit hash chain",
        role: "admin",
        body: None,
        ok: ("200", "verification"),
    },
    Op {
        method: "get",
        path: "/integrations",
        summary: "Integrations",
        role: "viewer",
        body: None,
        ok: ("200", "integrations"),
    },
    Op {
        method: "post",
        path: "/integrations",
        summary: "Add a Jenkins server (URL + credentials Secret reference)",
        role: "admin",
        body: Some(("IntegrationBody", schema::<integrations::IntegrationBody>)),
        ok: ("201", "integration"),
    },
    Op {
        method: "put",
        path: "/integrations/{id}",
        summary: "Replace an integration",
        role: "admin",
        body: Some(("IntegrationBody", schema::<integrations::IntegrationBody>)),
        ok: ("200", "integration"),
    },
    Op {
        method: "delete",
        path: "/integrations/{id}",
        summary: "Remove an integration",
        role: "admin",
        body: None,
        ok: ("204", "deleted"),
    },
    Op {
        method: "get",
        path: "/usage",
        summary: "Tokens per day (?days)",
        role: "admin",
        body: None,
        ok: ("200", "items"),
    },
    Op {
        method: "get",
        path: "/clusters",
        summary: "Kubeconfig contexts",
        role: "viewer",
        body: None,
        ok: ("200", "contexts, default"),
    },
    Op {
        method: "get",
        path: "/findings",
        summary: "What is broken (?namespace=a,b&cluster=&analyzer=&kind=&minSeverity=&limit=), from the analyzers, no model",
        role: "viewer",
        body: None,
        ok: ("200", "summary, report"),
    },
    Op {
        method: "get",
        path: "/fleet/clusters",
        summary: "Every kubeconfig context as a cluster, with health (reachable, version, nodes, pods, latency, last error)",
        role: "viewer",
        body: None,
        ok: ("200", "clusters, categories, reloadError"),
    },
    Op {
        method: "post",
        path: "/fleet/clusters/reload",
        summary: "Re-read the kubeconfig files now (contexts added, removed, changed)",
        role: "operator",
        body: None,
        ok: ("200", "added, removed, changed, clusters, files"),
    },
    Op {
        method: "get",
        path: "/fleet/{category}",
        summary: "A category (pods, workloads, nodes, events, helm-releases, operators, gpu-nodes, findings) from every cluster (?clusters=a,b&limit=), cached per category",
        role: "viewer",
        body: None,
        ok: ("200", "category, clusters, errors, summary"),
    },
    Op {
        method: "get",
        path: "/fleet/{category}/stream",
        summary: "The same as SSE: one `cluster` event per cluster as it answers, then a `summary` event",
        role: "viewer",
        body: None,
        ok: ("200", "text/event-stream"),
    },
    Op {
        method: "get",
        path: "/tools",
        summary: "Tools runs may call, with their hints",
        role: "viewer",
        body: None,
        ok: ("200", "items"),
    },
];

/// The document.
pub fn build() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}),
    );
    for op in OPS {
        let mut o = json!({
            "summary": op.summary,
            "x-binnacle-role": op.role,
            "responses": {
                op.ok.0: {"description": op.ok.1},
                "default": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if op.role != "public" && op.role != "cookie" {
            o["security"] = json!([{"bearer": []}]);
        }
        if op.path.contains("{id}") {
            o["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
        }
        if op.path.contains("{category}") {
            o["parameters"] = json!([{"name": "category", "in": "path", "required": true,
                "schema": {"type": "string", "enum": binnacle_fleet::Category::names()}}]);
        }
        if let Some((name, make)) = &op.body {
            schemas.insert((*name).to_string(), make());
            o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
        }
        let entry = paths.entry(format!("/api/v1{}", op.path)).or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Binnacle API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn document() -> Json<Value> {
    Json(build())
}
