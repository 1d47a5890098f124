//! The resource quota controller: keeps each ResourceQuota's `status.hard` (its `spec.hard`) and
//! `status.used` (the namespace's current usage, see [`crate::admission::quota_usage`]) up to date.

use super::util::s;
use super::{Controller, Ctx};
use crate::admission::{format_amount, quota_usage};
use serde_json::{Map, Value, json};

/// See the module docs.
pub struct QuotaController;

impl Controller for QuotaController {
    fn name(&self) -> &'static str {
        "resourcequota-controller"
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        for quota in ctx.list("", "resourcequotas", None) {
            let hard = quota.pointer("/spec/hard").and_then(Value::as_object).cloned().unwrap_or_default();
            let used: Map<String, Value> = quota_usage(ctx.cluster, s(&quota, "/metadata/namespace"), &hard)
                .into_iter()
                .map(|(k, v)| {
                    let text = format_amount(&k, v);
                    (k, json!(text))
                })
                .collect();
            let status = json!({"hard": hard, "used": used});
            if quota.get("status") != Some(&status) {
                ctx.modify("", "resourcequotas", &quota, |q| q["status"] = status.clone());
            }
        }
    }
}
