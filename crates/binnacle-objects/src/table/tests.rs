//! Golden rows for the table printers.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;

/// The fixed "now" of every test.
fn now() -> Timestamp {
    "2026-01-02T15:00:00Z".parse().expect("valid timestamp")
}

/// `metadata` created `ago` before [`now`].
fn meta(name: &str, ago: &str) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": ago})
}

/// Column names of a kind.
fn names(group: &str, kind: &str) -> Vec<String> {
    columns(group, kind).into_iter().map(|c| c.name).collect()
}

/// The cells of an object, only for default-priority columns (what kubectl prints without `-o wide`).
fn narrow(group: &str, kind: &str, obj: &Value) -> Vec<Value> {
    let cols = columns(group, kind);
    let cells = row_cells(group, kind, obj, now());
    assert_eq!(cols.len(), cells.len(), "{kind}: one cell per column");
    cols.iter().zip(cells).filter(|(c, _)| c.priority == 0).map(|(_, v)| v).collect()
}

fn running_pod() -> Value {
    json!({
        "metadata": meta("web-1", "2026-01-02T14:55:00Z"),
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": "2026-01-02T14:55:05Z"}}
            }]
        }
    })
}

#[test]
fn pod_columns_match_kubectl() {
    assert_eq!(
        names("", "Pod"),
        ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    let cols = columns("core", "Pod");
    assert_eq!(cols[0].format, "name");
    assert_eq!(cols.iter().filter(|c| c.priority == 1).count(), 4);
    let json = serde_json::to_value(&cols[0]).expect("serializes");
    assert_eq!(json["type"], "string");
    assert_eq!(json["priority"], 0);
}

#[test]
fn running_pod_row() {
    let pod = running_pod();
    assert_eq!(
        row_cells("", "Pod", &pod, now()),
        [
            json!("web-1"),
            json!("1/1"),
            json!("Running"),
            json!("0"),
            json!("5m"),
            json!("10.244.0.5"),
            json!("node-a"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    assert_eq!(row_conditions("", "Pod", &pod), None);
}

#[test]
fn crash_loop_pod_row() {
    let pod = json!({
        "metadata": meta("api-7", "2026-01-02T14:00:00Z"),
        "spec": {"containers": [{"name": "api"}, {"name": "proxy"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {"name": "api", "ready": false, "restartCount": 3,
                 "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                 "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                              "finishedAt": "2026-01-02T14:59:35Z"}}},
                {"name": "proxy", "ready": true, "restartCount": 0, "state": {"running": {}}}
            ]
        }
    });
    assert_eq!(narrow("", "Pod", &pod), ["api-7", "1/2", "CrashLoopBackOff", "3 (25s ago)", "60m"]);
    assert_eq!(pod_status(&pod), "CrashLoopBackOff");
    assert_eq!(pod_ready(&pod), "1/2");
    assert_eq!(pod_restarts(&pod, now()), "3 (25s ago)");
}

#[test]
fn image_pull_back_off_pod() {
    let pod = json!({
        "metadata": meta("bad-image", "2026-01-02T14:58:00Z"),
        "spec": {"containers": [{"name": "app", "image": "nginx:nope"}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff"}}}]
        }
    });
    assert_eq!(narrow("", "Pod", &pod), ["bad-image", "0/1", "ImagePullBackOff", "0", "2m"]);
}

#[test]
fn init_container_pods() {
    let failing = json!({
        "metadata": meta("migrate", "2026-01-02T14:50:00Z"),
        "spec": {"initContainers": [{"name": "wait-db"}, {"name": "migrate"}], "containers": [{"name": "app"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "Initialized", "status": "False"}],
            "initContainerStatuses": [
                {"name": "wait-db", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "migrate", "restartCount": 2,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-01-02T14:58:00Z"}}}
            ],
            "containerStatuses": [{"name": "app", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]
        }
    });
    assert_eq!(narrow("", "Pod", &failing), ["migrate", "0/1", "Init:CrashLoopBackOff", "2 (2m ago)", "10m"]);

    let mut errored = failing.clone();
    errored["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 1, "reason": "Error"}});
    assert_eq!(pod_status(&errored), "Init:Error");
    errored["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 2}});
    assert_eq!(pod_status(&errored), "Init:ExitCode:2");
    errored["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 137, "signal": 9}});
    assert_eq!(pod_status(&errored), "Init:Signal:9");

    let mut progressing = failing.clone();
    progressing["status"]["initContainerStatuses"][1]["state"] = json!({"running": {}});
    assert_eq!(pod_status(&progressing), "Init:1/2");
    progressing["status"]["initContainerStatuses"][0]["state"] = json!({"waiting": {"reason": "PodInitializing"}});
    assert_eq!(pod_status(&progressing), "Init:0/2");
}

#[test]
fn sidecar_init_containers_count_toward_ready() {
    let pod = json!({
        "metadata": meta("with-sidecar", "2026-01-02T14:50:00Z"),
        "spec": {"initContainers": [{"name": "log", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "log", "ready": true, "started": true, "restartCount": 1,
                "state": {"running": {}}}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
        }
    });
    assert_eq!(narrow("", "Pod", &pod), ["with-sidecar", "2/2", "Running", "1", "10m"]);
}

#[test]
fn terminating_and_special_pods() {
    let mut pod = running_pod();
    pod["metadata"]["deletionTimestamp"] = json!("2026-01-02T14:59:50Z");
    assert_eq!(pod_status(&pod), "Terminating");
    pod["status"]["reason"] = json!("NodeLost");
    assert_eq!(pod_status(&pod), "Unknown");

    let evicted = json!({
        "metadata": meta("evicted", "2026-01-02T10:00:00Z"),
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}
    });
    assert_eq!(narrow("", "Pod", &evicted), ["evicted", "0/1", "Evicted", "0", "5h"]);

    let gated = json!({
        "metadata": meta("gated", "2026-01-02T14:59:00Z"),
        "spec": {"schedulingGates": [{"name": "example.com/wait"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
        ]}
    });
    assert_eq!(pod_status(&gated), "SchedulingGated");

    let oom = json!({
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "app", "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
        ]}
    });
    assert_eq!(pod_status(&oom), "OOMKilled");
    let signalled =
        json!({"status": {"containerStatuses": [{"state": {"terminated": {"exitCode": 143, "signal": 15}}}]}});
    assert_eq!(pod_status(&signalled), "Signal:15");

    // One container completed while another still runs: Running, or NotReady without the Ready condition.
    let mut partly = json!({
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [
            {"name": "a", "ready": true, "state": {"running": {}}},
            {"name": "b", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ]}
    });
    assert_eq!(pod_status(&partly), "Running");
    partly["status"]["conditions"][0]["status"] = json!("False");
    assert_eq!(pod_status(&partly), "NotReady");
}

#[test]
fn completed_job_pod_has_row_condition() {
    let pod = json!({
        "metadata": meta("backup-28012345-abcde", "2026-01-02T14:00:00Z"),
        "spec": {"containers": [{"name": "backup"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [{"name": "backup", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-01-02T14:01:00Z"}}}]
        }
    });
    assert_eq!(narrow("", "Pod", &pod), ["backup-28012345-abcde", "0/1", "Completed", "0", "60m"]);
    let conditions = row_conditions("", "Pod", &pod).expect("terminal pods carry a condition");
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0]["type"], "Completed");
    assert_eq!(conditions[0]["status"], "True");
    assert_eq!(row_conditions("apps", "Deployment", &pod), None);
}

#[test]
fn empty_objects_never_panic() {
    let kinds = [
        ("", "Pod"),
        ("", "Service"),
        ("", "Node"),
        ("", "Namespace"),
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("", "Endpoints"),
        ("", "PersistentVolumeClaim"),
        ("", "PersistentVolume"),
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        ("", "PodTemplate"),
        ("", "ReplicationController"),
        ("", "Event"),
        ("events.k8s.io", "Event"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ControllerRevision"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("policy", "PodDisruptionBudget"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("storage.k8s.io", "StorageClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("coordination.k8s.io", "Lease"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("example.com", "Widget"),
    ];
    for (group, kind) in kinds {
        for obj in [json!({}), json!(null), json!({"metadata": null, "spec": 3, "status": "x"})] {
            let cells = row_cells(group, kind, &obj, now());
            assert_eq!(cells.len(), columns(group, kind).len(), "{group}/{kind}");
            assert!(cells.iter().all(|c| c.is_string() || c.is_i64() || c.is_boolean()), "{group}/{kind}: {cells:?}");
        }
    }
    assert_eq!(pod_status(&json!({})), "");
    assert_eq!(pod_ready(&json!({})), "0/0");
    assert_eq!(pod_restarts(&json!({}), now()), "0");
}

#[test]
fn deployment_row() {
    let deploy = json!({
        "metadata": meta("web", "2026-01-01T15:00:00Z"),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "tier": "frontend"}},
            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"},
                                                 {"name": "sidecar", "image": "envoy:1.30"}]}}
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    });
    assert_eq!(
        names("apps", "Deployment"),
        ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]
    );
    assert_eq!(
        row_cells("apps", "Deployment", &deploy, now()),
        [
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("24h"),
            json!("nginx,sidecar"),
            json!("nginx:1.27,envoy:1.30"),
            json!("app=web,tier=frontend")
        ]
    );
}

#[test]
fn label_selectors_format_like_apimachinery() {
    let sts = json!({"spec": {"selector": {
        "matchLabels": {"app": "db"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["b"]}
        ]
    }}});
    assert_eq!(row_cells("apps", "ReplicaSet", &sts, now())[7], "app=db,!canary,tier in (api,web),zone notin (b)");
    assert_eq!(row_cells("apps", "ReplicaSet", &json!({"spec": {"selector": {}}}), now())[7], "<none>");
}

#[test]
fn service_rows() {
    let svc = json!({
        "metadata": meta("web", "2026-01-02T14:30:00Z"),
        "spec": {
            "type": "NodePort", "clusterIP": "10.96.12.34", "clusterIPs": ["10.96.12.34"],
            "selector": {"app": "web"},
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]
        }
    });
    assert_eq!(names("", "Service"), ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]);
    assert_eq!(
        row_cells("", "Service", &svc, now()),
        [
            json!("web"),
            json!("NodePort"),
            json!("10.96.12.34"),
            json!("<none>"),
            json!("80:30080/TCP,53/UDP"),
            json!("30m"),
            json!("app=web")
        ]
    );
    let mut lb = svc.clone();
    lb["spec"]["type"] = json!("LoadBalancer");
    assert_eq!(row_cells("", "Service", &lb, now())[3], "<pending>");
    lb["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}});
    assert_eq!(row_cells("", "Service", &lb, now())[3], "203.0.113.9,lb.example.com");
    let headless = json!({"metadata": meta("db", "2026-01-02T14:30:00Z"), "spec": {"clusterIP": "None"}});
    assert_eq!(narrow("", "Service", &headless), ["db", "ClusterIP", "None", "<none>", "<none>", "30m"]);
}

#[test]
fn node_rows() {
    let node = json!({
        "metadata": {"name": "cp-1", "creationTimestamp": "2025-12-30T15:00:00Z",
                     "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp-1"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {"kubeletVersion": "v1.32.2", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://1.7.24"}
        }
    });
    assert_eq!(
        row_cells("", "Node", &node, now()),
        [
            json!("cp-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane"),
            json!("3d"),
            json!("v1.32.2"),
            json!("172.18.0.2"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.8.0"),
            json!("containerd://1.7.24")
        ]
    );
    let not_ready = json!({"metadata": {"name": "w-2"}, "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    assert_eq!(narrow("", "Node", &not_ready), ["w-2", "NotReady,SchedulingDisabled", "<none>", "<unknown>", ""]);
    assert_eq!(narrow("", "Node", &json!({"metadata": {"name": "new"}}))[1], "Unknown");
}

#[test]
fn event_rows() {
    assert_eq!(
        names("", "Event"),
        ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"]
    );
    let event = json!({
        "metadata": meta("web-1.17f3a", "2026-01-02T14:50:00Z"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff", "type": "Warning",
        "message": "Back-off restarting failed container app in pod web-1\n",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": "2026-01-02T14:50:00Z", "lastTimestamp": "2026-01-02T14:59:00Z", "count": 7
    });
    assert_eq!(
        row_cells("", "Event", &event, now()),
        [
            json!("60s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/web-1"),
            json!("spec.containers{app}"),
            json!("kubelet, node-a"),
            json!("Back-off restarting failed container app in pod web-1"),
            json!("10m"),
            json!(7),
            json!("web-1.17f3a")
        ]
    );
    let new_api = json!({
        "metadata": meta("web.1", "2026-01-02T14:59:30Z"),
        "regarding": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet", "type": "Normal", "note": "Scaled up replica set web-5d to 3",
        "eventTime": "2026-01-02T14:59:30.123456Z", "reportingController": "deployment-controller"
    });
    assert_eq!(
        row_cells("events.k8s.io", "Event", &new_api, now()),
        [
            json!("30s"),
            json!("Normal"),
            json!("ScalingReplicaSet"),
            json!("deployment/web"),
            json!(""),
            json!("deployment-controller"),
            json!("Scaled up replica set web-5d to 3"),
            json!("30s"),
            json!(1),
            json!("web.1")
        ]
    );
}

#[test]
fn workload_rows() {
    let job = json!({
        "metadata": meta("backup", "2026-01-02T14:00:00Z"),
        "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}},
        "status": {"succeeded": 1, "startTime": "2026-01-02T14:00:00Z", "completionTime": "2026-01-02T14:00:42Z",
                   "conditions": [{"type": "Complete", "status": "True"}]}
    });
    assert_eq!(narrow("batch", "Job", &job), ["backup", "Complete", "1/1", "42s", "60m"]);
    let running = json!({"metadata": meta("etl", "2026-01-02T14:50:00Z"), "spec": {"parallelism": 3},
        "status": {"startTime": "2026-01-02T14:50:00Z"}});
    assert_eq!(narrow("batch", "Job", &running), ["etl", "Running", "0/1 of 3", "10m", "10m"]);

    let cron = json!({
        "metadata": meta("nightly", "2025-12-26T15:00:00Z"),
        "spec": {"schedule": "0 2 * * *", "suspend": false},
        "status": {"lastScheduleTime": "2026-01-02T02:00:00Z", "active": [{"name": "nightly-1"}]}
    });
    assert_eq!(
        narrow("batch", "CronJob", &cron),
        [json!("nightly"), json!("0 2 * * *"), json!("<none>"), json!("False"), json!(1), json!("13h"), json!("7d")]
    );

    let ds = json!({
        "metadata": meta("fluent", "2026-01-02T12:00:00Z"),
        "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                   "updatedNumberScheduled": 3, "numberAvailable": 2}
    });
    assert_eq!(
        narrow("apps", "DaemonSet", &ds),
        [
            json!("fluent"),
            json!(3),
            json!(3),
            json!(2),
            json!(3),
            json!(2),
            json!("kubernetes.io/os=linux"),
            json!("3h")
        ]
    );

    let sts = json!({"metadata": meta("db", "2026-01-02T14:00:00Z"), "spec": {"replicas": 3},
        "status": {"readyReplicas": 3}});
    assert_eq!(narrow("apps", "StatefulSet", &sts), ["db", "3/3", "60m"]);

    let rev = json!({"metadata": {"name": "db-7c9", "creationTimestamp": "2026-01-02T14:00:00Z",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": true}]},
        "revision": 2});
    assert_eq!(
        narrow("apps", "ControllerRevision", &rev),
        [json!("db-7c9"), json!("statefulset.apps/db"), json!(2), json!("60m")]
    );
}

#[test]
fn storage_and_policy_rows() {
    let pvc = json!({
        "metadata": meta("data-db-0", "2026-01-02T14:00:00Z"),
        "spec": {"volumeName": "pvc-123", "storageClassName": "standard", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}
    });
    assert_eq!(
        row_cells("", "PersistentVolumeClaim", &pvc, now()),
        ["data-db-0", "Bound", "pvc-123", "1Gi", "RWO,RWX", "standard", "<unset>", "60m", "Filesystem"]
    );
    let hpa = json!({
        "metadata": meta("web", "2026-01-02T14:00:00Z"),
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
        "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]}
    });
    assert_eq!(
        narrow("autoscaling", "HorizontalPodAutoscaler", &hpa),
        [json!("web"), json!("Deployment/web"), json!("cpu: 40%/80%"), json!("1"), json!(5), json!(2), json!("60m")]
    );
    let mut unknown = hpa.clone();
    unknown["status"] = json!({});
    assert_eq!(row_cells("autoscaling", "HorizontalPodAutoscaler", &unknown, now())[2], "cpu: <unknown>/80%");

    let quota = json!({
        "metadata": meta("compute", "2026-01-02T14:00:00Z"),
        "spec": {"hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"}},
        "status": {"hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"},
                   "used": {"pods": "3", "requests.cpu": "500m"}}
    });
    assert_eq!(names("", "ResourceQuota"), ["Name", "Age", "Request", "Limit"]);
    assert_eq!(
        row_cells("", "ResourceQuota", &quota, now()),
        ["compute", "60m", "pods: 3/10, requests.cpu: 500m/4", "limits.memory: 0/8Gi"]
    );

    let pdb = json!({"metadata": meta("web", "2026-01-02T14:00:00Z"), "spec": {"minAvailable": 2},
        "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        narrow("policy", "PodDisruptionBudget", &pdb),
        [json!("web"), json!("2"), json!("N/A"), json!(1), json!("60m")]
    );

    let binding = json!({"metadata": meta("read-pods", "2026-01-02T14:00:00Z"),
        "roleRef": {"kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}]});
    assert_eq!(
        row_cells("rbac.authorization.k8s.io", "RoleBinding", &binding, now()),
        ["read-pods", "Role/pod-reader", "60m", "jane", "", "tools:ci"]
    );

    let sc = json!({"metadata": {"name": "standard", "creationTimestamp": "2026-01-02T14:00:00Z",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        row_cells("storage.k8s.io", "StorageClass", &sc, now()),
        [
            json!("standard (default)"),
            json!("rancher.io/local-path"),
            json!("Delete"),
            json!("WaitForFirstConsumer"),
            json!(false),
            json!("60m")
        ]
    );
}

#[test]
fn network_rows() {
    let endpoints = json!({"metadata": meta("web", "2026-01-02T14:00:00Z"), "subsets": [{
        "addresses": [{"ip": "10.244.0.5"}, {"ip": "10.244.0.6"}, {"ip": "10.244.1.7"}, {"ip": "10.244.2.8"}],
        "ports": [{"port": 80}]
    }]});
    assert_eq!(
        row_cells("", "Endpoints", &endpoints, now()),
        ["web", "10.244.0.5:80,10.244.0.6:80,10.244.1.7:80 + 1 more...", "60m"]
    );
    assert_eq!(row_cells("", "Endpoints", &json!({"metadata": meta("x", "2026-01-02T14:00:00Z")}), now())[1], "<none>");

    let slice = json!({"metadata": meta("web-abc", "2026-01-02T14:00:00Z"), "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}], "endpoints": [{"addresses": ["10.244.0.5"]}, {"addresses": ["10.244.0.6"]}]});
    assert_eq!(
        row_cells("discovery.k8s.io", "EndpointSlice", &slice, now()),
        ["web-abc", "IPv4", "80", "10.244.0.5,10.244.0.6", "60m"]
    );

    let ingress = json!({"metadata": meta("web", "2026-01-02T14:00:00Z"),
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
                 "tls": [{"hosts": ["a.example.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.10"}]}}});
    assert_eq!(
        row_cells("networking.k8s.io", "Ingress", &ingress, now()),
        ["web", "nginx", "a.example.com,b.example.com", "172.18.0.10", "80, 443", "60m"]
    );

    let policy = json!({"metadata": meta("deny", "2026-01-02T14:00:00Z"), "spec": {"podSelector": {}}});
    assert_eq!(row_cells("networking.k8s.io", "NetworkPolicy", &policy, now()), ["deny", "<none>", "60m"]);
}

#[test]
fn config_and_secret_rows() {
    let cm = json!({"metadata": meta("cfg", "2026-01-02T14:00:00Z"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(row_cells("", "ConfigMap", &cm, now()), [json!("cfg"), json!(3), json!("60m")]);
    let secret = json!({"metadata": meta("tls", "2026-01-02T14:00:00Z"), "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        row_cells("", "Secret", &secret, now()),
        [json!("tls"), json!("kubernetes.io/tls"), json!(2), json!("60m")]
    );
    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": "2025-12-02T15:00:00Z"}, "status": {"phase": "Active"}});
    assert_eq!(row_cells("", "Namespace", &ns, now()), ["kube-system", "Active", "31d"]);
}

#[test]
fn default_table() {
    let obj = json!({"metadata": {"name": "thing", "creationTimestamp": "2026-01-02T14:00:00.000Z"}});
    let cols = columns("example.com", "Widget");
    assert_eq!(cols.len(), 2);
    assert_eq!((cols[0].name.as_str(), cols[0].format.as_str()), ("Name", "name"));
    assert_eq!((cols[1].name.as_str(), cols[1].type_.as_str()), ("Created At", "date"));
    assert_eq!(row_cells("example.com", "Widget", &obj, now()), ["thing", "2026-01-02T14:00:00Z"]);
    assert_eq!(row_cells("rbac.authorization.k8s.io", "ClusterRole", &obj, now()), ["thing", "2026-01-02T14:00:00Z"]);
    assert_eq!(row_cells("", "LimitRange", &json!({"metadata": {"name": "x"}}), now()), ["x", "0001-01-01T00:00:00Z"]);
}

#[test]
fn crd_printer_columns() {
    let printer_columns = vec![
        json!({"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}),
        json!({"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status",
               "description": "Whether the database is ready"}),
        json!({"name": "Version", "type": "string", "jsonPath": ".spec.version", "priority": 1}),
        json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}),
    ];
    let cols = custom_columns(&printer_columns);
    assert_eq!(
        cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Name", "Replicas", "Ready", "Version", "Age"]
    );
    assert_eq!(cols[1].description, "Custom resource definition column (in JSONPath format): .spec.replicas");
    assert_eq!(cols[2].description, "Whether the database is ready");
    assert_eq!(cols[3].priority, 1);
    assert_eq!(cols[4].type_, "date");

    let db = json!({
        "metadata": meta("orders", "2026-01-02T12:00:00Z"),
        "spec": {"replicas": 3},
        "status": {"conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}]}
    });
    assert_eq!(
        custom_row_cells(&printer_columns, &db, now()),
        [json!("orders"), json!(3), json!("False"), json!(""), json!("3h")]
    );

    // Without printer columns the API server shows Name and Age.
    let cols = custom_columns(&[]);
    assert_eq!(cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Name", "Age"]);
    assert_eq!(custom_row_cells(&[], &db, now()), ["orders", "3h"]);

    // Mistyped values are left empty, unparseable dates are <invalid>.
    let odd = vec![
        json!({"name": "N", "type": "integer", "jsonPath": ".spec.name"}),
        json!({"name": "When", "type": "date", "jsonPath": ".spec.when"}),
        json!({"name": "Flag", "type": "boolean", "jsonPath": ".spec.flag"}),
        json!({"name": "Obj", "type": "string", "jsonPath": ".spec.obj"}),
    ];
    let obj =
        json!({"metadata": {"name": "o"}, "spec": {"name": "x", "when": "yesterday", "flag": true, "obj": {"a": 1}}});
    assert_eq!(
        custom_row_cells(&odd, &obj, now()),
        [json!("o"), json!(""), json!("<invalid>"), json!(true), json!(r#"{"a":1}"#)]
    );
}
