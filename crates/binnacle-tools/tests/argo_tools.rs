//! The Argo Rollouts toolset against the simulated cluster's Argo Rollouts controller (demo scenario:
//! `rollouts/checkout`, a canary paused at its first pause step).

mod common;
#[path = "common/variants.rs"]
mod variants;

use binnacle_sim::Scenario;
use binnacle_tools::{ToolError, Toolset};
use common::Fixture;
use serde_json::{Value, json};

const RO: &str = "checkout";
const NS: &str = "rollouts";

async fn status(f: &Fixture) -> Value {
    f.call("argo_rollout_status", json!({"name": RO, "namespace": NS})).await.expect("status").structured
}

/// Waits until the Rollout's status satisfies `check`.
async fn until(f: &Fixture, what: &str, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut last = Value::Null;
    while tokio::time::Instant::now() < deadline {
        last = status(f).await;
        if check(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("timed out after {secs} s waiting for {what}; last status: {last:#}");
}

fn paused_at_first_pause(s: &Value) -> bool {
    s["phase"] == "Paused"
        && s["pauseReasons"] == json!(["CanaryPauseStep"])
        && s["step"] == 1
        && s["canary"]["ready"] == 1
}

fn healthy(s: &Value) -> bool {
    s["phase"] == "Healthy" && s["canary"].is_null() && s["stable"]["ready"] == 5
}

#[test]
fn names_do_not_clash_and_annotations_fit() {
    let catalog = binnacle_tools::Catalog::builtin();
    let argo: Vec<&str> =
        catalog.tools().iter().filter(|t| t.spec().toolset == Toolset::Argo).map(|t| t.spec().name).collect();
    for n in [
        "argo_rollouts_list",
        "argo_rollout_promote",
        "argo_rollout_pause",
        "argo_rollout_resume",
        "argo_rollout_abort",
        "argo_rollout_set_image",
        "argo_rollout_restart",
        "argo_rollout_status",
        "argo_rollout_history",
        "argo_rollout_undo",
        "argo_rollout_describe",
        "argo_experiments_list",
        "argo_analysis_runs_list",
        "argo_rollout_retry",
    ] {
        assert!(argo.contains(&n), "{n} missing from {argo:?}");
    }
    assert!(argo.iter().all(|n| n.starts_with("argo_")));
    let ann = |n: &str| catalog.get(n).map(|t| t.spec().annotations).expect("tool");
    assert!(ann("argo_rollout_status").read_only && ann("argo_rollouts_list").read_only);
    assert!(ann("argo_rollout_abort").destructive);
    assert!(!ann("argo_rollout_promote").read_only && !ann("argo_rollout_promote").destructive);
    assert!(ann("argo_rollout_set_image").idempotent);
    assert!(
        catalog.tools().iter().filter(|t| t.spec().toolset == Toolset::Argo).all(|t| !t.spec().annotations.open_world)
    );
}

#[tokio::test]
async fn the_demo_canary_is_paused_then_promoted_to_completion() {
    let f = common::fixture(Scenario::Demo).await;
    let s = until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    assert_eq!(s["totalSteps"], 4);
    assert_eq!(s["setWeight"], 20);
    assert_eq!(s["actualWeight"], 20);
    assert_eq!(s["currentStep"], "pause");
    assert_eq!(s["stable"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.4.0"]));
    assert_eq!(s["canary"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.5.0"]));
    assert_eq!(s["stable"]["ready"], 4);

    let list = f.call("argo_rollouts_list", json!({})).await.expect("list");
    assert_eq!(list.structured["rollouts"][0]["name"], RO);
    assert!(list.summary.contains("rollouts/checkout: Paused"), "{}", list.summary);

    let promoted = f.call("argo_rollout_promote", json!({"name": RO, "namespace": NS})).await.expect("promote");
    assert_eq!(promoted.structured["patches"], json!(["status {\"pauseConditions\":null}"]));
    let s = until(&f, "the canary at 60%", 60, |s| s["setWeight"] == 60).await;
    assert!(s["step"].as_i64().is_some_and(|i| i >= 2), "{s}");
    let s = until(&f, "the rollout healthy on 1.5.0", 120, healthy).await;
    assert_eq!(s["setWeight"], 100);
    assert_eq!(s["stable"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.5.0"]));
    // Promoting a healthy rollout changes nothing.
    let again = f.call("argo_rollout_promote", json!({"name": RO, "namespace": NS})).await.expect("promote again");
    assert_eq!(again.structured["patches"], json!([]));
    assert!(again.summary.contains("Nothing needed changing"));
}

#[tokio::test]
async fn abort_degrades_and_retry_resumes() {
    let f = common::fixture(Scenario::Demo).await;
    until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    let aborted = f.call("argo_rollout_abort", json!({"name": RO, "namespace": NS})).await.expect("abort");
    assert_eq!(aborted.structured["patches"], json!(["status {\"abort\":true}"]));
    let s = until(&f, "the rollout degraded with the canary scaled down", 60, |s| {
        s["phase"] == "Degraded" && s["aborted"] == true && s["canary"]["replicas"] == 0
    })
    .await;
    assert!(s["message"].as_str().is_some_and(|m| m.contains("RolloutAborted")), "{s}");
    assert_eq!(s["stable"]["replicas"], 5);
    let describe = f.call("argo_rollout_describe", json!({"name": RO, "namespace": NS})).await.expect("describe");
    assert!(
        describe.structured["events"].as_array().is_some_and(|e| e.iter().any(|e| e["reason"] == "RolloutAborted")),
        "{}",
        describe.structured["events"]
    );
    assert!(describe.untrusted);

    let retried = f.call("argo_rollout_retry", json!({"name": RO, "namespace": NS})).await.expect("retry");
    assert_eq!(retried.structured["patches"], json!(["status {\"abort\":false}"]));
    until(&f, "the canary paused at step 1 again", 60, paused_at_first_pause).await;
}

#[tokio::test]
async fn pause_resume_set_image_history_and_undo() {
    let f = common::fixture(Scenario::Demo).await;
    until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    f.call("argo_rollout_promote", json!({"name": RO, "namespace": NS, "full": true})).await.expect("promote full");
    until(&f, "the rollout healthy on 1.5.0", 120, healthy).await;

    // Manual pause and resume.
    let paused = f.call("argo_rollout_pause", json!({"name": RO, "namespace": NS})).await.expect("pause");
    assert_eq!(paused.structured["rollout"]["paused"], true);
    until(&f, "the rollout paused by hand", 30, |s| s["phase"] == "Paused" && s["message"] == "manually paused").await;
    let again = f.call("argo_rollout_pause", json!({"name": RO, "namespace": NS})).await.expect("pause again");
    assert_eq!(again.structured["patches"], json!([]));
    f.call("argo_rollout_resume", json!({"name": RO, "namespace": NS})).await.expect("resume");
    until(&f, "the rollout healthy after resume", 30, healthy).await;

    // A new image starts a new canary.
    let set = f
        .call("argo_rollout_set_image", json!({"name": RO, "namespace": NS, "image": "ghcr.io/acme/checkout:1.6.0"}))
        .await
        .expect("set image");
    assert_eq!(set.structured["rollout"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.6.0"]));
    let s = until(&f, "a 1.6.0 canary paused at step 1", 60, paused_at_first_pause).await;
    assert_eq!(s["canary"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.6.0"]));
    assert_eq!(s["revision"], 3);

    let history = f.call("argo_rollout_history", json!({"name": RO, "namespace": NS})).await.expect("history");
    let revs = history.structured["revisions"].as_array().expect("revisions");
    let numbers: Vec<i64> = revs.iter().filter_map(|r| r["revision"].as_i64()).collect();
    assert_eq!(numbers, vec![3, 2, 1]);
    assert_eq!(revs[0]["role"], "canary");
    assert_eq!(revs[1]["role"], "stable");
    assert_eq!(revs[2]["images"], json!(["checkout=ghcr.io/acme/checkout:1.4.0"]));

    // Undo to the previous (stable) revision: the template of revision 2 comes back.
    let undone = f.call("argo_rollout_undo", json!({"name": RO, "namespace": NS})).await.expect("undo");
    assert!(undone.summary.contains("revision 2"), "{}", undone.summary);
    assert_eq!(undone.structured["rollout"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.5.0"]));
    // Argo matches the restored (API-defaulted) template to revision 2's ReplicaSet and skips the steps;
    // the simulator matches templates by hash only and may start a new canary of the same image instead
    // (reported), so promote fully when it did.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    if !healthy(&status(&f).await) {
        f.call("argo_rollout_promote", json!({"name": RO, "namespace": NS, "full": true}))
            .await
            .expect("promote full after undo");
    }
    let s = until(&f, "healthy on 1.5.0 after undo", 120, |s| {
        healthy(s) && s["images"] == json!(["checkout=ghcr.io/acme/checkout:1.5.0"])
    })
    .await;
    assert_eq!(s["stable"]["images"], json!(["checkout=ghcr.io/acme/checkout:1.5.0"]));
    // Undo to an explicit revision that is not kept.
    let err = f
        .call("argo_rollout_undo", json!({"name": RO, "namespace": NS, "toRevision": 42}))
        .await
        .expect_err("no such revision");
    assert!(matches!(err, ToolError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn restart_replaces_the_pods() {
    let f = common::fixture(Scenario::Demo).await;
    until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    f.call("argo_rollout_promote", json!({"name": RO, "namespace": NS, "full": true})).await.expect("promote full");
    until(&f, "healthy", 120, healthy).await;
    let before: Vec<String> = pod_names(&f).await;
    let restarted = f.call("argo_rollout_restart", json!({"name": RO, "namespace": NS})).await.expect("restart");
    assert!(restarted.structured["patches"][0].as_str().is_some_and(|p| p.contains("restartAt")));
    let client = variants::kube_client(&f);
    variants::eventually("every pod replaced and the restart recorded", 120, || {
        let client = client.clone();
        let before = before.clone();
        let f = &f;
        async move {
            let ro: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
                client,
                NS,
                &kube::core::ApiResource::from_gvk_with_plural(
                    &kube::core::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
                    "rollouts",
                ),
            );
            let done = ro.get(RO).await.ok().is_some_and(|r| r.data.pointer("/status/restartedAt").is_some());
            let now = pod_names(f).await;
            done && now.len() == 5 && now.iter().all(|p| !before.contains(p))
        }
    })
    .await;
    until(&f, "healthy after the restart", 60, healthy).await;
}

async fn pod_names(f: &Fixture) -> Vec<String> {
    let d = f.call("argo_rollout_describe", json!({"name": RO, "namespace": NS})).await.expect("describe");
    d.structured["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["status"] == "Running")
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn describe_and_lists() {
    let f = common::fixture(Scenario::Demo).await;
    until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    // Pods settle a moment after the pause (a replaced pod may still be listed while it terminates).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let d = loop {
        let d = f.call("argo_rollout_describe", json!({"name": RO, "namespace": NS})).await.expect("describe");
        if d.structured["pods"].as_array().map(Vec::len) == Some(5) || tokio::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(d.structured["replicaSets"].as_array().map(Vec::len), Some(2));
    assert_eq!(d.structured["pods"].as_array().map(Vec::len), Some(5), "{}", d.structured["pods"]);
    assert!(
        d.structured["events"].as_array().is_some_and(|e| e.iter().any(|e| e["reason"] == "RolloutPaused")),
        "{}",
        d.structured["events"]
    );
    let runs = f.call("argo_analysis_runs_list", json!({"namespace": NS})).await.expect("analysis runs");
    assert_eq!(runs.structured["analysisRuns"], json!([]));
    let exps = f.call("argo_experiments_list", json!({})).await.expect("experiments");
    assert_eq!(exps.structured["experiments"], json!([]));
    let err = f.call("argo_rollout_status", json!({"name": "nope", "namespace": NS})).await.expect_err("missing");
    assert!(matches!(&err, ToolError::NotFound(m) if m.contains("rollouts/nope")), "{err}");
    for args in [json!({"name": "Bad_Name"}), json!({"name": RO, "namespace": "NS!"})] {
        let err = f.call("argo_rollout_promote", args.clone()).await.expect_err("invalid");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{args}: {err}");
    }
    let err = f
        .call("argo_rollout_set_image", json!({"name": RO, "namespace": NS, "image": "--privileged"}))
        .await
        .expect_err("bad image");
    assert!(matches!(err, ToolError::InvalidArguments(_)), "{err}");
    let err = f
        .call("argo_rollout_set_image", json!({"name": RO, "namespace": NS, "container": "sidecar", "image": "x:1"}))
        .await
        .expect_err("no container");
    assert!(matches!(&err, ToolError::InvalidArguments(m) if m.contains("checkout")), "{err}");
}

#[tokio::test]
async fn without_the_crd_the_tools_say_argo_is_not_installed() {
    let f = common::fixture(Scenario::Empty).await;
    for (tool, args) in [
        ("argo_rollouts_list", json!({})),
        ("argo_rollout_status", json!({"name": RO, "namespace": NS})),
        ("argo_rollout_promote", json!({"name": RO, "namespace": NS})),
        ("argo_analysis_runs_list", json!({})),
        ("argo_experiments_list", json!({"namespace": "default"})),
    ] {
        let err = f.call(tool, args).await.expect_err("not installed");
        match err {
            ToolError::MissingDependency(m) => {
                assert!(m.contains("Argo Rollouts is not installed in context sim"), "{tool}: {m}")
            }
            other => panic!("{tool}: expected MissingDependency, got {other:?}"),
        }
    }
}

/// How every dry-run summary starts.
const DRY_RUN: &str = "Dry run (nothing changed): ";

/// The Rollout's resourceVersion, from the simulated cluster's store.
fn rollout_rv(f: &Fixture) -> String {
    let cluster = f.sim.cluster();
    let rt = cluster.resource_for_kind("argoproj.io", "Rollout").expect("Rollout served");
    let ro = cluster.get(&rt, NS, RO).expect("Rollout exists");
    ro["metadata"]["resourceVersion"].as_str().expect("resourceVersion").to_string()
}

/// Waits until the controller leaves the Rollout alone (the same resourceVersion for a second).
async fn settled(f: &Fixture) {
    let mut last = rollout_rv(f);
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = rollout_rv(f);
        if now == last {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if rollout_rv(f) == now {
                return;
            }
        }
        last = rollout_rv(f);
    }
    panic!("the Rollout keeps changing");
}

/// Whether a unified diff has a line starting with `sign` (`-` or `+`, not a header) that contains `text`.
fn has_line(diff: &str, sign: char, text: &str) -> bool {
    diff.lines().any(|l| l.starts_with(sign) && !l.starts_with("---") && !l.starts_with("+++") && l.contains(text))
}

/// Calls a tool with `dryRun: true`; checks that the Rollout did not change and the summary says it was a
/// dry run; returns the structured output.
async fn dry(f: &Fixture, tool: &str, extra: Value) -> Value {
    let before = rollout_rv(f);
    let mut args = json!({"name": RO, "namespace": NS, "dryRun": true});
    if let (Some(a), Some(x)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(x.clone());
    }
    let out = f.call(tool, args).await.unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.summary.starts_with(DRY_RUN), "{tool}: {}", out.summary);
    assert_eq!(rollout_rv(f), before, "{tool}: the Rollout's resourceVersion stays");
    assert!(out.structured["diff"].is_string(), "{tool}: {}", out.structured);
    out.structured
}

#[tokio::test]
async fn dry_runs_preview_each_write_as_a_diff_and_change_nothing() {
    let f = common::fixture(Scenario::Demo).await;
    until(&f, "the canary paused at step 1", 60, paused_at_first_pause).await;
    settled(&f).await;
    let diff = |out: &Value| out["diff"].as_str().unwrap_or_default().to_string();

    let out = dry(&f, "argo_rollout_promote", json!({})).await;
    assert_eq!(out["patches"], json!(["status {\"pauseConditions\":null}"]));
    assert!(has_line(&diff(&out), '-', "pauseConditions:"), "{}", diff(&out));
    assert!(has_line(&diff(&out), '-', "reason: CanaryPauseStep"), "{}", diff(&out));
    let out = dry(&f, "argo_rollout_promote", json!({"full": true})).await;
    assert!(has_line(&diff(&out), '+', "promoteFull: true"), "{}", diff(&out));
    let out = dry(&f, "argo_rollout_pause", json!({})).await;
    assert!(has_line(&diff(&out), '+', "paused: true"), "{}", diff(&out));
    let out = dry(&f, "argo_rollout_abort", json!({})).await;
    assert!(has_line(&diff(&out), '+', "abort: true"), "{}", diff(&out));
    let out = dry(&f, "argo_rollout_set_image", json!({"image": "ghcr.io/acme/checkout:1.6.0"})).await;
    let d = diff(&out);
    assert!(has_line(&d, '-', "image: ghcr.io/acme/checkout:1.5.0") && has_line(&d, '+', "checkout:1.6.0"), "{d}");
    let out = dry(&f, "argo_rollout_restart", json!({})).await;
    assert!(has_line(&diff(&out), '+', "restartAt:"), "{}", diff(&out));
    let out = dry(&f, "argo_rollout_undo", json!({})).await;
    let d = diff(&out);
    assert!(has_line(&d, '-', "image: ghcr.io/acme/checkout:1.5.0") && has_line(&d, '+', "checkout:1.4.0"), "{d}");
    // Nothing to do: an empty diff and no patch.
    for tool in ["argo_rollout_resume", "argo_rollout_retry"] {
        let out = dry(&f, tool, json!({})).await;
        assert_eq!((out["patches"].clone(), diff(&out)), (json!([]), String::new()), "{tool}");
    }
    let s = status(&f).await;
    assert!(paused_at_first_pause(&s), "still paused at the first pause: {s}");

    // Resume and retry, each after the real write that gives them something to undo.
    f.call("argo_rollout_pause", json!({"name": RO, "namespace": NS})).await.expect("pause");
    settled(&f).await;
    let out = dry(&f, "argo_rollout_resume", json!({})).await;
    let d = diff(&out);
    assert!(has_line(&d, '-', "paused: true") && has_line(&d, '+', "paused: false"), "{d}");
    f.call("argo_rollout_resume", json!({"name": RO, "namespace": NS})).await.expect("resume");
    f.call("argo_rollout_abort", json!({"name": RO, "namespace": NS})).await.expect("abort");
    until(&f, "the rollout degraded", 60, |s| s["phase"] == "Degraded" && s["canary"]["replicas"] == 0).await;
    settled(&f).await;
    let out = dry(&f, "argo_rollout_retry", json!({})).await;
    let d = diff(&out);
    assert!(has_line(&d, '-', "abort: true") && has_line(&d, '+', "abort: false"), "{d}");
    assert_eq!(status(&f).await["aborted"], true, "still aborted");
}
