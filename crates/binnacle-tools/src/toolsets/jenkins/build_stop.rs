//! `jenkins_build_stop`: aborts a running build.

use super::build_get::{BuildInfo, build_info, describe};
use super::client::build_url_path;
use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use schemars::JsonSchema;
use serde::Deserialize;

/// Arguments of `jenkins_build_stop`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildStopInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build number (required: never "the last build", which may have changed).
    pub number: u64,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildStopInput);

/// See the module docs.
pub struct BuildStop;

impl Tool for BuildStop {
    type Input = BuildStopInput;
    type Output = BuildInfo;
    const NAME: &'static str = "jenkins_build_stop";
    const TITLE: &'static str = "Jenkins: stop a build";
    const DESCRIPTION: &'static str =
        "Abort a running Jenkins build (its result becomes ABORTED). Stopping a finished build changes nothing.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "write", "builds"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE.open_world();

    fn validate(input: &BuildStopInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        if input.number == 0 {
            return Err(ToolError::invalid("number must be a build number (1 or more)"));
        }
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildStopInput) -> Result<Reply<BuildInfo>, ToolError> {
        let j = connect(ctx, &input).await?;
        let build = build_url_path(&input.job, Some(input.number));
        let what = format!("build #{} of job {}", input.number, input.job);
        let before = j.get_json(&format!("{build}/api/json?tree=building,result"), &what).await?;
        let was_running = before.get("building").and_then(serde_json::Value::as_bool).unwrap_or(false);
        if was_running {
            j.post_form(&format!("{build}/stop"), &[], &what).await?;
        }
        let tree = "number,url,result,building,timestamp,duration,description,actions[_class,parameters[_class,name,value],causes[shortDescription]]";
        let v = j.get_json(&format!("{build}/api/json?tree={tree}"), &what).await?;
        let info = build_info(&input.job, &v);
        let summary = if was_running {
            format!("Asked Jenkins to stop {}; now {}.", what, describe(&info))
        } else {
            format!("{what} was not running; nothing stopped ({}).", describe(&info))
        };
        Ok(Reply::new(summary, info).untrusted())
    }
}
