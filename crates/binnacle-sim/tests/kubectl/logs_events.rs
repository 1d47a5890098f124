//! `logs` (containers, tail, timestamps, since, previous, selectors, follow), `wait`, `events`, `get -w`.

use crate::harness::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn is_timestamped(line: &str) -> bool {
    line.split_once(' ').is_some_and(|(ts, _)| ts.ends_with('Z') && ts.parse::<jiff::Timestamp>().is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_healthy_pod_options() {
    let k = Sim::demo().await;
    wait_deploy_ready(&k, "shop", "frontend", 3).await;
    // Let a few periodic access-log lines accumulate (one per 10 simulated seconds).
    k.advance(60);
    let pod =
        k.ok(&["get", "pods", "-n", "shop", "-l", "app=frontend", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    let all = k.ok(&["logs", &pod, "-n", "shop"]).await;
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines.len() >= 5, "{all}");
    assert_eq!(lines[0], "/docker-entrypoint.sh: Configuration complete; ready for start up", "{all}");
    assert!(lines[2].contains("\"GET /"), "{all}");
    // kubectl fills in the only container; -c names it explicitly.
    assert_eq!(k.ok(&["logs", &pod, "-n", "shop", "-c", "nginx"]).await.lines().next(), Some(lines[0]));
    assert!(k.requests(&format!("/pods/{pod}/log")).iter().all(|r| r.query.contains("container=nginx")));
    let bad = k.kubectl(&["logs", &pod, "-n", "shop", "-c", "nope"]).await;
    bad.err();
    bad.stderr_has(&[&format!("container nope is not valid for pod {pod}")]);

    // The log grows as simulated time passes, so compare --tail with a full log read just after it.
    let tail = k.ok(&["logs", &pod, "-n", "shop", "--tail=2"]).await;
    assert_eq!(tail.lines().count(), 2, "{tail}");
    let after = k.ok(&["logs", &pod, "-n", "shop"]).await;
    let pos = after.find(&tail).unwrap_or_else(|| panic!("--tail=2 lines not in the log:\n{tail}\nof\n{after}"));
    assert!(
        after[pos + tail.len()..].lines().count() <= 2,
        "--tail=2 should be the last two lines:\n{tail}\nof\n{after}"
    );

    let ts = k.ok(&["logs", &pod, "-n", "shop", "--timestamps", "--tail=3"]).await;
    assert_eq!(ts.lines().count(), 3, "{ts}");
    assert!(ts.lines().all(is_timestamped), "{ts}");

    // --since: an hour covers everything; 15 simulated seconds only the last line or two.
    assert!(k.ok(&["logs", &pod, "-n", "shop", "--since=1h"]).await.starts_with(&all));
    let recent = k.ok(&["logs", &pod, "-n", "shop", "--since=15s"]).await;
    assert!(recent.lines().count() < lines.len(), "{recent}");
    assert!(k.requests(&format!("/pods/{pod}/log")).iter().any(|r| r.query.contains("sinceSeconds=15")));

    // logs deploy/x picks one pod; logs -l with --prefix labels each line.
    let by_deploy = k.kubectl(&["logs", "deploy/frontend", "-n", "shop"]).await;
    assert!(by_deploy.ok().starts_with("/docker-entrypoint.sh"), "{by_deploy}");
    by_deploy.stderr_has(&["Found 3 pods, using pod/frontend-"]);
    let prefixed = k.ok(&["logs", "-l", "app=frontend", "-n", "shop", "--prefix"]).await;
    let mut per_pod: BTreeMap<String, usize> = BTreeMap::new();
    for line in prefixed.lines() {
        let (prefix, _) = line.split_once("] ").unwrap_or_else(|| panic!("unprefixed line {line:?}"));
        assert!(prefix.starts_with("[pod/frontend-") && prefix.ends_with("/nginx"), "{line}");
        *per_pod.entry(prefix.to_string()).or_default() += 1;
    }
    assert_eq!(per_pod.len(), 3, "{prefixed}");
    // `logs -l` defaults to the last 10 lines per pod.
    assert!(per_pod.values().all(|n| *n <= 10), "{prefixed}");
    assert!(k.requests("/log").iter().any(|r| r.query.contains("tailLines=10")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_previous_and_waiting_containers() {
    let k = Sim::demo().await;
    let rows = k
        .wait_rows(&["get", "pods", "-n", "payments", "-l", "app=payments-api", "--no-headers"], secs(30), |rows| {
            rows.len() == 2 && rows.iter().all(|r| r[3].parse::<u32>().is_ok_and(|n| n >= 1))
        })
        .await;
    let pod = &rows[0][0];
    let previous = k.ok(&["logs", pod, "-n", "payments", "--previous"]).await;
    let lines: Vec<&str> = previous.lines().collect();
    assert_eq!(lines[0], "api starting (image ghcr.io/acme/payments-api:3.1.0)", "{previous}");
    assert!(
        lines.contains(&"ERROR: could not connect to database: dial tcp 10.96.0.42:5432: connect: connection refused"),
        "{previous}"
    );
    assert!(lines.contains(&"panic: database connection failed after 3 attempts"), "{previous}");
    assert!(k.requests(&format!("/pods/{pod}/log")).iter().any(|r| r.query.contains("previous=true")));

    // No previous instance for a pod that never restarted.
    let cart = k.ok(&["get", "pods", "-n", "shop", "-l", "app=cart", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    let none = k.kubectl(&["logs", &cart, "-n", "shop", "--previous"]).await;
    none.err();
    none.stderr_has(&[&format!("previous terminated container \"cart\" in pod \"{cart}\" not found")]);

    // A container that cannot start: BadRequest "waiting to start".
    let rows = k
        .wait_rows(&["get", "pods", "-n", "web", "-l", "app=storefront", "--no-headers"], secs(20), |rows| {
            !rows.is_empty() && rows[0][2].contains("ImagePull")
        })
        .await;
    let waiting = k.kubectl(&["logs", &rows[0][0], "-n", "web"]).await;
    waiting.err();
    assert_eq!(
        waiting.stderr.trim(),
        format!(
            "Error from server (BadRequest): container \"web\" in pod \"{}\" is waiting to start: trying and failing to pull image",
            rows[0][0]
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_streams_new_lines() {
    let k = Sim::empty().await;
    apply(&k, "pod.yaml", &pod("web", "app: web")).await;
    k.wait_until(&["get", "pod", "web", "--no-headers"], secs(20), |o| {
        o.rows().first().is_some_and(|r| r[2] == "Running")
    })
    .await;
    let before = k.ok(&["logs", "web"]).await.lines().count();
    let follow = k.spawn(&["logs", "-f", "web"]);
    tokio::time::sleep(secs(1)).await;
    // Five more periodic lines (every 10 simulated seconds) arrive while kubectl follows.
    k.advance(50);
    let out = follow.stop_after(secs(2)).await;
    assert!(out.killed, "logs -f should still be following when stopped:\n{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() >= before + 5, "expected at least {} lines:\n{out}", before + 5);
    assert_eq!(lines[0], "/docker-entrypoint.sh: Configuration complete; ready for start up");
    assert!(lines.last().unwrap().contains("\"GET /"), "{out}");
    assert!(k.requests("/pods/web/log").iter().any(|r| r.query.contains("follow=true")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_condition_ready() {
    let k = Sim::demo().await;
    let out =
        k.kubectl(&["wait", "--for=condition=Ready", "pod", "-l", "app=frontend", "-n", "shop", "--timeout=30s"]).await;
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("pod/frontend-") && l.ends_with(" condition met")), "{out}");

    // The recommender never passes its readiness probe.
    k.wait_rows(&["get", "pods", "-n", "ml", "-l", "app=recommender", "--no-headers"], secs(20), |rows| {
        rows.len() == 2 && rows.iter().all(|r| r[2] == "Running")
    })
    .await;
    let timeout =
        k.kubectl(&["wait", "--for=condition=Ready", "pod", "-l", "app=recommender", "-n", "ml", "--timeout=2s"]).await;
    timeout.err();
    assert_eq!(timeout.stderr.lines().count(), 2, "{timeout}");
    assert!(
        timeout.stderr.lines().all(|l| l.starts_with("timed out waiting for the condition on pods/recommender-")),
        "{timeout}"
    );

    // wait --for=delete on something already gone returns at once; jsonpath waits work too.
    let jp = k
        .kubectl(&[
            "wait",
            "--for=jsonpath={.status.phase}=Running",
            "pod",
            "-l",
            "app=recommender",
            "-n",
            "ml",
            "--timeout=10s",
        ])
        .await;
    assert_eq!(jp.ok().lines().count(), 2, "{jp}");
}

/// Index of the TYPE cell (Normal/Warning) in an events row, whose LAST SEEN may span several cells.
fn type_index(row: &[String]) -> usize {
    row.iter().position(|c| c == "Normal" || c == "Warning").unwrap_or_else(|| panic!("no type in {row:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_listing_and_filters() {
    let k = Sim::demo().await;
    let pod = k
        .wait_rows(&["get", "pods", "-n", "payments", "-l", "app=payments-api", "--no-headers"], secs(30), |rows| {
            rows.len() == 2 && rows[0][3].parse::<u32>().is_ok_and(|n| n >= 1)
        })
        .await[0][0]
        .clone();
    let events = k.kubectl(&["events", "-n", "payments"]).await;
    let rows = events.rows();
    assert_eq!(rows[0], ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], "{events}");
    let has = |reason: &str, object: &str| {
        rows[1..].iter().any(|r| {
            let t = type_index(r);
            r[t + 1] == reason && r[t + 2] == object
        })
    };
    assert!(has("BackOff", &format!("Pod/{pod}")), "{events}");
    assert!(has("Scheduled", &format!("Pod/{pod}")), "{events}");
    assert!(
        rows[1..]
            .iter()
            .any(|r| r[type_index(r) + 1] == "ScalingReplicaSet" && r[type_index(r) + 2] == "Deployment/payments-api"),
        "{events}"
    );

    let for_pod = k.kubectl(&["events", "-n", "payments", "--for", &format!("pod/{pod}")]).await;
    let rows = for_pod.rows();
    assert!(rows.len() > 3, "{for_pod}");
    assert!(rows[1..].iter().all(|r| r[type_index(r) + 2] == format!("Pod/{pod}")), "{for_pod}");

    let warnings = k.kubectl(&["events", "-A", "--types=Warning"]).await;
    let rows = warnings.rows();
    assert_eq!(rows[0][0], "NAMESPACE", "{warnings}");
    assert!(rows[1..].iter().all(|r| r[type_index(r)] == "Warning"), "{warnings}");
    assert!(rows.len() > 3, "{warnings}");

    let backoff = k.kubectl(&["get", "events", "-A", "--field-selector", "reason=BackOff"]).await;
    let rows = backoff.rows();
    assert_eq!(rows[0], ["NAMESPACE", "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], "{backoff}");
    assert!(rows.len() >= 3, "{backoff}");
    for r in &rows[1..] {
        let t = type_index(r);
        assert_eq!(r[t + 1], "BackOff", "{backoff}");
        assert!(r[t + 2].starts_with("pod/"), "{backoff}");
        // Crash-loop back-off is a Warning (payments, and ml's liveness kills); the kubelet records image-pull
        // back-off as Normal.
        let want = if r[0] == "payments" || r[0] == "ml" { "Warning" } else { "Normal" };
        assert_eq!(r[t], want, "{backoff}");
    }
    assert!(rows.iter().any(|r| r[0] == "payments"), "{backoff}");
    let by_object = k
        .ok(&[
            "get",
            "events",
            "-n",
            "payments",
            "--field-selector",
            &format!("involvedObject.name={pod},involvedObject.kind=Pod"),
            "-o",
            "name",
        ])
        .await;
    assert!(by_object.lines().count() >= 3, "{by_object}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_pods_during_scale() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 1, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 1).await;
    let watch = k.spawn(&["get", "pods", "-l", "app=web", "-w", "--output-watch-events"]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    k.ok(&["scale", "deploy", "web", "--replicas=3"]).await;
    wait_deploy_ready(&k, "default", "web", 3).await;
    let out = watch.stop_after(secs(1)).await;
    assert!(out.killed, "get -w should still be watching:\n{out}");
    let rows = out.rows();
    assert_eq!(rows[0], ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{out}");
    let mut added: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows[1..] {
        assert!(["ADDED", "MODIFIED"].contains(&r[0].as_str()), "unexpected event {r:?}:\n{out}");
        assert!(r[1].starts_with("web-"), "{out}");
        if r[0] == "ADDED" {
            *added.entry(&r[1]).or_default() += 1;
        }
    }
    assert_eq!(added.len(), 3, "one ADDED per pod:\n{out}");
    assert!(added.values().all(|n| *n == 1), "duplicate ADDED lines:\n{out}");
    assert!(rows.iter().any(|r| r[0] == "MODIFIED" && r[2..4] == ["1/1", "Running"]), "{out}");
    assert!(rows.iter().any(|r| r[0] == "MODIFIED" && r[3] == "ContainerCreating"), "{out}");
}

/// The API server sets `status.phase: Pending` (and `qosClass`) when a pod is created, so the first
/// watch event of a new pod already reads Pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_pods_start_pending() {
    let k = Sim::empty().await;
    let f = k.file("pod.yaml", &pod("solo", "app: solo"));
    let created = k.kubectl(&["create", "-f", &f, "-o", "json"]).await.json();
    assert_eq!(created["status"]["phase"], "Pending", "{created:#}");
    assert_eq!(created["status"]["qosClass"], "BestEffort", "{created:#}");
    apply(&k, "web.yaml", &deployment("web", 1, "nginx:1.27")).await;
    wait_deploy_ready(&k, "default", "web", 1).await;
    let watch = k.spawn(&["get", "pods", "-l", "app=web", "-w", "--output-watch-events", "--no-headers"]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    k.ok(&["scale", "deploy", "web", "--replicas=2"]).await;
    wait_deploy_ready(&k, "default", "web", 2).await;
    let out = watch.stop_after(secs(1)).await;
    let added: Vec<_> = out.rows().into_iter().filter(|r| r[0] == "ADDED").collect();
    assert_eq!(added.len(), 2, "{out}");
    assert_eq!(added[1][2..], ["0/1", "Pending", "0", "<age>"], "{out}");
}
