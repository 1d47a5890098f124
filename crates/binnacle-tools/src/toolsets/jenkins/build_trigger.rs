//! `jenkins_build_trigger`: queues a build (`build`, or `buildWithParameters` when parameters are
//! given), returns the queue item and optionally waits until the build has a number.

use super::client::{job_url_path, text};
use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Arguments of `jenkins_build_trigger`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildTriggerInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build parameters (`{"BRANCH": "main", "DEPLOY": true}`). When given (even `{}`: all defaults) the
    /// build is started with `buildWithParameters`; leave it out for jobs without parameters.
    pub parameters: Option<BTreeMap<String, Value>>,
    /// Wait until the build leaves the queue and report its number (default false).
    #[serde(default)]
    pub wait_for_build: bool,
    /// How long to wait for the build number, in seconds (default 30, at most 300).
    #[schemars(range(min = 1, max = 300))]
    pub wait_seconds: Option<u64>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildTriggerInput);

/// The queued build.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildTriggerOutput {
    /// Job path.
    pub job: String,
    /// The queue item id.
    pub queue_id: Option<u64>,
    /// The queue item URL (Jenkins' `Location` answer).
    pub queue_url: Option<String>,
    /// The build number, once known (only when waiting).
    pub build_number: Option<u64>,
    /// The build URL, once known.
    pub build_url: Option<String>,
    /// Why it still waits, when it has not started yet.
    pub why: Option<String>,
}

/// See the module docs.
pub struct BuildTrigger;

fn form_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The queue item id from a `Location` like `https://ci/queue/item/42/`.
pub fn queue_id(location: &str) -> Option<u64> {
    let trimmed = location.trim_end_matches('/');
    let (head, id) = trimmed.rsplit_once('/')?;
    head.ends_with("/queue/item").then(|| id.parse().ok()).flatten()
}

impl Tool for BuildTrigger {
    type Input = BuildTriggerInput;
    type Output = BuildTriggerOutput;
    const NAME: &'static str = "jenkins_build_trigger";
    const TITLE: &'static str = "Jenkins: trigger a build";
    const DESCRIPTION: &'static str = "Start a Jenkins build, with parameters when given (see jenkins_job_parameters). Returns the queue item; with waitForBuild it waits until the build has a number (then use jenkins_build_get / jenkins_build_log).";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "write", "builds"];
    const ANNOTATIONS: Annotations = Annotations::WRITE.open_world();

    fn validate(input: &BuildTriggerInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        if let Some(params) = &input.parameters {
            if params.len() > 100 {
                return Err(ToolError::invalid("at most 100 parameters"));
            }
            for (name, value) in params {
                if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
                    return Err(ToolError::invalid(format!(
                        "parameter name {name:?} is not valid: 1 to 200 characters, no control characters"
                    )));
                }
                let Some(text) = form_value(value) else {
                    return Err(ToolError::invalid(format!(
                        "parameter {name:?} must be a string, number or boolean, not {value}"
                    )));
                };
                if text.len() > 64 * 1024 {
                    return Err(ToolError::invalid(format!("parameter {name:?} is longer than 64 KiB")));
                }
            }
        }
        if input.wait_seconds.is_some_and(|s| !(1..=300).contains(&s)) {
            return Err(ToolError::invalid("waitSeconds must be from 1 to 300"));
        }
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildTriggerInput) -> Result<Reply<BuildTriggerOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let job_path = job_url_path(&input.job);
        let what = format!("job {}", input.job);
        let answer = match &input.parameters {
            Some(params) => {
                let form: Vec<(String, String)> =
                    params.iter().filter_map(|(k, v)| form_value(v).map(|t| (k.clone(), t))).collect();
                j.post_form(&format!("{job_path}/buildWithParameters"), &form, &what).await?
            }
            None => j.post_form(&format!("{job_path}/build"), &[], &what).await?,
        };
        let queue_url = answer.headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        let id = queue_url.as_deref().and_then(queue_id);
        let mut out = BuildTriggerOutput {
            job: input.job.clone(),
            queue_id: id,
            queue_url,
            build_number: None,
            build_url: None,
            why: None,
        };
        if input.wait_for_build {
            let Some(id) = id else {
                return Err(ToolError::Unavailable(format!(
                    "Jenkins queued {what} but did not say where (no queue item Location); check jenkins_builds_last"
                )));
            };
            let limit = Duration::from_secs(input.wait_seconds.unwrap_or(30));
            let deadline = tokio::time::Instant::now() + limit;
            let started = tokio::time::Instant::now();
            loop {
                // Poll the queue item on the configured Jenkins, never on the host a Location names.
                let item = j.get_json(&format!("/queue/item/{id}/api/json"), &format!("queue item {id}")).await?;
                if item.get("cancelled").and_then(Value::as_bool) == Some(true) {
                    return Err(ToolError::Conflict(format!(
                        "Jenkins cancelled queue item {id} of {what} before it started"
                    )));
                }
                if let Some(n) = item.pointer("/executable/number").and_then(Value::as_u64) {
                    out.build_number = Some(n);
                    out.build_url = item.pointer("/executable/url").and_then(Value::as_str).map(str::to_string);
                    out.why = None;
                    break;
                }
                out.why = text(&item, "why");
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                ctx.progress(
                    started.elapsed().as_secs_f64(),
                    Some(limit.as_secs_f64()),
                    format!("waiting for queue item {id} to start"),
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let summary = match (out.build_number, &out.why) {
            (Some(n), _) => format!("Started {} #{n}.", input.job),
            (None, Some(why)) if input.wait_for_build => format!(
                "Queued {} (queue item {}); still waiting after the time limit: {why}",
                input.job,
                id.map(|i| i.to_string()).unwrap_or_default()
            ),
            _ => format!(
                "Queued {} as queue item {}; call again with waitForBuild or check jenkins_builds_last for the build.",
                input.job,
                id.map(|i| i.to_string()).unwrap_or_else(|| "?".into())
            ),
        };
        Ok(Reply::new(summary, out))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn queue_ids() {
        assert_eq!(super::queue_id("http://ci/queue/item/42/"), Some(42));
        assert_eq!(super::queue_id("http://ci/jenkins/queue/item/7"), Some(7));
        assert_eq!(super::queue_id("http://ci/job/x/"), None);
    }
}
