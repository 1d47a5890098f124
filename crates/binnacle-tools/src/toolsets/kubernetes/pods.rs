//! Pods: `pod_run` (a Pod from an image, validated) and `pod_exec` (a command in a running container
//! through the `pods/exec` WebSocket subresource; stdout, stderr and exit code, with a timeout).

use super::common::{self, FIELD_MANAGER, Raw, arr, check_ns, compact_schema, kinds, s};
use super::preview::{self, DRY_RUN};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use binnacle_objects::names;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{AttachParams, PostParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

fn check_args(what: &str, args: &[String]) -> Result<(), ToolError> {
    if args.len() > 64 {
        return Err(ToolError::invalid(format!("{what} has more than 64 entries")));
    }
    for a in args {
        if a.len() > 4096 || a.contains('\0') {
            return Err(ToolError::invalid(format!("{what} entries must be at most 4096 characters without NUL")));
        }
    }
    Ok(())
}

fn check_container(c: &str) -> Result<(), ToolError> {
    names::check_dns1123_label(c).map_err(|e| ToolError::invalid(format!("container {c:?} is not valid: {e}")))
}

// ----------------------------------------------------------------------------------------- pod_run

/// Restart policy of a new pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(inline)]
pub enum RestartPolicy {
    /// Restart always (default).
    Always,
    /// Restart on failure.
    OnFailure,
    /// Run once.
    Never,
}

/// Arguments of `pod_run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct PodRunInput {
    pub name: String,
    pub namespace: Option<String>,
    /// e.g. busybox:1.36
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, String>>,
    /// Default run=NAME
    pub labels: Option<BTreeMap<String, String>>,
    pub restart_policy: Option<RestartPolicy>,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// What `pod_run` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PodRunOutput {
    /// namespace/name.
    pub pod: String,
    /// Phase right after creation.
    pub phase: String,
    /// With dryRun: unified diff of the pod created (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// `pod_run`.
pub struct PodRun;

impl Tool for PodRun {
    type Input = PodRunInput;
    type Output = PodRunOutput;
    const NAME: &'static str = "pod_run";
    const TITLE: &'static str = "Run pod";
    const DESCRIPTION: &'static str = "Create a pod from an image.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["pods", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE;

    fn validate(input: &PodRunInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)?;
        names::check_dns1123_subdomain(&input.name)
            .map_err(|e| ToolError::invalid(format!("pod name {:?} is not valid: {e}", input.name)))?;
        check_ns(input.namespace.as_ref())?;
        validate::image(&input.image)?;
        check_args("command", input.command.as_deref().unwrap_or_default())?;
        check_args("args", input.args.as_deref().unwrap_or_default())?;
        for (k, v) in input.env.iter().flatten() {
            let ok = !k.is_empty()
                && k.len() <= 256
                && !k.starts_with(|c: char| c.is_ascii_digit())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !ok {
                return Err(ToolError::invalid(format!(
                    "env name {k:?} is not valid: letters, digits, '_', '-' and '.', not starting with a digit"
                )));
            }
            if v.len() > 32_768 || v.contains('\0') {
                return Err(ToolError::invalid(format!("env {k} value is too long or contains NUL")));
            }
        }
        for (k, v) in input.labels.iter().flatten() {
            names::check_qualified_name(k)
                .map_err(|e| ToolError::invalid(format!("label key {k:?} is not valid: {e}")))?;
            names::check_label_value(v)
                .map_err(|e| ToolError::invalid(format!("label value {v:?} is not valid: {e}")))?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: PodRunInput) -> Result<Reply<PodRunOutput>, ToolError> {
        let client = ctx.kube().await?;
        let ns = common::namespace_for(&client, &kinds::pods(), input.namespace.as_deref()).unwrap_or_default();
        let container_name =
            if names::check_dns1123_label(&input.name).is_ok() { input.name.clone() } else { "main".to_string() };
        let mut container = Map::new();
        container.insert("name".into(), json!(container_name));
        container.insert("image".into(), json!(input.image));
        if let Some(c) = &input.command {
            container.insert("command".into(), json!(c));
        }
        if let Some(a) = &input.args {
            container.insert("args".into(), json!(a));
        }
        if let Some(env) = &input.env {
            container.insert(
                "env".into(),
                json!(env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()),
            );
        }
        let labels = input.labels.clone().unwrap_or_else(|| BTreeMap::from([("run".to_string(), input.name.clone())]));
        let policy = match input.restart_policy.unwrap_or(RestartPolicy::Always) {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        };
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": input.name, "namespace": ns, "labels": labels},
                         "spec": {"containers": [Value::Object(container)], "restartPolicy": policy}});
        let pp = PostParams { dry_run: input.dry_run, field_manager: Some(FIELD_MANAGER.into()) };
        let created = Raw::new(&client, &kinds::pods(), Some(&ns)).create(&pp, &pod).await?;
        let out = PodRunOutput {
            pod: format!("{ns}/{}", input.name),
            phase: s(&created, "/status/phase").to_string(),
            diff: input.dry_run.then(|| preview::object_diff(None, Some(&created))),
        };
        let summary = if input.dry_run {
            format!("{DRY_RUN}pod {} with image {} would be created.", out.pod, input.image)
        } else {
            format!(
                "Created pod {} with image {}; wait for it with resource_wait (condition Ready).",
                out.pod, input.image
            )
        };
        Ok(Reply::new(summary, out))
    }
}

// ---------------------------------------------------------------------------------------- pod_exec

/// Arguments of `pod_exec`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct PodExecInput {
    pub name: String,
    pub namespace: Option<String>,
    /// Default: first
    pub container: Option<String>,
    /// argv, e.g. ["ls","/"]
    pub command: Vec<String>,
    /// e.g. 30s (default)
    pub timeout: Option<String>,
}

/// What `pod_exec` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodExecOutput {
    /// namespace/name.
    pub pod: String,
    /// Container.
    pub container: String,
    /// Exit code (-1 when unknown).
    pub exit_code: i64,
    /// Standard output (sanitised).
    pub stdout: String,
    /// Standard error (sanitised).
    pub stderr: String,
}

/// `pod_exec`.
pub struct PodExec;

const DEFAULT_EXEC_TIMEOUT: u64 = 30;
const MAX_CAPTURE: usize = 1024 * 1024;

/// Reads a stream to its end, keeping at most `cap` bytes; returns the bytes kept and how many were cut.
async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> (Vec<u8>, usize) {
    let Some(mut reader) = reader else { return (Vec::new(), 0) };
    let mut kept = Vec::new();
    let mut cut = 0;
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut += n.saturating_sub(room);
            }
        }
    }
    (kept, cut)
}

/// Keeps the head and the tail of a long text within `max` bytes.
fn head_tail(text: &str, max: usize) -> (String, usize) {
    if text.len() <= max {
        return (text.to_string(), 0);
    }
    let head_len = max * 3 / 5;
    let tail_len = max - head_len;
    let mut h = head_len;
    while !text.is_char_boundary(h) {
        h -= 1;
    }
    let mut t = text.len() - tail_len;
    while !text.is_char_boundary(t) {
        t += 1;
    }
    let cut = t - h;
    (format!("{}\n… [{cut} bytes cut] …\n{}", &text[..h], &text[t..]), cut)
}

fn exit_code(status: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>) -> i64 {
    let Some(st) = status else { return -1 };
    if st.status.as_deref() == Some("Success") {
        return 0;
    }
    st.details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| causes.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(-1)
}

impl Tool for PodExec {
    type Input = PodExecInput;
    type Output = PodExecOutput;
    const NAME: &'static str = "pod_exec";
    const TITLE: &'static str = "Exec in pod";
    const DESCRIPTION: &'static str = "Run a command in a container; returns stdout, stderr, exit code.";
    const TOOLSET: Toolset = Toolset::KubernetesAdmin;
    const TAGS: &'static [&'static str] = &["pods", "write"];
    const ANNOTATIONS: Annotations = Annotations { destructive: true, ..Annotations::WRITE };

    fn validate(input: &PodExecInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)?;
        check_ns(input.namespace.as_ref())?;
        if let Some(c) = &input.container {
            check_container(c)?;
        }
        if input.command.is_empty() || input.command[0].is_empty() {
            return Err(ToolError::invalid("command must name a program, e.g. [\"ls\", \"/\"]"));
        }
        check_args("command", &input.command)?;
        if let Some(t) = &input.timeout {
            let secs = validate::duration_secs(t)?;
            common::check_range("timeout (seconds)", secs as i64, 1, 300)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: PodExecInput) -> Result<Reply<PodExecOutput>, ToolError> {
        let timeout =
            input.timeout.as_deref().map(validate::duration_secs).transpose()?.unwrap_or(DEFAULT_EXEC_TIMEOUT);
        let client = ctx.kube().await?;
        let ns = common::namespace_for(&client, &kinds::pods(), input.namespace.as_deref()).unwrap_or_default();
        let pod = Raw::new(&client, &kinds::pods(), Some(&ns)).get(&input.name).await?;
        let names: Vec<&str> = arr(&pod, "/spec/containers").iter().map(|c| s(c, "/name")).collect();
        let container = input.container.clone().or_else(|| names.first().map(|n| n.to_string())).unwrap_or_default();
        if !names.contains(&container.as_str()) {
            return Err(ToolError::invalid(format!(
                "pod {ns}/{} has no container {container:?}; containers: {}",
                input.name,
                names.join(", ")
            )));
        }
        let status = arr(&pod, "/status/containerStatuses").iter().find(|c| s(c, "/name") == container);
        if status.is_none_or(|c| c.pointer("/state/running").is_none()) {
            let state = status
                .map(|c| super::describe::state_text(c.get("state"), jiff::Timestamp::now()))
                .unwrap_or_else(|| "not started".into());
            return Err(ToolError::Conflict(format!(
                "container {container} of pod {ns}/{} is not running ({state}); exec needs a running container",
                input.name
            )));
        }
        let api: Api<Pod> = Api::namespaced(client, &ns);
        let ap = AttachParams {
            container: Some(container.clone()),
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
            ..Default::default()
        };
        let work = async {
            let mut proc = api.exec(&input.name, input.command.clone(), &ap).await.map_err(|e| match e {
                kube::Error::Api(st) if !st.message.to_ascii_lowercase().contains("upgrade") => {
                    ToolError::from(kube::Error::Api(st))
                }
                other => ToolError::Unavailable(format!(
                    "exec needs a WebSocket connection to the API server, which failed: {other}"
                )),
            })?;
            let status_fut = proc.take_status();
            let (out, err) =
                tokio::join!(read_capped(proc.stdout(), MAX_CAPTURE), read_capped(proc.stderr(), MAX_CAPTURE));
            let status = match status_fut {
                Some(f) => f.await,
                None => None,
            };
            let _ = proc.join().await;
            Ok::<_, ToolError>((out, err, status))
        };
        let ((stdout, out_cut), (stderr, err_cut), status) =
            match tokio::time::timeout(Duration::from_secs(timeout), work).await {
                Ok(r) => r?,
                Err(_) => return Err(ToolError::Timeout(timeout)),
            };
        let code = exit_code(status.as_ref());
        let budget = common::budget_bytes(ctx);
        let (stdout, cut1) = head_tail(&untrusted_text(&String::from_utf8_lossy(&stdout)), budget * 3 / 4);
        let (stderr, cut2) = head_tail(&untrusted_text(&String::from_utf8_lossy(&stderr)), budget / 4);
        let pod_ref = format!("{ns}/{}", input.name);
        let summary = format!(
            "`{}` in {pod_ref} container {container} exited with {code}; {} bytes of stdout, {} of stderr.",
            input.command.join(" ").chars().take(120).collect::<String>(),
            stdout.len(),
            stderr.len()
        );
        let mut reply =
            Reply::new(summary, PodExecOutput { pod: pod_ref, container, exit_code: code, stdout, stderr }).untrusted();
        if out_cut + err_cut + cut1 + cut2 > 0 {
            reply = reply.omitted(format!(
                "{} bytes of output cut from the middle (size limit); redirect to a file and read parts of it",
                out_cut + err_cut + cut1 + cut2
            ));
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_output_keeps_head_and_tail() {
        let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let (kept, cut) = head_tail(&text, 200);
        assert!(kept.starts_with("line 0\n") && kept.ends_with("line 999\n") && cut > 0, "{kept}");
        assert_eq!(head_tail("short", 200), ("short".to_string(), 0));
    }
}
