//! `helm_repo_search`: searches the configured repositories' chart indexes (`helm search repo`).

use super::args;
use super::binary::{Helm, HelmEnv, flag};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ffi::OsString;
use std::sync::Arc;

/// Arguments of `helm_repo_search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoSearchInput {
    /// Keyword (chart name, part of it, or words of its description); `repo/` lists a repository.
    pub keyword: String,
    /// Every version of each chart, not only the latest.
    #[serde(default)]
    pub versions: bool,
    /// Only versions matching this constraint (`^1.2`).
    pub version: Option<String>,
    /// Include development versions (alpha, beta, rc).
    #[serde(default)]
    pub devel: bool,
    /// At most this many results (default 30, at most 200).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<usize>,
}

/// One chart version.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChartHit {
    /// `repo/chart`.
    pub name: String,
    /// Chart version.
    pub version: String,
    /// App version.
    pub app_version: String,
    /// Description (untrusted text).
    pub description: String,
}

/// The results.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoSearchOutput {
    /// Charts, in helm's order (best match first).
    pub charts: Vec<ChartHit>,
}

/// See the module docs.
pub struct RepoSearch {
    /// How helm runs.
    pub env: Arc<HelmEnv>,
}

impl Tool for RepoSearch {
    type Input = RepoSearchInput;
    type Output = RepoSearchOutput;
    const NAME: &'static str = "helm_repo_search";
    const TITLE: &'static str = "Helm: search charts";
    const DESCRIPTION: &'static str = "Search the configured chart repositories for charts (helm search repo): names, chart and app versions, descriptions. Add repositories with helm_repo_add and refresh them with helm_repo_update. Needs the helm binary.";
    const TOOLSET: Toolset = Toolset::Helm;
    const TAGS: &'static [&'static str] = &["helm", "repositories", "read", "charts"];
    const ANNOTATIONS: Annotations = Annotations::READ.open_world();

    fn validate(i: &RepoSearchInput) -> Result<(), ToolError> {
        args::keyword(&i.keyword)?;
        if let Some(v) = &i.version {
            args::version(v)?;
        }
        if i.limit.is_some_and(|l| !(1..=200).contains(&l)) {
            return Err(ToolError::invalid("limit must be from 1 to 200"));
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: RepoSearchInput) -> Result<Reply<RepoSearchOutput>, ToolError> {
        let helm = Helm::new(ctx, &self.env, false)?;
        let mut flags: Vec<OsString> = vec![flag("output", "json")];
        if input.versions {
            flags.push("--versions".into());
        }
        if input.devel {
            flags.push("--devel".into());
        }
        if let Some(v) = &input.version {
            flags.push(flag("version", v));
        }
        let ran = helm.run(&["search", "repo"], flags, &[&input.keyword], 60, "helm search repo").await?;
        let found: Value = serde_json::from_str(ran.stdout.trim())
            .map_err(|e| ToolError::Unavailable(format!("helm search printed something that is not JSON: {e}")))?;
        let field = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let all: Vec<ChartHit> = found
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| ChartHit {
                name: field(c, "name"),
                version: field(c, "version"),
                app_version: field(c, "app_version"),
                description: untrusted_text(&field(c, "description")),
            })
            .collect();
        let total = all.len();
        let limit = input.limit.unwrap_or(30);
        let charts: Vec<ChartHit> = all.into_iter().take(limit).collect();
        let summary = if charts.is_empty() {
            format!(
                "No chart matches {:?} in the configured repositories (add one with helm_repo_add, refresh with helm_repo_update).",
                input.keyword
            )
        } else {
            format!(
                "{total} charts match {:?}: {}.",
                input.keyword,
                charts.iter().take(10).map(|c| format!("{} {}", c.name, c.version)).collect::<Vec<_>>().join(", ")
            )
        };
        let mut reply = Reply::new(summary, RepoSearchOutput { charts }).untrusted();
        if total > limit {
            reply = reply.omitted(format!("{} more charts (raise limit or narrow the keyword)", total - limit));
        }
        Ok(reply)
    }
}
