//! `binnacle sim` as a user runs it: the real binary, its kubeconfig, its state file and its signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_binnacle");

struct Sim {
    child: Child,
    servers: Vec<String>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binnacle sim` with extra arguments and waits for it to print its server URLs.
fn start(args: &[&str], expect_clusters: usize) -> Sim {
    let mut child = Command::new(BIN)
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binnacle starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut servers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while servers.len() < expect_clusters && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    servers.push(url.to_string());
                }
            }
            _ => break,
        }
    }
    assert_eq!(servers.len(), expect_clusters, "binnacle sim did not print {expect_clusters} server URLs");
    std::thread::spawn(move || for _ in lines {});
    Sim { child, servers }
}

fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    // A tiny HTTP/1.1 client: the tests need nothing more and stay free of client crates.
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut resp = String::new();
    stream.read_to_string(&mut resp).expect("read");
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

fn terminate(sim: &mut Sim) -> std::process::ExitStatus {
    let pid = sim.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = sim.child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "binnacle sim did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_clusters_share_one_kubeconfig() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("kc");
    let sim = start(&["--clusters", "3", "--scenario", "empty", "--kubeconfig-out", kc.to_str().expect("utf8")], 3);
    let text = std::fs::read_to_string(&kc).expect("kubeconfig written");
    for name in ["sim-1", "sim-2", "sim-3"] {
        assert!(text.contains(&format!("name: {name}")), "{text}");
    }
    for server in &sim.servers {
        assert!(text.contains(server.as_str()));
        let (code, body) = http("GET", &format!("{server}/version"), None);
        assert_eq!(code, 200);
        assert!(body.contains("\"minor\":\"32\""));
    }
    // The clusters are independent.
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"only-in-one"}}"#;
    assert_eq!(http("POST", &format!("{}/api/v1/namespaces/default/configmaps", sim.servers[0]), Some(cm)).0, 201);
    assert_eq!(
        http("GET", &format!("{}/api/v1/namespaces/default/configmaps/only-in-one", sim.servers[1]), None).0,
        404
    );
}

#[test]
fn state_survives_a_restart_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8");
    let mut sim = start(&["--scenario", "empty", "--state", state_arg], 1);
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"k":"v"}}"#;
    assert_eq!(http("POST", &format!("{}/api/v1/namespaces/default/configmaps", sim.servers[0]), Some(cm)).0, 201);
    let status = terminate(&mut sim);
    assert!(status.success(), "SIGTERM should stop binnacle sim cleanly, got {status}");
    let sim = start(&["--scenario", "empty", "--state", state_arg], 1);
    let (code, body) = http("GET", &format!("{}/api/v1/namespaces/default/configmaps/kept", sim.servers[0]), None);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"k\":\"v\""));
}

#[test]
fn a_bad_scenario_file_is_refused_with_its_document_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("seed.yaml");
    std::fs::write(&file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n").expect("write");
    let out = Command::new(BIN).args(["sim", "--scenario", file.to_str().expect("utf8")]).output().expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("document 2") && stderr.contains("Not_Valid"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty(), "nothing may be served half-loaded");
}

#[test]
fn bad_flags_get_clear_errors() {
    let out = Command::new(BIN).args(["sim", "--clusters", "0"]).output().expect("runs");
    assert!(!out.status.success());
    let out = Command::new(BIN).args(["sim", "--speed", "0"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed"));
    for sub in ["sim", "demo"] {
        let out = Command::new(BIN).args([sub, "--help"]).output().expect("runs");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn demo_serves_the_cluster_and_the_mcp_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("demo-kubeconfig");
    let mut child = Command::new(BIN)
        .args(["demo", "--kubeconfig-out", kc.to_str().expect("utf8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binnacle demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut cluster, mut mcp) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while (cluster.is_none() || mcp.is_none()) && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
        if line.contains("Simulated cluster:") {
            cluster = url;
        } else if line.contains("MCP tools:") {
            mcp = url;
        }
    }
    let mut sim = Sim { child, servers: Vec::new() };
    let cluster = cluster.expect("the banner names the cluster");
    let mcp = mcp.expect("the banner names the MCP endpoint");
    assert!(std::fs::read_to_string(&kc).expect("kubeconfig").contains(&cluster));
    // The scenario's objects exist as soon as the banner is printed (their pods follow from the controllers).
    let (code, body) = http("GET", &format!("{cluster}/apis/apps/v1/namespaces/payments/deployments"), None);
    assert_eq!(code, 200);
    assert!(body.contains("payments-api"), "the demo scenario is loaded");
    // The MCP server answers an initialize (it may take a moment to bind after the banner).
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    let answered = loop {
        let answer = std::panic::catch_unwind(|| http_with_accept("POST", &mcp, init));
        if let Ok((200, body)) = answer {
            break body;
        }
        assert!(Instant::now() < deadline, "the MCP server did not answer");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(answered.contains("\"binnacle\""), "{answered}");
    assert!(terminate(&mut sim).success());
}

/// POST with the Accept header Streamable HTTP requires.
fn http_with_accept(method: &str, url: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut resp = Vec::new();
    let _ = stream.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).to_string();
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, resp)
}
