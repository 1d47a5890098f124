//! `jenkins_builds_last`: the last N builds of a job, newest first.

use super::build_get::{BuildInfo, build_info};
use super::client::job_url_path;
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

/// Arguments of `jenkins_builds_last`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildsLastInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// How many builds (default 10, at most 100).
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<u32>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildsLastInput);

/// The builds.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildsLastOutput {
    /// Job path.
    pub job: String,
    /// Builds, newest first.
    pub builds: Vec<BuildInfo>,
}

/// See the module docs.
pub struct BuildsLast;

impl Tool for BuildsLast {
    type Input = BuildsLastInput;
    type Output = BuildsLastOutput;
    const NAME: &'static str = "jenkins_builds_last";
    const TITLE: &'static str = "Jenkins: last builds";
    const DESCRIPTION: &'static str = "List the last N builds of a Jenkins job (newest first) with result, start time, duration and parameters, to spot when a job started failing.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "builds"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &BuildsLastInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        if input.count.is_some_and(|c| !(1..=100).contains(&c)) {
            return Err(ToolError::invalid("count must be from 1 to 100"));
        }
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildsLastInput) -> Result<Reply<BuildsLastOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let count = input.count.unwrap_or(10) as usize;
        let tree = format!(
            "builds[number,url,result,building,timestamp,duration,description,actions[_class,parameters[_class,name,value]]]{{0,{count}}}"
        );
        let v = j
            .get_json(&format!("{}/api/json?tree={tree}", job_url_path(&input.job)), &format!("job {}", input.job))
            .await?;
        let mut builds: Vec<BuildInfo> = v
            .get("builds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|b| build_info(&input.job, b))
            .collect();
        builds.sort_by_key(|b| std::cmp::Reverse(b.number));
        builds.truncate(count);
        let summary = if builds.is_empty() {
            format!("Job {} has no builds.", input.job)
        } else {
            let failed = builds.iter().filter(|b| matches!(b.result.as_deref(), Some("FAILURE" | "UNSTABLE"))).count();
            let line: Vec<String> = builds
                .iter()
                .take(10)
                .map(|b| {
                    format!("#{} {}", b.number, if b.building { "running" } else { b.result.as_deref().unwrap_or("?") })
                })
                .collect();
            format!("Last {} builds of {} ({failed} failed or unstable): {}.", builds.len(), input.job, line.join(", "))
        };
        Ok(Reply::new(summary, BuildsLastOutput { job: input.job, builds }).untrusted())
    }
}
