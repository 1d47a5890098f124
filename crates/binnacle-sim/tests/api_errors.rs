//! Bad input gets the right Kubernetes `Status` and changes nothing: one test per error class, through the
//! HTTP router exactly as clients reach it.

use axum::body::Body;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn sim() -> SimCluster {
    SimCluster::start(SimOptions {
        scenario: Scenario::Empty,
        controllers: false,
        watch_history: 64,
        ..SimOptions::default()
    })
    .await
    .expect("sim starts")
}

async fn call(
    sim: &SimCluster,
    method: &str,
    path: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body.into())
        .expect("request");
    let resp = sim.router().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)}));
    (status, value)
}

fn assert_status(got: &(StatusCode, Value), code: u16, reason: &str) {
    assert_eq!(got.0.as_u16(), code, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["status"], "Failure");
    assert_eq!(got.1["code"], code);
    assert_eq!(got.1["reason"], reason, "{}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Runs `f` and asserts the store's resourceVersion (every write bumps it) did not move.
async fn unchanged<F: std::future::Future<Output = (StatusCode, Value)>>(
    sim: &SimCluster,
    f: F,
) -> (StatusCode, Value) {
    let before = sim.cluster().store().current_rv();
    let out = f.await;
    assert_eq!(sim.cluster().store().current_rv(), before, "a rejected request changed the store: {}", out.1);
    out
}

const CM: &str = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"a":"1"}}"#;
const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn malformed_json_is_bad_request() {
    let sim = sim().await;
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", "{\"kind\": ")).await;
    assert_status(&got, 400, "BadRequest");
    assert!(got.1["message"].as_str().unwrap_or_default().contains("not valid JSON"));
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", "")).await;
    assert_status(&got, 400, "BadRequest");
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", "[1,2]")).await;
    assert_status(&got, 400, "BadRequest");
}

#[tokio::test]
async fn invalid_names_and_fields_are_invalid_with_causes() {
    let sim = sim().await;
    let bad = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name","labels":{"ok":"-bad-"}}}"#;
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", bad)).await;
    assert_status(&got, 422, "Invalid");
    let causes = got.1["details"]["causes"].as_array().cloned().unwrap_or_default();
    assert!(causes.iter().any(|c| c["field"] == "metadata.name"), "{causes:?}");
    assert!(causes.iter().any(|c| c["field"] == "metadata.labels.ok"), "{causes:?}");
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}"#;
    let got = unchanged(&sim, call(&sim, "POST", "/api/v1/namespaces/default/pods", "application/json", pod)).await;
    assert_status(&got, 422, "Invalid");
    assert!(
        got.1["message"].as_str().unwrap_or_default().contains("spec.containers[0].image: Required value"),
        "{}",
        got.1
    );
    let nameless = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#;
    assert_status(&unchanged(&sim, call(&sim, "POST", CMS, "application/json", nameless)).await, 422, "Invalid");
}

#[tokio::test]
async fn missing_namespace_and_object_are_not_found() {
    let sim = sim().await;
    let got = unchanged(&sim, call(&sim, "POST", "/api/v1/namespaces/nope/configmaps", "application/json", CM)).await;
    assert_status(&got, 404, "NotFound");
    assert_eq!(got.1["message"], "namespaces \"nope\" not found");
    let got = call(&sim, "GET", "/apis/apps/v1/namespaces/default/deployments/ghost", "", "").await;
    assert_status(&got, 404, "NotFound");
    assert_eq!(got.1["message"], "deployments.apps \"ghost\" not found");
    assert_eq!(got.1["details"]["name"], "ghost");
    assert_status(&call(&sim, "GET", "/apis/nope.example.com/v1/things", "", "").await, 404, "NotFound");
    let got = unchanged(&sim, call(&sim, "DELETE", "/api/v1/namespaces/default/configmaps/ghost", "", "")).await;
    assert_status(&got, 404, "NotFound");
}

#[tokio::test]
async fn duplicates_and_stale_writes_conflict() {
    let sim = sim().await;
    let (code, created) = call(&sim, "POST", CMS, "application/json", CM).await;
    assert_eq!(code, StatusCode::CREATED);
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", CM)).await;
    assert_status(&got, 409, "AlreadyExists");
    assert_eq!(got.1["message"], "configmaps \"cfg\" already exists");
    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["data"]["a"] = json!("2");
    let got = unchanged(&sim, call(&sim, "PUT", &format!("{CMS}/cfg"), "application/json", stale.to_string())).await;
    assert_status(&got, 409, "Conflict");
    assert!(got.1["message"].as_str().unwrap_or_default().contains("the object has been modified"));
    let precondition = json!({"preconditions": {"uid": "not-the-uid"}}).to_string();
    assert_status(
        &unchanged(&sim, call(&sim, "DELETE", &format!("{CMS}/cfg"), "application/json", precondition)).await,
        409,
        "Conflict",
    );
}

#[tokio::test]
async fn bad_selectors_and_parameters_are_bad_requests() {
    let sim = sim().await;
    assert_status(&call(&sim, "GET", "/api/v1/pods?labelSelector=app+in+web", "", "").await, 400, "BadRequest");
    let got = call(&sim, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx", "", "").await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "field label not supported: spec.bogus");
    assert_status(&call(&sim, "GET", "/api/v1/pods?limit=abc", "", "").await, 400, "BadRequest");
    assert_status(&call(&sim, "GET", "/api/v1/pods?continue=%%%", "", "").await, 400, "BadRequest");
    assert_status(
        &unchanged(&sim, call(&sim, "POST", &format!("{CMS}?dryRun=Sometimes"), "application/json", CM)).await,
        400,
        "BadRequest",
    );
    assert_status(
        &unchanged(&sim, call(&sim, "POST", "/api/v1/namespaces/Bad_NS/configmaps", "application/json", CM)).await,
        400,
        "BadRequest",
    );
    let mismatched = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"other"}}"#;
    assert_status(&unchanged(&sim, call(&sim, "POST", CMS, "application/json", mismatched)).await, 400, "BadRequest");
    let wrong_kind = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#;
    assert_status(&unchanged(&sim, call(&sim, "POST", CMS, "application/json", wrong_kind)).await, 400, "BadRequest");
}

#[tokio::test]
async fn unsupported_methods_and_media_types() {
    let sim = sim().await;
    call(&sim, "POST", CMS, "application/json", CM).await;
    assert_status(&unchanged(&sim, call(&sim, "PUT", CMS, "application/json", CM)).await, 405, "MethodNotAllowed");
    assert_status(
        &unchanged(
            &sim,
            call(&sim, "POST", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", "application/json", "{}"),
        )
        .await,
        405,
        "MethodNotAllowed",
    );
    let got = unchanged(&sim, call(&sim, "PATCH", &format!("{CMS}/cfg"), "text/plain", "{}")).await;
    assert_status(&got, 415, "UnsupportedMediaType");
    // Strategic merge patch is for built-in kinds only.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
    let (code, _) = call(
        &sim,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "application/json",
        crd.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}});
    let (code, _) =
        call(&sim, "POST", "/apis/example.com/v1/namespaces/default/widgets", "application/json", widget.to_string())
            .await;
    assert_eq!(code, StatusCode::CREATED);
    let got = unchanged(
        &sim,
        call(
            &sim,
            "PATCH",
            "/apis/example.com/v1/namespaces/default/widgets/w",
            "application/strategic-merge-patch+json",
            r#"{"spec":{"size":2}}"#,
        ),
    )
    .await;
    assert_status(&got, 415, "UnsupportedMediaType");
    let got = unchanged(&sim, call(&sim, "PATCH", &format!("{CMS}/cfg"), "application/apply-patch+yaml", CM)).await;
    assert_status(&got, 400, "BadRequest");
    assert!(got.1["message"].as_str().unwrap_or_default().contains("fieldManager"));
    let garbage = vec![b'k', b'8', b's', 0, 0xff, 0xff, 0xff];
    assert_status(
        &unchanged(&sim, call(&sim, "POST", CMS, "application/vnd.kubernetes.protobuf", garbage)).await,
        415,
        "UnsupportedMediaType",
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let sim = sim().await;
    let big = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"a": "x".repeat(4 * 1024 * 1024)}});
    let got = unchanged(&sim, call(&sim, "POST", CMS, "application/json", big.to_string())).await;
    assert_status(&got, 413, "RequestEntityTooLarge");
}

#[tokio::test]
async fn immutable_fields_and_bad_patches_are_invalid() {
    let sim = sim().await;
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let (code, _) =
        call(&sim, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", deploy.to_string())
            .await;
    assert_eq!(code, StatusCode::CREATED);
    let patch =
        r#"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#;
    let got = unchanged(
        &sim,
        call(&sim, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json", patch),
    )
    .await;
    assert_status(&got, 422, "Invalid");
    let bad_json_patch = r#"[{"op":"test","path":"/spec/replicas","value":99}]"#;
    assert_status(
        &unchanged(
            &sim,
            call(
                &sim,
                "PATCH",
                "/apis/apps/v1/namespaces/default/deployments/web",
                "application/json-patch+json",
                bad_json_patch,
            ),
        )
        .await,
        422,
        "Invalid",
    );
    let not_a_patch = r#"{"op":"add"}"#;
    assert_status(
        &unchanged(
            &sim,
            call(
                &sim,
                "PATCH",
                "/apis/apps/v1/namespaces/default/deployments/web",
                "application/json-patch+json",
                not_a_patch,
            ),
        )
        .await,
        400,
        "BadRequest",
    );
}

#[tokio::test]
async fn too_old_watch_is_gone() {
    let sim = sim().await;
    for i in 0..100 {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}});
        call(&sim, "POST", CMS, "application/json", cm.to_string()).await;
    }
    let req =
        Request::builder().uri(format!("{CMS}?watch=true&resourceVersion=2")).body(Body::empty()).expect("request");
    let resp = sim.router().oneshot(req).await.expect("infallible");
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
        .await
        .expect("an event in time")
        .expect("a frame")
        .expect("ok");
    let line: Value = serde_json::from_slice(frame.data_ref().expect("data")).expect("json event");
    assert_eq!(line["type"], "ERROR");
    assert_eq!(line["object"]["code"], 410);
    assert_eq!(line["object"]["reason"], "Expired");
}
