//! The demo scenario's planted faults, as an operator sees them through kubectl.

use crate::harness::*;

fn has_line(text: &str, want: &str) -> bool {
    norm(text).lines().any(|l| l == want)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashloop_backoff_with_restarts() {
    let k = Sim::demo().await;
    // RESTARTS reads `N (<age> ago)` once a container has restarted.
    let rows = k
        .wait_rows(&["get", "pods", "-n", "payments", "-l", "app=payments-api", "--no-headers"], secs(30), |rows| {
            rows.len() == 2
                && rows.iter().all(|r| {
                    r[1] == "0/1"
                        && r[2] == "CrashLoopBackOff"
                        && r[3].parse::<u32>().is_ok_and(|n| n >= 1)
                        && r[4..] == ["(<age>", "ago)", "<age>"]
                })
        })
        .await;
    let pod = rows[0][0].clone();
    let out = k
        .wait_until(&["describe", "pod", &pod, "-n", "payments"], secs(20), |o| {
            o.stdout.contains("CrashLoopBackOff") && o.stdout.contains("Last State:")
        })
        .await;
    let text = out.ok();
    for want in [
        "State: Waiting",
        "Reason: CrashLoopBackOff",
        "Last State: Terminated",
        "Reason: Error",
        "Exit Code: 1",
        "Ready: False",
        "Annotations: sim.binnacle.dev/behavior: crash",
    ] {
        assert!(has_line(text, want), "describe lacks {want:?}:\n{text}");
    }
    let restarts = norm(text).lines().find_map(|l| l.strip_prefix("Restart Count: ").map(str::to_string)).unwrap();
    assert!(restarts.parse::<u32>().unwrap() >= 1, "{text}");
    let events = norm(text.split("Events:").nth(1).expect("Events section"));
    assert!(events.contains("Warning BackOff <age> kubelet Back-off restarting failed container api"), "{text}");
    assert!(events.contains(&format!("Back-off restarting failed container api in pod {pod}_payments(")), "{text}");
    for reason in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(events.lines().any(|l| l.starts_with(&format!("Normal {reason} "))), "no {reason} event:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_killed_in_last_state() {
    let k = Sim::demo().await;
    let pod = k
        .wait_rows(&["get", "pods", "-n", "payments", "-l", "app=ledger", "--no-headers"], secs(30), |rows| {
            rows.len() == 1 && rows[0][3].parse::<u32>().is_ok_and(|n| n >= 1)
        })
        .await[0][0]
        .clone();
    let text = k.ok(&["describe", "pod", &pod, "-n", "payments"]).await;
    for want in ["Last State: Terminated", "Reason: OOMKilled", "Exit Code: 137", "memory: 128Mi"] {
        assert!(has_line(&text, want), "describe lacks {want:?}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_backoff() {
    let k = Sim::demo().await;
    let rows = k
        .wait_rows(&["get", "pods", "-n", "web", "-l", "app=storefront", "--no-headers"], secs(30), |rows| {
            rows.len() == 2 && rows.iter().all(|r| r[1..4] == ["0/1", "ImagePullBackOff", "0"])
        })
        .await;
    // The kubelet alternates between ErrImagePull (retrying) and ImagePullBackOff (waiting).
    let out = k
        .wait_until(&["describe", "pod", &rows[0][0], "-n", "web"], secs(20), |o| {
            has_line(&o.stdout, "Reason: ImagePullBackOff") && o.stdout.contains("Back-off pulling image")
        })
        .await;
    let text = out.ok();
    let events = norm(text.split("Events:").nth(1).expect("Events section"));
    assert!(events.contains("Failed to pull image \"nginx:does-not-exist\""), "{text}");
    assert!(events.contains("Back-off pulling image \"nginx:does-not-exist\""), "{text}");
    assert!(events.contains("Error: ErrImagePull"), "{text}");
    assert!(events.contains("Error: ImagePullBackOff"), "{text}");
    // The Deployment never becomes available: rollout status times out.
    let status = k.kubectl(&["rollout", "status", "deploy/storefront", "-n", "web", "--timeout=2s"]).await;
    status.err();
    status.stderr_has(&["timed out waiting for the condition"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_insufficient_cpu() {
    let k = Sim::demo().await;
    let rows = k
        .wait_rows(&["get", "pods", "-n", "data", "-l", "app=analytics", "--no-headers"], secs(20), |rows| {
            rows.len() == 1
        })
        .await;
    assert_eq!(rows[0][1..4], ["0/1", "Pending", "0"], "{rows:?}");
    let out = k
        .wait_until(&["describe", "pod", &rows[0][0], "-n", "data"], secs(20), |o| {
            o.stdout.contains("FailedScheduling")
        })
        .await;
    let text = out.ok();
    assert!(has_line(text, "Status: Pending"), "{text}");
    assert!(has_line(text, "Node: <none>"), "{text}");
    let events = norm(text.split("Events:").nth(1).expect("Events section"));
    let line = events.lines().find(|l| l.contains("FailedScheduling")).unwrap();
    assert!(line.starts_with("Warning FailedScheduling <age> default-scheduler 0/3 nodes are available:"), "{text}");
    assert!(line.contains("Insufficient cpu"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_container_config_error() {
    let k = Sim::demo().await;
    let rows = k
        .wait_rows(&["get", "pods", "-n", "payments", "-l", "app=fraud-detector", "--no-headers"], secs(20), |rows| {
            rows.len() == 1 && rows[0][2] == "CreateContainerConfigError"
        })
        .await;
    let text = k.ok(&["describe", "pod", &rows[0][0], "-n", "payments"]).await;
    assert!(norm(&text).contains("Error: configmap \"fraud-rules\" not found"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_fails_after_backoff_limit() {
    let k = Sim::demo().await;
    k.wait_until(&["get", "job", "nightly-report", "-n", "batch", "--no-headers"], secs(30), |o| {
        o.rows().first().is_some_and(|r| r[1] == "Failed" && r[2] == "0/1")
    })
    .await;
    let text = k.ok(&["describe", "job", "nightly-report", "-n", "batch"]).await;
    assert!(text.contains("BackoffLimitExceeded"), "{text}");
    assert!(
        norm(&text)
            .lines()
            .any(|l| l.starts_with("Pods Statuses: 0 Active") && l.ends_with("/ 0 Succeeded / 3 Failed")),
        "{text}"
    );
    let pods = k.ok(&["get", "pods", "-n", "batch", "-l", "app=nightly-report", "--no-headers"]).await;
    assert_eq!(rows(&pods).iter().filter(|r| r[2] == "Error").count(), 3, "{pods}");
}
