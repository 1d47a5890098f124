//! Helm releases stored the way Helm 3 stores them: a Secret `sh.helm.release.v1.<name>.v<N>` of type
//! `helm.sh/release.v1` whose `release` key holds base64 of the gzipped release JSON.

use crate::cluster::Cluster;
use crate::error::ApiResult;
use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::Write;

/// Builds the Secret for one revision of a release.
pub fn helm_release_secret(release: &Value, created: &str) -> Value {
    let name = release.get("name").and_then(Value::as_str).unwrap_or_default();
    let namespace = release.get("namespace").and_then(Value::as_str).unwrap_or("default");
    let version = release.get("version").and_then(Value::as_i64).unwrap_or(1);
    let status = release.pointer("/info/status").and_then(Value::as_str).unwrap_or("deployed");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    let _ = gz.write_all(release.to_string().as_bytes());
    let compressed = gz.finish().unwrap_or_default();
    let helm_encoded = base64::engine::general_purpose::STANDARD.encode(compressed);
    // Secret data is base64 in the API, so the stored value is base64 of Helm's base64 text.
    let api_encoded = base64::engine::general_purpose::STANDARD.encode(helm_encoded);
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": format!("sh.helm.release.v1.{name}.v{version}"),
            "namespace": namespace,
            "labels": {"name": name, "owner": "helm", "status": status, "version": version.to_string(), "modifiedAt": modified_at(created)},
        },
        "data": {"release": api_encoded}
    })
}

/// Helm labels releases with the modification time as Unix seconds.
fn modified_at(created: &str) -> String {
    created.parse::<jiff::Timestamp>().map(|t| t.as_second().to_string()).unwrap_or_default()
}

const PODINFO_MANIFEST: &str = "---\n# Source: podinfo/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  labels:\n    app.kubernetes.io/name: podinfo\n    app.kubernetes.io/managed-by: Helm\nspec:\n  type: ClusterIP\n  ports:\n    - port: 9898\n      targetPort: http\n      protocol: TCP\n      name: http\n  selector:\n    app.kubernetes.io/name: podinfo\n---\n# Source: podinfo/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  labels:\n    app.kubernetes.io/name: podinfo\n    app.kubernetes.io/managed-by: Helm\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: podinfo\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: podinfo\n    spec:\n      containers:\n        - name: podinfo\n          image: ghcr.io/stefanprodan/podinfo:6.7.1\n          ports:\n            - name: http\n              containerPort: 9898\n              protocol: TCP\n          resources:\n            requests:\n              cpu: 50m\n              memory: 64Mi\n";

fn podinfo_release(version: i64, replicas: i64, status: &str, description: &str, when: &str) -> Value {
    chart_release("podinfo", "apps", version, replicas, status, description, when)
}

fn chart_release(
    name: &str,
    namespace: &str,
    version: i64,
    replicas: i64,
    status: &str,
    description: &str,
    when: &str,
) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "version": version,
        "info": {"first_deployed": when, "last_deployed": when, "deleted": "", "description": description, "status": status,
                 "notes": format!("podinfo is running. Try: kubectl -n {namespace} port-forward svc/podinfo 9898")},
        "chart": {
            "metadata": {"name": "podinfo", "version": "6.7.1", "appVersion": "6.7.1", "apiVersion": "v2",
                         "description": "Podinfo Helm chart for Kubernetes", "type": "application"},
            "values": {"replicaCount": 1, "image": {"repository": "ghcr.io/stefanprodan/podinfo", "tag": "6.7.1"}, "service": {"type": "ClusterIP", "port": 9898}},
            "templates": [], "files": []
        },
        "config": {"replicaCount": replicas},
        "manifest": PODINFO_MANIFEST.replace("replicas: 2", &format!("replicas: {replicas}")),
        "hooks": []
    })
}

/// The demo's `podinfo` release in namespace `apps`: revision 1 superseded, revision 2 deployed, with the
/// objects of its manifest.
pub fn load_demo_release(cluster: &Cluster) -> ApiResult<()> {
    super::base::ensure_namespace(cluster, "apps")?;
    let secrets = cluster.resource("", "v1", "secrets")?;
    let now = cluster.now_string();
    let r1 = podinfo_release(1, 1, "superseded", "Install complete", &now);
    let r2 = podinfo_release(2, 2, "deployed", "Upgrade complete", &now);
    for release in [r1, r2] {
        cluster.create_with_status(&secrets, "apps", helm_release_secret(&release, &now), "helm")?;
    }
    let annotations = json!({"meta.helm.sh/release-name": "podinfo", "meta.helm.sh/release-namespace": "apps"});
    let objects = super::parse_documents("podinfo", PODINFO_MANIFEST)
        .map_err(|e| crate::error::ApiError::internal(e.to_string()))?;
    for (_, mut obj) in objects {
        obj["metadata"]["annotations"] = annotations.clone();
        obj["metadata"]["namespace"] = json!("apps");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let rt = if kind == "Service" {
            cluster.resource("", "v1", "services")?
        } else {
            cluster.resource("apps", "v1", "deployments")?
        };
        cluster.create_with_status(&rt, "apps", obj, "helm")?;
    }
    load_failed_release(cluster, &secrets, &now)
}

/// The demo's planted Helm fault: release `edge-proxy` in namespace `edge`, whose only revision (an install)
/// failed; Helm created none of its objects.
fn load_failed_release(cluster: &Cluster, secrets: &crate::registry::ResourceType, now: &str) -> ApiResult<()> {
    super::base::ensure_namespace(cluster, "edge")?;
    let failed = chart_release(
        "edge-proxy",
        "edge",
        1,
        2,
        "failed",
        "Release \"edge-proxy\" failed: failed pre-install: timed out waiting for the condition",
        now,
    );
    cluster.create_with_status(secrets, "edge", helm_release_secret(&failed, now), "helm")?;
    Ok(())
}
