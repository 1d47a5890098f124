//! `jenkins_build_scm`: which revision a build checked out (Git plugin `BuildData`).

use super::client::build_url_path;
use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, redact_credentials};
use crate::tool::Tool;
use crate::validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Arguments of `jenkins_build_scm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildScmInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build number; default: the last build.
    pub number: Option<u64>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildScmInput);

/// One checkout.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Checkout {
    /// Repository URLs (user info redacted).
    pub repositories: Vec<String>,
    /// The commit built.
    pub revision: Option<String>,
    /// Branches pointing at it.
    pub branches: Vec<String>,
}

/// A build's checkouts.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildScmOutput {
    /// Job path.
    pub job: String,
    /// Build number.
    pub number: Option<u64>,
    /// Checkouts (a pipeline may check out several repositories).
    pub checkouts: Vec<Checkout>,
}

/// See the module docs.
pub struct BuildScm;

impl Tool for BuildScm {
    type Input = BuildScmInput;
    type Output = BuildScmOutput;
    const NAME: &'static str = "jenkins_build_scm";
    const TITLE: &'static str = "Jenkins: build revision";
    const DESCRIPTION: &'static str = "Show which repositories, commit and branches a Jenkins build checked out (Git plugin build data), to tie a build to the code it ran.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "builds", "scm"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &BuildScmInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildScmInput) -> Result<Reply<BuildScmOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let what = match input.number {
            Some(n) => format!("build #{n} of job {}", input.job),
            None => format!("the last build of job {}", input.job),
        };
        let tree = "number,actions[_class,lastBuiltRevision[SHA1,branch[name,SHA1]],remoteUrls,scmName]";
        let v =
            j.get_json(&format!("{}/api/json?tree={tree}", build_url_path(&input.job, input.number)), &what).await?;
        let mut checkouts: Vec<Checkout> = Vec::new();
        for a in v.get("actions").and_then(Value::as_array).into_iter().flatten() {
            if a.get("lastBuiltRevision").is_none() && a.get("remoteUrls").is_none() {
                continue;
            }
            let c = Checkout {
                repositories: a
                    .get("remoteUrls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(redact_credentials)
                    .collect(),
                revision: a.pointer("/lastBuiltRevision/SHA1").and_then(Value::as_str).map(str::to_string),
                branches: a
                    .pointer("/lastBuiltRevision/branch")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
            };
            if !checkouts.iter().any(|x| x.revision == c.revision && x.repositories == c.repositories) {
                checkouts.push(c);
            }
        }
        let number = v.get("number").and_then(Value::as_u64);
        let summary = match checkouts.first() {
            None => format!("{what} has no recorded SCM checkout."),
            Some(c) => format!(
                "{} #{} built {} of {}{}.",
                input.job,
                number.map(|n| n.to_string()).unwrap_or_default(),
                c.revision.as_deref().unwrap_or("an unknown revision"),
                c.repositories.join(", "),
                if checkouts.len() > 1 {
                    format!(" and {} more checkouts", checkouts.len() - 1)
                } else {
                    String::new()
                }
            ),
        };
        Ok(Reply::new(summary, BuildScmOutput { job: input.job, number, checkouts }))
    }
}
