//! Pods that cannot pull their image.

use super::{Analyzer, container_spec, describe, group_events, group_pods, pod_group_finding};
use crate::finding::{Finding, Severity, sanitize};
use crate::snapshot::{Snapshot, statuses};
use binnacle_objects::pointer::get_str;

/// Reports containers waiting in `ImagePullBackOff`, `ErrImagePull` or `InvalidImageName`.
pub struct ImagePull;

impl Analyzer for ImagePull {
    fn name(&self) -> &'static str {
        "image-pull"
    }

    fn analyze(&self, snap: &Snapshot) -> Vec<Finding> {
        let groups = group_pods(snap, |pod| {
            statuses(pod).find_map(|cs| {
                let reason = get_str(cs, "/state/waiting/reason")?;
                matches!(reason, "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName").then(|| {
                    let container = get_str(cs, "/name").unwrap_or_default().to_string();
                    let image = container_spec(pod, &container)
                        .and_then(|c| get_str(c, "/image"))
                        .or_else(|| get_str(cs, "/image"))
                        .unwrap_or_default()
                        .to_string();
                    let msg = sanitize(get_str(cs, "/state/waiting/message").unwrap_or_default());
                    (container.clone(), image, vec![format!("container {container}: waiting {reason}: {msg}")])
                })
            })
        });
        groups
            .iter()
            .map(|(key, hits)| {
                let (ns, kind, name) = key;
                let events = group_events(snap, ns, kind, name, hits);
                let image = &hits[0].detail;
                let pull_msg = events
                    .iter()
                    .find(|e| {
                        e.reason == "Failed" && e.message.contains(image.as_str()) && !e.message.starts_with("Error:")
                    })
                    .or_else(|| events.iter().find(|e| e.reason == "Failed"))
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                let cause = if pull_msg.is_empty() {
                    format!("image {image} cannot be pulled")
                } else {
                    format!("image {image} cannot be pulled: {pull_msg}")
                };
                pod_group_finding(
                    self.name(),
                    Severity::Critical,
                    key,
                    hits,
                    &format!("cannot pull image {image} (ImagePullBackOff)"),
                    cause,
                    events,
                    Vec::new(),
                    describe(kind, ns, name),
                )
            })
            .collect()
    }
}
