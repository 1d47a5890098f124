//! `jenkins_build_get`: one build — result, timing, parameters, causes, artifacts.

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
use serde_json::{Map, Value};

/// Arguments of `jenkins_build_get`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildGetInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Build number; default: the last build.
    pub number: Option<u64>,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(BuildGetInput);

/// A build.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Job path.
    pub job: String,
    /// Build number.
    pub number: u64,
    /// Build URL.
    pub url: Option<String>,
    /// `SUCCESS`, `FAILURE`, `UNSTABLE`, `ABORTED`, `NOT_BUILT`, or null while running.
    pub result: Option<String>,
    /// Whether it is running.
    pub building: bool,
    /// When it started (RFC 3339).
    pub started: Option<String>,
    /// How long it took, in seconds (0 while running).
    pub duration_secs: Option<f64>,
    /// Description (untrusted text).
    pub description: Option<String>,
    /// Parameters it ran with (password values are never shown).
    pub parameters: Map<String, Value>,
    /// Why it started (`Started by user ...`).
    pub causes: Vec<String>,
    /// Archived artifact paths.
    pub artifacts: Vec<String>,
}

/// See the module docs.
pub struct BuildGet;

/// Reads a build object from the JSON API.
pub fn build_info(job: &str, v: &Value) -> BuildInfo {
    let actions: Vec<&Value> = v.get("actions").and_then(Value::as_array).into_iter().flatten().collect();
    let mut parameters = Map::new();
    for p in actions.iter().filter_map(|a| a.get("parameters").and_then(Value::as_array)).flatten() {
        let Some(name) = p.get("name").and_then(Value::as_str) else { continue };
        let class = p.get("_class").and_then(Value::as_str).unwrap_or_default();
        let value = if class.contains("Password") {
            Value::String("<redacted>".into())
        } else {
            match p.get("value").cloned().unwrap_or(Value::Null) {
                Value::String(s) => Value::String(crate::output::untrusted_text(&s)),
                other => other,
            }
        };
        parameters.insert(name.to_string(), value);
    }
    let causes = actions
        .iter()
        .filter_map(|a| a.get("causes").and_then(Value::as_array))
        .flatten()
        .filter_map(|c| text(c, "shortDescription"))
        .collect();
    BuildInfo {
        job: job.to_string(),
        number: v.get("number").and_then(Value::as_u64).unwrap_or(0),
        url: v.get("url").and_then(Value::as_str).map(str::to_string),
        result: v.get("result").and_then(Value::as_str).map(str::to_string),
        building: v.get("building").and_then(Value::as_bool).unwrap_or(false),
        started: millis_to_rfc3339(v.get("timestamp").and_then(Value::as_i64)),
        duration_secs: v.get("duration").and_then(Value::as_f64).map(|ms| ms / 1000.0),
        description: text(v, "description"),
        parameters,
        causes,
        artifacts: v
            .get("artifacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("relativePath").and_then(Value::as_str).map(str::to_string))
            .collect(),
    }
}

/// One line about a build.
pub fn describe(b: &BuildInfo) -> String {
    let state = if b.building { "running".to_string() } else { b.result.clone().unwrap_or_else(|| "no result".into()) };
    format!(
        "{} #{}: {state}{}",
        b.job,
        b.number,
        b.duration_secs.filter(|d| *d > 0.0).map(|d| format!(" in {d:.0} s")).unwrap_or_default()
    )
}

impl Tool for BuildGet {
    type Input = BuildGetInput;
    type Output = BuildInfo;
    const NAME: &'static str = "jenkins_build_get";
    const TITLE: &'static str = "Jenkins: get a build";
    const DESCRIPTION: &'static str = "Show one Jenkins build (default: the last): result, whether it is running, start time, duration, parameters, causes, description and artifacts. Use jenkins_build_log for its console output.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "builds"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &BuildGetInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: BuildGetInput) -> Result<Reply<BuildInfo>, ToolError> {
        let j = connect(ctx, &input).await?;
        let what = match input.number {
            Some(n) => format!("build #{n} of job {}", input.job),
            None => format!("the last build of job {}", input.job),
        };
        let tree = "number,url,result,building,timestamp,duration,description,actions[_class,parameters[_class,name,value],causes[shortDescription]],artifacts[relativePath]";
        let v =
            j.get_json(&format!("{}/api/json?tree={tree}", build_url_path(&input.job, input.number)), &what).await?;
        let info = build_info(&input.job, &v);
        Ok(Reply::new(format!("{}.", describe(&info)), info).untrusted())
    }
}
