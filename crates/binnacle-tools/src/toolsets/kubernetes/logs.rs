//! `pod_logs`: a container's log tail, filtered by include/exclude regular expressions, sanitised and
//! marked untrusted; when the container has crashed and the caller did not ask for the previous
//! instance, the last lines of that instance come along (that is where the crash is explained).

use super::common::{self, Raw, arr, check_ns, compact_schema, int, kinds, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default number of lines.
pub const DEFAULT_TAIL: u32 = 100;
/// Lines of the previous instance shown after a crash.
const PREVIOUS_TAIL: usize = 20;

/// Arguments of `pod_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct PodLogsInput {
    pub name: String,
    pub namespace: Option<String>,
    /// Default: first
    pub container: Option<String>,
    /// Previous (crashed) instance
    #[serde(default)]
    pub previous: bool,
    /// 1-5000, default 100
    pub tail_lines: Option<u32>,
    /// e.g. 10m
    pub since: Option<String>,
    /// Regex to keep
    pub include: Option<String>,
    /// Regex to drop
    pub exclude: Option<String>,
}

/// The end of the previous instance's log.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviousInstance {
    /// Why it ended (Error, OOMKilled, ...).
    pub reason: String,
    /// Exit code.
    pub exit_code: i64,
    /// Its last lines.
    pub lines: Vec<String>,
}

/// What `pod_logs` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodLogsOutput {
    /// Pod.
    pub pod: String,
    /// Container read.
    pub container: String,
    /// Other containers of the pod.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_containers: Vec<String>,
    /// Log lines, oldest first (sanitised cluster text).
    pub lines: Vec<String>,
    /// Why there are no lines, when the server said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// After a crash: the end of the previous instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_instance: Option<PreviousInstance>,
}

/// `pod_logs`.
pub struct PodLogs;

fn check_container(c: &str) -> Result<(), ToolError> {
    binnacle_objects::names::check_dns1123_label(c)
        .map_err(|e| ToolError::invalid(format!("container {c:?} is not valid: {e}")))
}

impl Tool for PodLogs {
    type Input = PodLogsInput;
    type Output = PodLogsOutput;
    const NAME: &'static str = "pod_logs";
    const TITLE: &'static str = "Pod logs";
    const DESCRIPTION: &'static str =
        "Read a container's log tail, regex-filtered; adds the crashed instance's last lines.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["pods", "logs", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &PodLogsInput) -> Result<(), ToolError> {
        validate::object_name(&input.name)?;
        check_ns(input.namespace.as_ref())?;
        if let Some(c) = &input.container {
            check_container(c)?;
        }
        if let Some(t) = input.tail_lines {
            common::check_range("tailLines", i64::from(t), 1, 5000)?;
        }
        if let Some(d) = &input.since {
            validate::duration_secs(d)?;
        }
        if let Some(re) = &input.include {
            common::check_regex("include", re)?;
        }
        if let Some(re) = &input.exclude {
            common::check_regex("exclude", re)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: PodLogsInput) -> Result<Reply<PodLogsOutput>, ToolError> {
        let client = ctx.kube().await?;
        let ns = common::namespace_for(&client, &kinds::pods(), input.namespace.as_deref()).unwrap_or_default();
        let pod = Raw::new(&client, &kinds::pods(), Some(&ns)).get(&input.name).await?;
        let names: Vec<String> = arr(&pod, "/spec/initContainers")
            .iter()
            .chain(arr(&pod, "/spec/containers"))
            .map(|c| s(c, "/name").to_string())
            .collect();
        let default = pod
            .pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container")
            .and_then(Value::as_str)
            .filter(|d| names.iter().any(|n| n == d))
            .map(str::to_string)
            .or_else(|| arr(&pod, "/spec/containers").first().map(|c| s(c, "/name").to_string()))
            .unwrap_or_default();
        let container = input.container.clone().unwrap_or(default);
        if !names.contains(&container) {
            return Err(ToolError::invalid(format!(
                "pod {ns}/{} has no container {container:?}; containers: {}",
                input.name,
                names.join(", ")
            )));
        }
        let include = input.include.as_deref().map(|r| common::check_regex("include", r)).transpose()?;
        let exclude = input.exclude.as_deref().map(|r| common::check_regex("exclude", r)).transpose()?;
        let filtering = include.is_some() || exclude.is_some();
        let tail = input.tail_lines.unwrap_or(DEFAULT_TAIL) as usize;
        let since = input.since.as_deref().map(validate::duration_secs).transpose()?;
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let keep = |line: &str| {
            include.as_ref().is_none_or(|re| re.is_match(line)) && exclude.as_ref().is_none_or(|re| !re.is_match(line))
        };
        // With filters, read further back so that `tail` matching lines can be found.
        let fetch_tail = if filtering { (tail * 20).min(20_000) } else { tail };
        let (raw, note) = read(&api, &input.name, &container, input.previous, fetch_tail, since).await?;
        let scanned = raw.len();
        let mut lines: Vec<String> = raw.iter().map(|l| untrusted_text(l)).filter(|l| keep(l)).collect();
        let matched = lines.len();
        if lines.len() > tail {
            lines.drain(..lines.len() - tail);
        }
        let status = arr(&pod, "/status/containerStatuses")
            .iter()
            .chain(arr(&pod, "/status/initContainerStatuses"))
            .find(|c| s(c, "/name") == container)
            .cloned();
        let restarts = status.as_ref().map(|st| int(st, "/restartCount")).unwrap_or(0);
        let last = status.as_ref().and_then(|st| st.pointer("/lastState/terminated")).cloned();
        let mut previous_instance = None;
        if !input.previous
            && restarts > 0
            && let Some(t) = &last
        {
            let (prev, _) = read(
                &api,
                &input.name,
                &container,
                true,
                if filtering { PREVIOUS_TAIL * 20 } else { PREVIOUS_TAIL },
                None,
            )
            .await?;
            let mut prev: Vec<String> = prev.iter().map(|l| untrusted_text(l)).filter(|l| keep(l)).collect();
            if prev.len() > PREVIOUS_TAIL {
                prev.drain(..prev.len() - PREVIOUS_TAIL);
            }
            previous_instance = Some(PreviousInstance {
                reason: s(t, "/reason").to_string(),
                exit_code: int(t, "/exitCode"),
                lines: prev,
            });
        }
        // Keep the newest lines within the budget (the end of a log is what explains a failure).
        let budget = common::budget_bytes(ctx);
        let prev_bytes = previous_instance.as_ref().map(|p| common::json_len(&p.lines)).unwrap_or(0).min(budget / 3);
        if let Some(p) = previous_instance.as_mut() {
            common::keep_tail(&mut p.lines, budget / 3);
        }
        let dropped = common::keep_tail(&mut lines, budget.saturating_sub(prev_bytes + 512));
        let pod_ref = format!("{ns}/{}", input.name);
        let mut summary = format!(
            "{} log lines from {pod_ref} container {container}{}",
            lines.len(),
            if input.previous { " (previous instance)" } else { "" }
        );
        if filtering {
            summary.push_str(&format!(" (matched {matched} of the last {scanned} lines)"));
        }
        summary.push('.');
        if let (Some(t), Some(_)) = (&last, &previous_instance) {
            summary.push_str(&format!(
                " The container has restarted {restarts} times; the previous instance ended with {} (exit {}): its last lines are in previousInstance.",
                s(t, "/reason"),
                int(t, "/exitCode")
            ));
        }
        if let Some(n) = &note {
            summary.push_str(&format!(" {n}"));
        }
        let out = PodLogsOutput {
            pod: pod_ref,
            container: container.clone(),
            other_containers: names.into_iter().filter(|n| *n != container).collect(),
            lines,
            note,
            previous_instance,
        };
        let mut reply = Reply::new(summary, out).untrusted();
        if dropped > 0 {
            reply = reply
                .omitted(format!("{dropped} older lines (output budget): use tailLines, since or include to narrow"));
        }
        Ok(reply)
    }
}

/// Reads a log; a container that has not started gives no lines and the server's reason.
async fn read(
    api: &Api<Pod>,
    pod: &str,
    container: &str,
    previous: bool,
    tail: usize,
    since: Option<u64>,
) -> Result<(Vec<String>, Option<String>), ToolError> {
    let lp = LogParams {
        container: Some(container.to_string()),
        previous,
        tail_lines: Some(tail as i64),
        since_seconds: since.map(|s| s as i64),
        limit_bytes: Some(8 * 1024 * 1024),
        ..Default::default()
    };
    match api.logs(pod, &lp).await {
        Ok(text) => Ok((text.lines().map(str::to_string).collect(), None)),
        Err(kube::Error::Api(status)) if status.code == 400 => {
            Ok((Vec::new(), Some(format!("No logs: {}", untrusted_text(&status.message)))))
        }
        Err(e) => Err(e.into()),
    }
}
