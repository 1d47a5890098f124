//! The fleet as a user runs it: `binnacle sim --clusters 3 --slow-cluster …` in one process, `binnacle serve`
//! over its kubeconfig in another, and the fleet API answering for every context; plus the flag's errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_binnacle");

struct Proc {
    child: Child,
    lines: Vec<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and reads stdout until a line containing `until`.
fn start(cmd: &mut Command, until: &str) -> Proc {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("binnacle starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout).lines();
    let mut lines = Vec::new();
    loop {
        match reader.next() {
            Some(Ok(line)) => {
                let done = line.contains(until);
                lines.push(line);
                if done {
                    break;
                }
            }
            _ => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("binnacle exited before printing {until:?}; stdout {lines:?}; stderr {err}");
            }
        }
    }
    std::thread::spawn(move || for _ in reader {});
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || for _ in BufReader::new(err).lines() {});
    }
    Proc { child, lines }
}

fn http(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    let body = body.unwrap_or("");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut resp = String::new();
    stream.read_to_string(&mut resp).expect("read");
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn serve_fans_out_to_every_context_of_a_slowed_multi_cluster_sim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("fleet.kubeconfig");
    let kc = kubeconfig.display().to_string();
    let sim = start(
        Command::new(BIN)
            .args(["sim", "--clusters", "3", "--scenario", "empty", "--slow-cluster", "sim-3=30s"])
            .args(["--kubeconfig-out", &kc]),
        "kubeconfig written",
    );
    assert!(sim.lines.iter().any(|l| l.contains("cluster sim-3") && l.contains("slowed")), "{:?}", sim.lines);
    let db = format!("sqlite://{}", dir.path().join("engine.db").display());
    let serve = start(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &db, "--kubeconfig", &kc])
            .args(["--fleet-timeout", "1s"])
            .env("BINNACLE_ADMIN_PASSWORD", "a-long-admin-password")
            .env_remove("BINNACLE_LLM_PROVIDER"),
        "Fleet:",
    );
    let line = serve.lines.iter().find(|l| l.contains("listening on")).expect("the address line");
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_string();
    let (code, body) = http(
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        Some(r#"{"username":"admin","password":"a-long-admin-password"}"#),
    );
    assert_eq!(code, 200, "{body}");
    let token = json(&body)["accessToken"].as_str().expect("token").to_string();

    let started = Instant::now();
    let (code, body) = http("GET", &format!("{base}/api/v1/fleet/nodes"), Some(&token), None);
    assert_eq!(code, 200, "{body}");
    let answer = json(&body);
    let status: Vec<(&str, &str)> = answer["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| (c["cluster"].as_str().unwrap_or(""), c["status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(status, [("sim-1", "ok"), ("sim-2", "ok"), ("sim-3", "timeout")], "{body}");
    assert_eq!(answer["summary"]["failed"][0]["cluster"], "sim-3");
    // Far below sim-3's delay: the one-second fleet timeout held.
    assert!(started.elapsed() < Duration::from_secs(25), "took {:?}", started.elapsed());
    let (code, body) = http("GET", &format!("{base}/api/v1/fleet/clusters"), Some(&token), None);
    assert_eq!(code, 200, "{body}");
    let clusters = json(&body);
    assert_eq!(clusters["clusters"][0]["reachable"], true, "{body}");
    assert!(clusters["clusters"][0]["version"].as_str().unwrap_or("").starts_with("v1.32"), "{body}");
    drop(serve);
    drop(sim);
}

#[test]
fn slow_cluster_flags_are_checked() {
    let out = Command::new(BIN)
        .args(["sim", "--clusters", "2", "--slow-cluster", "sim-9=1s"])
        .output()
        .expect("binnacle runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"sim-9\"") && err.contains("sim-1, sim-2"), "{err}");
    for bad in ["sim-2", "sim-2=fast", "sim-2=3h", "=3s"] {
        let out = Command::new(BIN).args(["sim", "--slow-cluster", bad]).output().expect("binnacle runs");
        assert!(!out.status.success(), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("NAME=DURATION"), "{bad}: {err}");
    }
}
