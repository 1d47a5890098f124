//! The harness: one simulated cluster per test, served on a loopback port, and the real kubectl run as a
//! child process against it (its own kubeconfig, `HOME` and discovery cache in a temp directory).
//!
//! kubectl is `$KUBECTL` if set; otherwise `kubectl.1.32` next to the file `kubectl` on `PATH` resolves to
//! (the Google Cloud SDK dispatcher layout); otherwise `kubectl` itself. If none exists the tests fail
//! with a message saying so: they never pass without kubectl.
//!
//! Every kubectl run has a hard wall-clock limit (the child is killed when it is reached), and kubectl
//! runs on the blocking pool, never on the runtime thread the simulator serves from.

#![allow(dead_code)]

use binnacle_sim::kubeconfig::{self, Entry};
use binnacle_sim::{Scenario, SimCluster, SimOptions};
use serde_json::Value;
use std::fmt;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Simulated clock speed: ten simulated seconds per wall second, so rollouts and back-offs progress quickly.
pub const SPEED: f64 = 10.0;
/// The RNG seed of every test cluster.
pub const SEED: u64 = 7;
/// The longest one ordinary kubectl command may run before the test fails.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(45);

// ------------------------------------------------------------------------------------------ kubectl binary

fn search_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

fn find_kubectl() -> Result<PathBuf, String> {
    if let Some(k) = std::env::var_os("KUBECTL").filter(|k| !k.is_empty()) {
        let p = PathBuf::from(&k);
        if p.is_file() {
            return Ok(p);
        }
        if let Some(found) = search_path(&p.to_string_lossy()) {
            return Ok(found);
        }
        return Err(format!("KUBECTL={} does not name an executable file", p.display()));
    }
    let Some(on_path) = search_path("kubectl") else {
        return Err("kubectl is not installed: these conformance tests run the real kubectl (1.32) against the \
                    simulator. Install kubectl (CI does) or set KUBECTL=/path/to/kubectl-1.32."
            .into());
    };
    let real = std::fs::canonicalize(&on_path).unwrap_or_else(|_| on_path.clone());
    if let Some(versioned) = real.parent().map(|dir| dir.join("kubectl.1.32")).filter(|p| p.is_file()) {
        return Ok(versioned);
    }
    Ok(on_path)
}

/// The kubectl executable (panics with a clear message if there is none).
pub fn kubectl_binary() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(|| {
        let found = find_kubectl();
        if let Ok(bin) = &found {
            check_client_version(bin);
        }
        found
    }) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn check_client_version(bin: &Path) {
    let out = Command::new(bin).args(["version", "--client", "-o", "json"]).stdin(Stdio::null()).output();
    let minor = out
        .ok()
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|v| v.pointer("/clientVersion/minor").and_then(Value::as_str).map(str::to_string));
    if minor.as_deref() != Some("32") {
        eprintln!(
            "warning: {} reports client minor version {:?}; these tests are written against kubectl 1.32",
            bin.display(),
            minor
        );
    }
}

// ------------------------------------------------------------------------------------------ output

/// What one kubectl run produced.
#[derive(Debug, Clone)]
pub struct Out {
    /// The command line (for messages).
    pub cmd: String,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Whether the harness killed kubectl at its time limit.
    pub killed: bool,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit code: {}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd,
            self.code,
            if self.killed { " (killed at the time limit)" } else { "" },
            self.stdout,
            self.stderr
        )
    }
}

impl Out {
    /// Whether kubectl exited 0.
    pub fn success(&self) -> bool {
        self.code == 0 && !self.killed
    }

    /// Asserts exit code 0; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(self.success(), "kubectl failed:\n{self}");
        &self.stdout
    }

    /// Asserts a non-zero exit code; returns stderr.
    #[track_caller]
    pub fn err(&self) -> &str {
        assert!(!self.success() && !self.killed, "kubectl should have failed:\n{self}");
        &self.stderr
    }

    /// Asserts that stdout contains every needle.
    #[track_caller]
    pub fn stdout_has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(self.stdout.contains(n), "stdout lacks {n:?}:\n{self}");
        }
        self
    }

    /// Asserts that stderr contains every needle.
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}:\n{self}");
        }
        self
    }

    /// stdout lines as whitespace-separated cells with ages normalised (see [`norm`]).
    pub fn rows(&self) -> Vec<Vec<String>> {
        rows(&self.stdout)
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

/// Whether a cell is a Kubernetes age/duration (`5s`, `3m5s`, `2d3h`, `<invalid>`), ignoring parentheses.
///
/// A lone `<n>m` is *not* taken for an age: it is far more often a CPU quantity (`100m`), and the tests'
/// objects are younger than the ten simulated minutes after which kubectl prints ages that way.
pub fn is_age(cell: &str) -> bool {
    let core = cell.trim_matches(|c| c == '(' || c == ')');
    if core == "<invalid>" {
        return true;
    }
    if core.is_empty() || (core.ends_with('m') && core[..core.len() - 1].chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let mut digits = 0;
    let mut groups = 0;
    for c in core.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if matches!(c, 's' | 'm' | 'h' | 'd' | 'y') && digits > 0 {
            digits = 0;
            groups += 1;
        } else {
            return false;
        }
    }
    digits == 0 && (1..=2).contains(&groups)
}

fn norm_cell(cell: &str) -> String {
    if is_age(cell) {
        let open = if cell.starts_with('(') { "(" } else { "" };
        let close = if cell.ends_with(')') { ")" } else { "" };
        format!("{open}<age>{close}")
    } else {
        cell.to_string()
    }
}

/// One line as cells: whitespace-split, ages normalised, and the repeat count of an aggregated event
/// (`12s (x4 over 40s)`) dropped so that the age reads `<age>` whether or not the event repeated.
fn cells(line: &str) -> Vec<String> {
    let raw: Vec<String> = line.split_whitespace().map(norm_cell).collect();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let count = raw[i].strip_prefix("(x").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if count
            && raw.get(i + 1).map(String::as_str) == Some("over")
            && raw.get(i + 2).map(String::as_str) == Some("<age>)")
        {
            i += 3;
            continue;
        }
        out.push(raw[i].clone());
        i += 1;
    }
    out
}

/// Normalises kubectl output for comparison: each line's cells joined by one space, every age or
/// duration cell (`AGE`, `LAST SEEN`, `(16s ago)`) replaced by `<age>`, event repeat counts dropped.
pub fn norm(text: &str) -> String {
    text.lines().map(|l| cells(l).join(" ")).collect::<Vec<_>>().join("\n")
}

/// Lines as cells (see [`norm`]), blank lines dropped.
pub fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().filter(|l| !l.trim().is_empty()).map(cells).collect()
}

/// The first cell of each data row (skipping a header line when `header` is set).
pub fn first_column(text: &str, header: bool) -> Vec<String> {
    rows(text).into_iter().skip(usize::from(header)).filter_map(|r| r.into_iter().next()).collect()
}

// ------------------------------------------------------------------------------------------ running

fn reader(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

struct Spawned {
    cmd: String,
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

impl Spawned {
    fn start(mut command: Command, cmd: String, stdin: Option<String>) -> Spawned {
        command
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run kubectl ({cmd}): {e}"));
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(input.as_bytes());
            });
        }
        let stdout = reader(child.stdout.take().expect("piped stdout"));
        let stderr = reader(child.stderr.take().expect("piped stderr"));
        Spawned { cmd, child, stdout, stderr }
    }

    /// Waits for exit until `deadline`, then kills. Blocking.
    fn finish(mut self, deadline: Instant) -> Out {
        let mut killed = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(_) => break None,
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                killed = true;
                break self.child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = String::from_utf8_lossy(&self.stdout.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&self.stderr.join().unwrap_or_default()).into_owned();
        Out { cmd: self.cmd, code: status.and_then(|s| s.code()).unwrap_or(-1), stdout, stderr, killed }
    }
}

/// A kubectl command left running (`get -w`, `logs -f`); stopped by [`Streaming::stop`]. Killed if dropped.
pub struct Streaming {
    inner: Option<Spawned>,
}

impl Streaming {
    /// Lets the command run `more` longer (or until it exits), then kills it and returns what it printed.
    pub async fn stop_after(mut self, more: Duration) -> Out {
        let spawned = self.inner.take().expect("running");
        let deadline = Instant::now() + more;
        tokio::task::spawn_blocking(move || spawned.finish(deadline)).await.expect("kubectl runner panicked")
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if let Some(s) = &mut self.inner {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }
}

// ------------------------------------------------------------------------------------------ the cluster

/// One simulated cluster served on loopback, with a kubeconfig and kubectl state in a temp directory.
pub struct Sim {
    /// The cluster (for `advance` and `recorded_requests`).
    pub sim: SimCluster,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Temp directory: kubeconfig, `HOME`, cache and manifests.
    pub dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    kubectl: PathBuf,
}

impl Sim {
    /// A cluster with only the system basics (two worker nodes, coredns).
    pub async fn empty() -> Sim {
        Sim::start(Scenario::Empty).await
    }

    /// The demo scenario (control plane + two workers, healthy apps and planted faults).
    pub async fn demo() -> Sim {
        Sim::start(Scenario::Demo).await
    }

    /// Starts a cluster with the scenario.
    pub async fn start(scenario: Scenario) -> Sim {
        let kubectl = kubectl_binary();
        let sim = SimCluster::start(SimOptions {
            name: "sim".into(),
            scenario,
            speed: SPEED,
            seed: SEED,
            ..SimOptions::default()
        })
        .await
        .expect("the simulated cluster starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = sim.serve(listener).expect("serve");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let text = kubeconfig::render(&[Entry { name: "sim".into(), server: format!("http://{addr}") }]);
        std::fs::write(&kubeconfig, text).expect("write kubeconfig");
        Sim { sim, addr, dir, kubeconfig, kubectl }
    }

    /// The server URL.
    pub fn server(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn command(&self, args: &[&str]) -> (Command, String) {
        let cache = self.dir.path().join("cache");
        let mut c = Command::new(&self.kubectl);
        c.arg("--cache-dir").arg(&cache).arg("--request-timeout=20s").args(args);
        c.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .env_remove("KUBE_EDITOR")
            .env_remove("KUBECTL_KUBERC")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        (c, format!("kubectl {}", args.join(" ")))
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>, limit: Duration) -> Out {
        let (command, cmd) = self.command(args);
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + limit;
            Spawned::start(command, cmd, stdin).finish(deadline)
        })
        .await
        .expect("kubectl runner panicked")
    }

    /// Runs kubectl to completion (failing the test if it takes longer than [`COMMAND_LIMIT`]).
    pub async fn kubectl(&self, args: &[&str]) -> Out {
        let out = self.run(args, None, COMMAND_LIMIT).await;
        assert!(!out.killed, "kubectl did not finish within {COMMAND_LIMIT:?}:\n{out}");
        out
    }

    /// Runs kubectl with `stdin` (e.g. `apply -f -`).
    pub async fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let out = self.run(args, Some(stdin), COMMAND_LIMIT).await;
        assert!(!out.killed, "kubectl did not finish within {COMMAND_LIMIT:?}:\n{out}");
        out
    }

    /// Runs a long-lived kubectl command (`-w`, `-f`) for `limit`, then kills it; returns what it printed.
    pub async fn kubectl_for(&self, args: &[&str], limit: Duration) -> Out {
        self.run(args, None, limit).await
    }

    /// Starts a long-lived kubectl command in the background; see [`Streaming::stop_after`].
    pub fn spawn(&self, args: &[&str]) -> Streaming {
        let (command, cmd) = self.command(args);
        Streaming { inner: Some(Spawned::start(command, cmd, None)) }
    }

    /// Runs kubectl, asserts success, returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert!(out.success(), "kubectl failed:\n{out}");
        out.stdout
    }

    /// Runs kubectl, asserts failure, returns the output.
    pub async fn fails(&self, args: &[&str]) -> Out {
        let out = self.kubectl(args).await;
        assert!(!out.success(), "kubectl should have failed:\n{out}");
        out
    }

    /// `kubectl <args> -o json`, parsed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-o", "json"]);
        self.kubectl(&all).await.json()
    }

    /// Writes a file into the temp directory; returns its path as a string.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write manifest");
        path.to_string_lossy().into_owned()
    }

    /// Re-runs a kubectl command until `pred` accepts its output, for at most `timeout`; returns the
    /// accepted output, or fails the test with the last output.
    pub async fn wait_until(&self, args: &[&str], timeout: Duration, pred: impl Fn(&Out) -> bool) -> Out {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.kubectl(args).await;
            if pred(&out) {
                return out;
            }
            if Instant::now() >= deadline {
                panic!("condition not reached within {timeout:?}; last output:\n{out}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Re-runs a successful kubectl command until `pred` accepts its rows (see [`rows`]); returns them.
    pub async fn wait_rows(
        &self,
        args: &[&str],
        timeout: Duration,
        pred: impl Fn(&[Vec<String>]) -> bool,
    ) -> Vec<Vec<String>> {
        let out = self.wait_until(args, timeout, |o| o.success() && pred(&o.rows())).await;
        out.rows()
    }

    /// The requests the simulator recorded whose path contains `path_part`.
    pub fn requests(&self, path_part: &str) -> Vec<binnacle_sim::http::RecordedRequest> {
        self.sim.recorded_requests().into_iter().filter(|r| r.path.contains(path_part)).collect()
    }

    /// The most recent request with `method` whose path contains `path_part` (fails the test if none).
    pub fn last_request(&self, method: &str, path_part: &str) -> binnacle_sim::http::RecordedRequest {
        self.requests(path_part)
            .into_iter()
            .rev()
            .find(|r| r.method == method)
            .unwrap_or_else(|| panic!("no {method} request to a path containing {path_part:?}"))
    }

    /// Moves the simulated clock forward.
    pub fn advance(&self, secs: u64) {
        self.sim.advance(Duration::from_secs(secs));
    }
}

/// Seconds as a Duration (shorthand).
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A Deployment manifest: `replicas` pods of one container `app` running `image`, labelled `app=<name>`.
pub fn deployment(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: app
        image: {image}
        resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}
"
    )
}

/// A bare Pod manifest with one nginx container.
pub fn pod(name: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{{labels}}}
spec:
  containers:
  - name: app
    image: nginx:1.27
"
    )
}

/// Applies a manifest (written to a file) and asserts success; returns stdout.
pub async fn apply(k: &Sim, name: &str, manifest: &str) -> String {
    let path = k.file(name, manifest);
    k.ok(&["apply", "-f", &path]).await
}

/// Waits until the Deployment reports `n` available replicas out of `n` (READY `n/n`).
pub async fn wait_deploy_ready(k: &Sim, ns: &str, name: &str, n: u32) {
    let want = format!("{n}/{n}");
    k.wait_until(&["get", "deploy", name, "-n", ns, "--no-headers"], secs(30), |o| {
        o.success() && o.rows().first().is_some_and(|r| r.get(1) == Some(&want) && r.get(3) == Some(&n.to_string()))
    })
    .await;
}
