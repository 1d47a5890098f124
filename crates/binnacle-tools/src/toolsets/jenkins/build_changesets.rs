//! `jenkins_build_changesets`: the commits a build picked up since the previous one.

use super::client::{build_url_path, millis_to_rfc3339, text};
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

/// Arguments of `jenkins_build_changesets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildChangesetsInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build number; default: the last build.
    pub number: Option<u64>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildChangesetsInput);

/// One commit.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Commit {
    /// Commit id.
    pub commit_id: Option<String>,
    /// Author's name.
    pub author: Option<String>,
    /// When (RFC 3339).
    pub timestamp: Option<String>,
    /// Commit message (untrusted text).
    pub message: Option<String>,
    /// Files touched (at most 20).
    pub paths: Vec<String>,
}

/// A build's changes.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildChangesetsOutput {
    /// Job path.
    pub job: String,
    /// Build number.
    pub number: Option<u64>,
    /// Commits, in Jenkins' order.
    pub commits: Vec<Commit>,
}

/// See the module docs.
pub struct BuildChangesets;

impl Tool for BuildChangesets {
    type Input = BuildChangesetsInput;
    type Output = BuildChangesetsOutput;
    const NAME: &'static str = "jenkins_build_changesets";
    const TITLE: &'static str = "Jenkins: build changes";
    const DESCRIPTION: &'static str = "List the commits a Jenkins build picked up since the previous build (id, author, time, message, files), to find which change broke a build.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "builds", "scm"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &BuildChangesetsInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: BuildChangesetsInput,
    ) -> Result<Reply<BuildChangesetsOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let what = match input.number {
            Some(n) => format!("build #{n} of job {}", input.job),
            None => format!("the last build of job {}", input.job),
        };
        let items = "kind,items[commitId,msg,author[fullName],timestamp,affectedPaths]";
        let tree = format!("number,changeSets[{items}],changeSet[{items}]");
        let v =
            j.get_json(&format!("{}/api/json?tree={tree}", build_url_path(&input.job, input.number)), &what).await?;
        // Pipelines report `changeSets` (one per checkout), freestyle jobs one `changeSet`.
        let sets: Vec<&Value> =
            v.get("changeSets").and_then(Value::as_array).into_iter().flatten().chain(v.get("changeSet")).collect();
        let commits: Vec<Commit> = sets
            .iter()
            .filter_map(|s| s.get("items").and_then(Value::as_array))
            .flatten()
            .map(|c| Commit {
                commit_id: c.get("commitId").and_then(Value::as_str).map(str::to_string),
                author: c.pointer("/author/fullName").and_then(Value::as_str).map(crate::output::untrusted_text),
                timestamp: millis_to_rfc3339(c.get("timestamp").and_then(Value::as_i64)),
                message: text(c, "msg"),
                paths: c
                    .get("affectedPaths")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .take(20)
                    .map(str::to_string)
                    .collect(),
            })
            .collect();
        let number = v.get("number").and_then(Value::as_u64);
        let summary = if commits.is_empty() {
            format!("{what} picked up no new commits.")
        } else {
            format!(
                "{} #{} picked up {} commits.",
                input.job,
                number.map(|n| n.to_string()).unwrap_or_default(),
                commits.len()
            )
        };
        Ok(Reply::new(summary, BuildChangesetsOutput { job: input.job, number, commits }).untrusted())
    }
}
