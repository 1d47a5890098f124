//! `binnacle serve` and `binnacle demo` as a user runs them: the real binary, its printed URLs and login,
//! the Command Center at `/`, the offline assistant answering through the API, persistence across
//! restarts, and clear start-up errors.

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
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no line with {until:?}; got {lines:?}");
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
    let (code, _, body) = http_with_head(method, url, token, body);
    (code, body)
}

/// The status, the head (status line and headers, as sent) and the body.
fn http_with_head(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, String, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
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
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((resp.as_str(), ""));
    (code, head.to_ascii_lowercase(), body.to_string())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn login(base: &str, password: &str) -> String {
    let (code, body) = http(
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        Some(&format!(r#"{{"username":"admin","password":"{password}"}}"#)),
    );
    assert_eq!(code, 200, "{body}");
    json(&body)["accessToken"].as_str().expect("token").to_string()
}

fn url_in(lines: &[String], label: &str) -> String {
    let line = lines.iter().find(|l| l.contains(label)).unwrap_or_else(|| panic!("no {label} in {lines:?}"));
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL");
    url.trim_end_matches("/api/v1").to_string()
}

#[test]
fn demo_answers_with_the_offline_assistant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env_remove("BINNACLE_LLM_PROVIDER")
        .env_remove("BINNACLE_LLM_BASE_URL")
        .env_remove("BINNACLE_LLM_MODEL")
        .env_remove("BINNACLE_LLM_API_KEY")
        .env_remove("BINNACLE_ADMIN_PASSWORD");
    let demo = start(&mut cmd, "Press Ctrl-C");
    let base = url_in(&demo.lines, "Engine (API)");
    // The Command Center's URL comes first, with the login.
    let first = demo
        .lines
        .iter()
        .skip_while(|l| !l.contains("demo is running"))
        .find(|l| l.starts_with("  "))
        .expect("the demo's lines");
    assert!(first.contains("Command Center:") && first.contains(&format!("{base}/ ")), "{:?}", demo.lines);
    let password = first.split("admin / ").nth(1).expect("the login is printed").trim().trim_end_matches(')');
    assert!(demo.lines.iter().any(|l| l.contains("offline assistant")), "{:?}", demo.lines);
    let token = login(&base, password);

    // `/` serves the app (or, when the UI was not built into this binary, the page that says so) as HTML
    // with its security headers; a deep link gets the same page; API paths keep their JSON 404.
    let (code, head, page) = http_with_head("GET", &format!("{base}/"), None, None);
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'self'"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(page.to_ascii_lowercase().starts_with("<!doctype html>"), "{page}");
    let (code, head, deep) =
        http_with_head("GET", &format!("{base}/conversations/0192f5d0-0000-7000-8000-000000000000"), None, None);
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert_eq!(deep, page, "a deep link loads the same page");
    if page.contains("was not built") {
        assert!(demo.lines.iter().any(|l| l.contains("not built into this binary")), "{:?}", demo.lines);
    } else {
        let script = page.split('"').find(|s| s.starts_with("/assets/") && s.ends_with(".js")).expect("a script");
        let (code, head, _) = http_with_head("GET", &format!("{base}{script}"), None, None);
        assert_eq!(code, 200, "{script}: {head}");
        assert!(head.contains("content-type: text/javascript"), "{head}");
        assert!(head.contains("cache-control: public, max-age=31536000, immutable"), "{head}");
    }
    let (code, head, body) = http_with_head("GET", &format!("{base}/api/v1/nope"), None, None);
    assert_eq!(code, 404, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(json(&body)["error"]["code"], "not_found", "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = http(
            "POST",
            &format!("{base}/api/v1/conversations"),
            Some(&token),
            Some(r#"{"message":"what is broken in namespace payments?"}"#),
        );
        assert_eq!(code, 202, "{body}");
        let run = json(&body)["run"]["id"].as_str().expect("run id").to_string();
        // The event stream ends with run.finished.
        let (code, events) = http("GET", &format!("{base}/api/v1/runs/{run}/events"), Some(&token), None);
        assert_eq!(code, 200);
        assert!(events.contains("event: run.finished"), "{events}");
        assert!(events.contains("Offline assistant"), "{events}");
        if events.contains("payments-api") && events.contains("ledger") {
            break;
        }
        assert!(Instant::now() < deadline, "the demo's faults were never named: {events}");
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(dir.path().join(".binnacle/demo.db").exists());
}

#[test]
fn serve_creates_an_admin_persists_and_reports_bad_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("engine.db").display());
    let missing_kubeconfig = dir.path().join("no-kubeconfig");
    let serve = |extra_env: Option<(&str, &str)>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", &db, "--kubeconfig"])
            .arg(&missing_kubeconfig)
            .env_remove("BINNACLE_ADMIN_PASSWORD")
            .env_remove("BINNACLE_LLM_PROVIDER")
            .env_remove("BINNACLE_LLM_BASE_URL")
            .env_remove("BINNACLE_LLM_MODEL")
            .env_remove("BINNACLE_LLM_API_KEY");
        if let Some((k, v)) = extra_env {
            cmd.env(k, v);
        }
        cmd
    };
    // First start: a one-time admin password is printed, and it logs in.
    let proc1 = start(&mut serve(None), "one-time password");
    let base = url_in(&proc1.lines, "listening on");
    let pw_line = proc1.lines.iter().find(|l| l.contains("one-time password")).expect("printed");
    let password = pw_line.split_whitespace().last().expect("password").to_string();
    let token = login(&base, &password);
    let (code, body) =
        http("POST", &format!("{base}/api/v1/conversations"), Some(&token), Some(r#"{"message":"help"}"#));
    assert_eq!(code, 202, "{body}");
    let (code, health) = http("GET", &format!("{base}/api/v1/health"), None, None);
    assert_eq!(code, 200);
    assert_eq!(json(&health)["llm"]["offline"], true);
    let (code, db_health) = http("GET", &format!("{base}/api/v1/health/database"), None, None);
    assert_eq!(code, 200, "{db_health}");
    assert_eq!(json(&db_health)["backend"], "sqlite");
    drop(proc1);

    // With BINNACLE_ADMIN_PASSWORD unset and users present, no password is printed again; the data is kept.
    let mut second = serve(None);
    let p2 = start(&mut second, "Model:");
    let base2 = url_in(&p2.lines, "listening on");
    assert!(!p2.lines.iter().any(|l| l.contains("one-time password")), "{:?}", p2.lines);
    let token = login(&base2, &password);
    let (code, list) = http("GET", &format!("{base2}/api/v1/conversations"), Some(&token), None);
    assert_eq!(code, 200);
    assert_eq!(json(&list)["items"][0]["title"], "help", "the conversation survived the restart: {list}");
    drop(p2);

    // Bad configuration fails at once with a message that says what to fix.
    let out =
        Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--database", "mysql://x"]).output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sqlite://") && err.contains("postgres://"), "{err}");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db])
        .env("BINNACLE_LLM_PROVIDER", "mystery")
        .env("BINNACLE_LLM_MODEL", "m")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("openai"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn serve_logs_in_with_the_configured_admin_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("engine.db").display());
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", &db, "--kubeconfig"])
        .arg(dir.path().join("none"))
        .env("BINNACLE_ADMIN_PASSWORD", "a-long-admin-password")
        .env_remove("BINNACLE_LLM_PROVIDER");
    let p = start(&mut cmd, "Model:");
    assert!(!p.lines.iter().any(|l| l.contains("one-time password")), "{:?}", p.lines);
    let base = url_in(&p.lines, "listening on");
    let token = login(&base, "a-long-admin-password");
    let (code, me) = http("GET", &format!("{base}/api/v1/auth/me"), Some(&token), None);
    assert_eq!(code, 200);
    assert_eq!(json(&me)["role"], "admin");
    let (code, metrics) = http("GET", &format!("{base}/metrics"), None, None);
    assert_eq!(code, 200);
    assert!(metrics.contains("binnacle_runs_started_total"), "{metrics}");
}
