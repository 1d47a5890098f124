//! `jenkins_job_scm`: where a job's code comes from — repositories, branches, pipeline script path —
//! read from the job's `config.xml`.

use super::client::job_url_path;
use super::{Target, connect, jenkins_target};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, redact_credentials};
use crate::tool::Tool;
use crate::validate;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Arguments of `jenkins_job_scm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobScmInput {
    /// Job path, folders separated by '/': `team/api`.
    pub job: String,
    /// Jenkins base URL (http or https, no credentials in it); default: the server's Jenkins URL.
    pub url: Option<String>,
    /// Secret `namespace/name` with keys `username` and `api-token`; default: the server's Jenkins credentials.
    pub credentials_secret: Option<String>,
}
jenkins_target!(JobScmInput);

/// A job's source configuration.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobScmOutput {
    /// Job path.
    pub job: String,
    /// SCM implementations named in the configuration (`hudson.plugins.git.GitSCM`, `jenkins.plugins.git.GitSCMSource`...).
    pub scm_classes: Vec<String>,
    /// Repository URLs (user info redacted).
    pub repositories: Vec<String>,
    /// Branch specifications (`*/main`).
    pub branches: Vec<String>,
    /// The pipeline script path, for pipelines from SCM.
    pub script_path: Option<String>,
    /// Jenkins credential ids used for checkout (ids only; Jenkins never exposes the secrets).
    pub credentials_ids: Vec<String>,
}

/// See the module docs.
pub struct JobScm;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn tags(xml: &str, tag: &str) -> Vec<String> {
    let re = Regex::new(&format!(r"<{tag}>\s*([^<]*?)\s*</{tag}>")).ok();
    let mut out: Vec<String> = re
        .map(|re| {
            re.captures_iter(xml)
                .filter_map(|c| c.get(1).map(|m| unescape(m.as_str())))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    out.dedup();
    out
}

/// Parses the source configuration out of a job's `config.xml`.
pub fn parse_config(job: &str, xml: &str) -> JobScmOutput {
    static CLASS: OnceLock<Option<Regex>> = OnceLock::new();
    static BRANCH: OnceLock<Option<Regex>> = OnceLock::new();
    let class_re = CLASS.get_or_init(|| Regex::new(r#"<(?:scm|source|definition)\s+class="([^"]+)""#).ok());
    let branch_re =
        BRANCH.get_or_init(|| Regex::new(r"(?s)<hudson\.plugins\.git\.BranchSpec>\s*<name>([^<]*)</name>").ok());
    let mut scm_classes: Vec<String> = class_re
        .as_ref()
        .map(|re| re.captures_iter(xml).filter_map(|c| c.get(1).map(|m| m.as_str().to_string())).collect())
        .unwrap_or_default();
    scm_classes.dedup();
    let mut repositories: Vec<String> =
        tags(xml, "url").into_iter().chain(tags(xml, "remote")).map(|u| redact_credentials(&u)).collect();
    repositories.dedup();
    let branches: Vec<String> = branch_re
        .as_ref()
        .map(|re| re.captures_iter(xml).filter_map(|c| c.get(1).map(|m| unescape(m.as_str().trim()))).collect())
        .unwrap_or_default();
    JobScmOutput {
        job: job.to_string(),
        scm_classes,
        repositories,
        branches,
        script_path: tags(xml, "scriptPath").into_iter().next(),
        credentials_ids: tags(xml, "credentialsId"),
    }
}

impl Tool for JobScm {
    type Input = JobScmInput;
    type Output = JobScmOutput;
    const NAME: &'static str = "jenkins_job_scm";
    const TITLE: &'static str = "Jenkins: job source (SCM)";
    const DESCRIPTION: &'static str = "Show where a Jenkins job's code comes from: SCM kind, repository URLs, branch specifications, the pipeline script path and checkout credential ids (ids only), from the job's config.xml (needs Extended Read).";
    const TOOLSET: Toolset = Toolset::Jenkins;
    const TAGS: &'static [&'static str] = &["jenkins", "read", "scm"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(input: &JobScmInput) -> Result<(), ToolError> {
        validate::jenkins_job(&input.job)?;
        input.check_target()
    }

    async fn run(&self, ctx: &ToolContext, input: JobScmInput) -> Result<Reply<JobScmOutput>, ToolError> {
        let j = connect(ctx, &input).await?;
        let answer = j
            .get_ok(
                &format!("{}/config.xml", job_url_path(&input.job)),
                &format!("the configuration of job {}", input.job),
                2 * 1024 * 1024,
            )
            .await?;
        let xml = String::from_utf8_lossy(&answer.body);
        let out = parse_config(&input.job, &xml);
        let summary = if out.repositories.is_empty() {
            format!("Job {} has no SCM configured (or one this tool does not read: {:?}).", input.job, out.scm_classes)
        } else {
            format!(
                "Job {} builds {} (branches {}){}.",
                input.job,
                out.repositories.join(", "),
                if out.branches.is_empty() { "any".to_string() } else { out.branches.join(", ") },
                out.script_path.as_deref().map(|p| format!(", pipeline script {p}")).unwrap_or_default()
            )
        };
        Ok(Reply::new(summary, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_and_pipeline_config() {
        let xml = r#"<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"><scm class="hudson.plugins.git.GitSCM"><userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><url>https://bob:hunter2@git.example/a.git</url><credentialsId>git</credentialsId></hudson.plugins.git.UserRemoteConfig></userRemoteConfigs><branches><hudson.plugins.git.BranchSpec><name>*/main</name></hudson.plugins.git.BranchSpec></branches></scm><scriptPath>ci/Jenkinsfile</scriptPath></definition></flow-definition>"#;
        let out = parse_config("a", xml);
        assert_eq!(out.branches, vec!["*/main"]);
        assert_eq!(out.script_path.as_deref(), Some("ci/Jenkinsfile"));
        assert_eq!(out.credentials_ids, vec!["git"]);
        assert!(
            out.repositories[0].contains("git.example") && !out.repositories[0].contains("hunter2"),
            "{:?}",
            out.repositories
        );
        assert_eq!(out.scm_classes.len(), 2);
    }
}
