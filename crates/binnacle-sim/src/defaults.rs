//! Defaulting that the API server applies on create and update, for the fields that `describe`, `diff`
//! and rollout logic read.

use serde_json::{Map, Value, json};

fn obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = v.as_object_mut()?;
    let entry = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if entry.is_null() {
        *entry = json!({});
    }
    entry.as_object_mut()
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

/// Applies defaults for a kind (by group and kind).
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    match (group, kind) {
        ("", "Pod") => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec);
            }
        }
        ("", "PodTemplate") => default_template(obj.get_mut("template")),
        ("apps", "Deployment") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
                if let Some(strategy) = spec.get_mut("strategy").and_then(Value::as_object_mut) {
                    set_default(strategy, "type", json!("RollingUpdate"));
                    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(strategy, "rollingUpdate", json!({"maxSurge": "25%", "maxUnavailable": "25%"}));
                    }
                }
                default_template(spec.get_mut("template"));
            }
        }
        ("apps", "ReplicaSet") | ("", "ReplicationController") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                default_template(spec.get_mut("template"));
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
                default_template(spec.get_mut("template"));
            }
        }
        ("apps", "DaemonSet") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                );
                default_template(spec.get_mut("template"));
            }
        }
        ("batch", "Job") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                default_job_spec(spec);
            }
        }
        ("batch", "CronJob") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "concurrencyPolicy", json!("Allow"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "successfulJobsHistoryLimit", json!(3));
                set_default(spec, "failedJobsHistoryLimit", json!(1));
                if let Some(jt) =
                    spec.get_mut("jobTemplate").and_then(|j| j.get_mut("spec")).and_then(Value::as_object_mut)
                {
                    default_job_spec(jt);
                }
            }
        }
        ("", "Service") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "type", json!("ClusterIP"));
                set_default(spec, "sessionAffinity", json!("None"));
                if spec.get("type").and_then(Value::as_str) != Some("ExternalName") {
                    set_default(spec, "ipFamilies", json!(["IPv4"]));
                    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(port, "protocol", json!("TCP"));
                        if let Some(p) = port.get("port").cloned() {
                            set_default(port, "targetPort", p);
                        }
                    }
                }
            }
        }
        ("", "Namespace") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "finalizers", json!(["kubernetes"]));
            }
            if let Some(status) = obj_mut(obj, "status") {
                set_default(status, "phase", json!("Active"));
            }
            let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(labels) = obj.get_mut("metadata").and_then(|m| obj_mut(m, "labels")) {
                set_default(labels, "kubernetes.io/metadata.name", json!(name));
            }
        }
        ("", "Secret") => {
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "type", json!("Opaque"));
                merge_string_data(map);
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = obj_mut(obj, "spec") {
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        _ => {}
    }
}

/// Moves `stringData` into `data` (base64), as the API server does on every write of a Secret.
fn merge_string_data(secret: &mut Map<String, Value>) {
    use base64::Engine;
    let Some(Value::Object(string_data)) = secret.remove("stringData") else { return };
    let data = secret.entry("data").or_insert_with(|| json!({}));
    if data.is_null() {
        *data = json!({});
    }
    if let Some(data) = data.as_object_mut() {
        for (k, v) in string_data {
            if let Some(text) = v.as_str() {
                data.insert(k, json!(base64::engine::general_purpose::STANDARD.encode(text)));
            }
        }
    }
}

fn default_job_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completions", json!(1));
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    if let Some(template) = spec.get_mut("template") {
        if let Some(ps) = template.get_mut("spec").and_then(Value::as_object_mut) {
            set_default(ps, "restartPolicy", json!("Never"));
        }
        default_template(Some(template));
    }
}

fn default_template(template: Option<&mut Value>) {
    if let Some(spec) = template.and_then(|t| t.get_mut("spec")) {
        default_pod_spec(spec);
    }
}

/// Defaults a PodSpec.
pub fn default_pod_spec(spec: &mut Value) {
    let Some(map) = spec.as_object_mut() else { return };
    set_default(map, "restartPolicy", json!("Always"));
    set_default(map, "dnsPolicy", json!("ClusterFirst"));
    set_default(map, "schedulerName", json!("default-scheduler"));
    set_default(map, "terminationGracePeriodSeconds", json!(30));
    set_default(map, "securityContext", json!({}));
    if map.get("serviceAccountName").is_none_or(Value::is_null) {
        let sa = map.get("serviceAccount").cloned().unwrap_or(json!("default"));
        map.insert("serviceAccountName".into(), sa);
    }
    for list in ["containers", "initContainers"] {
        if let Some(containers) = map.get_mut(list).and_then(Value::as_array_mut) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                default_container(c);
            }
        }
    }
}

fn default_container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default().to_string();
    let pull = if image_tag(&image).is_none_or(|t| t == "latest") { "Always" } else { "IfNotPresent" };
    set_default(c, "imagePullPolicy", json!(pull));
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
            set_default(p, "timeoutSeconds", json!(1));
            set_default(p, "periodSeconds", json!(10));
            set_default(p, "successThreshold", json!(1));
            set_default(p, "failureThreshold", json!(3));
            if let Some(http) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
                set_default(http, "scheme", json!("HTTP"));
            }
        }
    }
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

/// The QoS class of a pod: Guaranteed when every container has equal CPU and memory requests and limits,
/// BestEffort when none has any, else Burstable.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> =
        pod.pointer("/spec/containers").and_then(Value::as_array).map(|c| c.iter().collect()).unwrap_or_default();
    let any = containers.iter().any(|c| {
        ["requests", "limits"]
            .iter()
            .any(|k| c.pointer(&format!("/resources/{k}")).and_then(Value::as_object).is_some_and(|m| !m.is_empty()))
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let limits = c.pointer("/resources/limits");
        let requests = c.pointer("/resources/requests");
        ["cpu", "memory"].iter().all(|r| {
            let l = limits.and_then(|l| l.get(*r));
            l.is_some() && (requests.and_then(|q| q.get(*r)).is_none() || requests.and_then(|q| q.get(*r)) == l)
        })
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

/// The tag of an image reference (`nginx:1.27` → `1.27`), ignoring registry ports and digests.
pub fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}}}});
        apply_defaults("apps", "Deployment", &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
    }

    #[test]
    fn secret_string_data_merges_into_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"b": "hello"}});
        apply_defaults("", "Secret", &mut s);
        assert_eq!(s, json!({"data": {"a": "eA==", "b": "aGVsbG8="}, "type": "Opaque"}));
    }

    #[test]
    fn probe_defaults() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "image": "x", "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]}});
        apply_defaults("", "Pod", &mut p);
        let probe = &p["spec"]["containers"][0]["readinessProbe"];
        assert_eq!(
            (probe["timeoutSeconds"].as_i64(), probe["periodSeconds"].as_i64(), probe["failureThreshold"].as_i64()),
            (Some(1), Some(10), Some(3))
        );
        assert_eq!(probe["httpGet"]["scheme"], "HTTP");
    }

    #[test]
    fn service_defaults_target_port() {
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply_defaults("", "Service", &mut s);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(s["spec"]["type"], "ClusterIP");
    }

    #[test]
    fn tags() {
        assert_eq!(image_tag("nginx:1.27"), Some("1.27"));
        assert_eq!(image_tag("registry:5000/app"), None);
        assert_eq!(image_tag("registry:5000/app:v2@sha256:abc"), Some("v2"));
    }
}
