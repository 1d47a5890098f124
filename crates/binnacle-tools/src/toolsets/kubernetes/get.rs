//! Reading any kind: `api_resources_list`, `resources_list` (compact rows or cleaned objects, paged) and
//! `resource_get` (one cleaned object).

use super::common::{self, Raw, Shared, check_kind, check_ns, check_target, compact_schema, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

// ------------------------------------------------------------------------------ api_resources_list

/// Arguments of `api_resources_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ApiResourcesInput {
    /// API group filter
    pub group: Option<String>,
}

/// One served resource.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceRow {
    /// Plural name (with `.group` outside the core group).
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Preferred apiVersion.
    pub api_version: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
}

/// What `api_resources_list` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiResourcesOutput {
    /// Resources, core group first.
    pub resources: Vec<ApiResourceRow>,
}

/// `api_resources_list`.
pub struct ApiResourcesList(pub Shared);

impl Tool for ApiResourcesList {
    type Input = ApiResourcesInput;
    type Output = ApiResourcesOutput;
    const NAME: &'static str = "api_resources_list";
    const TITLE: &'static str = "API resources";
    const DESCRIPTION: &'static str = "List the kinds the cluster serves, CRDs included.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["discovery", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ApiResourcesInput) -> Result<(), ToolError> {
        match input.group.as_deref() {
            None | Some("" | "core") => Ok(()),
            Some(g) => binnacle_objects::names::check_dns1123_subdomain(g)
                .map_err(|e| ToolError::invalid(format!("group {g:?} is not valid: {e}"))),
        }
    }

    async fn run(&self, ctx: &ToolContext, input: ApiResourcesInput) -> Result<Reply<ApiResourcesOutput>, ToolError> {
        let client = ctx.kube().await?;
        let snapshot = self.0.discovery.snapshot(ctx, &client, true).await?;
        let group = input.group.as_deref().map(|g| if g == "core" { "" } else { g });
        let resources: Vec<ApiResourceRow> = snapshot
            .resources
            .iter()
            .filter(|r| r.preferred && group.is_none_or(|g| r.group == g))
            .map(|r| ApiResourceRow {
                name: r.qualified(),
                kind: r.kind.clone(),
                api_version: r.api_version(),
                namespaced: r.namespaced,
                short_names: r.short_names.clone(),
            })
            .collect();
        let groups: std::collections::BTreeSet<&str> = snapshot.resources.iter().map(|r| r.group.as_str()).collect();
        let summary = format!(
            "{} resource kinds in {} API groups.",
            resources.len(),
            if group.is_some() { 1 } else { groups.len() }
        );
        Ok(Reply::new(summary, ApiResourcesOutput { resources }))
    }
}

// --------------------------------------------------------------------------------- resources_list

/// How much of each object a list returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum ListOutput {
    /// Compact rows (kubectl's columns).
    #[default]
    Summary,
    /// Cleaned objects.
    Full,
}

/// Arguments of `resources_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourcesListInput {
    /// e.g. pods, deploy, rollouts.argoproj.io
    pub kind: String,
    /// e.g. apps/v1
    pub api_version: Option<String>,
    pub namespace: Option<String>,
    #[serde(default)]
    pub all_namespaces: bool,
    /// e.g. app=web
    pub label_selector: Option<String>,
    /// e.g. status.phase=Running
    pub field_selector: Option<String>,
    /// 1-500, default 50
    pub limit: Option<u32>,
    /// From the previous page
    #[serde(rename = "continue")]
    pub cont: Option<String>,
    /// full: cleaned objects
    #[serde(default)]
    pub output: ListOutput,
}

/// What `resources_list` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesListOutput {
    /// Kind listed.
    pub kind: String,
    /// apiVersion listed.
    pub api_version: String,
    /// Namespace listed (absent: all namespaces or cluster-scoped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Rows (summary) or cleaned objects (full).
    pub items: Vec<Value>,
    /// Pass as `continue` for the next page.
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    pub cont: Option<String>,
    /// Objects after this page, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

/// `resources_list`.
pub struct ResourcesList(pub Shared);

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;

impl Tool for ResourcesList {
    type Input = ResourcesListInput;
    type Output = ResourcesListOutput;
    const NAME: &'static str = "resources_list";
    const TITLE: &'static str = "List resources";
    const DESCRIPTION: &'static str = "List objects of any kind as compact rows, paged.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ResourcesListInput) -> Result<(), ToolError> {
        check_kind(&input.kind)?;
        check_ns(input.namespace.as_ref())?;
        if let Some(av) = &input.api_version {
            common::check_api_version(av)?;
        }
        if let Some(sel) = &input.label_selector {
            validate::label_selector(sel)?;
        }
        if let Some(sel) = &input.field_selector {
            validate::field_selector(sel)?;
        }
        if let Some(limit) = input.limit {
            common::check_range("limit", i64::from(limit), 1, 500)?;
        }
        if input.all_namespaces && input.namespace.is_some() {
            return Err(ToolError::invalid("give either namespace or allNamespaces, not both"));
        }
        if let Some(c) = &input.cont
            && (c.len() > 4096 || c.chars().any(char::is_control))
        {
            return Err(ToolError::invalid("continue must be the token a previous page returned"));
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: ResourcesListInput) -> Result<Reply<ResourcesListOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, &input.kind, input.api_version.as_deref()).await?;
        if !info.verbs.is_empty() && !info.supports("list") {
            return Err(ToolError::invalid(format!(
                "{} cannot be listed (verbs: {})",
                info.qualified(),
                info.verbs.join(", ")
            )));
        }
        let namespace =
            if input.all_namespaces { None } else { common::namespace_for(&client, &info, input.namespace.as_deref()) };
        let raw = Raw::new(&client, &info, namespace.as_deref());
        let printer =
            if input.output == ListOutput::Summary { common::printer_columns(&client, &info).await } else { None };
        let mut lp = ListParams {
            label_selector: input.label_selector.clone(),
            field_selector: input.field_selector.clone(),
            ..Default::default()
        };
        lp.limit = Some(input.limit.unwrap_or(DEFAULT_LIMIT));
        lp.continue_token = input.cont.clone();
        let budget = common::budget_bytes(ctx);
        let render = |page: &common::Page| -> Vec<Value> {
            let now = common::now_after(&page.items);
            page.items
                .iter()
                .map(|o| match input.output {
                    ListOutput::Summary => Value::Object(common::row(&info, printer.as_deref(), o, now)),
                    ListOutput::Full => {
                        let mut o = o.clone();
                        scrub(&mut o);
                        o
                    }
                })
                .collect()
        };
        let mut page = raw.list(&lp).await?;
        let mut items = render(&page);
        let fit = common::fitting(&items, budget);
        let mut shrunk = false;
        if fit < items.len() {
            // Fetch exactly the rows that fit, so the continue token points right after them.
            lp.limit = Some(fit as u32);
            page = raw.list(&lp).await?;
            items = render(&page);
            shrunk = true;
        }
        let where_ = match &namespace {
            Some(ns) => format!("in namespace {ns}"),
            None if info.namespaced => "in all namespaces".to_string(),
            None => "(cluster-scoped)".to_string(),
        };
        let mut summary = format!("{} {} {where_}", items.len(), info.plural);
        if let Some(breakdown) = status_breakdown(&info.kind, &page.items) {
            summary.push_str(&format!(": {breakdown}"));
        }
        summary.push('.');
        let more = page.remaining.map(|n| n.to_string()).unwrap_or_else(|| "more".into());
        let mut reply_omitted = Vec::new();
        if page.cont.is_some() {
            summary.push_str(&format!(" {more} more on later pages."));
            reply_omitted.push(format!(
                "{more} more {} not shown{}: call again with `continue` set to the returned continue value, or narrow with labelSelector/fieldSelector",
                info.plural,
                if shrunk { " (page shortened to fit the output budget)" } else { "" }
            ));
        }
        let out = ResourcesListOutput {
            kind: info.kind.clone(),
            api_version: info.api_version(),
            namespace,
            items,
            cont: page.cont,
            remaining: page.remaining,
        };
        let mut reply = Reply::new(summary, out);
        for note in reply_omitted {
            reply = reply.omitted(note);
        }
        if input.output == ListOutput::Full {
            reply = reply.untrusted();
        }
        Ok(reply)
    }
}

/// Counts by status for kinds where one status column tells health (pods by STATUS, nodes by STATUS).
fn status_breakdown(kind: &str, items: &[Value]) -> Option<String> {
    let status = |o: &Value| -> String {
        match kind {
            "Pod" => binnacle_objects::table::pod_status(o),
            "Node" => {
                let ready = common::arr(o, "/status/conditions")
                    .iter()
                    .find(|c| s(c, "/type") == "Ready")
                    .map(|c| s(c, "/status") == "True")
                    .unwrap_or(false);
                let mut st = if ready { "Ready".to_string() } else { "NotReady".to_string() };
                if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                    st.push_str(",SchedulingDisabled");
                }
                st
            }
            "PersistentVolumeClaim" | "PersistentVolume" | "Namespace" => s(o, "/status/phase").to_string(),
            _ => String::new(),
        }
    };
    if !matches!(kind, "Pod" | "Node" | "PersistentVolumeClaim" | "PersistentVolume" | "Namespace") || items.is_empty()
    {
        return None;
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in items {
        *counts.entry(status(o)).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Some(
        counts
            .iter()
            .map(|(k, n)| format!("{n} {}", if k.is_empty() { "unknown" } else { k }))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Cleans an object for output: managed fields and last-applied stripped, Secret values redacted,
/// annotation text sanitised and credential-shaped literal env values redacted.
pub fn scrub(obj: &mut Value) {
    crate::output::clean_object(obj);
    redact_env(obj);
}

fn redact_env(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(env)) = map.get_mut("env") {
                for e in env.iter_mut() {
                    if let Some(Value::String(val)) = e.get_mut("value") {
                        *val = crate::output::redact_credentials(val);
                    }
                }
            }
            map.values_mut().for_each(redact_env);
        }
        Value::Array(a) => a.iter_mut().for_each(redact_env),
        _ => {}
    }
}

// ----------------------------------------------------------------------------------- resource_get

/// Arguments of `resource_get`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourceGetInput {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// e.g. apps/v1
    pub api_version: Option<String>,
}

/// What `resource_get` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceGetOutput {
    /// The object, cleaned (Secret values redacted).
    pub object: Value,
}

/// `resource_get`.
pub struct ResourceGet(pub Shared);

impl Tool for ResourceGet {
    type Input = ResourceGetInput;
    type Output = ResourceGetOutput;
    const NAME: &'static str = "resource_get";
    const TITLE: &'static str = "Get resource";
    const DESCRIPTION: &'static str = "Get one object, cleaned (Secret values redacted).";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ResourceGetInput) -> Result<(), ToolError> {
        check_target(&input.kind, &input.name, input.namespace.as_ref(), input.api_version.as_ref())
    }

    async fn run(&self, ctx: &ToolContext, input: ResourceGetInput) -> Result<Reply<ResourceGetOutput>, ToolError> {
        let (client, info) = self.0.resolve(ctx, &input.kind, input.api_version.as_deref()).await?;
        let namespace = common::namespace_for(&client, &info, input.namespace.as_deref());
        let mut object = Raw::new(&client, &info, namespace.as_deref()).get(&input.name).await?;
        let now = common::now_after([&object]);
        let status = if info.is_builtin() { common::status_line(&info, &object, now) } else { String::new() };
        scrub(&mut object);
        let mut summary = common::display(&info.kind, namespace.as_deref(), &input.name);
        if !status.is_empty() {
            summary.push_str(": ");
            summary.push_str(&status);
        }
        summary.push('.');
        Ok(Reply::new(summary, ResourceGetOutput { object }).untrusted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scrub_redacts_secrets_and_credential_env() {
        let mut pod = json!({"kind": "Pod", "metadata": {"name": "p", "managedFields": [{}]}, "spec": {"containers": [{"name": "c",
            "env": [{"name": "DB", "value": "postgres://u:hunter2@db/x"}, {"name": "MODE", "value": "prod"}]}]}});
        scrub(&mut pod);
        let text = pod.to_string();
        assert!(!text.contains("hunter2") && text.contains("prod") && !text.contains("managedFields"), "{text}");
    }
}
