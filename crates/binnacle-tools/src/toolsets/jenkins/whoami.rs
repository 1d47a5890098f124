//! `jenkins_whoami`: which Jenkins user the configured credentials log in as.

use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Arguments of `jenkins_whoami`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhoamiInput {
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(WhoamiInput);

/// Who the credentials are.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoamiOutput {
    /// The Jenkins base URL.
    pub jenkins: String,
    /// The user id.
    pub user: String,
    /// The user's full name, when Jenkins says.
    pub full_name: Option<String>,
    /// Whether Jenkins sees an authenticated user (false: anonymous).
    pub authenticated: bool,
}

/// See the module docs.
pub struct Whoami;

impl Tool for Whoami {
    type Input = WhoamiInput;
    type Output = WhoamiOutput;
    const NAME: &'static str = "jenkins_whoami";
    const TITLE: &'static str = "Jenkins: who am I";
    const DESCRIPTION: &'static str = "Show which Jenkins user the configured credentials log in as. Use it to check the Jenkins URL and credentials before other Jenkins tools.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "auth"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &WhoamiInput) -> Result<(), ToolError> {
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: WhoamiInput) -> Result<Reply<WhoamiOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let me = match j.get_json("/me/api/json", "the current user").await {
            Ok(v) => Some(v),
            Err(ToolError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let out = match me {
            Some(v) => WhoamiOutput {
                jenkins: j.base().to_string(),
                user: v.get("id").and_then(Value::as_str).unwrap_or("anonymous").to_string(),
                full_name: super::client::text(&v, "fullName"),
                authenticated: v.get("id").and_then(Value::as_str).is_some_and(|id| id != "anonymous"),
            },
            None => {
                let v = j.get_json("/whoAmI/api/json", "the current user").await?;
                WhoamiOutput {
                    jenkins: j.base().to_string(),
                    user: v.get("name").and_then(Value::as_str).unwrap_or("anonymous").to_string(),
                    full_name: None,
                    authenticated: v.get("authenticated").and_then(Value::as_bool).unwrap_or(false)
                        && v.get("anonymous").and_then(Value::as_bool) != Some(true),
                }
            }
        };
        let summary = format!(
            "Jenkins {} knows these credentials as {}{}.",
            out.jenkins,
            out.user,
            if out.authenticated { "" } else { " (anonymous)" }
        );
        Ok(Reply::new(summary, out))
    }
}
