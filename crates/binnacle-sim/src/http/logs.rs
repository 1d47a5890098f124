//! `pods/{name}/log`: container logs with `container`, `previous`, `tailLines`, `sinceSeconds`,
//! `sinceTime`, `timestamps`, `limitBytes` and `follow`.

use super::request::Query;
use crate::behavior::{self, LogError, LogLine};
use crate::cluster::Cluster;
use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use axum::response::Response;
use binnacle_objects::time::parse_timestamp;
use bytes::Bytes;
use http::{StatusCode, header};
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

fn pick_container(pod: &Value, requested: Option<&str>) -> ApiResult<String> {
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let containers: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    if let Some(c) = requested.filter(|c| !c.is_empty()) {
        return Ok(c.to_string());
    }
    if let Some(default) =
        pod.pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container").and_then(Value::as_str)
    {
        return Ok(default.to_string());
    }
    match containers.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            containers.join(" ")
        ))),
    }
}

fn format_line(line: &LogLine, timestamps: bool) -> String {
    if timestamps {
        format!("{} {}\n", line.0.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"), line.1)
    } else {
        format!("{}\n", line.1)
    }
}

fn to_api_error(e: LogError) -> ApiError {
    match e {
        LogError::Waiting(m) | LogError::NoPrevious(m) | LogError::NoContainer(m) => ApiError::bad_request(m),
    }
}

/// Serves a pod's log, streaming new lines with `follow=true` until the container stops or the client leaves.
pub async fn pod_logs(
    cluster: &Arc<Cluster>,
    namespace: &str,
    name: &str,
    query: &Query,
    shutdown: watch::Receiver<bool>,
) -> ApiResult<Response> {
    let pods = cluster.resource("", "v1", "pods")?;
    let pod = cluster.get(&pods, namespace, name)?;
    let container = pick_container(&pod, query.get("container"))?;
    let previous = query.flag("previous");
    let timestamps = query.flag("timestamps");
    let now = cluster.clock().now();
    let mut lines = behavior::container_logs(&pod, &container, previous, now).map_err(to_api_error)?;
    let since: Option<Timestamp> = match (query.int("sinceSeconds")?, query.get("sinceTime")) {
        (Some(s), _) if s > 0 => Some(now - jiff::SignedDuration::from_secs(s)),
        (Some(_), _) => return Err(ApiError::bad_request("sinceSeconds must be greater than 0")),
        (None, Some(t)) => Some(
            parse_timestamp(Some(&Value::String(t.to_string())))
                .ok_or_else(|| ApiError::bad_request(format!("invalid sinceTime {t:?}")))?,
        ),
        (None, None) => None,
    };
    if let Some(since) = since {
        lines.retain(|(t, _)| *t >= since);
    }
    if let Some(tail) = query.int("tailLines")?
        && tail >= 0
    {
        let skip = lines.len().saturating_sub(tail as usize);
        lines.drain(..skip);
    }
    let mut text: String = lines.iter().map(|l| format_line(l, timestamps)).collect();
    if let Some(limit) = query.int("limitBytes")?
        && limit > 0
        && text.len() > limit as usize
    {
        let mut cut = limit as usize;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let respond = |body: Body| {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(body)
            .map_err(|e| ApiError::internal(e.to_string()))
    };
    if !query.flag("follow") || previous {
        return respond(Body::from(text));
    }
    let last_seen = lines.last().map(|l| l.0).unwrap_or(now);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let cluster = cluster.clone();
    let (ns, pod_name) = (namespace.to_string(), name.to_string());
    let mut shutdown = shutdown;
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let mut last_seen = last_seen;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
            let Ok(pod) = cluster.get(&pods, &ns, &pod_name) else { return };
            let now = cluster.clock().now();
            let Ok(lines) = behavior::container_logs(&pod, &container, false, now) else { return };
            let since = last_seen;
            for line in lines.iter().filter(|l| l.0 > since) {
                if tx.send(Bytes::from(format_line(line, timestamps))).await.is_err() {
                    return;
                }
                last_seen = line.0;
            }
            let running = pod
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .and_then(|s| s.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str())))
                .and_then(|c| c.pointer("/state/running"))
                .is_some();
            if !running {
                return;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    respond(Body::from_stream(futures::StreamExt::map(stream, Ok::<_, std::convert::Infallible>)))
}
