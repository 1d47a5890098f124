//! An in-memory Jenkins JSON API stand-in. See the crate docs for what it answers.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

/// How the stand-in behaves.
#[derive(Debug, Clone)]
pub struct JenkinsOptions {
    /// The only user that may log in.
    pub user: String,
    /// That user's API token.
    pub token: String,
    /// How long a triggered build runs before it succeeds.
    pub build_duration: Duration,
    /// How long a triggered build waits in the queue before it starts.
    pub queue_delay: Duration,
}

impl Default for JenkinsOptions {
    fn default() -> Self {
        Self {
            user: "binnacle".into(),
            token: "11f0c0ffee-test-api-token".into(),
            build_duration: Duration::from_secs(3),
            queue_delay: Duration::from_millis(200),
        }
    }
}

/// A running stand-in. Dropping it stops the server.
#[derive(Debug)]
pub struct JenkinsHandle {
    url: String,
    state: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl JenkinsHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests the server has answered (any path, any outcome).
    pub fn request_count(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The description of a build, for assertions (`None` when the job or build does not exist).
    pub fn build_description(&self, job: &str, number: u64) -> Option<Option<String>> {
        let mut st = self.state.lock();
        st.tick();
        let path: Vec<String> = job.split('/').map(str::to_string).collect();
        st.job(&path).and_then(|j| j.builds.get(&number)).map(|b| b.description.clone())
    }

    /// The result of a build (`None` while it runs or when it does not exist).
    pub fn build_result(&self, job: &str, number: u64) -> Option<String> {
        let mut st = self.state.lock();
        st.tick();
        let path: Vec<String> = job.split('/').map(str::to_string).collect();
        st.job(&path).and_then(|j| j.builds.get(&number)).and_then(|b| b.result.clone())
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for JenkinsHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the stand-in on `listen` (a loopback address; port 0 picks a free port) and returns the bound
/// address and the handle that keeps it running.
pub async fn start_jenkins(listen: SocketAddr, opts: JenkinsOptions) -> std::io::Result<(SocketAddr, JenkinsHandle)> {
    if !listen.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the Jenkins stand-in listens on loopback addresses only, not {listen}"),
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let state = Arc::new(Shared { inner: Mutex::new(State::seeded(&url, opts)), requests: AtomicU64::new(0) });
    let router = Router::new().fallback(handle).with_state(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, JenkinsHandle { url, state, shutdown: Some(tx), task: Some(task) }))
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<State>,
    requests: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Folder,
    FreeStyle,
    Pipeline,
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    /// `string`, `boolean` or `choice`.
    kind: &'static str,
    default: String,
    choices: Vec<String>,
    description: String,
}

#[derive(Debug, Clone)]
struct Change {
    commit: String,
    author: String,
    msg: String,
    paths: Vec<String>,
    timestamp: u64,
}

#[derive(Debug, Clone)]
struct Build {
    number: u64,
    timestamp: u64,
    duration: u64,
    result: Option<String>,
    description: Option<String>,
    params: Vec<(String, String)>,
    log: String,
    changes: Vec<Change>,
    revision: String,
    finish_at: Option<Instant>,
    queue_id: u64,
    cause: String,
}

#[derive(Debug, Clone)]
struct Job {
    kind: Kind,
    description: String,
    params: Vec<Param>,
    children: BTreeMap<String, Job>,
    builds: BTreeMap<u64, Build>,
    next_build: u64,
    repo: String,
    branch: String,
}

impl Job {
    fn folder(description: &str) -> Self {
        Job {
            kind: Kind::Folder,
            description: description.into(),
            params: vec![],
            children: BTreeMap::new(),
            builds: BTreeMap::new(),
            next_build: 1,
            repo: String::new(),
            branch: String::new(),
        }
    }

    fn project(kind: Kind, description: &str, repo: &str) -> Self {
        Job {
            kind,
            description: description.into(),
            params: vec![],
            children: BTreeMap::new(),
            builds: BTreeMap::new(),
            next_build: 1,
            repo: repo.into(),
            branch: "*/main".into(),
        }
    }

    fn class(&self) -> &'static str {
        match self.kind {
            Kind::Folder => "com.cloudbees.hudson.plugins.folder.Folder",
            Kind::FreeStyle => "hudson.model.FreeStyleProject",
            Kind::Pipeline => "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        }
    }

    fn build_class(&self) -> &'static str {
        match self.kind {
            Kind::Pipeline => "org.jenkinsci.plugins.workflow.job.WorkflowRun",
            _ => "hudson.model.FreeStyleBuild",
        }
    }

    fn color(&self) -> &'static str {
        let last = self.builds.values().next_back();
        match last {
            None => "notbuilt",
            Some(b) if b.result.is_none() => "blue_anime",
            Some(b) => match b.result.as_deref() {
                Some("SUCCESS") => "blue",
                Some("FAILURE") => "red",
                Some("UNSTABLE") => "yellow",
                _ => "aborted",
            },
        }
    }
}

#[derive(Debug, Clone)]
struct QueueItem {
    job: Vec<String>,
    build: u64,
    ready_at: Instant,
}

#[derive(Debug)]
struct State {
    url: String,
    opts: JenkinsOptions,
    root: BTreeMap<String, Job>,
    queue: BTreeMap<u64, QueueItem>,
    next_queue: u64,
    sessions: BTreeMap<String, String>,
    next_session: u64,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A short deterministic hex digest (FNV-1a), for crumbs, session ids and fake commit ids.
fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut g: u64 = h ^ 0x9e37_79b9_7f4a_7c15;
    for b in text.bytes().rev() {
        g ^= u64::from(b);
        g = g.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}{g:016x}")
}

fn finished_log(job: &str, number: u64, result: &str, params: &[(String, String)]) -> String {
    let mut log = format!(
        "Started by user Binnacle Bot\nRunning as SYSTEM\nBuilding in workspace /var/jenkins_home/workspace/{job}\n"
    );
    for (k, v) in params {
        log.push_str(&format!("[param] {k}={v}\n"));
    }
    log.push_str(&format!(
        "\u{1b}[32m> git fetch --tags --force --progress\u{1b}[0m\nChecking out Revision {}\nusing credentials: token=ghp_example_not_a_real_token\n+ make test\nok  \tall tests passed (build {number})\nFinished: {result}\n",
        digest(&format!("{job}{number}"))
    ));
    log
}

impl State {
    fn seeded(url: &str, opts: JenkinsOptions) -> Self {
        let t0 = now_ms().saturating_sub(3_600_000);
        let mut hello = Job::project(Kind::FreeStyle, "Says hello.", "https://git.example.test/acme/hello.git");
        hello.builds.insert(
            1,
            Build {
                number: 1,
                timestamp: t0,
                duration: 12_000,
                result: Some("SUCCESS".into()),
                description: None,
                params: vec![],
                log: finished_log("hello", 1, "SUCCESS", &[]),
                changes: vec![],
                revision: digest("hello1"),
                finish_at: None,
                queue_id: 0,
                cause: "Started by timer".into(),
            },
        );
        hello.next_build = 2;

        let mut api =
            Job::project(Kind::Pipeline, "Builds and deploys the API.", "https://git.example.test/acme/api.git");
        api.params = vec![
            Param {
                name: "BRANCH".into(),
                kind: "string",
                default: "main".into(),
                choices: vec![],
                description: "Branch to build".into(),
            },
            Param {
                name: "DEPLOY".into(),
                kind: "boolean",
                default: "false".into(),
                choices: vec![],
                description: "Deploy after the build".into(),
            },
            Param {
                name: "ENV".into(),
                kind: "choice",
                default: "staging".into(),
                choices: vec!["staging".into(), "prod".into()],
                description: "Target environment".into(),
            },
        ];
        for (n, result) in [(1u64, "SUCCESS"), (2, "FAILURE"), (3, "SUCCESS")] {
            let params = vec![
                ("BRANCH".to_string(), "main".to_string()),
                ("DEPLOY".to_string(), "false".to_string()),
                ("ENV".to_string(), "staging".to_string()),
            ];
            let changes = vec![Change {
                commit: digest(&format!("api-change-{n}")),
                author: "Ada Lovelace".into(),
                msg: format!("Fix checkout totals (#{})", 100 + n),
                paths: vec!["src/checkout.rs".into(), "README.md".into()],
                timestamp: t0 + n * 60_000,
            }];
            api.builds.insert(
                n,
                Build {
                    number: n,
                    timestamp: t0 + n * 600_000,
                    duration: 90_000 + n * 1000,
                    result: Some(result.into()),
                    description: None,
                    log: finished_log("team/api", n, result, &params),
                    params,
                    changes,
                    revision: digest(&format!("api{n}")),
                    finish_at: None,
                    queue_id: 0,
                    cause: "Started by an SCM change".into(),
                },
            );
        }
        api.next_build = 4;

        let mut nested = Job::folder("Nested jobs.");
        nested.children.insert(
            "worker".into(),
            Job::project(Kind::FreeStyle, "A background worker.", "https://git.example.test/acme/worker.git"),
        );
        let mut team = Job::folder("The team's jobs.");
        team.children.insert("api".into(), api);
        team.children.insert("nested".into(), nested);
        team.children.insert(
            "app build".into(),
            Job::project(Kind::FreeStyle, "A job whose name has a space.", "https://git.example.test/acme/app.git"),
        );
        let mut root = BTreeMap::new();
        root.insert("hello".to_string(), hello);
        root.insert("team".to_string(), team);
        State {
            url: url.to_string(),
            opts,
            root,
            queue: BTreeMap::new(),
            next_queue: 1,
            sessions: BTreeMap::new(),
            next_session: 1,
        }
    }

    fn job(&self, path: &[String]) -> Option<&Job> {
        let (first, rest) = path.split_first()?;
        let mut job = self.root.get(first)?;
        for seg in rest {
            job = job.children.get(seg)?;
        }
        Some(job)
    }

    fn job_mut(&mut self, path: &[String]) -> Option<&mut Job> {
        let (first, rest) = path.split_first()?;
        let mut job = self.root.get_mut(first)?;
        for seg in rest {
            job = job.children.get_mut(seg)?;
        }
        Some(job)
    }

    /// Finishes builds whose time has come.
    fn tick(&mut self) {
        let now = Instant::now();
        fn walk(jobs: &mut BTreeMap<String, Job>, now: Instant, prefix: &str) {
            for (name, job) in jobs.iter_mut() {
                let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
                for b in job.builds.values_mut() {
                    if b.result.is_none() && b.finish_at.is_some_and(|t| t <= now) {
                        b.result = Some("SUCCESS".into());
                        b.finish_at = None;
                        b.duration = now_ms().saturating_sub(b.timestamp);
                        b.log = finished_log(&path, b.number, "SUCCESS", &b.params);
                    }
                }
                walk(&mut job.children, now, &path);
            }
        }
        walk(&mut self.root, now, "");
    }

    fn job_url(&self, path: &[String]) -> String {
        let mut url = self.url.clone();
        for seg in path {
            url.push_str("/job/");
            url.push_str(&encode_segment(seg));
        }
        url.push('/');
        url
    }

    fn job_summary(&self, path: &[String], job: &Job) -> Value {
        let name = path.last().cloned().unwrap_or_default();
        let mut v = json!({"_class": job.class(), "name": name, "url": self.job_url(path)});
        if !matches!(job.kind, Kind::Folder) {
            v["color"] = json!(job.color());
        }
        v
    }

    fn build_ref(&self, path: &[String], job: &Job, b: Option<&Build>) -> Value {
        match b {
            Some(b) => {
                json!({"_class": job.build_class(), "number": b.number, "url": format!("{}{}/", self.job_url(path), b.number)})
            }
            None => Value::Null,
        }
    }

    fn job_json(&self, path: &[String], job: &Job) -> Value {
        let name = path.last().cloned().unwrap_or_default();
        let mut v = json!({
            "_class": job.class(),
            "name": name,
            "fullName": path.join("/"),
            "displayName": name,
            "fullDisplayName": path.join(" » "),
            "description": job.description,
            "url": self.job_url(path),
        });
        if matches!(job.kind, Kind::Folder) {
            let jobs: Vec<Value> = job
                .children
                .iter()
                .map(|(n, j)| {
                    let mut p = path.to_vec();
                    p.push(n.clone());
                    self.job_summary(&p, j)
                })
                .collect();
            v["jobs"] = json!(jobs);
            return v;
        }
        let builds: Vec<Value> = job.builds.values().rev().map(|b| self.build_summary(path, job, b)).collect();
        let last = job.builds.values().next_back();
        let last_with = |pred: &dyn Fn(&Build) -> bool| job.builds.values().rev().find(|b| pred(b));
        v["buildable"] = json!(true);
        v["color"] = json!(job.color());
        v["inQueue"] = json!(self.queue.values().any(|q| q.job == path && q.ready_at > Instant::now()));
        v["nextBuildNumber"] = json!(job.next_build);
        v["builds"] = json!(builds);
        v["firstBuild"] = self.build_ref(path, job, job.builds.values().next());
        v["lastBuild"] = self.build_ref(path, job, last);
        v["lastCompletedBuild"] = self.build_ref(path, job, last_with(&|b| b.result.is_some()));
        v["lastSuccessfulBuild"] = self.build_ref(path, job, last_with(&|b| b.result.as_deref() == Some("SUCCESS")));
        v["lastFailedBuild"] = self.build_ref(path, job, last_with(&|b| b.result.as_deref() == Some("FAILURE")));
        let done: Vec<&Build> = job.builds.values().filter(|b| b.result.is_some()).collect();
        let ok = done.iter().filter(|b| b.result.as_deref() == Some("SUCCESS")).count();
        let score = if done.is_empty() { 100 } else { ok * 100 / done.len() };
        v["healthReport"] = json!([{"description": format!("Build stability: {} out of the last {} builds failed.", done.len() - ok, done.len()), "score": score}]);
        let mut props = Vec::new();
        if !job.params.is_empty() {
            let defs: Vec<Value> = job.params.iter().map(param_definition).collect();
            props.push(json!({"_class": "hudson.model.ParametersDefinitionProperty", "parameterDefinitions": defs}));
        }
        v["property"] = json!(props);
        if matches!(job.kind, Kind::FreeStyle) {
            v["scm"] = json!({"_class": "hudson.plugins.git.GitSCM", "userRemoteConfigs": [{"url": job.repo}], "branches": [{"name": job.branch}]});
        }
        v
    }

    fn build_summary(&self, path: &[String], job: &Job, b: &Build) -> Value {
        json!({
            "_class": job.build_class(),
            "number": b.number,
            "url": format!("{}{}/", self.job_url(path), b.number),
            "result": b.result,
            "building": b.result.is_none(),
            "timestamp": b.timestamp,
            "duration": if b.result.is_some() { b.duration } else { 0 },
            "description": b.description,
            "displayName": format!("#{}", b.number),
        })
    }

    fn build_json(&self, path: &[String], job: &Job, b: &Build) -> Value {
        let mut v = self.build_summary(path, job, b);
        v["id"] = json!(b.number.to_string());
        v["fullDisplayName"] = json!(format!("{} #{}", path.join(" » "), b.number));
        v["estimatedDuration"] = json!(60_000);
        v["queueId"] = json!(b.queue_id);
        let mut actions = vec![
            json!({"_class": "hudson.model.CauseAction", "causes": [{"_class": "hudson.model.Cause$UserIdCause", "shortDescription": b.cause, "userId": self.opts.user, "userName": "Binnacle Bot"}]}),
        ];
        if !b.params.is_empty() {
            let params: Vec<Value> = b
                .params
                .iter()
                .map(|(k, val)| {
                    let is_bool = job.params.iter().any(|p| &p.name == k && p.kind == "boolean");
                    if is_bool {
                        json!({"_class": "hudson.model.BooleanParameterValue", "name": k, "value": val == "true"})
                    } else {
                        json!({"_class": "hudson.model.StringParameterValue", "name": k, "value": val})
                    }
                })
                .collect();
            actions.push(json!({"_class": "hudson.model.ParametersAction", "parameters": params}));
        }
        actions.push(json!({
            "_class": "hudson.plugins.git.util.BuildData",
            "lastBuiltRevision": {"SHA1": b.revision, "branch": [{"SHA1": b.revision, "name": "refs/remotes/origin/main"}]},
            "remoteUrls": [job.repo],
            "scmName": "",
        }));
        actions.push(json!({}));
        v["actions"] = json!(actions);
        let items: Vec<Value> = b
            .changes
            .iter()
            .map(|c| {
                json!({
                    "_class": "hudson.plugins.git.GitChangeSet",
                    "affectedPaths": c.paths,
                    "commitId": c.commit,
                    "id": c.commit,
                    "timestamp": c.timestamp,
                    "author": {"absoluteUrl": format!("{}/user/ada", self.url), "fullName": c.author},
                    "authorEmail": "ada@example.test",
                    "comment": format!("{}\n", c.msg),
                    "msg": c.msg,
                    "paths": c.paths.iter().map(|p| json!({"editType": "edit", "file": p})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let change_set = json!({"_class": "hudson.plugins.git.GitChangeSetList", "kind": "git", "items": items});
        match job.kind {
            Kind::Pipeline => v["changeSets"] = json!(if b.changes.is_empty() { vec![] } else { vec![change_set] }),
            _ => v["changeSet"] = change_set,
        }
        v["artifacts"] = json!([]);
        v
    }

    fn config_xml(&self, job: &Job) -> String {
        let scm = format!(
            "<scm class=\"hudson.plugins.git.GitSCM\" plugin=\"git@5.2.0\">\n    <configVersion>2</configVersion>\n    <userRemoteConfigs>\n      <hudson.plugins.git.UserRemoteConfig>\n        <url>{}</url>\n        <credentialsId>git-creds</credentialsId>\n      </hudson.plugins.git.UserRemoteConfig>\n    </userRemoteConfigs>\n    <branches>\n      <hudson.plugins.git.BranchSpec>\n        <name>{}</name>\n      </hudson.plugins.git.BranchSpec>\n    </branches>\n  </scm>",
            job.repo, job.branch
        );
        match job.kind {
            Kind::Folder => "<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.hudson.plugins.folder.Folder plugin=\"cloudbees-folder@6.9\">\n  <description></description>\n</com.cloudbees.hudson.plugins.folder.Folder>\n".into(),
            Kind::FreeStyle => format!("<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <description>{}</description>\n  {scm}\n  <builders/>\n</project>\n", job.description),
            Kind::Pipeline => format!(
                "<?xml version='1.1' encoding='UTF-8'?>\n<flow-definition plugin=\"workflow-job@1400.v7fd111b_ec82f\">\n  <description>{}</description>\n  <definition class=\"org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition\" plugin=\"workflow-cps@3894\">\n    {scm}\n    <scriptPath>Jenkinsfile</scriptPath>\n    <lightweight>true</lightweight>\n  </definition>\n</flow-definition>\n",
                job.description
            ),
        }
    }
}

fn param_definition(p: &Param) -> Value {
    let (class, value_class) = match p.kind {
        "boolean" => ("hudson.model.BooleanParameterDefinition", "hudson.model.BooleanParameterValue"),
        "choice" => ("hudson.model.ChoiceParameterDefinition", "hudson.model.StringParameterValue"),
        _ => ("hudson.model.StringParameterDefinition", "hudson.model.StringParameterValue"),
    };
    let value = if p.kind == "boolean" { json!(p.default == "true") } else { json!(p.default) };
    let type_name = match p.kind {
        "boolean" => "BooleanParameterDefinition",
        "choice" => "ChoiceParameterDefinition",
        _ => "StringParameterDefinition",
    };
    let mut v = json!({
        "_class": class,
        "defaultParameterValue": {"_class": value_class, "name": p.name, "value": value},
        "description": p.description,
        "name": p.name,
        "type": type_name,
    });
    if p.kind == "choice" {
        v["choices"] = json!(p.choices);
    }
    v
}

fn encode_segment(seg: &str) -> String {
    let mut out = String::new();
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_segment(seg: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", seg.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn json_reply(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json;charset=utf-8")], v.to_string()).into_response()
}

fn text_reply(status: StatusCode, text: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain;charset=utf-8")], text.into()).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>",
    )
        .into_response()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn authorized(headers: &HeaderMap, opts: &JenkinsOptions) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(encoded) = value.strip_prefix("Basic ") else { return false };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    decoded == format!("{}:{}", opts.user, opts.token).as_bytes()
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix("JSESSIONID.binnacle=").map(str::to_string))
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let mut st = shared.lock();
    st.tick();
    if !authorized(&headers, &st.opts) {
        let mut r = text_reply(StatusCode::UNAUTHORIZED, "Authentication required");
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Jenkins\""));
        return r;
    }
    let path = uri.path().trim_end_matches('/').to_string();
    if method == Method::POST {
        let crumb = headers.get("Jenkins-Crumb").and_then(|v| v.to_str().ok()).map(str::to_string);
        let valid = match (session_of(&headers), crumb) {
            (Some(sid), Some(crumb)) => st.sessions.get(&sid).is_some_and(|c| *c == crumb),
            _ => false,
        };
        if !valid {
            return text_reply(StatusCode::FORBIDDEN, "No valid crumb was included in the request");
        }
    }
    match (method.clone(), path.as_str()) {
        (Method::GET, "/api/json" | "/api/json/") => {
            let jobs: Vec<Value> = st.root.iter().map(|(n, j)| st.job_summary(std::slice::from_ref(n), j)).collect();
            return json_reply(
                StatusCode::OK,
                &json!({"_class": "hudson.model.Hudson", "mode": "NORMAL", "nodeDescription": "the Jenkins stand-in", "url": format!("{}/", st.url), "useCrumbs": true, "jobs": jobs}),
            );
        }
        (Method::GET, "/crumbIssuer/api/json") => {
            let sid = digest(&format!("session-{}-{}", st.next_session, now_ms()));
            st.next_session += 1;
            let crumb = digest(&format!("crumb-{sid}-{}", st.opts.user));
            st.sessions.insert(sid.clone(), crumb.clone());
            let mut r = json_reply(
                StatusCode::OK,
                &json!({"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": crumb, "crumbRequestField": "Jenkins-Crumb"}),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("JSESSIONID.binnacle={sid}; Path=/; HttpOnly")) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            return r;
        }
        (Method::GET, "/me/api/json") => {
            return json_reply(
                StatusCode::OK,
                &json!({"_class": "hudson.model.User", "absoluteUrl": format!("{}/user/{}", st.url, st.opts.user), "description": null, "fullName": "Binnacle Bot", "id": st.opts.user, "property": []}),
            );
        }
        (Method::GET, "/whoAmI/api/json") => {
            return json_reply(
                StatusCode::OK,
                &json!({"_class": "hudson.security.WhoAmI", "anonymous": false, "authenticated": true, "authorities": ["authenticated"], "details": null, "name": st.opts.user, "toString": format!("{}: authenticated", st.opts.user)}),
            );
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/queue/item/") {
        let Some(id) = rest.strip_suffix("/api/json").and_then(|s| s.parse::<u64>().ok()) else { return not_found() };
        let Some(item) = st.queue.get(&id).cloned() else { return not_found() };
        let Some(job) = st.job(&item.job) else { return not_found() };
        let task = json!({"_class": job.class(), "name": item.job.last().cloned().unwrap_or_default(), "url": st.job_url(&item.job)});
        let v = if Instant::now() >= item.ready_at {
            json!({"_class": "hudson.model.Queue$LeftItem", "id": id, "blocked": false, "buildable": false, "cancelled": false, "stuck": false, "why": null, "task": task,
                   "executable": {"_class": job.build_class(), "number": item.build, "url": format!("{}{}/", st.job_url(&item.job), item.build)}})
        } else {
            json!({"_class": "hudson.model.Queue$WaitingItem", "id": id, "blocked": false, "buildable": false, "stuck": false, "why": "In the quiet period.", "task": task, "executable": null})
        };
        return json_reply(StatusCode::OK, &v);
    }
    let Some(rest) = path.strip_prefix("/job/") else { return not_found() };
    // `/job/a/job/b/<tail...>`: the job path, then what is asked of it.
    let joined = format!("job/{rest}");
    let segments: Vec<&str> = joined.split('/').collect();
    let mut job_path: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 1 < segments.len() && segments[i] == "job" {
        job_path.push(decode_segment(segments[i + 1]));
        i += 2;
    }
    let tail: Vec<&str> = segments[i..].to_vec();
    if st.job(&job_path).is_none() {
        return not_found();
    }
    let query = query_pairs(&uri);
    job_request(&mut st, &method, &job_path, &tail, &query, &body)
}

fn resolve_build(job: &Job, selector: &str) -> Option<u64> {
    let pick = |pred: &dyn Fn(&Build) -> bool| job.builds.values().rev().find(|b| pred(b)).map(|b| b.number);
    match selector {
        "lastBuild" => pick(&|_| true),
        "lastCompletedBuild" => pick(&|b| b.result.is_some()),
        "lastSuccessfulBuild" | "lastStableBuild" => pick(&|b| b.result.as_deref() == Some("SUCCESS")),
        "lastFailedBuild" | "lastUnsuccessfulBuild" => pick(&|b| b.result.as_deref() == Some("FAILURE")),
        n => n.parse().ok().filter(|n| job.builds.contains_key(n)),
    }
}

fn job_request(
    st: &mut State,
    method: &Method,
    path: &[String],
    tail: &[&str],
    query: &[(String, String)],
    body: &Bytes,
) -> Response {
    let Some(job) = st.job(path).cloned() else { return not_found() };
    match (method, tail) {
        (&Method::GET, ["api", "json"]) => json_reply(StatusCode::OK, &st.job_json(path, &job)),
        (&Method::GET, ["config.xml"]) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml")], st.config_xml(&job)).into_response()
        }
        (&Method::POST, ["build"]) | (&Method::POST, ["buildWithParameters"]) => {
            if matches!(job.kind, Kind::Folder) {
                return not_found();
            }
            let with_params = tail == ["buildWithParameters"];
            if with_params && job.params.is_empty() {
                return text_reply(StatusCode::BAD_REQUEST, format!("{} is not parameterized", path.join("/")));
            }
            if !with_params && !job.params.is_empty() {
                return text_reply(
                    StatusCode::BAD_REQUEST,
                    format!("{} is parameterized: use buildWithParameters", path.join("/")),
                );
            }
            let mut given: Vec<(String, String)> = query.to_vec();
            given.extend(url::form_urlencoded::parse(body).into_owned());
            let params: Vec<(String, String)> = job
                .params
                .iter()
                .map(|p| {
                    let v = given
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == p.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| p.default.clone());
                    (p.name.clone(), v)
                })
                .collect();
            let id = st.next_queue;
            st.next_queue += 1;
            let build_duration = st.opts.build_duration;
            let queue_delay = st.opts.queue_delay;
            let url = st.url.clone();
            let Some(j) = st.job_mut(path) else { return not_found() };
            let number = j.next_build;
            j.next_build += 1;
            let running_log = format!(
                "Started by user Binnacle Bot\nRunning as SYSTEM\n{}[Pipeline] Start of Pipeline\n+ make test\n",
                params.iter().map(|(k, v)| format!("[param] {k}={v}\n")).collect::<String>()
            );
            j.builds.insert(
                number,
                Build {
                    number,
                    timestamp: now_ms(),
                    duration: 0,
                    result: None,
                    description: None,
                    params,
                    log: running_log,
                    changes: vec![],
                    revision: digest(&format!("{}{number}", path.join("/"))),
                    finish_at: Some(Instant::now() + queue_delay + build_duration),
                    queue_id: id,
                    cause: "Started by user Binnacle Bot".into(),
                },
            );
            st.queue
                .insert(id, QueueItem { job: path.to_vec(), build: number, ready_at: Instant::now() + queue_delay });
            redirect(StatusCode::CREATED, &format!("{url}/queue/item/{id}/"))
        }
        (m, [selector, rest @ ..]) => {
            let Some(number) = resolve_build(&job, selector) else { return not_found() };
            let job_url = st.job_url(path);
            match (m, rest) {
                (&Method::GET, ["api", "json"]) => match job.builds.get(&number) {
                    Some(b) => json_reply(StatusCode::OK, &st.build_json(path, &job, b)),
                    None => not_found(),
                },
                (&Method::POST, ["stop"]) => {
                    if let Some(b) = st.job_mut(path).and_then(|j| j.builds.get_mut(&number))
                        && b.result.is_none()
                    {
                        b.result = Some("ABORTED".into());
                        b.finish_at = None;
                        b.duration = now_ms().saturating_sub(b.timestamp);
                        b.log.push_str("Aborted by Binnacle Bot\nFinished: ABORTED\n");
                    }
                    redirect(StatusCode::FOUND, &format!("{job_url}{number}/"))
                }
                (&Method::POST, ["submitDescription"]) => {
                    let mut given: Vec<(String, String)> = query.to_vec();
                    given.extend(url::form_urlencoded::parse(body).into_owned());
                    let Some(description) = given.into_iter().rev().find(|(k, _)| k == "description").map(|(_, v)| v)
                    else {
                        return text_reply(StatusCode::BAD_REQUEST, "description is missing");
                    };
                    if let Some(b) = st.job_mut(path).and_then(|j| j.builds.get_mut(&number)) {
                        b.description = Some(description);
                    }
                    redirect(StatusCode::FOUND, &format!("{job_url}{number}/"))
                }
                (&Method::GET, ["logText", "progressiveText"]) | (&Method::GET, ["consoleText"]) => {
                    let Some(b) = job.builds.get(&number) else { return not_found() };
                    let start: usize =
                        query.iter().find(|(k, _)| k == "start").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                    let bytes = b.log.as_bytes();
                    let from = start.min(bytes.len());
                    let mut r = Response::new(Body::from(bytes[from..].to_vec()));
                    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain;charset=UTF-8"));
                    if rest == ["logText", "progressiveText"] {
                        if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
                            r.headers_mut().insert("X-Text-Size", v);
                        }
                        if b.result.is_none() {
                            r.headers_mut().insert("X-More-Data", HeaderValue::from_static("true"));
                        }
                    }
                    r
                }
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip() {
        assert_eq!(encode_segment("app build"), "app%20build");
        assert_eq!(decode_segment("app%20build"), "app build");
        assert_eq!(decode_segment("a+b"), "a+b");
    }

    #[tokio::test]
    async fn auth_and_crumbs_are_required() {
        let (addr, handle) =
            start_jenkins("127.0.0.1:0".parse().expect("addr"), JenkinsOptions::default()).await.expect("starts");
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let anon = client.get(format!("{base}/api/json")).send().await.expect("answers");
        assert_eq!(anon.status(), 401);
        let opts = JenkinsOptions::default();
        let ok = client
            .get(format!("{base}/job/team/job/api/api/json"))
            .basic_auth(&opts.user, Some(&opts.token))
            .send()
            .await
            .expect("answers");
        assert_eq!(ok.status(), 200);
        let job: Value = ok.json().await.expect("json");
        assert_eq!(job["lastBuild"]["number"], 3);
        let no_crumb = client
            .post(format!("{base}/job/hello/build"))
            .basic_auth(&opts.user, Some(&opts.token))
            .send()
            .await
            .expect("answers");
        assert_eq!(no_crumb.status(), 403);
        let issued = client
            .get(format!("{base}/crumbIssuer/api/json"))
            .basic_auth(&opts.user, Some(&opts.token))
            .send()
            .await
            .expect("answers");
        let cookie = issued
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .expect("cookie");
        let crumb: Value = issued.json().await.expect("json");
        let queued = client
            .post(format!("{base}/job/hello/build"))
            .basic_auth(&opts.user, Some(&opts.token))
            .header("Jenkins-Crumb", crumb["crumb"].as_str().unwrap_or_default())
            .header(header::COOKIE, cookie)
            .send()
            .await
            .expect("answers");
        assert_eq!(queued.status(), 201);
        let location =
            queued.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert_eq!(location, format!("{base}/queue/item/1/"));
        assert!(handle.request_count() >= 5);
    }
}
