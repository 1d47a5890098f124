//! `events_list`, and the event helpers `resource_describe` uses (fetch for one object, group duplicates).

use super::common::{self, Raw, check_ns, compact_schema, kinds, s};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, untrusted_text};
use crate::tool::Tool;
use crate::validate;
use jiff::Timestamp;
use kube::Client;
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event (or a group of identical events) as tools return it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventLine {
    /// Warning or Normal.
    #[serde(rename = "type")]
    pub type_: String,
    /// Reason (BackOff, FailedScheduling, ...).
    pub reason: String,
    /// Kind/name of the object it is about.
    pub object: String,
    /// Namespace (lists over all namespaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Occurrences.
    pub count: i64,
    /// Time since the last occurrence.
    pub last_seen: String,
    /// Message (cluster text, sanitised).
    pub message: String,
}

/// When an event last happened.
pub fn last_time(e: &Value) -> Option<Timestamp> {
    ["/lastTimestamp", "/series/lastObservedTime", "/eventTime", "/firstTimestamp", "/metadata/creationTimestamp"]
        .iter()
        .find_map(|p| binnacle_objects::time::parse_timestamp(e.pointer(p)))
}

fn count_of(e: &Value) -> i64 {
    let c = common::int(e, "/count").max(common::int(e, "/series/count"));
    c.max(1)
}

/// The events about objects, for `describe`: events whose involved object is one of `objects`
/// (kind, name, uid — an empty uid matches any instance of the name).
pub async fn events_for(
    client: &Client,
    namespace: Option<&str>,
    objects: &[(String, String, String)],
) -> Result<Vec<Value>, ToolError> {
    let raw = Raw::new(client, &kinds::events(), namespace.or(Some("default")));
    let mut out = Vec::new();
    if objects.len() == 1 {
        let (kind, name, uid) = &objects[0];
        let lp = ListParams::default().fields(&format!("involvedObject.kind={kind},involvedObject.name={name}"));
        for e in raw.list_all(&lp, 1000).await? {
            if uid.is_empty() || s(&e, "/involvedObject/uid").is_empty() || s(&e, "/involvedObject/uid") == uid {
                out.push(e);
            }
        }
        return Ok(out);
    }
    // Many objects: one list of the namespace's events, filtered here.
    for e in raw.list_all(&ListParams::default(), 5000).await? {
        let (k, n, u) = (s(&e, "/involvedObject/kind"), s(&e, "/involvedObject/name"), s(&e, "/involvedObject/uid"));
        if objects
            .iter()
            .any(|(kind, name, uid)| kind == k && name == n && (uid.is_empty() || u.is_empty() || uid == u))
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// Groups events that say the same thing about objects of the same kind (pods of one ReplicaSet
/// back off alike), counting occurrences; warnings first, then newest first.
pub fn group(events: &[Value], now: Timestamp) -> Vec<EventLine> {
    struct G {
        line: EventLine,
        last: Option<Timestamp>,
        objects: std::collections::BTreeSet<String>,
    }
    let mut groups: Vec<(String, G)> = Vec::new();
    for e in events {
        let name = s(e, "/involvedObject/name");
        let kind = s(e, "/involvedObject/kind");
        let message = untrusted_text(s(e, "/message").trim());
        let uid = s(e, "/involvedObject/uid");
        let mut generic = if name.is_empty() { message.clone() } else { message.replace(name, "*") };
        if !uid.is_empty() {
            generic = generic.replace(uid, "*");
        }
        let key = format!("{}\u{0}{}\u{0}{kind}\u{0}{generic}", s(e, "/type"), s(e, "/reason"));
        let last = last_time(e);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => {
                g.line.count += count_of(e);
                g.objects.insert(name.to_string());
                if last > g.last {
                    g.last = last;
                    g.line.message = message;
                    g.line.object = format!("{kind}/{name}");
                }
            }
            None => {
                let line = EventLine {
                    type_: s(e, "/type").to_string(),
                    reason: s(e, "/reason").to_string(),
                    object: format!("{kind}/{name}"),
                    namespace: None,
                    count: count_of(e),
                    last_seen: String::new(),
                    message,
                };
                groups.push((key, G { line, last, objects: [name.to_string()].into() }));
            }
        }
    }
    let mut out: Vec<(Option<Timestamp>, EventLine)> = groups
        .into_iter()
        .map(|(_, mut g)| {
            if g.objects.len() > 1 {
                g.line.object = format!("{} ({} objects)", g.line.object, g.objects.len());
            }
            g.line.last_seen = common::ago(g.last, now);
            (g.last, g.line)
        })
        .collect();
    out.sort_by(|a, b| (b.1.type_ == "Warning").cmp(&(a.1.type_ == "Warning")).then(b.0.cmp(&a.0)));
    out.into_iter().map(|(_, l)| l).collect()
}

/// "Now" for events: the wall clock, or the newest event when the cluster's clock runs ahead.
pub fn now_for(events: &[Value]) -> Timestamp {
    events.iter().filter_map(last_time).fold(Timestamp::now(), |a, b| a.max(b))
}

// ------------------------------------------------------------------------------------ events_list

/// Event type filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(inline)]
pub enum EventType {
    /// Problems.
    Warning,
    /// Everything else.
    Normal,
}

/// Arguments of `events_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct EventsListInput {
    pub namespace: Option<String>,
    #[serde(default)]
    pub all_namespaces: bool,
    #[serde(rename = "type")]
    pub type_: Option<EventType>,
    /// e.g. BackOff
    pub reason: Option<String>,
    /// Involved Kind
    pub kind: Option<String>,
    /// Involved name
    pub name: Option<String>,
    /// e.g. 10m
    pub since: Option<String>,
    /// default 50
    pub limit: Option<u32>,
}

/// What `events_list` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventsListOutput {
    /// Events, newest first.
    pub events: Vec<EventLine>,
}

/// `events_list`.
pub struct EventsList;

impl Tool for EventsList {
    type Input = EventsListInput;
    type Output = EventsListOutput;
    const NAME: &'static str = "events_list";
    const TITLE: &'static str = "List events";
    const DESCRIPTION: &'static str = "List events, newest first.";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["events", "read"];
    const ANNOTATIONS: Annotations = Annotations::READ;

    fn validate(input: &EventsListInput) -> Result<(), ToolError> {
        check_ns(input.namespace.as_ref())?;
        if input.all_namespaces && input.namespace.is_some() {
            return Err(ToolError::invalid("give either namespace or allNamespaces, not both"));
        }
        if let Some(r) = &input.reason
            && (r.is_empty() || r.len() > 128 || !r.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(ToolError::invalid(format!(
                "reason {r:?} is not valid: event reasons are CamelCase words such as BackOff"
            )));
        }
        if let Some(k) = &input.kind
            && (k.is_empty() || k.len() > 63 || !k.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(ToolError::invalid(format!("kind {k:?} is not valid: use a Kind such as Pod")));
        }
        if let Some(n) = &input.name {
            validate::object_name(n)?;
        }
        if let Some(d) = &input.since {
            validate::duration_secs(d)?;
        }
        if let Some(l) = input.limit {
            common::check_range("limit", i64::from(l), 1, 500)?;
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: EventsListInput) -> Result<Reply<EventsListOutput>, ToolError> {
        let client = ctx.kube().await?;
        let info = kinds::events();
        let namespace =
            if input.all_namespaces { None } else { common::namespace_for(&client, &info, input.namespace.as_deref()) };
        let mut fields = Vec::new();
        if let Some(t) = input.type_ {
            fields.push(format!("type={t:?}"));
        }
        if let Some(r) = &input.reason {
            fields.push(format!("reason={r}"));
        }
        if let Some(k) = &input.kind {
            fields.push(format!("involvedObject.kind={k}"));
        }
        if let Some(n) = &input.name {
            fields.push(format!("involvedObject.name={n}"));
        }
        let mut lp = ListParams::default();
        if !fields.is_empty() {
            lp = lp.fields(&fields.join(","));
        }
        let mut events = Raw::new(&client, &info, namespace.as_deref()).list_all(&lp, 20_000).await?;
        let now = now_for(&events);
        if let Some(since) = input.since.as_deref().map(validate::duration_secs).transpose()? {
            let cutoff = now.as_second() - since as i64;
            events.retain(|e| last_time(e).is_some_and(|t| t.as_second() >= cutoff));
        }
        events.sort_by_key(|e| std::cmp::Reverse(last_time(e)));
        let total = events.len();
        let warnings = events.iter().filter(|e| s(e, "/type") == "Warning").count();
        let limit = input.limit.unwrap_or(50) as usize;
        let mut lines: Vec<EventLine> = events
            .iter()
            .take(limit)
            .map(|e| EventLine {
                type_: s(e, "/type").to_string(),
                reason: s(e, "/reason").to_string(),
                object: format!("{}/{}", s(e, "/involvedObject/kind"), s(e, "/involvedObject/name")),
                namespace: namespace.is_none().then(|| s(e, "/metadata/namespace").to_string()),
                count: count_of(e),
                last_seen: common::ago(last_time(e), now),
                message: untrusted_text(s(e, "/message").trim()),
            })
            .collect();
        let fit = common::fitting(&lines, common::budget_bytes(ctx));
        let cut = lines.len() - fit;
        lines.truncate(fit);
        let where_ =
            namespace.as_deref().map(|n| format!("in namespace {n}")).unwrap_or_else(|| "in all namespaces".into());
        let mut summary = format!("{total} events {where_} ({warnings} warnings)");
        if let Some(first) = lines.first() {
            summary.push_str(&format!("; newest: {} {} on {}", first.type_, first.reason, first.object));
        }
        summary.push('.');
        let shown = lines.len();
        let mut reply = Reply::new(summary, EventsListOutput { events: lines }).untrusted();
        if total > shown {
            reply = reply.omitted(format!(
                "{} older events{}: narrow with type, reason, kind/name or since, or raise limit",
                total - shown,
                if cut > 0 { " (output budget)" } else { "" }
            ));
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_group_with_counts() {
        let e = |pod: &str, reason: &str, t: &str, count: i64| {
            json!({"type": "Warning", "reason": reason, "count": count, "lastTimestamp": t,
                   "involvedObject": {"kind": "Pod", "name": pod},
                   "message": format!("Back-off restarting failed container api in pod {pod}")})
        };
        let events = vec![
            e("api-1", "BackOff", "2026-01-01T00:00:10Z", 3),
            e("api-2", "BackOff", "2026-01-01T00:00:20Z", 2),
            json!({"type": "Normal", "reason": "Pulled", "lastTimestamp": "2026-01-01T00:00:30Z", "involvedObject": {"kind": "Pod", "name": "api-1"}, "message": "ok"}),
        ];
        let now: Timestamp = "2026-01-01T00:01:00Z".parse().expect("ts");
        let lines = group(&events, now);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].reason, "BackOff");
        assert_eq!(lines[0].count, 5);
        assert_eq!(lines[0].object, "Pod/api-2 (2 objects)");
        assert_eq!(lines[0].last_seen, "40s");
        assert_eq!(lines[1].reason, "Pulled");
    }
}
