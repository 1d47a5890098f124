//! Error classes as kubectl prints them: Invalid, NotFound, unknown types, strict field validation.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects() {
    let k = Sim::empty().await;
    let bad = k.file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\ndata: {a: b}\n");
    let out = k.kubectl(&["apply", "-f", &bad]).await;
    out.err();
    out.stderr_has(&[
        "The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
    ]);
    let out = k.kubectl(&["create", "configmap", "Bad_Name"]).await;
    out.err();
    out.stderr_has(&["error: failed to create configmap: ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""]);

    let neg = k.file("neg.yaml", &deployment("web", 1, "nginx:1.27").replace("replicas: 1", "replicas: -1"));
    let out = k.kubectl(&["apply", "-f", &neg]).await;
    out.err();
    out.stderr_has(&[
        "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ]);

    // Immutable fields.
    apply(&k, "web.yaml", &deployment("web", 1, "nginx:1.27")).await;
    let out = k
        .kubectl(&["patch", "deploy", "web", "--type=merge", "-p", r#"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#])
        .await;
    out.err();
    out.stderr_has(&["The Deployment \"web\" is invalid:", "spec.selector: Invalid value:", "field is immutable"]);
    // A selector that does not match the template labels.
    let mismatch = k.file(
        "mismatch.yaml",
        &deployment("api", 1, "nginx:1.27")
            .replace("    metadata:\n      labels: {app: api}", "    metadata:\n      labels: {app: nope}"),
    );
    let out = k.kubectl(&["apply", "-f", &mismatch]).await;
    out.err();
    out.stderr_has(&[
        "The Deployment \"api\" is invalid: spec.template.metadata.labels: Invalid value:",
        "`selector` does not match template `labels`",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_errors() {
    let k = Sim::empty().await;
    let out = k.kubectl(&["get", "pod", "nope"]).await;
    out.err();
    assert_eq!(out.stderr.trim(), "Error from server (NotFound): pods \"nope\" not found");
    let out = k.kubectl(&["create", "configmap", "x", "-n", "missing"]).await;
    out.err();
    assert_eq!(out.stderr.trim(), "error: failed to create configmap: namespaces \"missing\" not found");
    let cm = k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: missing}\n");
    let out = k.kubectl(&["apply", "-f", &cm]).await;
    out.err();
    assert_eq!(
        out.stderr.trim(),
        format!("Error from server (NotFound): error when creating \"{cm}\": namespaces \"missing\" not found")
    );
    let out = k.kubectl(&["get", "pods", "-n", "missing"]).await;
    assert_eq!(out.ok(), "");
    assert_eq!(out.stderr.trim(), "No resources found in missing namespace.");
    let out = k.kubectl(&["describe", "deploy", "nope"]).await;
    out.err();
    assert_eq!(out.stderr.trim(), "Error from server (NotFound): deployments.apps \"nope\" not found");
    let out = k.kubectl(&["logs", "nope"]).await;
    out.err();
    assert_eq!(
        out.stderr.trim(),
        "error: error from server (NotFound): pods \"nope\" not found in namespace \"default\""
    );
    let out = k.kubectl(&["get", "frobs"]).await;
    out.err();
    assert_eq!(out.stderr.trim(), "error: the server doesn't have a resource type \"frobs\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_field_validation() {
    let k = Sim::empty().await;
    let typo = k.file("typo.yaml", &deployment("web", 1, "nginx:1.27").replace("  replicas: 1", "  replica: 1"));
    let out = k.kubectl(&["apply", "-f", &typo]).await;
    out.err();
    assert_eq!(
        out.stderr.trim(),
        format!(
            "Error from server (BadRequest): error when creating \"{typo}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""
        )
    );
    not_created(&k).await;
    // --validate=warn: created, with a warning.
    let out = k.kubectl(&["apply", "-f", &typo, "--validate=warn"]).await;
    assert_eq!(out.ok().trim(), "deployment.apps/web created");
    out.stderr_has(&["Warning: unknown field \"spec.replica\""]);
    // --validate=false: ignored silently.
    let other = k.file("typo2.yaml", &deployment("api", 1, "nginx:1.27").replace("  replicas: 1", "  replica: 1"));
    let out = k.kubectl(&["apply", "-f", &other, "--validate=false"]).await;
    assert_eq!(out.ok().trim(), "deployment.apps/api created");
    assert!(!out.stderr.contains("Warning"), "{out}");
}

async fn not_created(k: &Sim) {
    let out = k.kubectl(&["get", "deploy", "web"]).await;
    out.err();
}

/// The API server's name-validation message ends with the regex; it does not repeat the value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_name_message_matches_api_server() {
    let k = Sim::empty().await;
    let bad = k.file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n");
    let out = k.kubectl(&["create", "-f", &bad]).await;
    out.err();
    assert_eq!(
        out.stderr.trim(),
        r#"The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
    );
}
