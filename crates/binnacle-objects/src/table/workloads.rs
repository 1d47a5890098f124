//! Workload tables: apps (Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision), batch
//! (Job, CronJob) and the core ReplicationController.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, CONTAINERS, IMAGES, NAME, SELECTOR, age_cell, arr_at, cell, col, condition_true, containers_and_images,
    format_label_selector, format_labels, group_kind_name, int_at, int_cell, name, opt_int, opt_str, present, since,
    str_at,
};
use crate::time::{human_duration, parse_timestamp, seconds_between};

/// Pointer to the containers of a workload's pod template.
const TEMPLATE_CONTAINERS: &str = "/spec/template/spec/containers";

/// `spec.replicas`, defaulted to 1 as the API server does.
fn desired_replicas(obj: &Value) -> i64 {
    opt_int(obj, "/spec/replicas").unwrap_or(1)
}

/// The Deployment printer.
pub(crate) static DEPLOYMENT: Printer = Printer {
    columns: &[
        NAME,
        col("Ready", "string", "Ready pods out of desired replicas."),
        col("Up-to-date", "string", "Pods updated to the latest pod template."),
        col("Available", "string", "Pods ready for at least minReadySeconds."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: deployment_row,
};

/// Cells of one Deployment.
fn deployment_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers_and_images(obj, TEMPLATE_CONTAINERS);
    vec![
        cell(name(obj)),
        cell(format!("{}/{}", int_at(obj, "/status/readyReplicas"), desired_replicas(obj))),
        int_cell(int_at(obj, "/status/updatedReplicas")),
        int_cell(int_at(obj, "/status/availableReplicas")),
        age_cell(obj, now),
        containers,
        images,
        cell(format_label_selector(crate::pointer::get(obj, "/spec/selector"))),
    ]
}

/// The ReplicaSet printer.
pub(crate) static REPLICA_SET: Printer = Printer {
    columns: &[
        NAME,
        col("Desired", "integer", "Number of desired replicas."),
        col("Current", "integer", "Number of pods currently created."),
        col("Ready", "integer", "Number of ready pods."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: replica_set_row,
};

/// Cells of one ReplicaSet.
fn replica_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers_and_images(obj, TEMPLATE_CONTAINERS);
    vec![
        cell(name(obj)),
        int_cell(desired_replicas(obj)),
        int_cell(int_at(obj, "/status/replicas")),
        int_cell(int_at(obj, "/status/readyReplicas")),
        age_cell(obj, now),
        containers,
        images,
        cell(format_label_selector(crate::pointer::get(obj, "/spec/selector"))),
    ]
}

/// The ReplicationController printer (its selector is a plain label map).
pub(crate) static REPLICATION_CONTROLLER: Printer =
    Printer { columns: REPLICA_SET.columns, row: replication_controller_row };

/// Cells of one ReplicationController.
fn replication_controller_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut cells = replica_set_row(obj, now);
    if let Some(selector) = cells.last_mut() {
        *selector = cell(format_labels(crate::pointer::get(obj, "/spec/selector")));
    }
    cells
}

/// The StatefulSet printer.
pub(crate) static STATEFUL_SET: Printer = Printer {
    columns: &[NAME, col("Ready", "string", "Ready pods out of desired replicas."), AGE, CONTAINERS, IMAGES],
    row: stateful_set_row,
};

/// Cells of one StatefulSet.
fn stateful_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers_and_images(obj, TEMPLATE_CONTAINERS);
    vec![
        cell(name(obj)),
        cell(format!("{}/{}", int_at(obj, "/status/readyReplicas"), desired_replicas(obj))),
        age_cell(obj, now),
        containers,
        images,
    ]
}

/// The DaemonSet printer.
pub(crate) static DAEMON_SET: Printer = Printer {
    columns: &[
        NAME,
        col("Desired", "integer", "Nodes that should run the daemon pod."),
        col("Current", "integer", "Nodes running at least one daemon pod."),
        col("Ready", "integer", "Nodes whose daemon pod is ready."),
        col("Up-to-date", "integer", "Nodes running the updated daemon pod."),
        col("Available", "integer", "Nodes whose daemon pod is available."),
        col("Node Selector", "string", "Node labels the daemon pods are restricted to."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: daemon_set_row,
};

/// Cells of one DaemonSet.
fn daemon_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers_and_images(obj, TEMPLATE_CONTAINERS);
    vec![
        cell(name(obj)),
        int_cell(int_at(obj, "/status/desiredNumberScheduled")),
        int_cell(int_at(obj, "/status/currentNumberScheduled")),
        int_cell(int_at(obj, "/status/numberReady")),
        int_cell(int_at(obj, "/status/updatedNumberScheduled")),
        int_cell(int_at(obj, "/status/numberAvailable")),
        cell(format_labels(crate::pointer::get(obj, "/spec/template/spec/nodeSelector"))),
        age_cell(obj, now),
        containers,
        images,
        cell(format_label_selector(crate::pointer::get(obj, "/spec/selector"))),
    ]
}

/// The ControllerRevision printer.
pub(crate) static CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        NAME,
        col("Controller", "string", "The controller that owns this revision."),
        col("Revision", "integer", "Revision number of the state data."),
        AGE,
    ],
    row: controller_revision_row,
};

/// Cells of one ControllerRevision.
fn controller_revision_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let controller = arr_at(obj, "/metadata/ownerReferences")
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map_or_else(
            || "<none>".to_string(),
            |r| group_kind_name(str_at(r, "/apiVersion"), str_at(r, "/kind"), str_at(r, "/name")),
        );
    vec![cell(name(obj)), cell(controller), int_cell(int_at(obj, "/revision")), age_cell(obj, now)]
}

/// The Job printer.
pub(crate) static JOB: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "Status of the job: Complete, Failed, Running, Suspended, ..."),
        col("Completions", "string", "Successful pods out of the desired completions."),
        col("Duration", "string", "Time the job took to complete, or has been running."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: job_row,
};

/// The STATUS of a Job, by precedence of its True conditions.
fn job_status(obj: &Value) -> &'static str {
    let conditions = arr_at(obj, "/status/conditions");
    if condition_true(conditions, "Complete") {
        "Complete"
    } else if condition_true(conditions, "Failed") {
        "Failed"
    } else if present(obj, "/metadata/deletionTimestamp") {
        "Terminating"
    } else if condition_true(conditions, "Suspended") {
        "Suspended"
    } else if condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else if condition_true(conditions, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

/// Cells of one Job.
fn job_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = int_at(obj, "/status/succeeded");
    let completions = match opt_int(obj, "/spec/completions") {
        Some(c) => format!("{succeeded}/{c}"),
        None => match opt_int(obj, "/spec/parallelism").unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match parse_timestamp(crate::pointer::get(obj, "/status/startTime")) {
        None => String::new(),
        Some(start) => {
            let end = parse_timestamp(crate::pointer::get(obj, "/status/completionTime")).unwrap_or(now);
            human_duration(seconds_between(start, end))
        }
    };
    let (containers, images) = containers_and_images(obj, TEMPLATE_CONTAINERS);
    vec![
        cell(name(obj)),
        cell(job_status(obj)),
        cell(completions),
        cell(duration),
        age_cell(obj, now),
        containers,
        images,
        cell(format_label_selector(crate::pointer::get(obj, "/spec/selector"))),
    ]
}

/// The CronJob printer.
pub(crate) static CRON_JOB: Printer = Printer {
    columns: &[
        NAME,
        col("Schedule", "string", "The schedule in cron format."),
        col("Timezone", "string", "The time zone the schedule is interpreted in."),
        col("Suspend", "boolean", "Whether new runs are suspended."),
        col("Active", "integer", "Number of currently running jobs."),
        col("Last Schedule", "string", "Time since the job was last scheduled."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: cron_job_row,
};

/// Cells of one CronJob.
fn cron_job_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let suspend = crate::pointer::get(obj, "/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
    let last_schedule = if present(obj, "/status/lastScheduleTime") {
        since(obj, "/status/lastScheduleTime", now)
    } else {
        "<none>".to_string()
    };
    let (containers, images) = containers_and_images(obj, "/spec/jobTemplate/spec/template/spec/containers");
    vec![
        cell(name(obj)),
        cell(str_at(obj, "/spec/schedule")),
        cell(opt_str(obj, "/spec/timeZone").unwrap_or("<none>")),
        cell(if suspend { "True" } else { "False" }),
        int_cell(arr_at(obj, "/status/active").len() as i64),
        cell(last_schedule),
        age_cell(obj, now),
        containers,
        images,
        cell(format_label_selector(crate::pointer::get(obj, "/spec/jobTemplate/spec/selector"))),
    ]
}
