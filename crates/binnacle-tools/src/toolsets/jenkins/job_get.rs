//! `jenkins_job_get`: one job: description, health, last builds, whether it is queued, parameters.

use super::client::{color_status, job_kind, job_url_path, text};
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

/// Arguments of `jenkins_job_get`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobGetInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(JobGetInput);

/// A job.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobGetOutput {
    /// Job path.
    pub job: String,
    /// Job URL.
    pub url: String,
    /// `folder`, `pipeline`, `multibranch`, `freestyle` or `other`.
    pub kind: String,
    /// Description (untrusted text).
    pub description: Option<String>,
    /// Last build status from the job's colour.
    pub status: Option<String>,
    /// Whether a build is running.
    pub building: bool,
    /// Whether builds can be started.
    pub buildable: Option<bool>,
    /// Whether a build is waiting in the queue.
    pub in_queue: Option<bool>,
    /// The number the next build gets.
    pub next_build_number: Option<u64>,
    /// Health reports (`Build stability: 1 out of the last 3 builds failed.`).
    pub health: Vec<String>,
    /// Last build number.
    pub last_build: Option<u64>,
    /// Last successful build number.
    pub last_successful_build: Option<u64>,
    /// Last failed build number.
    pub last_failed_build: Option<u64>,
    /// Parameter names (see `jenkins_job_parameters` for details).
    pub parameters: Vec<String>,
    /// Child jobs, for folders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
}

/// See the module docs.
pub struct JobGet;

fn number(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(|b| b.get("number")).and_then(Value::as_u64)
}

/// Parameter definitions from a job's `property` (and older `actions`) entries.
pub fn parameter_definitions(v: &Value) -> Vec<Value> {
    ["property", "actions"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|p| p.get("parameterDefinitions").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect()
}

impl Tool for JobGet {
    type Input = JobGetInput;
    type Output = JobGetOutput;
    const NAME: &'static str = "jenkins_job_get";
    const TITLE: &'static str = "Jenkins: get a job";
    const DESCRIPTION: &'static str = "Show one Jenkins job: kind, description, health, last/last successful/last failed build numbers, whether a build is running or queued, and its parameter names.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "jobs"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &JobGetInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: JobGetInput) -> Result<Reply<JobGetOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let tree = "name,_class,url,description,buildable,color,inQueue,nextBuildNumber,healthReport[description,score],lastBuild[number],lastSuccessfulBuild[number],lastFailedBuild[number],property[parameterDefinitions[name]],actions[parameterDefinitions[name]],jobs[name]";
        let v = j
            .get_json(&format!("{}/api/json?tree={tree}", job_url_path(&input.job)), &format!("job {}", input.job))
            .await?;
        let (status, building) = match v.get("color").and_then(Value::as_str) {
            Some(c) => {
                let (s, b) = color_status(c);
                (Some(s), b)
            }
            None => (None, false),
        };
        let out = JobGetOutput {
            job: input.job.clone(),
            url: v
                .get("url")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| j.url(&job_url_path(&input.job))),
            kind: job_kind(v.get("_class").and_then(Value::as_str).unwrap_or_default()).to_string(),
            description: text(&v, "description"),
            status,
            building,
            buildable: v.get("buildable").and_then(Value::as_bool),
            in_queue: v.get("inQueue").and_then(Value::as_bool),
            next_build_number: v.get("nextBuildNumber").and_then(Value::as_u64),
            health: v
                .get("healthReport")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|h| text(h, "description"))
                .collect(),
            last_build: number(&v, "lastBuild"),
            last_successful_build: number(&v, "lastSuccessfulBuild"),
            last_failed_build: number(&v, "lastFailedBuild"),
            parameters: parameter_definitions(&v)
                .iter()
                .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
                .collect(),
            jobs: v
                .get("jobs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect(),
        };
        let summary = format!(
            "Jenkins {} {}: {}{}; last build {}.",
            out.kind,
            out.job,
            out.status.as_deref().unwrap_or("no status"),
            if out.building { " (building)" } else { "" },
            out.last_build.map(|n| format!("#{n}")).unwrap_or_else(|| "none".into())
        );
        Ok(Reply::new(summary, out).untrusted())
    }
}
