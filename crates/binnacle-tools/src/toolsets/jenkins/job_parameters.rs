//! `jenkins_job_parameters`: the parameters a job takes, with types, defaults and choices.

use super::client::{job_url_path, text};
use super::job_get::parameter_definitions;
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

/// Arguments of `jenkins_job_parameters`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobParametersInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(JobParametersInput);

/// One parameter.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Name, as `jenkins_build_trigger` takes it.
    pub name: String,
    /// Type (`string`, `boolean`, `choice`, `text`, `password`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Default value (password defaults are never shown).
    pub default: Option<Value>,
    /// Allowed values, for choice parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Description (untrusted text).
    pub description: Option<String>,
}

/// A job's parameters.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobParametersOutput {
    /// Job path.
    pub job: String,
    /// Parameters in definition order.
    pub parameters: Vec<Parameter>,
}

/// See the module docs.
pub struct JobParameters;

/// `StringParameterDefinition` → `string`.
fn kind_of(def: &Value) -> String {
    let raw =
        def.get("type").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| super::client::short_class(def));
    let k = raw.trim_end_matches("ParameterDefinition");
    if k.is_empty() { raw } else { k.to_ascii_lowercase() }
}

impl Tool for JobParameters {
    type Input = JobParametersInput;
    type Output = JobParametersOutput;
    const NAME: &'static str = "jenkins_job_parameters";
    const TITLE: &'static str = "Jenkins: job parameters";
    const DESCRIPTION: &'static str = "List the parameters a Jenkins job takes (name, type, default, choices, description), to call jenkins_build_trigger with the right `parameters`.";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "jobs"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &JobParametersInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: JobParametersInput) -> Result<Reply<JobParametersOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let fields = "name,type,_class,description,defaultParameterValue[value],choices";
        let path = format!(
            "{}/api/json?tree=property[parameterDefinitions[{fields}]],actions[parameterDefinitions[{fields}]]",
            job_url_path(&input.job)
        );
        let v = j.get_json(&path, &format!("job {}", input.job)).await?;
        let mut parameters: Vec<Parameter> = Vec::new();
        for def in parameter_definitions(&v) {
            let Some(name) = def.get("name").and_then(Value::as_str) else { continue };
            if parameters.iter().any(|p| p.name == name) {
                continue;
            }
            let kind = kind_of(&def);
            let default = if kind.contains("password") {
                None
            } else {
                def.pointer("/defaultParameterValue/value").cloned().filter(|d| !d.is_null())
            };
            let default = default.map(|d| match d {
                Value::String(s) => Value::String(crate::output::untrusted_text(&s)),
                other => other,
            });
            parameters.push(Parameter {
                name: name.to_string(),
                kind,
                default,
                choices: def
                    .get("choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                description: text(&def, "description"),
            });
        }
        let summary = if parameters.is_empty() {
            format!("Job {} takes no parameters: trigger it without `parameters`.", input.job)
        } else {
            format!(
                "Job {} takes {} parameters: {}.",
                input.job,
                parameters.len(),
                parameters.iter().map(|p| format!("{} ({})", p.name, p.kind)).collect::<Vec<_>>().join(", ")
            )
        };
        Ok(Reply::new(summary, JobParametersOutput { job: input.job, parameters }).untrusted())
    }
}
