//! The HorizontalPodAutoscaler controller (autoscaling/v2 semantics; v1 objects' CPU target is read
//! too). Every 15 seconds it reads the target's scale (`spec.replicas` and selector of any kind that has
//! them), the selected pods' synthetic usage ([`crate::behavior::container_usage`], the same numbers the
//! metrics API serves) against their requests, and proposes `ceil(ratio × ready pods)` with the 10%
//! tolerance, pending pods ignored and unready pods counted as idle when scaling up. Scale-downs are
//! stabilized over 5 minutes of recommendations; scale-ups are limited to max(2×current, 4); the result
//! is clamped to min/max. It scales the target's `spec.replicas` when the result differs and reports
//! `currentMetrics`, `currentReplicas`, `desiredReplicas`, `lastScaleTime` and the AbleToScale,
//! ScalingActive and ScalingLimited conditions with the controller's reasons and events. Pods, Object
//! and External metrics have no source in the simulation and report as failed.

use super::super::util::{deleting, i, pod_ready, s, set_condition, uid};
use super::{Controller, Ctx, now_string, write_status};
use crate::behavior::container_usage;
use binnacle_objects::quantity::{cpu_millis, memory_bytes};
use binnacle_objects::selector::LabelSelector;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// See the module docs. Keeps recent recommendations for stabilization and the time of each HPA's
/// last evaluation.
#[derive(Default)]
pub struct HpaController {
    recommendations: HashMap<String, Vec<(Timestamp, i64)>>,
    last_run: HashMap<String, (Timestamp, i64)>,
}

const COMPONENT: &str = "horizontal-pod-autoscaler";
const SYNC_SECS: i64 = 15;
const TOLERANCE: f64 = 0.1;
const DOWNSCALE_WINDOW_SECS: i64 = 300;

impl Controller for HpaController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn reconcile(&mut self, ctx: &Ctx<'_>) {
        let hpas = ctx.list("autoscaling", "horizontalpodautoscalers", None);
        let live: std::collections::HashSet<&str> = hpas.iter().map(|h| uid(h)).collect();
        self.recommendations.retain(|k, _| live.contains(k.as_str()));
        self.last_run.retain(|k, _| live.contains(k.as_str()));
        if hpas.is_empty() {
            return;
        }
        let pods = ctx.list("", "pods", None);
        for hpa in hpas.iter().filter(|h| !deleting(h)) {
            let generation = i(hpa, "/metadata/generation");
            let due = self
                .last_run
                .get(uid(hpa))
                .is_none_or(|(t, g)| *g != generation || ctx.now.duration_since(*t).as_secs() >= SYNC_SECS);
            if due {
                self.last_run.insert(uid(hpa).to_string(), (ctx.now, generation));
                self.sync(ctx, hpa, &pods);
            }
        }
        ctx.wake_in(SYNC_SECS as f64);
    }
}

/// One metric's outcome: a replica proposal and its `currentMetrics` entry.
struct MetricResult {
    replicas: i64,
    status: Value,
    /// How the metric is named in rescale reasons.
    name: String,
}

/// A failed metric: event reason and message.
struct MetricError {
    reason: &'static str,
    message: String,
}

impl HpaController {
    fn sync(&mut self, ctx: &Ctx<'_>, hpa: &Arc<Value>, pods: &[Arc<Value>]) {
        let ns = s(hpa, "/metadata/namespace");
        let mut out = (**hpa).clone();
        out["status"] = hpa.get("status").filter(|s| s.is_object()).cloned().unwrap_or(json!({}));
        out["status"]["observedGeneration"] = json!(i(hpa, "/metadata/generation"));
        let now = now_string(ctx);
        let Some((target, group, plural)) = target_of(ctx, hpa) else {
            let message = missing_target_message(hpa);
            ctx.event(hpa, true, "FailedGetScale", &message, COMPONENT);
            let full = format!("the HPA controller was unable to get the target's current scale: {message}");
            set_condition(&mut out, "AbleToScale", "False", "FailedGetScale", &full, &now, false);
            return finish(ctx, hpa, out);
        };
        let current = target.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let min = hpa.pointer("/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1);
        let max = hpa.pointer("/spec/maxReplicas").and_then(Value::as_i64).unwrap_or(current.max(1));
        out["status"]["currentReplicas"] =
            json!(target.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(current));
        if current == 0 && min != 0 {
            let msg = "scaling is disabled since the replica count of the target is zero";
            set_condition(&mut out, "ScalingActive", "False", "ScalingDisabled", msg, &now, false);
            out["status"]["desiredReplicas"] = json!(0);
            return finish(ctx, hpa, out);
        }
        let selected = selected_pods(&target, ns, pods);
        let results: Vec<Result<MetricResult, MetricError>> =
            metrics_of(hpa).iter().map(|m| evaluate(m, current, &selected)).collect();
        let statuses: Vec<Value> =
            results.iter().map(|r| r.as_ref().map(|m| m.status.clone()).unwrap_or(json!({"type": ""}))).collect();
        out["status"]["currentMetrics"] = json!(statuses);
        let Some(best) = results.iter().filter_map(|r| r.as_ref().ok()).max_by_key(|m| m.replicas) else {
            report_invalid(ctx, hpa, &mut out, &results, &now);
            out["status"]["desiredReplicas"] = json!(current);
            return finish(ctx, hpa, out);
        };
        let msg = format!("the HPA was able to successfully calculate a replica count from {}", best.name);
        set_condition(&mut out, "ScalingActive", "True", "ValidMetricFound", &msg, &now, false);
        let (stabilized, stable_reason) = self.stabilize(uid(hpa), ctx.now, current, best.replicas);
        let (desired, limit_condition) = limit(current, stabilized, min, max);
        let (status, reason, message) = limit_condition;
        set_condition(&mut out, "ScalingLimited", status, reason, message, &now, false);
        out["status"]["desiredReplicas"] = json!(desired);
        if desired != current {
            let why = if desired > current {
                format!("{} above target", best.name)
            } else {
                "All metrics below target".into()
            };
            rescale(ctx, hpa, &mut out, (&target, &group, &plural), desired, &why);
        } else {
            let (reason, msg) = stable_reason;
            set_condition(&mut out, "AbleToScale", "True", reason, msg, &now, false);
        }
        finish(ctx, hpa, out);
    }

    /// Scale-down stabilization: the highest recommendation of the last five minutes wins.
    fn stabilize(
        &mut self,
        id: &str,
        now: Timestamp,
        current: i64,
        proposal: i64,
    ) -> (i64, (&'static str, &'static str)) {
        let recs = self.recommendations.entry(id.to_string()).or_default();
        recs.retain(|(t, _)| now.duration_since(*t).as_secs() < DOWNSCALE_WINDOW_SECS);
        recs.push((now, proposal));
        let highest = recs.iter().map(|(_, r)| *r).max().unwrap_or(proposal);
        if proposal < current && highest > proposal {
            let msg = "recent recommendations were higher than current one, applying the highest recent recommendation";
            (highest.min(current), ("ScaleDownStabilized", msg))
        } else {
            (proposal, ("ReadyForNewScale", "recommended size matches current size"))
        }
    }
}

/// Sets the target's `spec.replicas`, with the controller's event and condition.
fn rescale(ctx: &Ctx<'_>, hpa: &Value, out: &mut Value, target: (&Value, &str, &str), desired: i64, why: &str) {
    let (obj, group, plural) = target;
    let now = now_string(ctx);
    ctx.modify(group, plural, obj, |t| t["spec"]["replicas"] = json!(desired));
    ctx.event(hpa, false, "SuccessfulRescale", &format!("New size: {desired}; reason: {why}"), COMPONENT);
    let msg = format!("the HPA controller was able to update the target scale to {desired}");
    set_condition(out, "AbleToScale", "True", "SucceededRescale", &msg, &now, false);
    out["status"]["lastScaleTime"] = json!(now);
}

fn finish(ctx: &Ctx<'_>, hpa: &Value, out: Value) {
    if let Some(status) = out.get("status").cloned() {
        write_status(ctx, "autoscaling", "horizontalpodautoscalers", hpa, status);
    }
}

/// The scale target, with its resource's group and plural.
fn target_of(ctx: &Ctx<'_>, hpa: &Value) -> Option<(Arc<Value>, String, String)> {
    let api_version = s(hpa, "/spec/scaleTargetRef/apiVersion");
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let rt = ctx.cluster.registry().by_kind(group, s(hpa, "/spec/scaleTargetRef/kind"))?;
    let target = ctx.get(&rt.group, &rt.plural, s(hpa, "/metadata/namespace"), s(hpa, "/spec/scaleTargetRef/name"))?;
    Some((target, rt.group.clone(), rt.plural.clone()))
}

fn missing_target_message(hpa: &Value) -> String {
    let kind = s(hpa, "/spec/scaleTargetRef/kind").to_lowercase();
    let group = s(hpa, "/spec/scaleTargetRef/apiVersion").rsplit_once('/').map(|(g, _)| g).unwrap_or("").to_string();
    let resource = if group.is_empty() { format!("{kind}s") } else { format!("{kind}s.{group}") };
    format!("{resource} \"{}\" not found", s(hpa, "/spec/scaleTargetRef/name"))
}

fn selected_pods(target: &Value, ns: &str, pods: &[Arc<Value>]) -> Vec<Arc<Value>> {
    let selector = match target.pointer("/spec/selector") {
        Some(sel) if sel.is_object() => LabelSelector::from_object(sel),
        _ => LabelSelector::parse(s(target, "/status/selector")),
    };
    let Ok(selector) = selector.map_err(|_| ()).and_then(|sel| if sel.is_empty() { Err(()) } else { Ok(sel) }) else {
        return Vec::new();
    };
    pods.iter()
        .filter(|p| s(p, "/metadata/namespace") == ns && !deleting(p) && selector.matches_object(p))
        .filter(|p| s(p, "/status/phase") != "Failed" && s(p, "/status/phase") != "Succeeded")
        .cloned()
        .collect()
}

/// The HPA's metrics (v2), the v1 CPU target, or the API's default of 80% CPU.
fn metrics_of(hpa: &Value) -> Vec<Value> {
    if let Some(list) = hpa.pointer("/spec/metrics").and_then(Value::as_array).filter(|l| !l.is_empty()) {
        return list.clone();
    }
    let pct = hpa.pointer("/spec/targetCPUUtilizationPercentage").and_then(Value::as_i64).unwrap_or(80);
    vec![
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}}),
    ]
}

fn evaluate(metric: &Value, current: i64, pods: &[Arc<Value>]) -> Result<MetricResult, MetricError> {
    let (reason, kind) = match s(metric, "/type") {
        "Resource" => return resource_metric(metric, current, pods),
        "Pods" => ("FailedGetPodsMetric", "pods"),
        "Object" => ("FailedGetObjectMetric", "object"),
        "External" => ("FailedGetExternalMetric", "external"),
        "ContainerResource" => ("FailedGetContainerResourceMetric", "container resource"),
        other => ("InvalidMetricSourceType", other),
    };
    let message = format!(
        "unable to get {kind} metric: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered"
    );
    Err(MetricError { reason, message })
}

/// Usage and request of one resource for a pod; `Err` names the container without a request.
fn pod_usage(pod: &Value, resource: &str) -> Result<(i64, i64), String> {
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut usage = 0;
    let mut request = 0;
    for (ix, c) in containers.iter().enumerate() {
        let r = c
            .pointer(&format!("/resources/requests/{resource}"))
            .or_else(|| c.pointer(&format!("/resources/limits/{resource}")));
        let parsed =
            r.and_then(Value::as_str).and_then(|q| if resource == "cpu" { cpu_millis(q) } else { memory_bytes(q) });
        let Some(req) = parsed else {
            return Err(format!(
                "missing request for {resource} in container {} of Pod {}",
                s(c, "/name"),
                s(pod, "/metadata/name")
            ));
        };
        let (cpu, mem) = container_usage(pod, c, ix as u64);
        usage += if resource == "cpu" { cpu } else { mem };
        request += req;
    }
    Ok((usage, request))
}

fn resource_metric(metric: &Value, current: i64, pods: &[Arc<Value>]) -> Result<MetricResult, MetricError> {
    let resource = match s(metric, "/resource/name") {
        "" => "cpu",
        r => r,
    };
    let fail = |e: String| MetricError {
        reason: "FailedGetResourceMetric",
        message: format!("failed to get {resource} utilization: {e}"),
    };
    if pods.is_empty() {
        return Err(fail("no pods returned by selector while calculating replica count".into()));
    }
    let running: Vec<&Arc<Value>> = pods.iter().filter(|p| s(p, "/status/phase") == "Running").collect();
    if running.is_empty() {
        let e = format!("unable to get metrics for resource {resource}: no metrics returned from resource metrics API");
        return Err(fail(e));
    }
    if !running.iter().any(|p| pod_ready(p) || resource != "cpu") {
        return Err(fail("did not receive metrics for targeted pods (pods might be unready)".into()));
    }
    // Every selected pod needs a request, pending ones included.
    for pod in pods {
        pod_usage(pod, resource).map_err(fail)?;
    }
    let mut ready = Vec::new();
    let mut unready_requests = Vec::new();
    for pod in running {
        let (usage, request) = pod_usage(pod, resource).map_err(fail)?;
        if pod_ready(pod) || resource != "cpu" {
            ready.push((usage, request));
        } else {
            unready_requests.push(request);
        }
    }
    let target = metric.pointer("/resource/target").cloned().unwrap_or(json!({}));
    if s(&target, "/type") == "AverageValue" {
        return average_value(resource, &target, current, &ready).map_err(fail);
    }
    let target_pct = target.get("averageUtilization").and_then(Value::as_i64).unwrap_or(80).max(1);
    let (replicas, utilization) = utilization_replicas(current, &ready, &unready_requests, target_pct);
    let avg = ready.iter().map(|(u, _)| u).sum::<i64>() / ready.len() as i64;
    let current_value = json!({"averageUtilization": utilization, "averageValue": quantity(resource, avg)});
    Ok(MetricResult {
        replicas,
        status: json!({"type": "Resource", "resource": {"name": resource, "current": current_value}}),
        name: format!("{resource} resource utilization (percentage of request)"),
    })
}

fn quantity(resource: &str, value: i64) -> String {
    if resource == "cpu" { format!("{value}m") } else { value.to_string() }
}

fn average_value(resource: &str, target: &Value, current: i64, ready: &[(i64, i64)]) -> Result<MetricResult, String> {
    let raw = s(target, "/averageValue");
    let wanted = if resource == "cpu" { cpu_millis(raw) } else { memory_bytes(raw) };
    let wanted = wanted.filter(|w| *w > 0).ok_or_else(|| format!("invalid target value {raw:?}"))?;
    let total: i64 = ready.iter().map(|(u, _)| u).sum();
    let ratio = total as f64 / (wanted as f64 * ready.len() as f64);
    let replicas = if (1.0 - ratio).abs() <= TOLERANCE { current } else { (ratio * ready.len() as f64).ceil() as i64 };
    let avg = total / ready.len() as i64;
    Ok(MetricResult {
        replicas,
        status: json!({"type": "Resource", "resource": {"name": resource, "current": {"averageValue": quantity(resource, avg)}}}),
        name: format!("{resource} resource"),
    })
}

/// The utilization algorithm: `(replicas, utilization %)` from ready pods' `(usage, request)` and the
/// requests of unready pods (counted as idle when the ratio says scale up).
pub fn utilization_replicas(
    current: i64,
    ready: &[(i64, i64)],
    unready_requests: &[i64],
    target_pct: i64,
) -> (i64, i64) {
    let ratio_of = |samples: &[(i64, i64)]| {
        let usage: i64 = samples.iter().map(|(u, _)| u).sum();
        let request: i64 = samples.iter().map(|(_, r)| r).sum::<i64>().max(1);
        let utilization = usage * 100 / request;
        (utilization as f64 / target_pct as f64, utilization)
    };
    let (ratio, utilization) = ratio_of(ready);
    let scale_up_with_unready = !unready_requests.is_empty() && ratio > 1.0;
    if !scale_up_with_unready {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return (current, utilization);
        }
        return ((ratio * ready.len() as f64).ceil() as i64, utilization);
    }
    let mut all: Vec<(i64, i64)> = ready.to_vec();
    all.extend(unready_requests.iter().map(|r| (0, *r)));
    let (new_ratio, _) = ratio_of(&all);
    if (1.0 - new_ratio).abs() <= TOLERANCE || new_ratio < 1.0 {
        return (current, utilization);
    }
    let replicas = (new_ratio * all.len() as f64).ceil() as i64;
    (replicas.max(current), utilization)
}

/// Applies the scale-up rate limit and min/max, with the ScalingLimited condition to report.
fn limit(current: i64, desired: i64, min: i64, max: i64) -> (i64, (&'static str, &'static str, &'static str)) {
    let scale_up_limit = (2 * current).max(4);
    if desired > scale_up_limit && scale_up_limit < max {
        let msg = "the desired replica count is increasing faster than the maximum scale rate";
        return (scale_up_limit, ("True", "ScaleUpLimit", msg));
    }
    if desired > max {
        return (max, ("True", "TooManyReplicas", "the desired replica count is more than the maximum replica count"));
    }
    if desired < min {
        return (min, ("True", "TooFewReplicas", "the desired replica count is less than the minimum replica count"));
    }
    (desired, ("False", "DesiredWithinRange", "the desired count is within the acceptable range"))
}

/// Reports metrics that could not be computed (conditions and the controller's two warnings).
fn report_invalid(
    ctx: &Ctx<'_>,
    hpa: &Value,
    out: &mut Value,
    results: &[Result<MetricResult, MetricError>],
    now: &str,
) {
    let errors: Vec<&MetricError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let Some(first) = errors.first() else { return };
    ctx.event(hpa, true, first.reason, &first.message, COMPONENT);
    let msg = format!(
        "invalid metrics ({} invalid out of {}), first error is: failed to get {} metric value: {}",
        errors.len(),
        results.len(),
        if first.reason == "FailedGetResourceMetric" { "cpu resource" } else { "metric" },
        first.message
    );
    ctx.event(hpa, true, "FailedComputeMetricsReplicas", &msg, COMPONENT);
    let full = format!("the HPA was unable to compute the replica count: {}", first.message);
    set_condition(
        out,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
        now,
        false,
    );
    set_condition(out, "ScalingActive", "False", first.reason, &full, now, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_keeps_the_current_count() {
        // 3 pods at 66% of 100m against a 70% target: within 10%.
        assert_eq!(utilization_replicas(3, &[(66, 100), (66, 100), (66, 100)], &[], 70), (3, 66));
    }

    #[test]
    fn scales_up_and_down_by_ratio() {
        assert_eq!(utilization_replicas(3, &[(90, 100), (90, 100), (90, 100)], &[], 50), (6, 90));
        assert_eq!(utilization_replicas(4, &[(20, 100), (20, 100), (20, 100), (20, 100)], &[], 80), (1, 20));
    }

    #[test]
    fn unready_pods_count_as_idle_when_scaling_up() {
        // Ready pods alone say 2x; with an idle unready pod the ratio is 1.33, so 4 replicas.
        assert_eq!(utilization_replicas(3, &[(100, 100), (100, 100)], &[100], 50).0, 4);
    }

    #[test]
    fn limits() {
        assert_eq!(limit(2, 10, 1, 20).0, 4);
        assert_eq!(limit(3, 8, 1, 6).0, 6);
        assert_eq!(limit(3, 1, 2, 6).0, 2);
        assert_eq!(limit(3, 4, 2, 6).1.1, "DesiredWithinRange");
    }

    #[test]
    fn missing_requests_are_reported() {
        let pod = json!({"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "nginx", "resources": {}}]}});
        assert_eq!(
            pod_usage(&pod, "cpu").expect_err("fails"),
            "missing request for cpu in container nginx of Pod web-1"
        );
    }
}
