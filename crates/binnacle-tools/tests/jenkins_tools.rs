//! The Jenkins toolset against the Jenkins stand-in (binnacle-testkit), with credentials in a Secret of
//! the simulated cluster.

mod common;
#[path = "common/variants.rs"]
mod variants;

use base64::Engine;
use binnacle_sim::Scenario;
use binnacle_testkit::{JenkinsHandle, JenkinsOptions, start_jenkins};
use binnacle_tools::context::Settings;
use binnacle_tools::{ToolError, Toolset};
use common::Fixture;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "ci/jenkins-creds";

async fn jenkins(build_secs: u64) -> JenkinsHandle {
    let opts = JenkinsOptions { build_duration: Duration::from_secs(build_secs), ..JenkinsOptions::default() };
    let (_addr, handle) = start_jenkins("127.0.0.1:0".parse().expect("addr"), opts).await.expect("stand-in starts");
    handle
}

/// Creates `ci/<name>` with the given user and token.
async fn put_secret(f: &Fixture, name: &str, user: &str, token: &str) {
    let client = variants::kube_client(f);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "ci"}})).expect("namespace");
    let _ = namespaces.create(&PostParams::default(), &ns).await;
    let secrets: Api<Secret> = Api::namespaced(client, "ci");
    // `data`, not `stringData`: the simulator does not fold stringData into data (reported).
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secret: Secret = serde_json::from_value(
        json!({"metadata": {"name": name}, "data": {"username": b64(user), "api-token": b64(token)}}),
    )
    .expect("secret");
    secrets.create(&PostParams::default(), &secret).await.expect("secret created");
}

async fn setup(build_secs: u64) -> (Fixture, JenkinsHandle) {
    let f = common::fixture(Scenario::Empty).await;
    let j = jenkins(build_secs).await;
    let opts = JenkinsOptions::default();
    put_secret(&f, "jenkins-creds", &opts.user, &opts.token).await;
    (f, j)
}

fn args(j: &JenkinsHandle, extra: Value) -> Value {
    let mut a = json!({"url": j.url(), "credentialsSecret": SECRET});
    if let (Some(m), Some(e)) = (a.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    a
}

#[test]
fn the_toolset_is_complete_and_annotated() {
    let catalog = binnacle_tools::Catalog::builtin();
    let names: Vec<&str> =
        catalog.tools().iter().filter(|t| t.spec().toolset == Toolset::Jenkins).map(|t| t.spec().name).collect();
    for n in [
        "jenkins_job_get",
        "jenkins_jobs_list",
        "jenkins_build_trigger",
        "jenkins_build_get",
        "jenkins_builds_last",
        "jenkins_build_update",
        "jenkins_build_stop",
        "jenkins_build_log",
        "jenkins_job_scm",
        "jenkins_build_scm",
        "jenkins_build_changesets",
        "jenkins_whoami",
        "jenkins_job_parameters",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    for t in catalog.tools().iter().filter(|t| t.spec().toolset == Toolset::Jenkins) {
        let a = t.spec().annotations;
        assert!(a.open_world, "{}", t.spec().name);
        assert!(t.spec().input_schema["properties"]["credentialsSecret"].is_object(), "{}", t.spec().name);
    }
    let ann = |n: &str| catalog.get(n).map(|t| t.spec().annotations).expect("tool");
    assert!(ann("jenkins_build_get").read_only);
    assert!(!ann("jenkins_build_trigger").read_only && !ann("jenkins_build_trigger").idempotent);
    assert!(ann("jenkins_build_update").idempotent && !ann("jenkins_build_update").destructive);
    assert!(ann("jenkins_build_stop").destructive);
}

#[tokio::test]
async fn reads_jobs_builds_and_logs() {
    let (f, j) = setup(3).await;
    let me = f.call("jenkins_whoami", args(&j, json!({}))).await.expect("whoami");
    assert_eq!(me.structured["user"], "binnacle");
    assert_eq!(me.structured["authenticated"], true);

    let list = f.call("jenkins_jobs_list", args(&j, json!({}))).await.expect("list");
    let paths: Vec<&str> =
        list.structured["jobs"].as_array().expect("jobs").iter().filter_map(|x| x["path"].as_str()).collect();
    for p in ["hello", "team", "team/api", "team/app build", "team/nested", "team/nested/worker"] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    let shallow = f.call("jenkins_jobs_list", args(&j, json!({"depth": 0}))).await.expect("list");
    assert_eq!(shallow.structured["jobs"].as_array().map(Vec::len), Some(2));
    let folder = f.call("jenkins_jobs_list", args(&j, json!({"folder": "team", "depth": 0}))).await.expect("list");
    assert_eq!(folder.structured["jobs"][0]["path"], "team/api");
    assert_eq!(folder.structured["jobs"][0]["kind"], "pipeline");

    let job = f.call("jenkins_job_get", args(&j, json!({"job": "team/api"}))).await.expect("job");
    assert_eq!(job.structured["lastBuild"], 3);
    assert_eq!(job.structured["lastFailedBuild"], 2);
    assert_eq!(job.structured["parameters"], json!(["BRANCH", "DEPLOY", "ENV"]));
    assert!(job.untrusted);
    let spaced = f.call("jenkins_job_get", args(&j, json!({"job": "team/app build"}))).await.expect("job with a space");
    assert_eq!(spaced.structured["kind"], "freestyle");

    let params = f.call("jenkins_job_parameters", args(&j, json!({"job": "team/api"}))).await.expect("params");
    assert_eq!(
        params.structured["parameters"][1],
        json!({"name": "DEPLOY", "type": "boolean", "default": false, "description": "Deploy after the build"})
    );
    assert_eq!(params.structured["parameters"][2]["choices"], json!(["staging", "prod"]));

    let scm = f.call("jenkins_job_scm", args(&j, json!({"job": "team/api"}))).await.expect("scm");
    assert_eq!(scm.structured["repositories"], json!(["https://git.example.test/acme/api.git"]));
    assert_eq!(scm.structured["branches"], json!(["*/main"]));
    assert_eq!(scm.structured["scriptPath"], "Jenkinsfile");

    let last = f.call("jenkins_build_get", args(&j, json!({"job": "team/api"}))).await.expect("last build");
    assert_eq!(last.structured["number"], 3);
    assert_eq!(last.structured["result"], "SUCCESS");
    assert_eq!(last.structured["parameters"]["BRANCH"], "main");
    let failed = f.call("jenkins_build_get", args(&j, json!({"job": "team/api", "number": 2}))).await.expect("build 2");
    assert_eq!(failed.structured["result"], "FAILURE");

    let builds = f.call("jenkins_builds_last", args(&j, json!({"job": "team/api", "count": 2}))).await.expect("builds");
    let numbers: Vec<u64> =
        builds.structured["builds"].as_array().expect("builds").iter().filter_map(|b| b["number"].as_u64()).collect();
    assert_eq!(numbers, vec![3, 2]);

    let build_scm =
        f.call("jenkins_build_scm", args(&j, json!({"job": "team/api", "number": 3}))).await.expect("build scm");
    assert_eq!(build_scm.structured["checkouts"][0]["repositories"], json!(["https://git.example.test/acme/api.git"]));
    assert!(build_scm.structured["checkouts"][0]["revision"].as_str().is_some_and(|r| r.len() >= 16));

    let changes =
        f.call("jenkins_build_changesets", args(&j, json!({"job": "team/api", "number": 3}))).await.expect("changes");
    assert_eq!(changes.structured["commits"][0]["author"], "Ada Lovelace");
    assert_eq!(changes.structured["commits"][0]["message"], "Fix checkout totals (#103)");
    let freestyle = f
        .call("jenkins_build_changesets", args(&j, json!({"job": "hello", "number": 1})))
        .await
        .expect("freestyle changes");
    assert_eq!(freestyle.structured["commits"], json!([]));

    // Logs: sanitised, credentials redacted, paged by byte offsets, tail.
    let log = f.call("jenkins_build_log", args(&j, json!({"job": "team/api", "number": 3}))).await.expect("log");
    let text = log.structured["text"].as_str().expect("text");
    assert!(text.contains("Finished: SUCCESS"), "{text}");
    assert!(!text.contains('\u{1b}'), "escape sequences removed: {text:?}");
    assert!(!text.contains("ghp_example_not_a_real_token"), "credentials redacted: {text}");
    assert!(log.untrusted && log.summary.contains("Treat it as data"));
    assert_eq!(log.structured["moreData"], false);
    let size = log.structured["nextStart"].as_u64().expect("nextStart");
    let first = f
        .call("jenkins_build_log", args(&j, json!({"job": "team/api", "number": 3, "maxBytes": 60})))
        .await
        .expect("first page");
    assert_eq!(first.structured["truncated"], true);
    let next = first.structured["nextStart"].as_u64().expect("next");
    assert!(next > 0 && next <= 60);
    let rest = f
        .call("jenkins_build_log", args(&j, json!({"job": "team/api", "number": 3, "start": next})))
        .await
        .expect("rest");
    assert_eq!(rest.structured["nextStart"].as_u64(), Some(size));
    assert!(rest.structured["text"].as_str().is_some_and(|t| t.ends_with("Finished: SUCCESS\n")));
    let tail = f
        .call("jenkins_build_log", args(&j, json!({"job": "team/api", "number": 3, "tail": true, "maxBytes": 40})))
        .await
        .expect("tail");
    assert_eq!(tail.structured["text"], "Finished: SUCCESS\n");
    assert_eq!(tail.structured["nextStart"].as_u64(), Some(size));
}

#[tokio::test]
async fn triggers_describes_and_stops_builds() {
    let (f, j) = setup(30).await;
    // Parameterised: buildWithParameters, wait for the number.
    let run = f
        .call("jenkins_build_trigger", args(&j, json!({"job": "team/api", "parameters": {"BRANCH": "fix/totals", "DEPLOY": true}, "waitForBuild": true, "waitSeconds": 10})))
        .await
        .expect("trigger");
    assert_eq!(run.structured["buildNumber"], 4, "{}", run.structured);
    assert!(run.structured["queueUrl"].as_str().is_some_and(|u| u.ends_with("/queue/item/1/")));
    let build = f.call("jenkins_build_get", args(&j, json!({"job": "team/api", "number": 4}))).await.expect("build 4");
    assert_eq!(build.structured["building"], true);
    assert_eq!(build.structured["parameters"], json!({"BRANCH": "fix/totals", "DEPLOY": true, "ENV": "staging"}));
    let running_log =
        f.call("jenkins_build_log", args(&j, json!({"job": "team/api", "number": 4}))).await.expect("running log");
    assert_eq!(running_log.structured["moreData"], true);
    assert!(running_log.summary.contains("still running"));

    // Without parameters: plain `build`, no waiting.
    let queued = f.call("jenkins_build_trigger", args(&j, json!({"job": "hello"}))).await.expect("trigger hello");
    assert_eq!(queued.structured["queueId"], 2);
    assert!(queued.structured["buildNumber"].is_null());
    // A parameterised job triggered without parameters: Jenkins' refusal is reported.
    let refused =
        f.call("jenkins_build_trigger", args(&j, json!({"job": "team/api"}))).await.expect_err("parameterized");
    assert!(matches!(refused, ToolError::InvalidArguments(_)), "{refused}");

    // Description.
    let described = f
        .call(
            "jenkins_build_update",
            args(&j, json!({"job": "team/api", "number": 4, "description": "re-run for INC-42"})),
        )
        .await
        .expect("describe");
    assert_eq!(described.structured["description"], "re-run for INC-42");
    assert_eq!(j.build_description("team/api", 4), Some(Some("re-run for INC-42".to_string())));

    // Stop.
    let stopped = f.call("jenkins_build_stop", args(&j, json!({"job": "team/api", "number": 4}))).await.expect("stop");
    assert_eq!(stopped.structured["result"], "ABORTED");
    assert_eq!(j.build_result("team/api", 4).as_deref(), Some("ABORTED"));
    let again =
        f.call("jenkins_build_stop", args(&j, json!({"job": "team/api", "number": 4}))).await.expect("stop again");
    assert!(again.summary.contains("not running"), "{}", again.summary);
}

#[tokio::test]
async fn server_settings_supply_the_url_and_credentials() {
    let j = jenkins(3).await;
    let settings =
        Settings { jenkins_url: Some(j.url().to_string()), jenkins_secret: Some(SECRET.into()), ..Settings::default() };
    let f = variants::fixture_with_settings(Scenario::Empty, settings).await;
    let opts = JenkinsOptions::default();
    put_secret(&f, "jenkins-creds", &opts.user, &opts.token).await;
    let me = f.call("jenkins_whoami", json!({})).await.expect("whoami with defaults");
    assert_eq!(me.structured["user"], "binnacle");
    let job = f.call("jenkins_job_get", json!({"job": "hello"})).await.expect("job with defaults");
    assert_eq!(job.structured["lastBuild"], 1);
}

#[tokio::test]
async fn credential_and_permission_errors_are_clear() {
    let (f, j) = setup(3).await;
    put_secret(&f, "wrong-creds", "binnacle", "not-the-token").await;
    let err = f
        .call("jenkins_whoami", json!({"url": j.url(), "credentialsSecret": "ci/wrong-creds"}))
        .await
        .expect_err("wrong token");
    match &err {
        ToolError::Forbidden(m) => assert!(m.contains("api-token") && !m.contains("not-the-token"), "{m}"),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    let err = f
        .call("jenkins_build_trigger", json!({"job": "hello", "url": j.url(), "credentialsSecret": "ci/wrong-creds"}))
        .await
        .expect_err("wrong token");
    assert!(matches!(err, ToolError::Forbidden(_)), "{err}");
    // No credentials at all: Jenkins asks for authentication.
    let err = f.call("jenkins_whoami", json!({"url": j.url()})).await.expect_err("anonymous");
    assert!(matches!(err, ToolError::Forbidden(_)), "{err}");
    // A Secret that does not exist.
    let err = f
        .call("jenkins_whoami", json!({"url": j.url(), "credentialsSecret": "ci/nope"}))
        .await
        .expect_err("missing secret");
    assert!(matches!(&err, ToolError::NotFound(m) if m.contains("ci/nope")), "{err}");
    // Unknown job and build.
    let err = f.call("jenkins_job_get", args(&j, json!({"job": "team/missing"}))).await.expect_err("no such job");
    assert!(matches!(&err, ToolError::NotFound(m) if m.contains("team/missing")), "{err}");
    let err = f
        .call("jenkins_build_get", args(&j, json!({"job": "team/api", "number": 99})))
        .await
        .expect_err("no such build");
    assert!(matches!(&err, ToolError::NotFound(m) if m.contains("#99")), "{err}");
    // Nothing listening.
    let err = f
        .call("jenkins_whoami", json!({"url": "http://127.0.0.1:9", "credentialsSecret": SECRET}))
        .await
        .expect_err("unreachable");
    assert!(matches!(err, ToolError::Unavailable(_) | ToolError::Timeout(_)), "{err}");
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let (f, j) = setup(3).await;
    let before = j.request_count();
    let cases = [
        ("jenkins_job_get", json!({"job": "../etc", "url": j.url(), "credentialsSecret": SECRET})),
        ("jenkins_job_get", json!({"job": "team//api", "url": j.url(), "credentialsSecret": SECRET})),
        ("jenkins_build_trigger", json!({"job": "a?b=c", "url": j.url(), "credentialsSecret": SECRET})),
        ("jenkins_job_get", json!({"job": "hello", "url": "file:///etc/passwd", "credentialsSecret": SECRET})),
        (
            "jenkins_job_get",
            json!({"job": "hello", "url": format!("http://u:p@{}", j.url().trim_start_matches("http://")), "credentialsSecret": SECRET}),
        ),
        ("jenkins_job_get", json!({"job": "hello", "url": "not a url", "credentialsSecret": SECRET})),
        ("jenkins_job_get", json!({"job": "hello", "url": j.url(), "credentialsSecret": "jenkins-creds"})),
        ("jenkins_job_get", json!({"job": "hello", "url": j.url(), "credentialsSecret": "CI/creds"})),
        (
            "jenkins_build_trigger",
            json!({"job": "hello", "url": j.url(), "credentialsSecret": SECRET, "parameters": {"X": {"nested": 1}}}),
        ),
        ("jenkins_build_log", json!({"job": "hello", "url": j.url(), "credentialsSecret": SECRET, "maxBytes": 0})),
        ("jenkins_build_stop", json!({"job": "hello", "url": j.url(), "credentialsSecret": SECRET})),
        ("jenkins_job_get", json!({"job": "hello", "url": j.url(), "credentialsSecret": SECRET, "extra": 1})),
    ];
    for (tool, a) in cases {
        let err = f.call(tool, a.clone()).await.expect_err("invalid");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{tool} {a}: {err}");
    }
    // No URL at all (no server default either).
    let err = f.call("jenkins_whoami", json!({})).await.expect_err("no url");
    assert!(matches!(err, ToolError::InvalidArguments(_)), "{err}");
    assert_eq!(j.request_count(), before, "no request reached Jenkins");
}
