//! kube-rs as an oracle: the official Rust client, talking to the simulated cluster in process through its
//! tower service, must list, watch, apply, detect conflicts, dry-run, scale, read logs and publish events.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use std::time::Duration;

use binnacle_sim::{Scenario, SimCluster, SimOptions};

async fn sim(scenario: Scenario) -> (SimCluster, Client) {
    let sim =
        SimCluster::start(SimOptions { scenario, speed: 10.0, ..SimOptions::default() }).await.expect("sim starts");
    let client = Client::new(sim.router(), "default");
    (sim, client)
}

fn configmap(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})).expect("valid configmap")
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn discovery_legacy_and_aggregated() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "32"));
    for discovery in [
        Discovery::new(client.clone()).run().await.expect("legacy"),
        Discovery::new(client.clone()).run_aggregated().await.expect("aggregated"),
    ] {
        let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
        for g in
            ["", "apps", "batch", "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "metrics.k8s.io"]
        {
            assert!(groups.iter().any(|x| x == g), "group {g:?} missing from {groups:?}");
        }
        let apps = discovery.get("apps").expect("apps group");
        assert!(apps.recommended_resources().iter().any(|(ar, _)| ar.plural == "deployments"));
    }
}

#[tokio::test]
async fn list_with_selectors_and_pages() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..25 {
        let tier = if i % 2 == 0 { "fe" } else { "be" };
        cms.create(&PostParams::default(), &configmap(&format!("cm-{i:02}"), json!({"tier": tier})))
            .await
            .expect("create");
    }
    let fe = cms.list(&ListParams::default().labels("tier=fe")).await.expect("list");
    assert_eq!(fe.items.len(), 13);
    let named = cms.list(&ListParams::default().fields("metadata.name=cm-03")).await.expect("list");
    assert_eq!(named.items.len(), 1);
    let bad = cms.list(&ListParams::default().fields("data.k=v")).await.expect_err("unsupported field");
    assert!(bad.to_string().contains("field label not supported"), "{bad}");
    // Paging: 10 per page, every object exactly once.
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(10).labels("tier");
    loop {
        let page = cms.list(&params).await.expect("page");
        seen.extend(page.items.iter().map(|c| c.name_any()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 25);
    seen.dedup();
    assert_eq!(seen.len(), 25);
    let metadata_only = cms.list_metadata(&ListParams::default().labels("tier=be")).await.expect("metadata list");
    assert_eq!(metadata_only.items.len(), 12);
}

#[tokio::test]
async fn watcher_sees_changes() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let stream = watcher(cms.clone(), watcher::Config::default().labels("watched=yes")).boxed();
    let events = tokio::spawn(async move {
        stream
            .try_filter_map(|e| async move {
                Ok(match e {
                    watcher::Event::Apply(cm) => Some(format!("apply {}", cm.name_any())),
                    watcher::Event::Delete(cm) => Some(format!("delete {}", cm.name_any())),
                    _ => None,
                })
            })
            .take(3)
            .try_collect::<Vec<_>>()
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cms.create(&PostParams::default(), &configmap("w1", json!({"watched": "yes"}))).await.expect("create");
    cms.create(&PostParams::default(), &configmap("ignored", json!({"watched": "no"}))).await.expect("create");
    cms.patch("w1", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "v2"}}))).await.expect("patch");
    cms.delete("w1", &DeleteParams::default()).await.expect("delete");
    let got = tokio::time::timeout(Duration::from_secs(10), events)
        .await
        .expect("watch events in time")
        .expect("task")
        .expect("stream");
    assert_eq!(got, vec!["apply w1", "apply w1", "delete w1"]);
}

#[tokio::test]
async fn streaming_list_watch() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &configmap("pre", json!({"s": "1"}))).await.expect("create");
    let mut stream = watcher(cms, watcher::Config::default().labels("s=1").streaming_lists()).boxed();
    let mut saw_init_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, stream.next()).await {
        if let Ok(watcher::Event::InitDone) = ev {
            saw_init_done = true;
            break;
        }
    }
    assert!(saw_init_done, "streaming list must end its initial events with a bookmark");
}

#[tokio::test]
async fn server_side_apply_and_conflicts() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"key": "one"}});
    let cm = cms.patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&applied)).await.expect("apply creates");
    assert_eq!(cm.data.as_ref().and_then(|d| d.get("key")).map(String::as_str), Some("one"));
    assert!(
        cm.metadata.managed_fields.as_ref().is_some_and(|m| m.iter().any(|e| e.manager.as_deref() == Some("alice")))
    );
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"key": "two"}});
    let err = cms.patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(&other)).await.expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(s.message.contains("conflict with \"alice\""), "{}", s.message);
        }
        other => panic!("unexpected {other}"),
    }
    let forced = cms.patch("ssa", &PatchParams::apply("bob").force(), &Patch::Apply(&other)).await.expect("force");
    assert_eq!(forced.data.as_ref().and_then(|d| d.get("key")).map(String::as_str), Some("two"));
}

#[tokio::test]
async fn stale_update_conflicts_and_dry_run_changes_nothing() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = cms.create(&PostParams::default(), &configmap("c", json!({}))).await.expect("create");
    let mut first = created.clone();
    first.data = Some([("k".to_string(), "first".to_string())].into());
    cms.replace("c", &PostParams::default(), &first).await.expect("first replace");
    let mut stale = created.clone();
    stale.data = Some([("k".to_string(), "stale".to_string())].into());
    let err = cms.replace("c", &PostParams::default(), &stale).await.expect_err("stale");
    assert!(matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"), "{err}");
    let dry = PostParams { dry_run: true, ..Default::default() };
    cms.create(&dry, &configmap("dry", json!({}))).await.expect("dry-run create");
    assert!(cms.get_opt("dry").await.expect("get").is_none(), "dry run must not store");
    let dry_patch = PatchParams { dry_run: true, ..Default::default() };
    let patched = cms.patch("c", &dry_patch, &Patch::Merge(json!({"data": {"k": "dry"}}))).await.expect("dry patch");
    assert_eq!(patched.data.as_ref().and_then(|d| d.get("k")).map(String::as_str), Some("dry"));
    let stored = cms.get("c").await.expect("get");
    assert_eq!(stored.data.as_ref().and_then(|d| d.get("k")).map(String::as_str), Some("first"));
}

/// Every object in the store, by storage key, namespace and name.
fn store_contents(sim: &SimCluster) -> std::collections::BTreeMap<String, serde_json::Value> {
    let (_, objects) = sim.cluster().store().snapshot();
    objects
        .into_iter()
        .map(|(sk, o)| {
            let key = format!("{sk:?} {} {}", o["metadata"]["namespace"], o["metadata"]["name"]);
            (key, (*o).clone())
        })
        .collect()
}

#[tokio::test]
async fn dry_runs_of_every_verb_change_nothing() {
    use k8s_openapi::api::core::v1::Service;
    use kube::api::EvictParams;
    let sim = SimCluster::start(SimOptions { scenario: Scenario::Empty, controllers: false, ..SimOptions::default() })
        .await
        .expect("sim starts");
    let client = Client::new(sim.router(), "default");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let cm = cms.create(&PostParams::default(), &configmap("c", json!({"app": "c"}))).await.expect("create cm");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
    }))
    .expect("deployment");
    let d = deploys.create(&PostParams::default(), &d).await.expect("create deployment");
    let pod: Pod = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "p"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox:1.36"}]}}),
    )
    .expect("pod");
    pods.create(&PostParams::default(), &pod).await.expect("create pod");
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let node: k8s_openapi::api::core::v1::Node =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}))
            .expect("node");
    nodes.create(&PostParams::default(), &node).await.expect("create node");

    let rv = sim.cluster().store().current_rv();
    let before = store_contents(&sim);
    let mut events = sim.cluster().store().subscribe();
    let dry_post = PostParams { dry_run: true, ..Default::default() };
    let dry_patch = PatchParams { dry_run: true, ..Default::default() };
    let live_rv = d.metadata.resource_version.clone();

    // create, and the Service IP a dry run shows is not used up
    cms.create(&dry_post, &configmap("new", json!({}))).await.expect("dry create");
    let svc: Service = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}))
    .expect("service");
    let dry_ip = services.create(&dry_post, &svc).await.expect("dry service").spec.and_then(|s| s.cluster_ip);
    // update (PUT), with and without a resourceVersion
    let mut changed = cm.clone();
    changed.data = Some([("k".to_string(), "dry".to_string())].into());
    cms.replace("c", &dry_post, &changed).await.expect("dry replace");
    changed.metadata.resource_version = None;
    let replaced = cms.replace("c", &dry_post, &changed).await.expect("dry replace without resourceVersion");
    assert_eq!(replaced.metadata.resource_version, cm.metadata.resource_version, "a dry run keeps the version");
    // patch: merge, JSON, strategic, server-side apply (update and create), status
    let merged =
        deploys.patch("web", &dry_patch, &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.expect("merge");
    assert_eq!(merged.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(merged.metadata.resource_version, live_rv);
    let json_patch = http::Request::patch("/apis/apps/v1/namespaces/default/deployments/web?dryRun=All")
        .header("content-type", "application/json-patch+json")
        .body(serde_json::to_vec(&json!([{"op": "replace", "path": "/spec/replicas", "value": 4}])).expect("ops"))
        .expect("request");
    let patched: serde_json::Value = client.request(json_patch).await.expect("json patch");
    assert_eq!(patched["spec"]["replicas"], 4);
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28"}]}}}});
    deploys.patch("web", &dry_patch, &Patch::Strategic(image)).await.expect("strategic");
    let apply = PatchParams { dry_run: true, ..PatchParams::apply("tester").force() };
    cms.patch(
        "c",
        &apply,
        &Patch::Apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "applied"}}),
        ),
    )
    .await
    .expect("apply");
    cms.patch(
        "fresh",
        &apply,
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fresh"}})),
    )
    .await
    .expect("apply create");
    deploys.patch_status("web", &dry_patch, &Patch::Merge(json!({"status": {"replicas": 9}}))).await.expect("status");
    // the scale subresource, patched and replaced
    let scale =
        deploys.patch_scale("web", &dry_patch, &Patch::Merge(json!({"spec": {"replicas": 5}}))).await.expect("scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(scale.metadata.resource_version, live_rv, "the dry-run Scale carries the object's version");
    let mut scale = deploys.get_scale("web").await.expect("get scale");
    scale.spec = Some(k8s_openapi::api::autoscaling::v1::ScaleSpec { replicas: Some(7) });
    deploys.replace_scale("web", &dry_post, &scale).await.expect("replace scale");
    // the cordon path: a merge patch of a node's spec
    let cordon = nodes.patch("node-1", &dry_patch, &Patch::Merge(json!({"spec": {"unschedulable": true}}))).await;
    assert_eq!(cordon.expect("cordon").spec.and_then(|s| s.unschedulable), Some(true));
    // delete, one and a collection, and an eviction (kube-rs sends dryRun on the request)
    cms.delete("c", &DeleteParams { dry_run: true, ..Default::default() }).await.expect("dry delete");
    cms.delete_collection(&DeleteParams { dry_run: true, ..Default::default() }, &ListParams::default())
        .await
        .expect("dry delete collection");
    let evict = EvictParams { delete_options: None, post_options: PostParams { dry_run: true, ..Default::default() } };
    pods.evict("p", &evict).await.expect("dry eviction");

    assert_eq!(sim.cluster().store().current_rv(), rv, "no dry run bumps the resourceVersion");
    assert_eq!(store_contents(&sim), before, "no dry run changes the store");
    assert!(
        matches!(events.try_recv(), Err(tokio::sync::broadcast::error::TryRecvError::Empty)),
        "no dry run emits a watch event"
    );
    let real = services.create(&PostParams::default(), &svc).await.expect("service").spec.and_then(|s| s.cluster_ip);
    assert_eq!(real, dry_ip, "the dry run did not use up the IP");
}

#[tokio::test]
async fn deployments_scale_and_pods_log() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
    }))
    .expect("deployment");
    deploys.create(&PostParams::default(), &d).await.expect("create");
    deploys
        .patch_scale("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .expect("scale");
    let scale = deploys.get_scale("web").await.expect("get scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    eventually("3 running web pods", || {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default().labels("app=web")).await.is_ok_and(|l| {
                l.items.len() == 3
                    && l.items.iter().all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            })
        }
    })
    .await;
    let name = pods.list(&ListParams::default().labels("app=web")).await.expect("list").items[0].name_any();
    let logs = pods.logs(&name, &LogParams::default()).await.expect("logs");
    assert!(logs.contains("Configuration complete"), "{logs}");
    eventually("deployment available", || {
        let deploys = deploys.clone();
        async move { deploys.get("web").await.is_ok_and(|d| d.status.and_then(|s| s.available_replicas) == Some(3)) }
    })
    .await;
}

#[tokio::test]
async fn finalizers_hold_deletion() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut cm = configmap("held", json!({}));
    cm.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &cm).await.expect("create");
    cms.delete("held", &DeleteParams::default()).await.expect("delete");
    let still = cms.get("held").await.expect("still there");
    assert!(still.metadata.deletion_timestamp.is_some());
    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}})))
        .await
        .expect("release");
    assert!(cms.get_opt("held").await.expect("get").is_none());
}

#[tokio::test]
async fn recorder_events_reach_core_events() {
    let (_sim, client) = sim(Scenario::Empty).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm = cms.create(&PostParams::default(), &configmap("evented", json!({}))).await.expect("create");
    let recorder = Recorder::new(client.clone(), Reporter { controller: "binnacle-test".into(), instance: None });
    let reference = cm.object_ref(&());
    recorder
        .publish(
            &kube::runtime::events::Event {
                type_: kube::runtime::events::EventType::Normal,
                reason: "Tested".into(),
                note: Some("hello from kube-rs".into()),
                action: "Testing".into(),
                secondary: None,
            },
            &reference,
        )
        .await
        .expect("publish");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let list = events.list(&ListParams::default().fields("involvedObject.name=evented")).await.expect("events");
    assert!(
        list.items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Tested") && e.message.as_deref() == Some("hello from kube-rs"))
    );
}
