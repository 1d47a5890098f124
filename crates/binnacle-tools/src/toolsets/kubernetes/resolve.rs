//! Kind and resource resolution through API discovery, cached per cluster context.
//!
//! Any resource the cluster serves can be named the way people name it: the plural (`deployments`), the
//! singular (`deployment`), a short name (`deploy`), the Kind (`Deployment`), optionally qualified with
//! its group (`deployments.apps`, `rollouts.argoproj.io`) or group and version (`deployments.v1.apps`), or
//! with an explicit `apiVersion`. Discovery uses the aggregated endpoints (two requests) and falls back to
//! the per-group documents of older servers. A name that is not found refreshes the cache once, so CRDs
//! created a moment ago resolve.

use crate::context::ToolContext;
use crate::error::ToolError;
use kube::Client;
use kube::core::ApiResource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a discovery snapshot is trusted before it is fetched again.
const TTL: Duration = Duration::from_secs(300);

/// One served resource (a group, version and plural).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group (`""` for the core group).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Plural resource name (`deployments`).
    pub plural: String,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Verbs the resource supports.
    pub verbs: Vec<String>,
    /// Subresources (`status`, `scale`, `log`, ...).
    pub subresources: Vec<String>,
    /// Whether this is the group's preferred version.
    pub preferred: bool,
}

impl ResourceInfo {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// kube-rs's description of the resource, for dynamic APIs.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// `deployments.apps`, or `pods` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// Whether the resource supports a verb.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether the resource has a subresource.
    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// Whether this is a built-in kind (printed with the built-in table columns).
    pub fn is_builtin(&self) -> bool {
        !self.group.contains('.') || self.group.ends_with(".k8s.io")
    }

    /// Whether `name` (lower case) names this resource exactly (plural, singular or Kind).
    fn named(&self, name: &str) -> bool {
        self.plural == name || self.singular == name || self.kind.eq_ignore_ascii_case(name)
    }
}

/// Every resource one cluster serves, in discovery order (core first).
#[derive(Debug)]
pub struct Snapshot {
    /// The resources.
    pub resources: Vec<ResourceInfo>,
    fetched: Instant,
}

impl Snapshot {
    /// Resolves a name with optional group and version.
    fn find(&self, name: &str, group: Option<&str>, version: Option<&str>) -> Option<&ResourceInfo> {
        let name = name.to_ascii_lowercase();
        let group = group.map(|g| if g == "core" { "" } else { g });
        let candidates = || {
            self.resources
                .iter()
                .filter(move |r| group.is_none_or(|g| r.group == g) && version.map_or(r.preferred, |v| r.version == v))
        };
        candidates().find(|r| r.named(&name)).or_else(|| candidates().find(|r| r.short_names.contains(&name)))
    }

    /// Resolves `name` as typed: plain, `plural.group` or `plural.version.group`.
    fn resolve(&self, name: &str, group: Option<&str>, version: Option<&str>) -> Option<&ResourceInfo> {
        if let Some(found) = self.find(name, group, version) {
            return Some(found);
        }
        if group.is_some() {
            return None;
        }
        let (resource, rest) = name.split_once('.')?;
        if let Some((v, g)) = rest.split_once('.')
            && v.starts_with('v')
            && v[1..].starts_with(|c: char| c.is_ascii_digit())
            && let Some(found) = self.find(resource, Some(g), Some(v))
        {
            return Some(found);
        }
        self.find(resource, Some(rest), version)
    }

    /// The resource serving a Kind in an apiVersion (`apps/v1`, `v1`).
    pub fn by_gvk(&self, api_version: &str, kind: &str) -> Option<&ResourceInfo> {
        let (group, version) = split_api_version(api_version);
        self.resources.iter().find(|r| r.group == group && r.version == version && r.kind == kind)
    }

    /// Up to five names close to an unknown one, for the error message.
    fn suggestions(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        let stem = name.split('.').next().unwrap_or(&name).trim_end_matches('s');
        let mut out: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.preferred && !stem.is_empty())
            .filter(|r| {
                r.plural.contains(stem)
                    || stem.contains(r.singular.as_str())
                    || r.kind.to_ascii_lowercase().contains(stem)
            })
            .map(ResourceInfo::qualified)
            .collect();
        out.dedup();
        out.truncate(5);
        out
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// Discovery snapshots per cluster context, shared by every Kubernetes tool of a catalog.
#[derive(Debug, Default)]
pub struct Discovery {
    snapshots: Mutex<HashMap<(usize, String), Arc<Snapshot>>>,
}

fn key(ctx: &ToolContext) -> (usize, String) {
    (Arc::as_ptr(ctx.clusters()) as usize, ctx.context_name().unwrap_or_default().to_string())
}

impl Discovery {
    /// The snapshot for the call's context, fetched when missing, stale or `refresh` is set.
    pub async fn snapshot(
        &self,
        ctx: &ToolContext,
        client: &Client,
        refresh: bool,
    ) -> Result<Arc<Snapshot>, ToolError> {
        let key = key(ctx);
        if !refresh {
            let cached = self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
            if let Some(s) = cached.filter(|s| s.fetched.elapsed() < TTL) {
                return Ok(s);
            }
        }
        let resources = fetch(client).await?;
        let snapshot = Arc::new(Snapshot { resources, fetched: Instant::now() });
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).insert(key, snapshot.clone());
        Ok(snapshot)
    }

    /// Resolves what the user typed to one resource; refreshes discovery once on a miss.
    pub async fn resolve(
        &self,
        ctx: &ToolContext,
        client: &Client,
        name: &str,
        api_version: Option<&str>,
    ) -> Result<ResourceInfo, ToolError> {
        let (group, version) = match api_version {
            Some(av) => {
                let (g, v) = split_api_version(av);
                (Some(g), Some(v))
            }
            None => (None, None),
        };
        let snapshot = self.snapshot(ctx, client, false).await?;
        if let Some(found) = snapshot.resolve(name, group, version) {
            return Ok(found.clone());
        }
        let snapshot = self.snapshot(ctx, client, true).await?;
        if let Some(found) = snapshot.resolve(name, group, version) {
            return Ok(found.clone());
        }
        let suggestions = snapshot.suggestions(name);
        let hint =
            if suggestions.is_empty() { String::new() } else { format!(" Did you mean: {}?", suggestions.join(", ")) };
        let within = api_version.map(|av| format!(" in {av}")).unwrap_or_default();
        Err(ToolError::invalid(format!(
            "unknown resource kind {name:?}{within}: the cluster does not serve it.{hint} Call api_resources_list to see what it serves."
        )))
    }

    /// The resource for an object's `apiVersion` and `kind`; `None` when the cluster does not serve it.
    pub async fn by_gvk(
        &self,
        ctx: &ToolContext,
        client: &Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ResourceInfo>, ToolError> {
        let snapshot = self.snapshot(ctx, client, false).await?;
        if let Some(found) = snapshot.by_gvk(api_version, kind) {
            return Ok(Some(found.clone()));
        }
        let snapshot = self.snapshot(ctx, client, true).await?;
        Ok(snapshot.by_gvk(api_version, kind).cloned())
    }

    /// Forgets the call's context (after CRDs change).
    pub fn invalidate(&self, ctx: &ToolContext) {
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(&key(ctx));
    }
}

/// Fetches every served resource: aggregated discovery, else the per-group documents.
async fn fetch(client: &Client) -> Result<Vec<ResourceInfo>, ToolError> {
    match fetch_aggregated(client).await {
        Ok(Some(resources)) => Ok(resources),
        Ok(None) => fetch_legacy(client).await,
        Err(e @ kube::Error::Api(_)) => {
            tracing::debug!(error = %e, "aggregated discovery failed; using per-group discovery");
            fetch_legacy(client).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn fetch_aggregated(client: &Client) -> Result<Option<Vec<ResourceInfo>>, kube::Error> {
    let core = client.list_core_api_versions_aggregated().await?;
    if core.items.is_empty() {
        return Ok(None);
    }
    let groups = client.list_api_groups_aggregated().await?;
    let mut out = Vec::new();
    for group in core.items.iter().chain(groups.items.iter()) {
        let group_name = group.metadata.as_ref().and_then(|m| m.name.clone()).unwrap_or_default();
        for (i, version) in group.versions.iter().enumerate() {
            let Some(v) = version.version.clone() else { continue };
            for r in &version.resources {
                let Some(plural) = r.resource.clone() else { continue };
                let kind = r.response_kind.as_ref().and_then(|k| k.kind.clone()).unwrap_or_default();
                out.push(ResourceInfo {
                    group: group_name.clone(),
                    version: v.clone(),
                    singular: r
                        .singular_resource
                        .clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| kind.to_ascii_lowercase()),
                    kind,
                    plural,
                    short_names: r.short_names.clone(),
                    namespaced: r.scope.as_deref() == Some("Namespaced"),
                    verbs: r.verbs.clone(),
                    subresources: r.subresources.iter().filter_map(|s| s.subresource.clone()).collect(),
                    preferred: i == 0,
                });
            }
        }
    }
    Ok(Some(out))
}

async fn fetch_legacy(client: &Client) -> Result<Vec<ResourceInfo>, ToolError> {
    let mut lists = vec![(String::new(), "v1".to_string(), true, client.list_core_api_resources("v1").await?)];
    let groups = client.list_api_groups().await?;
    let mut wanted = Vec::new();
    for g in &groups.groups {
        let preferred = g
            .preferred_version
            .as_ref()
            .map(|p| p.version.clone())
            .or_else(|| g.versions.first().map(|v| v.version.clone()));
        for v in &g.versions {
            wanted.push((
                g.name.clone(),
                v.version.clone(),
                Some(&v.version) == preferred.as_ref(),
                v.group_version.clone(),
            ));
        }
    }
    let fetched =
        futures::future::join_all(wanted.iter().map(|(_, _, _, gv)| client.list_api_group_resources(gv))).await;
    for ((group, version, preferred, _), list) in wanted.into_iter().zip(fetched) {
        match list {
            Ok(list) => lists.push((group, version, preferred, list)),
            // One broken aggregated API must not hide every other group.
            Err(e) => tracing::debug!(%group, %version, error = %e, "discovery of a group failed"),
        }
    }
    let mut out = Vec::new();
    for (group, version, preferred, list) in lists {
        let subresources = |plural: &str| -> Vec<String> {
            list.resources
                .iter()
                .filter_map(|r| r.name.strip_prefix(plural).and_then(|s| s.strip_prefix('/')).map(str::to_string))
                .collect()
        };
        for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
            out.push(ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
                singular: if r.singular_name.is_empty() {
                    r.kind.to_ascii_lowercase()
                } else {
                    r.singular_name.clone()
                },
                short_names: r.short_names.clone().unwrap_or_default(),
                namespaced: r.namespaced,
                verbs: r.verbs.clone(),
                subresources: subresources(&r.name),
                preferred,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, version: &str, kind: &str, plural: &str, short: &[&str], preferred: bool) -> ResourceInfo {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            namespaced: true,
            verbs: vec![],
            subresources: vec![],
            preferred,
        }
    }

    #[test]
    fn names_resolve_like_kubectl() {
        let s = Snapshot {
            resources: vec![
                info("", "v1", "Event", "events", &["ev"], true),
                info("apps", "v1", "Deployment", "deployments", &["deploy"], true),
                info("events.k8s.io", "v1", "Event", "events", &["ev"], true),
                info("argoproj.io", "v1alpha1", "Rollout", "rollouts", &["ro"], true),
                info("example.com", "v2", "Widget", "widgets", &[], true),
                info("example.com", "v1", "Widget", "widgets", &[], false),
            ],
            fetched: Instant::now(),
        };
        let r = |n: &str| s.resolve(n, None, None).map(|r| format!("{}/{}", r.qualified(), r.version));
        assert_eq!(r("deploy").as_deref(), Some("deployments.apps/v1"));
        assert_eq!(r("Deployment").as_deref(), Some("deployments.apps/v1"));
        assert_eq!(r("deployments.apps").as_deref(), Some("deployments.apps/v1"));
        assert_eq!(r("deployments.v1.apps").as_deref(), Some("deployments.apps/v1"));
        assert_eq!(r("events").as_deref(), Some("events/v1"));
        assert_eq!(r("events.events.k8s.io").as_deref(), Some("events.events.k8s.io/v1"));
        assert_eq!(r("ro").as_deref(), Some("rollouts.argoproj.io/v1alpha1"));
        assert_eq!(r("widgets").as_deref(), Some("widgets.example.com/v2"));
        assert_eq!(r("widgets.v1.example.com").as_deref(), Some("widgets.example.com/v1"));
        assert_eq!(s.resolve("widget", Some("example.com"), Some("v1")).map(|r| r.version.as_str()), Some("v1"));
        assert!(r("nope").is_none());
        assert_eq!(s.suggestions("deploymen"), vec!["deployments.apps".to_string()]);
    }
}
