//! `binnacle findings` as a user runs it: against `binnacle sim --scenario demo`, through a kubeconfig.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_binnacle");

struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binnacle sim` with the demo scenario and waits until it has written its kubeconfig.
fn start_demo(kubeconfig: &std::path::Path) -> Sim {
    let mut child = Command::new(BIN)
        .args(["sim", "--scenario", "demo", "--speed", "20", "--kubeconfig-out"])
        .arg(kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binnacle sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) if line.contains("http://") => break,
            Some(Ok(_)) => {}
            _ => panic!("binnacle sim stopped before printing its address"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Sim(child)
}

fn findings(args: &[&str]) -> Output {
    Command::new(BIN).arg("findings").args(args).output().expect("binnacle findings runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn findings_table_json_yaml_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("kubeconfig");
    let _sim = start_demo(&kc);
    let kc = kc.to_str().expect("utf8");

    // The table: the planted faults of namespace payments, with the header; exit 0 although there are findings.
    let deadline = Instant::now() + Duration::from_secs(30);
    let table = loop {
        let out = findings(&["--kubeconfig", kc, "-n", "payments"]);
        let stdout = text(&out.stdout);
        if out.status.success() && stdout.contains("crash-loop") && stdout.contains("oom-killed") {
            break out;
        }
        assert!(Instant::now() < deadline, "no crash loop in time: {}\n{}", stdout, text(&out.stderr));
        std::thread::sleep(Duration::from_millis(300));
    };
    let stdout = text(&table.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["SEVERITY", "ANALYZER", "OBJECT", "SUMMARY"], "{stdout}");
    assert!(
        lines.iter().any(|l| l.starts_with("critical") && l.contains("Deployment/payments/payments-api")),
        "{stdout}"
    );
    // Plus cluster-scoped findings, which every namespace scope includes (the demo's cordoned node).
    assert!(
        lines[1..].iter().all(|l| l.contains("/payments/") || l.contains(" Node/")),
        "only namespace payments: {stdout}"
    );
    assert!(text(&table.stderr).contains("list calls"), "the footer goes to stderr: {}", text(&table.stderr));

    // JSON, critical only: the report with evidence and stats.
    let out = findings(&["--kubeconfig", kc, "-n", "payments,web", "--min-severity", "critical", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = report["findings"].as_array().expect("findings");
    assert!(!list.is_empty() && list.iter().all(|f| f["severity"] == "critical"), "{report}");
    assert!(list.iter().any(|f| f["namespace"] == "web"), "{report}");
    assert!(report["stats"]["listCalls"].as_u64().is_some_and(|n| n > 0));

    // YAML.
    let out = findings(&["--kubeconfig", kc, "-n", "payments", "-o", "yaml"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("findings:"), "{}", text(&out.stdout));

    // A context the kubeconfig does not have, and a cluster that is down: non-zero with a clear message.
    let out = findings(&["--kubeconfig", kc, "--context", "nope"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("context \"nope\" is not in the kubeconfig"), "{}", text(&out.stderr));
    let down = dir.path().join("down");
    std::fs::write(
        &down,
        "apiVersion: v1\nkind: Config\nclusters: [{name: down, cluster: {server: 'http://127.0.0.1:9'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: down, context: {cluster: down, user: u}}]\ncurrent-context: down\n",
    )
    .expect("write kubeconfig");
    let out = findings(&["--kubeconfig", down.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("cannot reach the cluster") && err.contains("http://127.0.0.1:9"), "{err}");
}
