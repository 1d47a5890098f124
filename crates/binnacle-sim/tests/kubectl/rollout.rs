//! `set image`, `rollout status|history|undo|restart|pause|resume`.

use crate::harness::*;

async fn image(k: &Sim) -> String {
    k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]).await
}

async fn rollout_status(k: &Sim) {
    let out = k.kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"]).await;
    assert_eq!(out.ok().lines().last(), Some("deployment \"web\" successfully rolled out"), "{out}");
}

/// `rollout history` rows as (revision, change-cause).
async fn history(k: &Sim) -> Vec<Vec<String>> {
    let out = k.kubectl(&["rollout", "history", "deploy/web"]).await;
    let rows = out.rows();
    assert_eq!(rows[0], ["deployment.apps/web"], "{out}");
    assert_eq!(rows[1], ["REVISION", "CHANGE-CAUSE"], "{out}");
    rows[2..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_status_history_and_undo() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 3, "nginx:1.26")).await;
    rollout_status(&k).await;
    assert_eq!(history(&k).await, [vec!["1", "<none>"]]);

    assert_eq!(
        k.ok(&["set", "image", "deploy/web", "app=nginx:1.27"]).await.trim(),
        "deployment.apps/web image updated"
    );
    rollout_status(&k).await;
    assert_eq!(history(&k).await, [vec!["1", "<none>"], vec!["2", "<none>"]]);
    let detail = k.ok(&["rollout", "history", "deploy/web", "--revision=2"]).await;
    assert!(norm(&detail).contains("Image: nginx:1.27"), "{detail}");
    // Two ReplicaSets: the old one scaled to zero.
    let rs = k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    let mut sizes: Vec<String> = rs.rows().iter().map(|r| r[1..4].join("/")).collect();
    sizes.sort();
    assert_eq!(sizes, ["0/0/0", "3/3/3"], "{rs}");
    k.wait_until(
        &["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}"],
        secs(20),
        |o| o.stdout.split_whitespace().collect::<Vec<_>>() == ["nginx:1.27"; 3],
    )
    .await;

    // Undo to an explicit revision: revision 1 becomes revision 3.
    assert_eq!(
        k.ok(&["rollout", "undo", "deploy/web", "--to-revision=1"]).await.trim(),
        "deployment.apps/web rolled back"
    );
    let undo = k.last_request("PATCH", "/deployments/web");
    assert_eq!(undo.content_type, "application/json-patch+json", "undo sends a JSON patch: {undo:?}");
    assert_eq!(image(&k).await, "nginx:1.26");
    rollout_status(&k).await;
    assert_eq!(revision(&k).await, "3");
    assert_eq!(history(&k).await.last().unwrap(), &["3", "<none>"]);

    // Plain undo goes back to the previous revision (2), which becomes 4.
    assert_eq!(k.ok(&["rollout", "undo", "deploy/web"]).await.trim(), "deployment.apps/web rolled back");
    assert_eq!(image(&k).await, "nginx:1.27");
    rollout_status(&k).await;
    assert_eq!(revision(&k).await, "4");
    assert_eq!(history(&k).await.last().unwrap(), &["4", "<none>"]);
    let pods = k.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}"]).await;
    assert!(pods.split_whitespace().all(|i| i == "nginx:1.27"), "{pods}");

    // Undo to a revision that never existed.
    let missing = k.kubectl(&["rollout", "undo", "deploy/web", "--to-revision=9"]).await;
    missing.err();
    missing.stderr_has(&["unable to find specified revision 9 in history"]);
}

async fn revision(k: &Sim) -> String {
    k.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"])
        .await
}

/// Rolling back re-uses the old revision's ReplicaSet (it becomes the newest revision), as the deployment
/// controller matches templates semantically. kubectl's undo patch carries the template with
/// `metadata.creationTimestamp: null`, which must compare equal to a template without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_undo_reuses_old_replicaset() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.26")).await;
    rollout_status(&k).await;
    k.ok(&["set", "image", "deploy/web", "app=nginx:1.27"]).await;
    rollout_status(&k).await;
    let first = k
        .ok(&[
            "get",
            "rs",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[?(@.spec.template.spec.containers[0].image==\"nginx:1.26\")].metadata.name}",
        ])
        .await;
    k.ok(&["rollout", "undo", "deploy/web", "--to-revision=1"]).await;
    rollout_status(&k).await;
    assert_eq!(history(&k).await, [vec!["2", "<none>"], vec!["3", "<none>"]]);
    let rs = k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    assert_eq!(rs.rows().len(), 2, "{rs}");
    assert!(
        rs.rows().iter().any(|r| r[0] == first && r[1] == "2"),
        "the revision-1 ReplicaSet is scaled back up:\n{rs}"
    );
    k.ok(&["rollout", "undo", "deploy/web"]).await;
    rollout_status(&k).await;
    assert_eq!(history(&k).await, [vec!["3", "<none>"], vec!["4", "<none>"]]);
    let missing = k.kubectl(&["rollout", "undo", "deploy/web", "--to-revision=1"]).await;
    missing.err();
    missing.stderr_has(&["unable to find specified revision 1 in history"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_replaces_pods() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.27")).await;
    rollout_status(&k).await;
    let before = k.ok(&["get", "pods", "-l", "app=web", "-o", "name"]).await;
    assert_eq!(k.ok(&["rollout", "restart", "deploy/web"]).await.trim(), "deployment.apps/web restarted");
    let restarted = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
        ])
        .await;
    assert!(restarted.parse::<jiff::Timestamp>().is_ok(), "restartedAt should be RFC 3339: {restarted:?}");
    let req = k.last_request("PATCH", "/deployments/web");
    assert_eq!(req.content_type, "application/strategic-merge-patch+json");
    assert!(req.query.contains("fieldManager=kubectl-rollout"), "{req:?}");
    rollout_status(&k).await;
    let after = k
        .wait_until(&["get", "pods", "-l", "app=web", "-o", "name"], secs(30), |o| o.stdout.lines().count() == 2)
        .await;
    for old in before.lines() {
        assert!(!after.stdout.lines().any(|l| l == old), "{old} should have been replaced:\n{after}");
    }
    assert_eq!(k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await.rows().len(), 2);
    assert_eq!(history(&k).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_pause_and_resume() {
    let k = Sim::empty().await;
    apply(&k, "web.yaml", &deployment("web", 2, "nginx:1.26")).await;
    rollout_status(&k).await;
    k.ok(&["set", "image", "deploy/web", "app=nginx:1.27"]).await;
    rollout_status(&k).await;
    assert_eq!(k.ok(&["rollout", "pause", "deploy/web"]).await.trim(), "deployment.apps/web paused");
    assert_eq!(k.json(&["get", "deploy", "web"]).await["spec"]["paused"], true);
    let again = k.kubectl(&["rollout", "pause", "deploy/web"]).await;
    again.err();
    again.stderr_has(&["deployments.apps \"web\" is already paused"]);

    k.ok(&["set", "image", "deploy/web", "app=nginx:1.28"]).await;
    // Give the controllers ~20 simulated seconds: no new ReplicaSet while paused.
    tokio::time::sleep(secs(2)).await;
    let rs = k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    assert_eq!(rs.rows().len(), 2, "no rollout while paused:\n{rs}");
    assert_eq!(history(&k).await.len(), 2);
    let undo = k.kubectl(&["rollout", "undo", "deploy/web"]).await;
    undo.err();
    undo.stderr_has(&[
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    ]);
    let describe = k.ok(&["describe", "deploy", "web"]).await;
    assert!(norm(&describe).contains("Progressing Unknown DeploymentPaused"), "{describe}");

    assert_eq!(k.ok(&["rollout", "resume", "deploy/web"]).await.trim(), "deployment.apps/web resumed");
    rollout_status(&k).await;
    let rs = k.kubectl(&["get", "rs", "-l", "app=web", "--no-headers"]).await;
    assert_eq!(rs.rows().len(), 3, "{rs}");
    assert_eq!(history(&k).await.len(), 3);
    assert_eq!(image(&k).await, "nginx:1.28");
}
