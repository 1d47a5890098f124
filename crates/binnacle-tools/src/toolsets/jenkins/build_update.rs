//! `jenkins_build_update`: sets a build's description (`submitDescription`).

use super::client::build_url_path;
use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `jenkins_build_update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildUpdateInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build number.
    pub number: u64,
    /// The new description (plain text, at most 10,000 characters; empty clears it).
    pub description: String,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildUpdateInput);

/// What was set.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildUpdateOutput {
    /// Job path.
    pub job: String,
    /// Build number.
    pub number: u64,
    /// The description now set.
    pub description: String,
    /// Build URL.
    pub url: String,
}

/// See the module docs.
pub struct BuildUpdate;

impl Tool for BuildUpdate {
    type Input = BuildUpdateInput;
    type Output = BuildUpdateOutput;
    const NAME: &'static str = "jenkins_build_update";
    const TITLE: &'static str = "Jenkins: set a build's description";
    const DESCRIPTION: &'static str = "Set the description of a Jenkins build (e.g. to record why it was re-run or which incident it belongs to). Setting the same text again changes nothing.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "write", "builds"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT.open_world();

    fn validate(input: &BuildUpdateInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        if input.number == 0 {
            return Err(ToolError::invalid("number must be a build number (1 or more)"));
        }
        if input.description.chars().count() > 10_000 {
            return Err(ToolError::invalid("description is longer than 10,000 characters"));
        }
        if input.description.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(ToolError::invalid("description must not contain control characters"));
        }
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildUpdateInput) -> Result<Reply<BuildUpdateOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let build = build_url_path(&input.job, Some(input.number));
        let what = format!("build #{} of job {}", input.number, input.job);
        j.post_form(
            &format!("{build}/submitDescription"),
            &[("description".to_string(), input.description.clone())],
            &what,
        )
        .await?;
        let out = BuildUpdateOutput {
            job: input.job.clone(),
            number: input.number,
            description: input.description,
            url: format!("{}/", j.url(&build)),
        };
        Ok(Reply::new(format!("Set the description of {} #{}.", out.job, out.number), out))
    }
}
