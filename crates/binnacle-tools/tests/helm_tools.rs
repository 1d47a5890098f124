//! The Helm toolset: native reads of the demo scenario's `podinfo` release (stored as Helm stores it),
//! writes without a helm binary, and — when `HELM_BIN` names a helm 3 binary — install, upgrade,
//! rollback, uninstall, repositories, search, show values and template against the simulated cluster
//! served over TCP, with a chart repository served from a temporary directory.

mod common;
#[path = "common/variants.rs"]
mod variants;

use binnacle_sim::Scenario;
use binnacle_tools::context::Settings;
use binnacle_tools::toolsets::helm::{HelmEnv, tools_with};
use binnacle_tools::{Catalog, ToolError, Toolset};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use std::path::{Path, PathBuf};

const WRITES: [&str; 11] = [
    "helm_repo_add",
    "helm_repo_update",
    "helm_repo_remove",
    "helm_release_install",
    "helm_release_install_with_values",
    "helm_release_upgrade",
    "helm_release_uninstall",
    "helm_release_rollback",
    "helm_chart_values",
    "helm_repo_search",
    "helm_template",
];

#[test]
fn the_toolset_is_complete_and_annotated() {
    let catalog = Catalog::builtin();
    let names: Vec<&str> =
        catalog.tools().iter().filter(|t| t.spec().toolset == Toolset::Helm).map(|t| t.spec().name).collect();
    for n in [
        "helm_releases_list",
        "helm_release_status",
        "helm_release_history",
        "helm_release_values",
        "helm_release_manifest",
    ]
    .iter()
    .chain(WRITES.iter())
    {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    let ann = |n: &str| catalog.get(n).map(|t| t.spec().annotations).expect("tool");
    for n in [
        "helm_releases_list",
        "helm_release_status",
        "helm_release_history",
        "helm_release_values",
        "helm_release_manifest",
    ] {
        assert!(ann(n).read_only && !ann(n).open_world, "{n}");
    }
    assert!(
        !ann("helm_release_install").idempotent
            && ann("helm_release_install").open_world
            && !ann("helm_release_install").read_only
    );
    assert!(ann("helm_release_upgrade").idempotent && ann("helm_release_upgrade").open_world);
    assert!(ann("helm_repo_add").idempotent && ann("helm_repo_add").open_world);
    assert!(ann("helm_release_uninstall").destructive && ann("helm_repo_remove").destructive);
    assert!(ann("helm_release_rollback").idempotent && !ann("helm_release_rollback").read_only);
    assert!(ann("helm_repo_search").read_only && ann("helm_template").read_only && ann("helm_chart_values").read_only);
}

#[tokio::test]
async fn reads_decode_the_demo_release() {
    let f = common::fixture(Scenario::Demo).await;
    let list = f.call("helm_releases_list", json!({})).await.expect("list");
    let releases = list.structured["releases"].as_array().expect("releases");
    // podinfo, and the demo's planted fault: edge/edge-proxy, whose install failed.
    assert_eq!(releases.len(), 2, "{releases:?}");
    assert!(
        releases.iter().any(|r| r["name"] == "edge-proxy" && r["namespace"] == "edge" && r["status"] == "failed"),
        "{releases:?}"
    );
    let r = releases.iter().find(|r| r["name"] == "podinfo").expect("podinfo");
    assert_eq!(
        (r["name"].as_str(), r["namespace"].as_str(), r["revision"].as_i64(), r["status"].as_str()),
        (Some("podinfo"), Some("apps"), Some(2), Some("deployed"))
    );
    assert_eq!(r["chart"], "podinfo-6.7.1");
    assert_eq!(r["appVersion"], "6.7.1");
    assert!(list.summary.contains("apps/podinfo revision 2 deployed"), "{}", list.summary);
    let none = f.call("helm_releases_list", json!({"namespace": "shop"})).await.expect("list shop");
    assert_eq!(none.structured["releases"], json!([]));

    let history =
        f.call("helm_release_history", json!({"release": "podinfo", "namespace": "apps"})).await.expect("history");
    let revs: Vec<(i64, String)> = history.structured["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap_or(0), r["status"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(revs, vec![(2, "deployed".to_string()), (1, "superseded".to_string())]);
    assert_eq!(history.structured["revisions"][1]["description"], "Install complete");

    let status =
        f.call("helm_release_status", json!({"release": "podinfo", "namespace": "apps"})).await.expect("status");
    assert_eq!(status.structured["status"], "deployed");
    assert_eq!(status.structured["revision"], 2);
    assert!(status.structured["notes"].as_str().is_some_and(|n| n.contains("port-forward")));
    assert_eq!(
        status.structured["resources"],
        json!([{"kind": "Service", "name": "podinfo"}, {"kind": "Deployment", "name": "podinfo"}])
    );
    assert!(status.untrusted);
    let old = f
        .call("helm_release_status", json!({"release": "podinfo", "namespace": "apps", "revision": 1}))
        .await
        .expect("status 1");
    assert_eq!(old.structured["status"], "superseded");

    let values =
        f.call("helm_release_values", json!({"release": "podinfo", "namespace": "apps"})).await.expect("values");
    assert_eq!(values.structured["values"], json!({"replicaCount": 2}));
    let all = f
        .call("helm_release_values", json!({"release": "podinfo", "namespace": "apps", "all": true}))
        .await
        .expect("all values");
    assert_eq!(all.structured["values"]["replicaCount"], 2);
    assert_eq!(all.structured["values"]["image"]["tag"], "6.7.1");
    assert_eq!(all.structured["values"]["service"]["port"], 9898);
    let v1 = f
        .call("helm_release_values", json!({"release": "podinfo", "namespace": "apps", "revision": 1}))
        .await
        .expect("values 1");
    assert_eq!(v1.structured["values"], json!({"replicaCount": 1}));

    let manifest =
        f.call("helm_release_manifest", json!({"release": "podinfo", "namespace": "apps"})).await.expect("manifest");
    let text = manifest.structured["manifest"].as_str().expect("manifest text");
    assert!(
        text.contains("kind: Deployment")
            && text.contains("replicas: 2")
            && text.contains("# Source: podinfo/templates/service.yaml"),
        "{text}"
    );
    let m1 = f
        .call("helm_release_manifest", json!({"release": "podinfo", "namespace": "apps", "revision": 1}))
        .await
        .expect("manifest 1");
    assert!(m1.structured["manifest"].as_str().is_some_and(|t| t.contains("replicas: 1")));

    for (tool, args) in [
        ("helm_release_status", json!({"release": "nope", "namespace": "apps"})),
        ("helm_release_history", json!({"release": "podinfo", "namespace": "shop"})),
        ("helm_release_values", json!({"release": "podinfo", "namespace": "apps", "revision": 9})),
    ] {
        let err = f.call(tool, args.clone()).await.expect_err("not found");
        assert!(matches!(err, ToolError::NotFound(_)), "{tool} {args}: {err}");
    }
    for (tool, args) in [
        ("helm_release_status", json!({"release": "--all", "namespace": "apps"})),
        ("helm_release_status", json!({"release": "podinfo", "namespace": "Apps"})),
        ("helm_releases_list", json!({"namespace": "a b"})),
    ] {
        let err = f.call(tool, args.clone()).await.expect_err("invalid");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{tool} {args}: {err}");
    }
}

#[tokio::test]
async fn secrets_in_release_values_and_manifests_are_redacted() {
    let f = common::fixture(Scenario::Empty).await;
    let release = json!({
        "name": "db", "namespace": "default", "version": 1,
        "info": {"status": "deployed", "description": "Install complete", "last_deployed": "2026-01-01T00:00:00Z", "first_deployed": "2026-01-01T00:00:00Z", "notes": "\u{1b}[31mconnect with password=hunter2\u{1b}[0m"},
        "chart": {"metadata": {"name": "postgresql", "version": "15.0.0", "appVersion": "16.4"}, "values": {"auth": {"username": "app", "password": ""}}},
        "config": {"auth": {"password": "hunter2", "existingSecret": "", "postgresPassword": "s3cr3t"}, "url": "postgres://app:hunter2@db:5432/app"},
        "manifest": "---\n# Source: postgresql/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n---\n# Source: postgresql/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-config\ndata:\n  DSN: postgres://app:hunter2@db:5432/app\n",
    });
    let secret: Secret =
        serde_json::from_value(binnacle_sim::scenario::helm_release_secret(&release, "2026-01-01T00:00:00Z"))
            .expect("secret");
    Api::<Secret>::namespaced(variants::kube_client(&f), "default")
        .create(&PostParams::default(), &secret)
        .await
        .expect("created");

    let values = f.call("helm_release_values", json!({"release": "db", "namespace": "default"})).await.expect("values");
    let text = values.structured.to_string();
    assert!(!text.contains("hunter2") && !text.contains("s3cr3t"), "{text}");
    assert_eq!(values.structured["values"]["auth"]["password"], "<redacted>");
    let all = f
        .call("helm_release_values", json!({"release": "db", "namespace": "default", "all": true}))
        .await
        .expect("all values");
    assert_eq!(all.structured["values"]["auth"]["username"], "app");
    assert!(!all.structured.to_string().contains("hunter2"));
    let manifest =
        f.call("helm_release_manifest", json!({"release": "db", "namespace": "default"})).await.expect("manifest");
    let m = manifest.structured["manifest"].as_str().expect("text");
    assert!(!m.contains("aHVudGVyMg==") && !m.contains("hunter2"), "{m}");
    assert!(m.contains("password: '<redacted: ") && m.contains("kind: ConfigMap"), "{m}");
    let status = f.call("helm_release_status", json!({"release": "db", "namespace": "default"})).await.expect("status");
    let notes = status.structured["notes"].as_str().expect("notes");
    assert!(!notes.contains("hunter2") && !notes.contains('\u{1b}'), "{notes}");
}

#[tokio::test]
async fn writes_without_helm_fail_with_missing_dependency_and_still_list() {
    let settings = Settings { helm_binary: Some(PathBuf::from("/nonexistent/bin/helm")), ..Settings::default() };
    let f = variants::fixture_with_settings(Scenario::Demo, settings).await;
    let calls = [
        ("helm_repo_add", json!({"name": "podinfo", "url": "https://stefanprodan.github.io/podinfo"})),
        ("helm_repo_update", json!({})),
        ("helm_repo_remove", json!({"name": "podinfo"})),
        ("helm_release_install", json!({"release": "web", "namespace": "apps", "chart": "podinfo/podinfo"})),
        (
            "helm_release_install_with_values",
            json!({"release": "web", "namespace": "apps", "chart": "podinfo/podinfo", "values": "replicaCount: 3"}),
        ),
        (
            "helm_release_upgrade",
            json!({"release": "podinfo", "namespace": "apps", "chart": "podinfo/podinfo", "version": "6.7.1"}),
        ),
        ("helm_release_uninstall", json!({"release": "podinfo", "namespace": "apps"})),
        ("helm_release_rollback", json!({"release": "podinfo", "namespace": "apps", "revision": 1})),
        ("helm_chart_values", json!({"chart": "podinfo/podinfo"})),
        ("helm_repo_search", json!({"keyword": "podinfo"})),
        ("helm_template", json!({"release": "web", "chart": "oci://ghcr.io/stefanprodan/charts/podinfo"})),
    ];
    for (tool, args) in calls {
        assert!(f.catalog.get(tool).is_some(), "{tool} is listed");
        match f.call(tool, args).await {
            Err(ToolError::MissingDependency(m)) => {
                assert!(m.contains("helm is not installed") && m.contains("install helm 3"), "{tool}: {m}")
            }
            other => panic!("{tool}: expected MissingDependency, got {other:?}"),
        }
    }
    // Invalid arguments are refused before helm is even looked for.
    for (tool, args) in [
        ("helm_release_install", json!({"release": "web", "chart": "--post-renderer=/bin/sh"})),
        ("helm_release_install", json!({"release": "web", "chart": "podinfo/podinfo", "values": "- not a mapping"})),
        ("helm_release_install", json!({"release": "web", "chart": "podinfo/podinfo", "version": "--devel"})),
        ("helm_release_upgrade", json!({"release": "podinfo", "chart": "/srv/../etc"})),
        ("helm_repo_add", json!({"name": "x", "url": "https://user:pw@charts.example.com"})),
        ("helm_repo_add", json!({"name": "-x", "url": "https://charts.example.com"})),
        ("helm_release_rollback", json!({"release": "podinfo", "revision": 0})),
        ("helm_release_uninstall", json!({"release": "podinfo", "timeout": "forever"})),
        ("helm_repo_search", json!({"keyword": "--regexp"})),
    ] {
        let err = f.call(tool, args.clone()).await.expect_err("invalid");
        assert!(matches!(err, ToolError::InvalidArguments(_)), "{tool} {args}: {err}");
    }
    // Reads need no helm.
    let status =
        f.call("helm_release_status", json!({"release": "podinfo", "namespace": "apps"})).await.expect("status");
    assert_eq!(status.structured["status"], "deployed");
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// A small chart: a ConfigMap, a Secret and notes.
fn make_chart(dir: &Path, version: &str) -> PathBuf {
    let chart = dir.join("demo-app");
    write(
        &chart.join("Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: demo-app\ndescription: A demo chart for Binnacle's tests\ntype: application\nversion: {version}\nappVersion: \"1.0.0\"\n"
        ),
    );
    write(&chart.join("values.yaml"), "# Greeting shown by the app.\ngreeting: hello\npassword: changeme\n");
    write(
        &chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    );
    write(
        &chart.join("templates/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-secret\ntype: Opaque\nstringData:\n  password: {{ .Values.password | quote }}\n",
    );
    write(&chart.join("templates/NOTES.txt"), "{{ .Release.Name }} greets with {{ .Values.greeting }}.\n");
    chart
}

fn helm_cmd(helm: &Path, home: &Path, args: &[&str]) {
    let out = std::process::Command::new(helm)
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .expect("helm runs");
    assert!(out.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_helm_binary_drives_writes_against_the_simulated_cluster() {
    let Some(helm) = std::env::var_os("HELM_BIN").map(PathBuf::from).filter(|p| p.is_file()) else {
        eprintln!("HELM_BIN is not set to a helm binary: skipping the helm write tests");
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let home = work.path().join("helm-home");
    let chart_dir = make_chart(&work.path().join("src"), "0.1.0");
    let repo_dir = work.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("repo dir");
    let chart_arg = chart_dir.to_string_lossy().to_string();
    let repo_arg = repo_dir.to_string_lossy().to_string();
    helm_cmd(&helm, &home, &["package", &chart_arg, "--destination", &repo_arg]);
    let (_addr, repo) =
        binnacle_testkit::serve_dir("127.0.0.1:0".parse().expect("addr"), repo_dir.clone()).await.expect("file server");
    helm_cmd(&helm, &home, &["repo", "index", &repo_arg, "--url", repo.url()]);

    let settings = Settings { helm_binary: Some(helm.clone()), ..Settings::default() };
    let mut tcp = variants::fixture_over_tcp(Scenario::Demo, settings).await;
    tcp.fixture.catalog = Catalog::from_tools(tools_with(HelmEnv {
        kubeconfig: Some(tcp.kubeconfig.clone()),
        helm_home: Some(home.clone()),
    }));
    let f = &tcp.fixture;

    // Repositories, search, show values, template.
    let added = f.call("helm_repo_add", json!({"name": "local", "url": repo.url()})).await.expect("repo add");
    assert!(
        added.structured["command"].as_str().is_some_and(|c| c.starts_with("helm repo add -- local http://127.0.0.1:")),
        "{}",
        added.structured
    );
    f.call("helm_repo_update", json!({})).await.expect("repo update");
    f.call("helm_repo_update", json!({"names": ["local"]})).await.expect("repo update one");
    let found = f.call("helm_repo_search", json!({"keyword": "demo"})).await.expect("search");
    assert_eq!(found.structured["charts"][0]["name"], "local/demo-app");
    assert_eq!(found.structured["charts"][0]["version"], "0.1.0");
    let defaults =
        f.call("helm_chart_values", json!({"chart": "local/demo-app", "version": "0.1.0"})).await.expect("show values");
    let d = defaults.structured["values"].as_str().expect("text");
    assert!(d.contains("greeting: hello") && d.contains("# Greeting shown by the app."), "{d}");
    let rendered = f.call("helm_template", json!({"release": "preview", "namespace": "apps", "chart": "local/demo-app", "values": "greeting: hey\npassword: topsecret"})).await.expect("template");
    let m = rendered.structured["manifest"].as_str().expect("manifest");
    assert!(m.contains("greeting: \"hey\"") && !m.contains("topsecret"), "{m}");
    assert_eq!(
        rendered.structured["resources"],
        json!([{"kind": "Secret", "name": "preview-secret"}, {"kind": "ConfigMap", "name": "preview-config"}])
    );
    assert!(rendered.structured["command"].as_str().is_some_and(|c| c.contains("--values=<file>")));

    // Install from the repository, with values.
    let installed = f
        .call("helm_release_install", json!({"release": "demo", "namespace": "apps", "chart": "local/demo-app", "values": "greeting: hi\npassword: s3cret"}))
        .await
        .expect("install");
    assert_eq!(installed.structured["release"]["status"], "deployed");
    assert_eq!(installed.structured["release"]["revision"], 1);
    assert_eq!(installed.structured["notes"], "demo greets with hi.");
    let again = f
        .call("helm_release_install", json!({"release": "demo", "namespace": "apps", "chart": "local/demo-app"}))
        .await
        .expect_err("name in use");
    assert!(matches!(again, ToolError::Conflict(_)), "{again}");
    let values = f.call("helm_release_values", json!({"release": "demo", "namespace": "apps"})).await.expect("values");
    assert_eq!(values.structured["values"], json!({"greeting": "hi", "password": "<redacted>"}));
    let cm: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(variants::kube_client(f), "apps");
    let live = cm.get("demo-config").await.expect("configmap created by helm");
    assert_eq!(live.data.unwrap_or_default().get("greeting").map(String::as_str), Some("hi"));

    // Upgrade, then history.
    let upgraded = f.call("helm_release_upgrade", json!({"release": "demo", "namespace": "apps", "chart": "local/demo-app", "values": "greeting: hello there", "reuseValues": true})).await.expect("upgrade");
    assert_eq!(upgraded.structured["release"]["revision"], 2);
    let history =
        f.call("helm_release_history", json!({"release": "demo", "namespace": "apps"})).await.expect("history");
    let statuses: Vec<&str> = history.structured["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["deployed", "superseded"]);
    assert_eq!(
        cm.get("demo-config").await.expect("cm").data.unwrap_or_default().get("greeting").map(String::as_str),
        Some("hello there")
    );

    // Roll back to revision 1: a new revision 3 with revision 1's values.
    let rolled = f
        .call("helm_release_rollback", json!({"release": "demo", "namespace": "apps", "revision": 1}))
        .await
        .expect("rollback");
    assert_eq!(rolled.structured["release"]["revision"], 3);
    assert_eq!(rolled.structured["release"]["description"], "Rollback to 1");
    let values = f
        .call("helm_release_values", json!({"release": "demo", "namespace": "apps"}))
        .await
        .expect("values after rollback");
    assert_eq!(values.structured["values"]["greeting"], "hi");
    assert_eq!(
        cm.get("demo-config").await.expect("cm").data.unwrap_or_default().get("greeting").map(String::as_str),
        Some("hi")
    );

    // Install from a chart directory on the server, with the values tool, then uninstall both.
    let local = f
        .call(
            "helm_release_install_with_values",
            json!({"release": "demo-local", "namespace": "apps", "chart": chart_arg, "values": "greeting: local"}),
        )
        .await
        .expect("install from a path");
    assert_eq!(local.structured["release"]["chart"], "demo-app-0.1.0");
    let listed = f.call("helm_releases_list", json!({"namespace": "apps"})).await.expect("list");
    let names: Vec<&str> =
        listed.structured["releases"].as_array().expect("releases").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, vec!["demo", "demo-local", "podinfo"]);
    f.call("helm_release_uninstall", json!({"release": "demo-local", "namespace": "apps"})).await.expect("uninstall");
    f.call("helm_release_uninstall", json!({"release": "demo", "namespace": "apps", "keepHistory": true}))
        .await
        .expect("uninstall keeping history");
    let gone =
        f.call("helm_release_status", json!({"release": "demo-local", "namespace": "apps"})).await.expect_err("gone");
    assert!(matches!(gone, ToolError::NotFound(_)), "{gone}");
    let kept =
        f.call("helm_release_status", json!({"release": "demo", "namespace": "apps"})).await.expect("history kept");
    assert_eq!(kept.structured["status"], "uninstalled");
    let all = f.call("helm_releases_list", json!({"namespace": "apps", "all": true})).await.expect("list all");
    assert_eq!(all.structured["releases"].as_array().map(Vec::len), Some(2));
    let err = f
        .call("helm_release_uninstall", json!({"release": "never-installed", "namespace": "apps"}))
        .await
        .expect_err("not found");
    assert!(matches!(err, ToolError::NotFound(_)), "{err}");

    f.call("helm_repo_remove", json!({"name": "local"})).await.expect("repo remove");
    let err = f.call("helm_repo_remove", json!({"name": "local"})).await.expect_err("already removed");
    assert!(matches!(err, ToolError::NotFound(_) | ToolError::Unavailable(_)), "{err}");
}
