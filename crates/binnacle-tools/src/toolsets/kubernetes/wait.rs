//! `resource_wait`: waits, through a watch, until an object has a condition (`Available`, `Ready=False`),
//! a JSONPath has a value (`{.status.phase}=Running`) or the object is gone; reports progress on each
//! change and answers with what it saw last when time runs out.

use super::common::{self, Shared, arr, check_target, compact_schema, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use binnacle_objects::table::jsonpath::{JsonPath, value_text};
use futures::StreamExt;
use kube::Api;
use kube::core::DynamicObject;
use kube::runtime::watcher;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Arguments of `resource_wait`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourceWaitInput {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// e.g. Available, Ready=False
    pub condition: Option<String>,
    /// e.g. {.status.phase}=Running
    pub json_path: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    /// e.g. 2m (default 60s)
    pub timeout: Option<String>,
}

/// What `resource_wait` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceWaitOutput {
    /// Kind namespace/name.
    pub object: String,
    /// The wait ended because the state was reached.
    pub met: bool,
    /// What was seen last.
    pub state: String,
    /// Seconds waited.
    pub waited_seconds: u64,
}

/// What to wait for.
#[derive(Debug, Clone)]
enum Goal {
    Condition { type_: String, status: String },
    Path { path: String, value: String },
    Deleted,
}

fn goal(input: &ResourceWaitInput) -> Result<Goal, ToolError> {
    let given = [input.condition.is_some(), input.json_path.is_some(), input.deleted].iter().filter(|x| **x).count();
    if given != 1 {
        return Err(ToolError::invalid("give exactly one of condition, jsonPath or deleted: true"));
    }
    if input.deleted {
        return Ok(Goal::Deleted);
    }
    if let Some(c) = &input.condition {
        let c = c.strip_prefix("condition=").unwrap_or(c);
        let (type_, status) = c.split_once('=').unwrap_or((c, "True"));
        let ok = |x: &str| {
            !x.is_empty()
                && x.len() <= 128
                && x.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_' | '/'))
        };
        if !ok(type_) || !ok(status) {
            return Err(ToolError::invalid(format!(
                "condition {c:?} is not valid: use a type such as Available, optionally =True/False/Unknown"
            )));
        }
        return Ok(Goal::Condition { type_: type_.to_string(), status: status.to_string() });
    }
    let text = input.json_path.as_deref().unwrap_or_default();
    let text = text.strip_prefix("jsonpath=").unwrap_or(text);
    let (path, value) = if let Some(rest) = text.strip_prefix('{') {
        let end =
            rest.find('}').ok_or_else(|| ToolError::invalid(format!("jsonPath {text:?} has no closing brace")))?;
        let value = rest[end + 1..].strip_prefix('=').ok_or_else(|| {
            ToolError::invalid(format!(
                "jsonPath {text:?} needs =VALUE after the expression, e.g. {{.status.phase}}=Running"
            ))
        })?;
        (format!("{{{}}}", &rest[..end]), value.to_string())
    } else {
        let (p, v) = text
            .split_once('=')
            .ok_or_else(|| ToolError::invalid(format!("jsonPath {text:?} needs =VALUE, e.g. .status.phase=Running")))?;
        (p.to_string(), v.to_string())
    };
    JsonPath::parse(&path).map_err(|e| ToolError::invalid(e.to_string()))?;
    if value.len() > 1024 {
        return Err(ToolError::invalid("the jsonPath value is longer than 1024 characters"));
    }
    Ok(Goal::Path { path, value: value.trim_matches(['"', '\'']).to_string() })
}

/// Whether `obj` (None: absent) meets the goal, with a description of what was seen.
fn check(goal: &Goal, obj: Option<&Value>) -> (bool, String) {
    match (goal, obj) {
        (Goal::Deleted, None) => (true, "deleted".into()),
        (Goal::Deleted, Some(o)) => {
            (false, if s(o, "/metadata/deletionTimestamp").is_empty() { "exists".into() } else { "terminating".into() })
        }
        (_, None) => (false, "does not exist (yet)".into()),
        (Goal::Condition { type_, status }, Some(o)) => {
            let conds = arr(o, "/status/conditions");
            let found = conds.iter().find(|c| s(c, "/type").eq_ignore_ascii_case(type_));
            let seen = conds
                .iter()
                .map(|c| {
                    format!(
                        "{}={}{}",
                        s(c, "/type"),
                        s(c, "/status"),
                        if s(c, "/reason").is_empty() { String::new() } else { format!(" ({})", s(c, "/reason")) }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let met = found.is_some_and(|c| s(c, "/status").eq_ignore_ascii_case(status));
            (met, if seen.is_empty() { "no conditions yet".into() } else { untrusted_text(&seen) })
        }
        (Goal::Path { path, value }, Some(o)) => {
            let values: Vec<String> =
                JsonPath::parse(path).map(|p| p.find(o).into_iter().map(value_text).collect()).unwrap_or_default();
            let met = values.iter().any(|v| v == value);
            // A Secret's values are compared but never shown.
            let shown = if s(o, "/kind") == "Secret" {
                values.iter().map(|v| format!("<redacted: {} bytes>", v.len())).collect()
            } else {
                values
            };
            (
                met,
                if shown.is_empty() {
                    format!("{path} has no value")
                } else {
                    untrusted_text(&format!("{path} = {}", shown.join(", ")))
                },
            )
        }
    }
}

/// A state that cannot turn into the goal any more (a failed Job when waiting for Complete).
fn hopeless(goal: &Goal, obj: Option<&Value>) -> bool {
    match (goal, obj) {
        (Goal::Condition { type_, .. }, Some(o)) if type_.eq_ignore_ascii_case("Complete") => {
            arr(o, "/status/conditions").iter().any(|c| s(c, "/type") == "Failed" && s(c, "/status") == "True")
        }
        _ => false,
    }
}

/// `resource_wait`.
pub struct ResourceWait(pub Shared);

const DEFAULT_WAIT: u64 = 60;

impl Tool for ResourceWait {
    type Input = ResourceWaitInput;
    type Output = ResourceWaitOutput;
    const NAME: &'static str = "resource_wait";
    const TITLE: &'static str = "Wait for resource";
    const DESCRIPTION: &'static str = "Wait until an object has a condition, a jsonPath value, or is deleted.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "read", "wait"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &ResourceWaitInput) -> Result<(), ToolError> {
        check_target(&input.kind, &input.name, input.namespace.as_ref(), None)?;
        if let Some(t) = &input.timeout {
            let secs = validate::duration_secs(t)?;
            common::check_range("timeout (seconds)", secs as i64, 1, 1800)?;
        }
        goal(input).map(|_| ())
    }

    async fn run(&self, ctx: &ToolContext, input: ResourceWaitInput) -> Result<Reply<ResourceWaitOutput>, ToolError> {
        let goal = goal(&input)?;
        let timeout = input.timeout.as_deref().map(validate::duration_secs).transpose()?.unwrap_or(DEFAULT_WAIT);
        let (client, info) = self.0.resolve(ctx, &input.kind, None).await?;
        let ns = common::namespace_for(&client, &info, input.namespace.as_deref());
        let object = common::display(&info.kind, ns.as_deref(), &input.name);
        let ar = info.api_resource();
        let api: Api<DynamicObject> = match &ns {
            Some(ns) => Api::namespaced_with(client, ns, &ar),
            None => Api::all_with(client, &ar),
        };
        let started = Instant::now();
        let mut stream =
            watcher(api, watcher::Config::default().fields(&format!("metadata.name={}", input.name))).boxed();
        let mut current: Option<Value> = None;
        let mut synced = false;
        let mut state = "waiting for the first list".to_string();
        let outcome = tokio::time::timeout(Duration::from_secs(timeout), async {
            while let Some(event) = stream.next().await {
                let event = event.map_err(|e| match e {
                    watcher::Error::InitialListFailed(k)
                    | watcher::Error::WatchStartFailed(k)
                    | watcher::Error::WatchFailed(k) => ToolError::from(k),
                    other => ToolError::Unavailable(format!("watching {object} failed: {other}")),
                })?;
                let to_value =
                    |o: DynamicObject| common::with_type(serde_json::to_value(o).unwrap_or(Value::Null), &info);
                match event {
                    watcher::Event::Init => {
                        current = None;
                        continue;
                    }
                    watcher::Event::InitApply(o) => {
                        current = Some(to_value(o));
                        continue;
                    }
                    watcher::Event::InitDone => synced = true,
                    watcher::Event::Apply(o) => current = Some(to_value(o)),
                    watcher::Event::Delete(_) => current = None,
                }
                if !synced {
                    continue;
                }
                let (met, seen) = check(&goal, current.as_ref());
                state = seen;
                ctx.progress(started.elapsed().as_secs_f64(), Some(timeout as f64), format!("{object}: {state}"));
                if met {
                    return Ok::<bool, ToolError>(true);
                }
                if hopeless(&goal, current.as_ref()) {
                    return Ok(false);
                }
            }
            Ok(false)
        })
        .await;
        let waited = started.elapsed().as_secs();
        let (met, timed_out) = match outcome {
            Ok(r) => (r?, false),
            Err(_) => (false, true),
        };
        let summary = if met {
            format!("{object} reached the state after {waited} s: {state}.")
        } else if timed_out {
            format!(
                "Timed out after {timeout} s waiting for {object}; last seen: {state}. It may still get there: check with resource_describe."
            )
        } else {
            format!("{object} cannot reach the state any more: {state}.")
        };
        Ok(Reply::new(summary, ResourceWaitOutput { object, met, state, waited_seconds: waited }).untrusted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(condition: Option<&str>, json_path: Option<&str>, deleted: bool) -> ResourceWaitInput {
        ResourceWaitInput {
            kind: "deploy".into(),
            name: "web".into(),
            namespace: None,
            condition: condition.map(str::to_string),
            json_path: json_path.map(str::to_string),
            deleted,
            timeout: None,
        }
    }

    #[test]
    fn goals_parse_and_match() {
        let pod = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        let g = goal(&input(Some("Ready"), None, false)).expect("goal");
        assert!(check(&g, Some(&pod)).0);
        let g = goal(&input(Some("Ready=False"), None, false)).expect("goal");
        assert!(!check(&g, Some(&pod)).0);
        let g = goal(&input(None, Some("{.status.phase}=Running"), false)).expect("goal");
        assert!(check(&g, Some(&pod)).0);
        let g = goal(&input(None, Some(".status.phase=Pending"), false)).expect("goal");
        assert!(!check(&g, Some(&pod)).0);
        let g = goal(&input(None, None, true)).expect("goal");
        assert!(check(&g, None).0 && !check(&g, Some(&pod)).0);
        assert!(goal(&input(None, None, false)).is_err());
        assert!(goal(&input(Some("Ready"), None, true)).is_err());
        assert!(goal(&input(None, Some("{.status.phase"), false)).is_err());
        assert!(goal(&input(Some("Ready; rm"), None, false)).is_err());
    }
}
