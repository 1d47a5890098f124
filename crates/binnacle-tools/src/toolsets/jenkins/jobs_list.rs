//! `jenkins_jobs_list`: the jobs of Jenkins or of a folder, descending into folders up to a depth.

use super::client::{color_status, job_kind, job_url_path, short_class};
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
use std::collections::VecDeque;

/// At most this many folders are read per call.
const MAX_FOLDERS: usize = 100;

/// Arguments of `jenkins_jobs_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobsListInput {
    /// Folder to list (`team` or `team/sub`); default: the top level.
    pub folder: Option<String>,
    /// How many folder levels to descend into (0: only the folder itself; default 2, at most 5).
    #[schemars(range(max = 5))]
    pub depth: Option<u32>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(JobsListInput);

/// One job or folder.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobEntry {
    /// Full path (`team/api`), usable as `job` in the other tools.
    pub path: String,
    /// `folder`, `pipeline`, `multibranch`, `freestyle` or `other`.
    pub kind: String,
    /// Last build status from the job's colour (`success`, `failed`, `unstable`, `never built`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Whether a build is running.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub building: bool,
}

/// The jobs found.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobsListOutput {
    /// The Jenkins base URL.
    pub jenkins: String,
    /// Jobs and folders, breadth first.
    pub jobs: Vec<JobEntry>,
}

/// See the module docs.
pub struct JobsList;

impl Tool for JobsList {
    type Input = JobsListInput;
    type Output = JobsListOutput;
    const NAME: &'static str = "jenkins_jobs_list";
    const TITLE: &'static str = "Jenkins: list jobs";
    const DESCRIPTION: &'static str = "List Jenkins jobs with their kind and last build status, descending into folders (and multibranch projects) up to `depth` levels. Paths it returns are what the other Jenkins tools take as `job`.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "jobs"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &JobsListInput) -> Result<(), ToolError> {
        if let Some(f) = &input.folder {
            validate::jenkins_job(f)?;
        }
        if input.depth.is_some_and(|d| d > 5) {
            return Err(ToolError::invalid("depth must be from 0 to 5"));
        }
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: JobsListInput) -> Result<Reply<JobsListOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let depth = input.depth.unwrap_or(2);
        let mut jobs = Vec::new();
        let mut queue: VecDeque<(Option<String>, u32)> = VecDeque::from([(input.folder.clone(), 0)]);
        let mut folders_read = 0;
        let mut skipped = 0;
        while let Some((folder, level)) = queue.pop_front() {
            if folders_read >= MAX_FOLDERS {
                skipped += 1;
                continue;
            }
            folders_read += 1;
            let prefix = folder.as_deref().map(job_url_path).unwrap_or_default();
            let what = match &folder {
                Some(f) => format!("folder {f}"),
                None => "the job list".to_string(),
            };
            let v = j.get_json(&format!("{prefix}/api/json?tree=jobs[name,_class,color]"), &what).await?;
            for entry in v.get("jobs").and_then(Value::as_array).into_iter().flatten() {
                let Some(name) = entry.get("name").and_then(Value::as_str) else { continue };
                let path = match &folder {
                    Some(f) => format!("{f}/{name}"),
                    None => name.to_string(),
                };
                let kind = job_kind(entry.get("_class").and_then(Value::as_str).unwrap_or_default());
                let (status, building) = match entry.get("color").and_then(Value::as_str) {
                    Some(c) => {
                        let (s, b) = color_status(c);
                        (Some(s), b)
                    }
                    None => (None, false),
                };
                if matches!(kind, "folder" | "multibranch") && level < depth && validate::jenkins_job(&path).is_ok() {
                    queue.push_back((Some(path.clone()), level + 1));
                }
                let kind = if kind == "other" { short_class(entry) } else { kind.to_string() };
                jobs.push(JobEntry { path, kind, status, building });
            }
        }
        let failed = jobs.iter().filter(|j| j.status.as_deref() == Some("failed")).count();
        let mut summary = format!(
            "{} jobs and folders on {}{} ({failed} failing).",
            jobs.len(),
            j.base(),
            input.folder.as_deref().map(|f| format!(" under {f}")).unwrap_or_default()
        );
        if jobs.is_empty() {
            summary = format!(
                "No jobs on {}{}.",
                j.base(),
                input.folder.as_deref().map(|f| format!(" under {f}")).unwrap_or_default()
            );
        }
        let mut reply = Reply::new(summary, JobsListOutput { jenkins: j.base().to_string(), jobs });
        if skipped > 0 {
            reply = reply.omitted(format!(
                "{skipped} more folders were not read (at most {MAX_FOLDERS} per call): list them with `folder`"
            ));
        }
        Ok(reply)
    }
}
