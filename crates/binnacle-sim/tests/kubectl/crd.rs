//! CustomResourceDefinitions and custom resources.

use crate::harness::*;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
              replicas: {type: integer}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3, color: blue, replicas: 1}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_lifecycle_and_custom_resources() {
    let k = Sim::empty().await;
    assert_eq!(
        apply(&k, "crd.yaml", CRD).await.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"
    );
    let established =
        k.kubectl(&["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"]).await;
    assert_eq!(
        established.ok().trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met"
    );
    // The new kind is in discovery (kubectl refreshes its cache on a miss).
    assert_eq!(apply(&k, "w1.yaml", WIDGET).await.trim(), "widget.example.com/w1 created");
    let resources = k.kubectl(&["api-resources", "--api-group=example.com"]).await;
    assert!(norm(resources.ok()).contains("widgets wg example.com/v1 true Widget"), "{resources}");

    // Printer columns.
    let out = k.kubectl(&["get", "widgets"]).await;
    assert_eq!(out.rows(), [vec!["NAME", "SIZE", "COLOR", "AGE"], vec!["w1", "3", "blue", "<age>"]], "{out}");
    let wide = k.kubectl(&["get", "wg", "-A"]).await;
    assert_eq!(wide.rows()[1], ["default", "w1", "3", "blue", "<age>"], "{wide}");
    assert_eq!(k.ok(&["get", "widget.example.com/w1", "-o", "jsonpath={.spec.color}"]).await, "blue");

    // Merge patch works; strategic merge patch is refused for custom resources.
    assert_eq!(
        k.ok(&["patch", "widget", "w1", "--type=merge", "-p", r#"{"spec":{"size":5}}"#]).await.trim(),
        "widget.example.com/w1 patched"
    );
    assert_eq!(k.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"]).await, "5");
    let smp = k.kubectl(&["patch", "widget", "w1", "-p", r#"{"spec":{"size":6}}"#]).await;
    smp.err();
    let refused = k.last_request("PATCH", "/widgets/w1");
    assert_eq!((refused.content_type.as_str(), refused.status), ("application/strategic-merge-patch+json", 415));
    assert_eq!(
        smp.stderr.trim(),
        // kubectl wraps the server's 415 UnsupportedMediaType with the patch type and kind.
        "error: application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        "{smp}"
    );
    let json = k
        .kubectl(&[
            "patch",
            "widget",
            "w1",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/color","value":"green"}]"#,
        ])
        .await;
    assert_eq!(json.ok().trim(), "widget.example.com/w1 patched");

    // Client-side apply of a changed custom resource uses a merge patch.
    let v2 = k.file("w1-v2.yaml", &WIDGET.replace("color: blue", "color: red"));
    assert_eq!(k.ok(&["apply", "-f", &v2]).await.trim(), "widget.example.com/w1 configured");
    let patch = k.last_request("PATCH", "/widgets/w1");
    assert_eq!(patch.content_type, "application/merge-patch+json", "{patch:?}");
    assert_eq!(k.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.color}"]).await, "red");

    // Status and scale subresources.
    let status = k
        .kubectl(&[
            "patch",
            "widget",
            "w1",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"phase":"Ready","replicas":1},"spec":{"size":99}}"#,
        ])
        .await;
    assert_eq!(status.ok().trim(), "widget.example.com/w1 patched");
    let w = k.json(&["get", "widget", "w1"]).await;
    assert_eq!(w["status"]["phase"], "Ready", "{w:#}");
    // apply v2 (a three-way merge patch) set size back to 3; the status patch's spec.size is ignored.
    assert_eq!(w["spec"]["size"], 3, "a status patch must not touch spec: {w:#}");
    assert_eq!(k.ok(&["scale", "widget", "w1", "--replicas=4"]).await.trim(), "widget.example.com/w1 scaled");
    assert_eq!(k.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.replicas}"]).await, "4");

    let describe = k.ok(&["describe", "widget", "w1"]).await;
    for want in ["Name: w1", "Namespace: default", "API Version: example.com/v1", "Kind: Widget", "Color: red"] {
        assert!(norm(&describe).lines().any(|l| l == want), "describe lacks {want:?}:\n{describe}");
    }

    assert_eq!(k.ok(&["delete", "widget", "w1"]).await.trim(), "widget.example.com \"w1\" deleted");
    let none = k.kubectl(&["get", "widgets"]).await;
    assert_eq!(none.stderr.trim(), "No resources found in default namespace.", "{none}");

    // Deleting the CRD removes the type.
    apply(&k, "w1.yaml", WIDGET).await;
    assert_eq!(
        k.ok(&["delete", "crd", "widgets.example.com"]).await.trim(),
        "customresourcedefinition.apiextensions.k8s.io \"widgets.example.com\" deleted"
    );
    let gone = k.wait_until(&["get", "widgets"], secs(20), |o| !o.success()).await;
    // With widgets still in kubectl's discovery cache the list is a 404; with a fresh cache the type is unknown.
    let fresh = k.dir.path().join("fresh-cache");
    let fresh = format!("--cache-dir={}", fresh.display());
    assert!(gone.stderr.contains("the server could not find the requested resource"), "{gone}");
    let unknown = k.kubectl(&[&fresh, "get", "widgets"]).await;
    unknown.err();
    assert_eq!(unknown.stderr.trim(), "error: the server doesn't have a resource type \"widgets\"", "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_in_demo_scenario_prints_columns() {
    let k = Sim::demo().await;
    let out = k.kubectl(&["get", "rollouts.argoproj.io", "-n", "rollouts"]).await;
    assert_eq!(out.rows()[0], ["NAME", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE", "AGE"], "{out}");
    assert_eq!(out.rows()[1][..2], ["checkout", "5"], "{out}");
    let crds = k.kubectl(&["get", "crd"]).await;
    let names = first_column(crds.ok(), true);
    assert!(names.contains(&"rollouts.argoproj.io".to_string()), "{crds}");
    assert_eq!(crds.rows()[0], ["NAME", "CREATED", "AT"], "{crds}");
}
