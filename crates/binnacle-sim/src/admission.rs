//! Admission of pods at creation, as the API server's built-in plugins do it, and quota usage:
//!
//! - `LimitRanger`: the `Container` limits of a namespace's LimitRanges give missing requests and limits
//!   their defaults (noted in the `kubernetes.io/limit-ranger` annotation), then a container over a `max` or
//!   under a `min` is refused (`maximum memory usage per Container is 512Mi, but limit is 1Gi`).
//! - `ResourceQuota`: a pod that would take a quota's usage of `pods`, `count/pods`, `requests.cpu`, `cpu`,
//!   `requests.memory`, `memory`, `limits.cpu` or `limits.memory` over its `hard` is refused
//!   (`exceeded quota: q, requested: ..., used: ..., limited: ...`), as is a pod that leaves a quota-tracked
//!   compute resource unset (`failed quota: q: must specify ...`).
//!
//! Both refusals are `403 Forbidden` with the real message, naming the pod by its `generateName` when it has
//! no name yet (`pods "web-7d9c8b5f4-" is forbidden: ...`). Usage is computed from the live objects of the
//! namespace by the quota controller ([`quota_usage`]) and charged by admission for each pod it admits, as the
//! API server does: admission checks against `status.used` when it is current, else against a fresh count.
//! Quotas with `scopes` or a `scopeSelector`, and `Pod`/`PersistentVolumeClaim` LimitRange items, are not
//! enforced.

use crate::cluster::Cluster;
use crate::error::{ApiError, ApiResult, Reason};
use binnacle_objects::quantity::{cpu_millis, memory_bytes};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Amounts by resource name: CPU resources in millicores, everything else in base units (bytes, objects).
pub type Amounts = BTreeMap<String, i64>;

/// The annotation `LimitRanger` writes when it sets defaults.
pub const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// The compute resources a quota can require every container to set.
const COMPUTE: [&str; 6] = ["requests.cpu", "cpu", "requests.memory", "memory", "limits.cpu", "limits.memory"];

fn is_cpu(resource: &str) -> bool {
    resource == "cpu" || resource.ends_with(".cpu")
}

/// Parses a quantity of `resource` into [`Amounts`] units.
pub fn parse_amount(resource: &str, q: &Value) -> Option<i64> {
    let parse = |text: &str| if is_cpu(resource) { cpu_millis(text) } else { memory_bytes(text) };
    match q {
        Value::String(s) => parse(s),
        Value::Number(n) => parse(&n.to_string()),
        _ => None,
    }
}

/// Formats an amount the way a Kubernetes `Quantity` prints it (`500m`, `2`, `768Mi`, `1Gi`, `3`).
pub fn format_amount(resource: &str, v: i64) -> String {
    if is_cpu(resource) {
        return if v % 1000 == 0 { (v / 1000).to_string() } else { format!("{v}m") };
    }
    if v == 0 {
        return "0".into();
    }
    for (suffix, factor) in [("Ei", 1i64 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20)] {
        if v % factor == 0 {
            return format!("{}{suffix}", v / factor);
        }
    }
    if v % 1024 == 0 && v >= 1 << 20 {
        return format!("{}Ki", v / 1024);
    }
    for (suffix, factor) in [("G", 1_000_000_000i64), ("M", 1_000_000), ("k", 1000)] {
        if v % factor == 0 {
            return format!("{}{suffix}", v / factor);
        }
    }
    v.to_string()
}

fn amount(container: &Value, kind: &str, resource: &str) -> Option<i64> {
    let q = container.get("resources")?.get(kind)?.get(resource)?;
    parse_amount(resource, q)
}

/// A container's request for a resource; as the API defaults it, a request left unset takes the limit.
fn request(container: &Value, resource: &str) -> Option<i64> {
    amount(container, "requests", resource).or_else(|| amount(container, "limits", resource))
}

fn containers<'a>(pod: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    pod.get("spec").and_then(|s| s.get(list)).and_then(Value::as_array).into_iter().flatten()
}

/// A pod's compute requests and limits: `[requests.cpu, requests.memory, limits.cpu, limits.memory]`, each the
/// sum over its containers, or the largest init container's if that is more.
fn pod_compute(pod: &Value) -> [i64; 4] {
    let mut out = [0i64; 4];
    for (i, (kind, resource)) in
        [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")].into_iter().enumerate()
    {
        let get = |c: &Value| if kind == "requests" { request(c, resource) } else { amount(c, kind, resource) };
        let sum: i64 = containers(pod, "containers").filter_map(get).sum();
        let init = containers(pod, "initContainers").filter_map(get).max().unwrap_or(0);
        out[i] = sum.max(init);
    }
    out
}

/// The [`Amounts`] of one pod and a compute array: `pods`, `count/pods` and the compute resources.
fn pod_amounts(pods: i64, compute: [i64; 4]) -> Amounts {
    let [req_cpu, req_mem, lim_cpu, lim_mem] = compute;
    [
        ("pods", pods),
        ("count/pods", pods),
        ("requests.cpu", req_cpu),
        ("cpu", req_cpu),
        ("requests.memory", req_mem),
        ("memory", req_mem),
        ("limits.cpu", lim_cpu),
        ("limits.memory", lim_mem),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What a pod counts against quotas: `pods`, `count/pods` and its compute requests and limits (the sum over
/// its containers, or the largest init container if that is more).
pub fn pod_usage(pod: &Value) -> Amounts {
    pod_amounts(1, pod_compute(pod))
}

/// Whether a pod counts against its namespace's quotas (not finished, not being deleted).
pub fn pod_counts(pod: &Value) -> bool {
    let phase = pod.get("status").and_then(|s| s.get("phase")).and_then(Value::as_str).unwrap_or_default();
    pod.get("metadata").and_then(|m| m.get("deletionTimestamp")).is_none() && phase != "Succeeded" && phase != "Failed"
}

fn namespace_objects(cluster: &Cluster, group: &str, plural: &str, ns: &str) -> Vec<std::sync::Arc<Value>> {
    match cluster.registry().preferred(group, plural) {
        Some(rt) if rt.namespaced => cluster.list_all(&rt.storage, Some(ns)),
        _ => Vec::new(),
    }
}

/// The current usage in namespace `ns` of each resource in a quota's `hard`: pods and their compute
/// resources, object counts (`count/<resource>[.<group>]` and the legacy `services`, `configmaps`, `secrets`,
/// `persistentvolumeclaims`, `replicationcontrollers`, `resourcequotas`) and `requests.storage` of claims.
pub fn quota_usage(cluster: &Cluster, ns: &str, hard: &Map<String, Value>) -> Amounts {
    let mut pods_total: Option<Amounts> = None;
    let mut used = Amounts::new();
    for resource in hard.keys() {
        let value = if resource == "pods" || resource == "count/pods" || COMPUTE.contains(&resource.as_str()) {
            let totals = pods_total.get_or_insert_with(|| {
                let (mut pods, mut compute) = (0i64, [0i64; 4]);
                for pod in namespace_objects(cluster, "", "pods", ns).iter().filter(|p| pod_counts(p)) {
                    pods += 1;
                    for (sum, v) in compute.iter_mut().zip(pod_compute(pod)) {
                        *sum += v;
                    }
                }
                pod_amounts(pods, compute)
            });
            totals.get(resource).copied().unwrap_or(0)
        } else if resource == "requests.storage" {
            namespace_objects(cluster, "", "persistentvolumeclaims", ns)
                .iter()
                .filter_map(|c| c.pointer("/spec/resources/requests/storage").and_then(|q| parse_amount("storage", q)))
                .sum()
        } else {
            let counted = resource.strip_prefix("count/").unwrap_or(resource);
            let legacy = [
                "services",
                "configmaps",
                "secrets",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "resourcequotas",
            ];
            if resource.starts_with("count/") || legacy.contains(&resource.as_str()) {
                let (plural, group) = counted.split_once('.').unwrap_or((counted, ""));
                namespace_objects(cluster, group, plural, ns).len() as i64
            } else {
                0
            }
        };
        used.insert(resource.clone(), value);
    }
    used
}

/// `resource=value,...` sorted by resource, as the quota admission plugin prints resource lists.
fn pretty(list: &Amounts) -> String {
    list.iter().map(|(k, v)| format!("{k}={}", format_amount(k, *v))).collect::<Vec<_>>().join(",")
}

fn forbidden(name: &str, why: String) -> ApiError {
    ApiError::new(Reason::Forbidden, format!("pods \"{name}\" is forbidden: {why}")).with_details("", "pods", name)
}

/// Admits a pod about to be created in `namespace` (see the module docs): may add LimitRange defaults to it;
/// refuses it with `403 Forbidden` when a LimitRange or a ResourceQuota does. `name` is the pod's name, or
/// its `generateName` when the name is still to be generated. Unless `dry_run`, an admitted pod is charged to
/// the quotas' `status.used` at once.
pub fn admit_pod(cluster: &Cluster, namespace: &str, name: &str, pod: &mut Value, dry_run: bool) -> ApiResult<()> {
    let ranges = namespace_objects(cluster, "", "limitranges", namespace);
    limit_ranger(&ranges, name, pod)?;
    let mut quotas = namespace_objects(cluster, "", "resourcequotas", namespace);
    quotas.sort_by(|a, b| {
        a.pointer("/metadata/name").map(Value::to_string).cmp(&b.pointer("/metadata/name").map(Value::to_string))
    });
    let mut charges = Vec::new();
    for quota in &quotas {
        charges.extend(check_quota(cluster, namespace, quota, name, pod)?);
    }
    if !dry_run {
        for c in &charges {
            charge(cluster, namespace, c);
        }
    }
    Ok(())
}

/// A LimitRange `Container` item with the API's defaults: `default` from `max`, `defaultRequest` from
/// `default`, then from `min`.
fn container_item(item: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let map = |k: &str| item.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut default = map("default");
    let mut default_request = map("defaultRequest");
    for (k, v) in map("max") {
        default.entry(k).or_insert(v);
    }
    for (k, v) in &default {
        default_request.entry(k.clone()).or_insert(v.clone());
    }
    for (k, v) in map("min") {
        default_request.entry(k).or_insert(v);
    }
    (default, default_request)
}

fn limit_ranger(ranges: &[std::sync::Arc<Value>], name: &str, pod: &mut Value) -> ApiResult<()> {
    let items: Vec<&Value> = ranges
        .iter()
        .flat_map(|r| r.pointer("/spec/limits").and_then(Value::as_array).into_iter().flatten())
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("Container"))
        .collect();
    // The API's own defaulting first: a request left unset takes the limit.
    for list in ["initContainers", "containers"] {
        for c in pod.pointer_mut(&format!("/spec/{list}")).and_then(Value::as_array_mut).into_iter().flatten() {
            let limits = c.pointer("/resources/limits").and_then(Value::as_object).cloned().unwrap_or_default();
            for (k, v) in limits {
                if c.pointer(&format!("/resources/requests/{k}")).is_none() {
                    set(c, "requests", &k, v);
                }
            }
        }
    }
    if items.is_empty() {
        return Ok(());
    }
    let mut notes = Vec::new();
    for item in &items {
        let (default, default_request) = container_item(item);
        for (list, what) in [("initContainers", "init container"), ("containers", "container")] {
            for c in pod.pointer_mut(&format!("/spec/{list}")).and_then(Value::as_array_mut).into_iter().flatten() {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                let mut set_limits = Vec::new();
                let mut set_requests = Vec::new();
                for (k, v) in &default {
                    if c.pointer(&format!("/resources/limits/{k}")).is_none() {
                        set(c, "limits", k, v.clone());
                        set_limits.push(k.clone());
                    }
                }
                for (k, v) in &default_request {
                    if c.pointer(&format!("/resources/requests/{k}")).is_none() {
                        set(c, "requests", k, v.clone());
                        set_requests.push(k.clone());
                    }
                }
                set_requests.sort();
                set_limits.sort();
                if !set_requests.is_empty() {
                    notes.push(format!("{} request for {what} {cname}", set_requests.join(", ")));
                }
                if !set_limits.is_empty() {
                    notes.push(format!("{} limit for {what} {cname}", set_limits.join(", ")));
                }
            }
        }
    }
    let mut errors = Vec::new();
    for item in &items {
        for list in ["initContainers", "containers"] {
            for c in pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten() {
                check_container(item, c, &mut errors);
            }
        }
    }
    if !errors.is_empty() {
        let why = if errors.len() == 1 { errors.remove(0) } else { format!("[{}]", errors.join(", ")) };
        return Err(forbidden(name, why));
    }
    if !notes.is_empty() {
        if pod.pointer("/metadata/annotations").is_none_or(|a| !a.is_object()) {
            pod["metadata"]["annotations"] = json!({});
        }
        pod["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION] =
            json!(format!("LimitRanger plugin set: {}", notes.join("; ")));
    }
    Ok(())
}

fn set(c: &mut Value, kind: &str, resource: &str, v: Value) {
    if c.get("resources").is_none_or(|r| !r.is_object()) {
        c["resources"] = json!({});
    }
    if c["resources"].get(kind).is_none_or(|r| !r.is_object()) {
        c["resources"][kind] = json!({});
    }
    c["resources"][kind][resource] = v;
}

fn quantity_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `min`/`max` checks of one `Container` item, in the LimitRanger's words.
fn check_container(item: &Value, c: &Value, errors: &mut Vec<String>) {
    let raw = |kind: &str, r: &str| c.pointer(&format!("/resources/{kind}/{r}"));
    for (r, max) in item.get("max").and_then(Value::as_object).into_iter().flatten() {
        let Some(enforced) = parse_amount(r, max) else { continue };
        let shown = quantity_text(max);
        match raw("limits", r) {
            None => errors.push(format!("maximum {r} usage per Container is {shown}.  No limit is specified")),
            Some(l) if parse_amount(r, l).is_some_and(|v| v > enforced) => {
                errors.push(format!("maximum {r} usage per Container is {shown}, but limit is {}", quantity_text(l)))
            }
            _ => {
                if let Some(q) = raw("requests", r).filter(|q| parse_amount(r, q).is_some_and(|v| v > enforced)) {
                    errors.push(format!(
                        "maximum {r} usage per Container is {shown}, but request is {}",
                        quantity_text(q)
                    ));
                }
            }
        }
    }
    for (r, min) in item.get("min").and_then(Value::as_object).into_iter().flatten() {
        let Some(enforced) = parse_amount(r, min) else { continue };
        let shown = quantity_text(min);
        match raw("requests", r) {
            None => errors.push(format!("minimum {r} usage per Container is {shown}.  No request is specified")),
            Some(q) if parse_amount(r, q).is_some_and(|v| v < enforced) => {
                errors.push(format!("minimum {r} usage per Container is {shown}, but request is {}", quantity_text(q)))
            }
            _ => {
                if let Some(l) = raw("limits", r).filter(|l| parse_amount(r, l).is_some_and(|v| v < enforced)) {
                    errors
                        .push(format!("minimum {r} usage per Container is {shown}, but limit is {}", quantity_text(l)));
                }
            }
        }
    }
}

/// A quota's `status.used` when it is current (recorded for the `hard` it has now, every resource present).
fn recorded_usage(quota: &Value) -> Option<Amounts> {
    let hard = quota.pointer("/spec/hard")?.as_object()?;
    if quota.pointer("/status/hard")?.as_object()? != hard {
        return None;
    }
    let used = quota.pointer("/status/used")?.as_object()?;
    hard.keys().map(|k| Some((k.clone(), parse_amount(k, used.get(k)?)?))).collect()
}

/// What admitting a pod adds to a quota: its name, the usage the check saw and the pod's part of it.
type Charge = (String, Amounts, Amounts);

/// Records an admitted pod in a quota's `status.used` at once, as the API server does (the quota controller
/// recomputes it from the namespace's objects on its next pass, which also corrects a create that failed
/// after admission).
fn charge(cluster: &Cluster, ns: &str, (name, seen, requested): &Charge) {
    let Some(rt) = cluster.registry().preferred("", "resourcequotas") else { return };
    cluster.modify(&rt, &crate::store::ObjectKey::new(ns, name), |q| {
        let Some(hard) = q.pointer("/spec/hard").and_then(Value::as_object).cloned() else { return };
        let mut used = recorded_usage(q).unwrap_or_else(|| seen.clone());
        for (k, v) in requested {
            *used.entry(k.clone()).or_default() += v;
        }
        let used: Map<String, Value> = used
            .into_iter()
            .filter(|(k, _)| hard.contains_key(k))
            .map(|(k, v)| {
                let text = format_amount(&k, v);
                (k, json!(text))
            })
            .collect();
        q["status"] = json!({"hard": hard, "used": used});
    });
}

fn check_quota(cluster: &Cluster, ns: &str, quota: &Value, name: &str, pod: &Value) -> ApiResult<Option<Charge>> {
    if quota.pointer("/spec/scopes").and_then(Value::as_array).is_some_and(|s| !s.is_empty())
        || quota.pointer("/spec/scopeSelector").is_some_and(|s| !s.is_null())
    {
        return Ok(None);
    }
    let Some(hard) = quota.pointer("/spec/hard").and_then(Value::as_object) else { return Ok(None) };
    let quota_name = quota.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    // Every container must set each compute resource the quota tracks.
    let mut missing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in containers(pod, "initContainers").chain(containers(pod, "containers")) {
        let cname = c.get("name").and_then(Value::as_str).unwrap_or_default();
        for r in COMPUTE.iter().filter(|r| hard.contains_key(**r)) {
            let set = match *r {
                "requests.cpu" | "cpu" => request(c, "cpu").is_some(),
                "requests.memory" | "memory" => request(c, "memory").is_some(),
                "limits.cpu" => amount(c, "limits", "cpu").is_some(),
                _ => amount(c, "limits", "memory").is_some(),
            };
            if !set {
                missing.entry(r).or_default().push(cname.to_string());
            }
        }
    }
    if !missing.is_empty() {
        let parts: Vec<String> = missing
            .iter_mut()
            .map(|(r, names)| {
                names.sort();
                names.dedup();
                format!("{r} for: {}", names.join(","))
            })
            .collect();
        return Err(forbidden(name, format!("failed quota: {quota_name}: must specify {}", parts.join("; "))));
    }
    let requested: Amounts = pod_usage(pod).into_iter().filter(|(k, _)| hard.contains_key(k)).collect();
    if requested.is_empty() {
        return Ok(None);
    }
    let used = recorded_usage(quota).unwrap_or_else(|| quota_usage(cluster, ns, hard));
    let mut over = (Amounts::new(), Amounts::new(), Amounts::new());
    for (r, want) in &requested {
        let Some(limit) = hard.get(r).and_then(|h| parse_amount(r, h)) else { continue };
        let have = used.get(r).copied().unwrap_or(0);
        if *want > 0 && have + want > limit {
            over.0.insert(r.clone(), *want);
            over.1.insert(r.clone(), have);
            over.2.insert(r.clone(), limit);
        }
    }
    if over.0.is_empty() {
        return Ok(Some((quota_name.to_string(), used, requested)));
    }
    Err(forbidden(
        name,
        format!(
            "exceeded quota: {quota_name}, requested: {}, used: {}, limited: {}",
            pretty(&over.0),
            pretty(&over.1),
            pretty(&over.2)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_like_quantities() {
        assert_eq!(format_amount("requests.cpu", 500), "500m");
        assert_eq!(format_amount("limits.cpu", 2000), "2");
        assert_eq!(format_amount("requests.memory", 768 << 20), "768Mi");
        assert_eq!(format_amount("memory", 1 << 30), "1Gi");
        assert_eq!(format_amount("pods", 3), "3");
        assert_eq!(format_amount("requests.memory", 1_500_000_000), "1500M");
    }

    #[test]
    fn usage_sums_containers_and_takes_requests_from_limits() {
        let pod = json!({"spec": {
        "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
        "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}
        ]}});
        let u = pod_usage(&pod);
        assert_eq!(u["requests.cpu"], 2000, "the init container's 2 CPUs are more than 750m");
        assert_eq!(u["requests.memory"], 320 << 20);
        assert_eq!(u["limits.memory"], 384 << 20);
        assert_eq!(u["limits.cpu"], 500);
        assert_eq!((u["pods"], u["cpu"]), (1, 2000));
    }

    #[test]
    fn limit_ranger_defaults_and_refuses() {
        let range = std::sync::Arc::new(json!({"spec": {"limits": [{"type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m"},
            "max": {"memory": "1Gi"}}]}}));
        let mut pod = json!({"metadata": {}, "spec": {"containers": [{"name": "app"}]}});
        limit_ranger(std::slice::from_ref(&range), "p", &mut pod).expect("admitted");
        assert_eq!(pod.pointer("/spec/containers/0/resources/limits/memory"), Some(&json!("512Mi")));
        assert_eq!(pod.pointer("/spec/containers/0/resources/requests/cpu"), Some(&json!("100m")));
        assert_eq!(pod.pointer("/spec/containers/0/resources/requests/memory"), Some(&json!("512Mi")));
        assert_eq!(
            pod.pointer("/metadata/annotations/kubernetes.io~1limit-ranger"),
            Some(&json!(
                "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"
            ))
        );
        let mut big = json!({"metadata": {}, "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "2Gi"}}}]}});
        let err = limit_ranger(&[range], "agent-", &mut big).expect_err("over the max");
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "pods \"agent-\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"
        );
    }
}
