//! Events as the real components write them: core/v1 Events named `<object>.<hex>`, with repeats of the
//! same reason and message aggregated into `count` and `lastTimestamp`.

use super::Ctx;
use super::util::s;
use crate::store::ObjectKey;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// Remembers which Event object holds each (object, reason, message), to aggregate repeats.
#[derive(Debug, Default)]
pub struct EventRecorder {
    seen: Mutex<HashMap<String, (String, String)>>,
}

const MAX_REMEMBERED: usize = 50_000;

impl EventRecorder {
    /// Records an event (see [`Ctx::event`]).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        ctx: &Ctx<'_>,
        obj: &Value,
        field_path: Option<&str>,
        warning: bool,
        reason: &str,
        message: &str,
        component: &str,
        host: Option<&str>,
    ) {
        let Some(events) = ctx.rt("", "events") else { return };
        let namespace = match s(obj, "/metadata/namespace") {
            "" => "default",
            ns => ns,
        }
        .to_string();
        let uid = s(obj, "/metadata/uid");
        let key = format!("{uid}|{}|{reason}|{message}", field_path.unwrap_or_default());
        let now = binnacle_objects::time::format_timestamp(ctx.now);
        let known = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        if let Some((ns, name)) = known {
            let updated = ctx.cluster.modify(&events, &ObjectKey::new(&ns, &name), |ev| {
                let count = ev.get("count").and_then(Value::as_i64).unwrap_or(1);
                ev["count"] = json!(count + 1);
                ev["lastTimestamp"] = json!(now);
            });
            if updated.is_some() {
                return;
            }
        }
        let mut involved = json!({
            "kind": obj.get("kind").cloned().unwrap_or(json!("")),
            "namespace": s(obj, "/metadata/namespace"),
            "name": s(obj, "/metadata/name"),
            "uid": uid,
            "apiVersion": obj.get("apiVersion").cloned().unwrap_or(json!("v1")),
            "resourceVersion": s(obj, "/metadata/resourceVersion"),
        });
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        let mut source = json!({"component": component});
        if let Some(h) = host {
            source["host"] = json!(h);
        }
        let name = format!("{}.{:016x}", s(obj, "/metadata/name"), ctx.cluster.random_range(0..u64::MAX));
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": if warning { "Warning" } else { "Normal" },
            "eventTime": null,
            "reportingComponent": component,
            "reportingInstance": host.unwrap_or_default(),
        });
        if ctx.cluster.create_with_status(&events, &namespace, event, component).is_ok() {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() > MAX_REMEMBERED {
                seen.clear();
            }
            seen.insert(key, (namespace, name));
        }
    }
}
