//! The Helm chart `deploy/helm/binnacle` with the real helm 3 binary (`HELM_BIN`, installed by
//! scripts/test.sh into .cache/tools/helm; the helm tests skip without it): `helm lint`, `helm template` with
//! default and full values (security context, RBAC without Secrets beyond the named ones, schema errors), and
//! `helm install` / `upgrade` / `uninstall` against an in-process simulated cluster. Also: the chart's
//! `crds/` is a copy of `deploy/crds/` (no helm needed).

use binnacle_sim::kubeconfig::{Entry, render};
use binnacle_sim::scenario::parse_documents;
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> String {
    root().join("deploy/helm/binnacle").to_string_lossy().into_owned()
}

fn full_values() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm-full-values.yaml").to_string_lossy().into_owned()
}

/// The helm binary, or `None` (the test then prints why and passes: helm is optional on developer machines).
fn helm_bin() -> Option<PathBuf> {
    let helm = std::env::var_os("HELM_BIN").map(PathBuf::from).filter(|p| p.is_file());
    if helm.is_none() {
        eprintln!("HELM_BIN is not set to a helm binary: skipping (scripts/test.sh installs one)");
    }
    helm
}

/// Runs helm with its own home under `home`; returns (success, stdout, stderr).
fn helm(helm: &Path, home: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(helm)
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .expect("helm runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn helm_ok(bin: &Path, home: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = helm(bin, home, args);
    assert!(ok, "helm {args:?} failed: {stderr}");
    stdout
}

fn objects(yaml: &str) -> Vec<Value> {
    parse_documents("helm template", yaml).expect("rendered YAML parses").into_iter().map(|(_, v)| v).collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objs.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

/// Every rule of every Role/ClusterRole that can touch Secrets names them (resourceNames), except in
/// binnacle-write, the opt-in write role.
fn assert_no_unnamed_secret_access(objs: &[Value]) {
    for role in objs.iter().filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "Role") {
        let name = role["metadata"]["name"].as_str().unwrap_or_default();
        for rule in role["rules"].as_array().into_iter().flatten() {
            let resources: Vec<&str> =
                rule["resources"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let groups: Vec<&str> =
                rule["apiGroups"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let secrets = resources.iter().any(|r| *r == "secrets" || *r == "*")
                && groups.iter().any(|g| g.is_empty() || *g == "*");
            if secrets && name != "binnacle-write" {
                assert!(
                    rule["resourceNames"].as_array().is_some_and(|n| !n.is_empty()),
                    "{} {name} can reach every Secret: {rule}",
                    role["kind"]
                );
            }
        }
    }
}

#[test]
fn the_charts_crds_are_the_generated_ones() {
    let generated = root().join("deploy/crds");
    let in_chart = root().join("deploy/helm/binnacle/crds");
    let names = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".yaml"))
            .collect();
        v.sort();
        v
    };
    let resync = "resync with: cp deploy/crds/*.yaml deploy/helm/binnacle/crds/";
    assert_eq!(names(&generated), names(&in_chart), "the chart's crds/ lists other files than deploy/crds/; {resync}");
    for name in names(&generated) {
        let a = std::fs::read_to_string(generated.join(&name)).expect("read");
        let b = std::fs::read_to_string(in_chart.join(&name)).expect("read");
        assert!(a == b, "deploy/helm/binnacle/crds/{name} differs from deploy/crds/{name}; {resync}");
    }
}

#[test]
fn helm_lint_and_template_with_default_and_full_values() {
    let Some(bin) = helm_bin() else { return };
    let home = tempfile::tempdir().expect("tempdir");
    let home = home.path();
    let chart = chart();
    helm_ok(&bin, home, &["lint", &chart]);
    helm_ok(&bin, home, &["lint", &chart, "-f", &full_values()]);

    // Default values: the operator, read-only tools, no write role, no Secrets, no Binnacle.
    let objs = objects(&helm_ok(&bin, home, &["template", "b", &chart, "-n", "binnacle-system"]));
    let deploy = find(&objs, "Deployment", "b-binnacle-operator").expect("operator Deployment");
    let pod = &deploy["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "ghcr.io/binnacle-dev/binnacle:0.1.0");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(c["resources"]["limits"]["memory"].is_string(), "{c}");
    let args: Vec<&str> = c["args"].as_array().expect("args").iter().filter_map(Value::as_str).collect();
    assert_eq!(args[0], "operator");
    assert!(args.contains(&"--leader-election-namespace=binnacle-system"), "{args:?}");
    assert!(args.contains(&"--image=ghcr.io/binnacle-dev/binnacle:0.1.0"), "{args:?}");
    assert!(!args.iter().any(|a| a.starts_with("--namespace")), "{args:?}");
    assert_eq!(pod["serviceAccountName"], "b-binnacle");
    assert!(find(&objs, "ClusterRole", "binnacle-read").is_some());
    assert!(find(&objs, "ClusterRole", "binnacle-write").is_none(), "write is opt-in");
    assert!(find(&objs, "NetworkPolicy", "b-binnacle-operator").is_some());
    assert!(!objs.iter().any(|o| o["kind"] == "Binnacle"));
    assert!(!objs.iter().any(|o| o["kind"] == "Role" && o["metadata"]["name"] == "b-binnacle-secrets"));
    assert_no_unnamed_secret_access(&objs);
    // The operator's own role never reaches Secrets at all.
    let op = find(&objs, "ClusterRole", "b-binnacle-operator").expect("operator ClusterRole");
    assert!(!op.to_string().contains("secrets"), "{op}");
    let lease = find(&objs, "Role", "b-binnacle-leader-election").expect("lease Role");
    assert_eq!(lease["metadata"]["namespace"], "binnacle-system");

    // Full values: everything passed through.
    let objs = objects(&helm_ok(&bin, home, &["template", "b", &chart, "-n", "ops", "-f", &full_values()]));
    let deploy = find(&objs, "Deployment", "b-binnacle-operator").expect("operator Deployment");
    assert_eq!(deploy["spec"]["replicas"], 2);
    let c = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.example.com/binnacle:9.9.9");
    let args: Vec<&str> = c["args"].as_array().expect("args").iter().filter_map(Value::as_str).collect();
    for want in ["--namespace=team-a", "--leader-election-namespace=binnacle-leases", "--metrics-listen=0.0.0.0:9191"] {
        assert!(args.contains(&want), "{want} missing from {args:?}");
    }
    assert!(find(&objs, "ClusterRole", "binnacle-write").is_some());
    let secrets = find(&objs, "Role", "b-binnacle-secrets").expect("named Secrets Role");
    assert_eq!(secrets["metadata"]["namespace"], "ops");
    assert_eq!(secrets["rules"][0]["resourceNames"], json!(["binnacle-db", "binnacle-llm"]));
    assert_eq!(secrets["rules"][0]["verbs"], json!(["get"]));
    assert_no_unnamed_secret_access(&objs);
    assert_eq!(
        find(&objs, "Role", "b-binnacle-leader-election").expect("lease Role")["metadata"]["namespace"],
        "binnacle-leases"
    );
    let cr = find(&objs, "Binnacle", "main").expect("Binnacle CR");
    assert_eq!(cr["apiVersion"], "binnacle.dev/v1alpha1");
    assert_eq!(cr["spec"]["llm"]["provider"], "anthropic");
    assert_eq!(cr["spec"]["database"]["urlSecretRef"], json!({"name": "binnacle-db", "key": "url"}));
    assert_eq!(cr["spec"]["ingress"]["host"], "binnacle.example.com");
    assert_eq!(cr["spec"]["tools"], "readWrite");
    let np = find(&objs, "NetworkPolicy", "b-binnacle-operator").expect("NetworkPolicy");
    assert_eq!(
        np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "monitoring"
    );

    // The schema refuses bad values with the field and the allowed ones; nothing is rendered.
    let (ok, stdout, stderr) = helm(
        &bin,
        home,
        &["template", "b", &chart, "--set", "binnacle.enabled=true", "--set", "binnacle.spec.llm.provider=gpt"],
    );
    assert!(!ok && stdout.is_empty(), "a bad provider was accepted: {stdout}");
    assert!(
        stderr.contains("binnacle.spec.llm.provider") && stderr.contains("\"offline\", \"openai\", \"anthropic\""),
        "{stderr}"
    );
    let (ok, _, stderr) = helm(&bin, home, &["template", "b", &chart, "--set", "binnacle.spec.tool=readOnly"]);
    assert!(!ok && stderr.contains("tool"), "a misspelt key was accepted: {stderr}");
    let (ok, _, stderr) = helm(&bin, home, &["template", "b", &chart, "--set", "rbac.secretNames={Not_A_Name}"]);
    assert!(!ok && stderr.contains("rbac.secretNames"), "{stderr}");
    // readWrite tools without the write role: refused with what to do.
    let (ok, _, stderr) = helm(
        &bin,
        home,
        &["template", "b", &chart, "--set", "binnacle.enabled=true", "--set", "binnacle.spec.tools=readWrite"],
    );
    assert!(!ok && stderr.contains("set rbac.write.enabled=true"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_upgrade_and_uninstall_against_the_simulated_cluster() {
    let Some(bin) = helm_bin() else { return };
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, ..SimOptions::default() }).await.expect("sim");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = sim.serve(listener).expect("serve");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, render(&[Entry { name: "sim".into(), server: format!("http://{addr}") }]))
        .expect("kubeconfig");
    let kc = kubeconfig.to_string_lossy().into_owned();
    let home = dir.path().join("helm-home");
    let chart = chart();
    let client = kube::Client::new(sim.router(), "default");

    let get = |api: &'static str, path: String| {
        let client = client.clone();
        async move {
            let req = http::Request::get(format!("{api}{path}")).body(Vec::new()).expect("request");
            client.request::<Value>(req).await.ok()
        }
    };

    let bg = tokio::task::spawn_blocking({
        let (bin, home, chart, kc) = (bin.clone(), home.clone(), chart.clone(), kc.clone());
        move || {
            helm_ok(
                &bin,
                &home,
                &[
                    "install",
                    "b",
                    &chart,
                    "--kubeconfig",
                    &kc,
                    "-n",
                    "binnacle-system",
                    "--create-namespace",
                    "--set",
                    "binnacle.enabled=true",
                    "--set",
                    "binnacle.name=main",
                ],
            )
        }
    });
    bg.await.expect("helm install");

    // CRDs from crds/, the operator and its RBAC, the tools' read role, the Binnacle.
    for crd in ["binnacles.binnacle.dev", "gateways.binnacle.dev"] {
        assert!(
            get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/", crd.into()).await.is_some(),
            "CRD {crd} not installed"
        );
    }
    let deploy = get("/apis/apps/v1/namespaces/binnacle-system/deployments/", "b-binnacle-operator".into())
        .await
        .expect("operator Deployment created");
    assert_eq!(deploy["spec"]["replicas"], 1);
    assert_eq!(deploy["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"], true);
    assert!(get("/api/v1/namespaces/binnacle-system/serviceaccounts/", "b-binnacle".into()).await.is_some());
    let rbac = "/apis/rbac.authorization.k8s.io/v1/";
    assert!(get(rbac, "clusterroles/binnacle-read".into()).await.is_some());
    assert!(get(rbac, "clusterroles/binnacle-write".into()).await.is_none());
    assert!(get(rbac, "clusterroles/b-binnacle-operator".into()).await.is_some());
    let crb = get(rbac, "clusterrolebindings/b-binnacle-operator".into()).await.expect("operator binding");
    assert_eq!(crb["subjects"][0]["name"], "b-binnacle");
    assert!(get(rbac, "namespaces/binnacle-system/roles/b-binnacle-leader-election".into()).await.is_some());
    let cr = get("/apis/binnacle.dev/v1alpha1/namespaces/binnacle-system/binnacles/", "main".into())
        .await
        .expect("Binnacle created");
    assert_eq!(cr["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");

    // Upgrade: two operator replicas, the write role, named Secrets, readWrite tools.
    let bg = tokio::task::spawn_blocking({
        let (bin, home, chart, kc) = (bin.clone(), home.clone(), chart.clone(), kc.clone());
        move || {
            helm_ok(
                &bin,
                &home,
                &[
                    "upgrade",
                    "b",
                    &chart,
                    "--kubeconfig",
                    &kc,
                    "-n",
                    "binnacle-system",
                    "--reuse-values",
                    "--set",
                    "operator.replicas=2",
                    "--set",
                    "rbac.write.enabled=true",
                    "--set",
                    "rbac.secretNames={binnacle-llm}",
                    "--set",
                    "binnacle.spec.tools=readWrite",
                ],
            )
        }
    });
    bg.await.expect("helm upgrade");
    let deploy = get("/apis/apps/v1/namespaces/binnacle-system/deployments/", "b-binnacle-operator".into())
        .await
        .expect("operator Deployment");
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert!(get(rbac, "clusterroles/binnacle-write".into()).await.is_some());
    let role = get(rbac, "namespaces/binnacle-system/roles/b-binnacle-secrets".into()).await.expect("Secrets Role");
    assert_eq!(role["rules"][0]["resourceNames"], json!(["binnacle-llm"]));
    let cr = get("/apis/binnacle.dev/v1alpha1/namespaces/binnacle-system/binnacles/", "main".into())
        .await
        .expect("Binnacle");
    assert_eq!(cr["spec"]["tools"], "readWrite");
    let history = {
        let (bin, home, kc) = (bin.clone(), home.clone(), kc.clone());
        tokio::task::spawn_blocking(move || {
            helm_ok(&bin, &home, &["history", "b", "--kubeconfig", &kc, "-n", "binnacle-system", "-o", "json"])
        })
        .await
        .expect("helm history")
    };
    let history: Value = serde_json::from_str(&history).expect("history JSON");
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    // Uninstall: everything the release made is gone; CRDs stay (Helm never deletes crds/).
    let bg = tokio::task::spawn_blocking({
        let (bin, home, kc) = (bin.clone(), home.clone(), kc.clone());
        move || helm_ok(&bin, &home, &["uninstall", "b", "--kubeconfig", &kc, "-n", "binnacle-system"])
    });
    bg.await.expect("helm uninstall");
    assert!(get("/apis/apps/v1/namespaces/binnacle-system/deployments/", "b-binnacle-operator".into()).await.is_none());
    for path in [
        "clusterroles/binnacle-read",
        "clusterroles/binnacle-write",
        "clusterroles/b-binnacle-operator",
        "clusterrolebindings/b-binnacle-operator",
        "namespaces/binnacle-system/roles/b-binnacle-secrets",
    ] {
        assert!(get(rbac, path.into()).await.is_none(), "{path} left behind");
    }
    assert!(get("/apis/binnacle.dev/v1alpha1/namespaces/binnacle-system/binnacles/", "main".into()).await.is_none());
    assert!(
        get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/", "binnacles.binnacle.dev".into())
            .await
            .is_some()
    );
}
