//! `resources_apply`: server-side apply of a multi-document YAML or JSON manifest (field manager
//! `binnacle`), with `force` and `dryRun`, reporting each document as created, configured or unchanged.
//! Kinds the cluster does not serve are refused before anything is applied (a CRD applied earlier in
//! the same manifest counts). Also the manifest handling `resource_diff` shares.

use super::common::{self, FIELD_MANAGER, Kube, Raw, Shared, check_ns, compact_schema, display, s};
use super::preview::{self, DRY_RUN};
use super::resolve::{ResourceInfo, split_api_version};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use kube::Client;
use kube::api::{Patch, PatchParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
/// Most documents in one manifest.
pub const MAX_DOCUMENTS: usize = 100;

/// Parses a multi-document YAML (or JSON) manifest into objects (`List`s expanded) and checks each:
/// apiVersion, kind, name and namespace.
pub fn parse_manifest(manifest: &str) -> Result<Vec<Value>, ToolError> {
    if manifest.len() > MAX_MANIFEST_BYTES {
        return Err(ToolError::invalid(format!("manifest is larger than {MAX_MANIFEST_BYTES} bytes")));
    }
    let mut docs = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(manifest).enumerate() {
        let n = i + 1;
        let value = Value::deserialize(doc)
            .map_err(|e| ToolError::invalid(format!("document {n} is not valid YAML or JSON: {e}")))?;
        match value {
            Value::Null => continue,
            Value::Object(ref m)
                if m.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
                    && m.get("items").is_some_and(Value::is_array) =>
            {
                for item in m.get("items").and_then(Value::as_array).cloned().unwrap_or_default() {
                    docs.push((n, item));
                }
            }
            Value::Object(_) => docs.push((n, value)),
            _ => return Err(ToolError::invalid(format!("document {n} is not an object"))),
        }
    }
    if docs.is_empty() {
        return Err(ToolError::invalid("the manifest has no objects"));
    }
    if docs.len() > MAX_DOCUMENTS {
        return Err(ToolError::invalid(format!(
            "the manifest has {} objects; at most {MAX_DOCUMENTS} per call",
            docs.len()
        )));
    }
    for (n, doc) in &docs {
        let bad = |what: String| ToolError::invalid(format!("document {n}: {what}"));
        let api_version = s(doc, "/apiVersion");
        if api_version.is_empty() {
            return Err(bad("apiVersion is missing".into()));
        }
        common::check_api_version(api_version).map_err(|e| bad(e.to_string()))?;
        let kind = s(doc, "/kind");
        if kind.is_empty()
            || !kind.starts_with(|c: char| c.is_ascii_uppercase())
            || !kind.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(bad(format!("kind {kind:?} is missing or not a Kind (e.g. Deployment)")));
        }
        let name = s(doc, "/metadata/name");
        if name.is_empty() {
            return Err(bad(
                "metadata.name is missing (server-side apply needs a name; generateName is not supported)".into(),
            ));
        }
        validate::object_name(name).map_err(|e| bad(e.to_string()))?;
        let ns = s(doc, "/metadata/namespace");
        if !ns.is_empty() {
            validate::namespace(ns).map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(docs.into_iter().map(|(_, d)| d).collect())
}

/// A manifest document with the resource that serves it.
pub struct Resolved {
    /// The object as given (namespace filled in).
    pub doc: Value,
    /// Its resource; `None` when a CRD earlier in the manifest defines it (resolved after that CRD).
    pub info: Option<ResourceInfo>,
    /// Its namespace (`None`: cluster-scoped or not yet known).
    pub namespace: Option<String>,
}

impl Resolved {
    /// `Deployment shop/web`.
    pub fn display(&self) -> String {
        display(s(&self.doc, "/kind"), self.namespace.as_deref(), s(&self.doc, "/metadata/name"))
    }
}

/// Whether an earlier CRD document in the manifest defines `apiVersion`/`kind`.
fn defined_by_crd(earlier: &[Value], api_version: &str, kind: &str) -> bool {
    let (group, version) = split_api_version(api_version);
    earlier.iter().any(|d| {
        s(d, "/kind") == "CustomResourceDefinition"
            && s(d, "/spec/group") == group
            && s(d, "/spec/names/kind") == kind
            && common::arr(d, "/spec/versions").iter().any(|v| s(v, "/name") == version)
    })
}

/// Resolves every document; unknown kinds are refused all together, before anything is changed.
pub async fn resolve_all(
    kube: &Kube,
    ctx: &ToolContext,
    client: &Client,
    docs: Vec<Value>,
    namespace: Option<&str>,
) -> Result<Vec<Resolved>, ToolError> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for (i, mut doc) in docs.into_iter().enumerate() {
        let (api_version, kind) = (s(&doc, "/apiVersion").to_string(), s(&doc, "/kind").to_string());
        let info = kube.discovery.by_gvk(ctx, client, &api_version, &kind).await?;
        if info.is_none() {
            let earlier: Vec<Value> = out.iter().map(|r: &Resolved| r.doc.clone()).collect();
            if !defined_by_crd(&earlier, &api_version, &kind) {
                unknown.push(format!("document {}: {kind} ({api_version})", i + 1));
            }
        }
        let doc_ns = s(&doc, "/metadata/namespace").to_string();
        let ns = match &info {
            Some(info) if info.namespaced => {
                if let (Some(given), false) = (namespace, doc_ns.is_empty())
                    && given != doc_ns
                {
                    return Err(ToolError::invalid(format!(
                        "document {}: its namespace {doc_ns} differs from the namespace argument {given}",
                        i + 1
                    )));
                }
                let ns = if doc_ns.is_empty() {
                    namespace.unwrap_or(client.default_namespace()).to_string()
                } else {
                    doc_ns
                };
                doc["metadata"]["namespace"] = json!(ns);
                Some(ns)
            }
            Some(_) => {
                if let Some(m) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("namespace");
                }
                None
            }
            None => None,
        };
        out.push(Resolved { doc, info, namespace: ns });
    }
    if !unknown.is_empty() {
        return Err(ToolError::invalid(format!(
            "the cluster does not serve these kinds, so nothing was applied: {}. Check apiVersion and kind (api_resources_list shows what is served) or install the CRD first",
            unknown.join("; ")
        )));
    }
    Ok(out)
}

/// Resolves a document whose CRD was applied earlier in the same call (waits briefly until served).
pub async fn resolve_late(
    kube: &Kube,
    ctx: &ToolContext,
    client: &Client,
    r: &mut Resolved,
    namespace: Option<&str>,
) -> Result<ResourceInfo, ToolError> {
    let (api_version, kind) = (s(&r.doc, "/apiVersion").to_string(), s(&r.doc, "/kind").to_string());
    for attempt in 0..20 {
        kube.discovery.invalidate(ctx);
        if let Some(info) = kube.discovery.by_gvk(ctx, client, &api_version, &kind).await? {
            if info.namespaced {
                let ns = match s(&r.doc, "/metadata/namespace") {
                    "" => namespace.unwrap_or(client.default_namespace()).to_string(),
                    n => n.to_string(),
                };
                r.doc["metadata"]["namespace"] = json!(ns);
                r.namespace = Some(ns);
            }
            r.info = Some(info.clone());
            return Ok(info);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100 * (attempt + 1))).await;
    }
    Err(ToolError::Unavailable(format!(
        "{kind} ({api_version}) is still not served after its CRD was applied; try again in a moment"
    )))
}

/// Prefixes an error with the document it is about, keeping its kind.
pub fn about(e: ToolError, what: &str) -> ToolError {
    match e {
        ToolError::InvalidArguments(m) => ToolError::InvalidArguments(format!("{what}: {m}")),
        ToolError::NotFound(m) => ToolError::NotFound(format!("{what}: {m}")),
        ToolError::Forbidden(m) => ToolError::Forbidden(format!("{what}: {m}")),
        ToolError::Conflict(m) => ToolError::Conflict(format!(
            "{what}: {m}{}",
            if m.contains("conflict") { "; pass force: true to take over the fields" } else { "" }
        )),
        ToolError::Unavailable(m) => ToolError::Unavailable(format!("{what}: {m}")),
        other => other,
    }
}

/// An object without the fields that change on every write (for "did anything change").
pub fn comparable(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"] {
            m.remove(k);
        }
    }
    o
}

/// The parts of `obj` that `shape` (a manifest document) sets: what an apply is about. Fields others
/// own (status, controller annotations, server defaults) are left out; lists of another length are kept
/// whole so that they compare unequal.
pub fn projected(obj: &Value, shape: &Value) -> Value {
    match (obj, shape) {
        (Value::Object(o), Value::Object(s)) => {
            Value::Object(s.keys().filter_map(|k| o.get(k).map(|v| (k.clone(), projected(v, &s[k])))).collect())
        }
        (Value::Array(o), Value::Array(s)) if o.len() == s.len() => {
            Value::Array(o.iter().zip(s).map(|(v, sh)| projected(v, sh)).collect())
        }
        _ => obj.clone(),
    }
}

// -------------------------------------------------------------------------------- resources_apply

/// Arguments of `resources_apply`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct ResourcesApplyInput {
    /// YAML/JSON, multi-document
    pub manifest: String,
    /// For documents without one.
    pub namespace: Option<String>,
    /// Take over others' fields
    #[serde(default)]
    pub force: bool,
    /// server-side dry run; returns a diff
    #[serde(default)]
    pub dry_run: bool,
}

/// One document's outcome.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplyResult {
    /// Kind namespace/name.
    pub object: String,
    /// created, configured or unchanged (with dryRun: would be; or not checked).
    pub result: String,
    /// With dryRun: unified diff of live vs. applied (YAML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// What `resources_apply` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesApplyOutput {
    /// Per document, in order.
    pub results: Vec<ApplyResult>,
    /// Nothing was changed.
    pub dry_run: bool,
}

/// `resources_apply`.
pub struct ResourcesApply(pub Shared);

impl Tool for ResourcesApply {
    type Input = ResourcesApplyInput;
    type Output = ResourcesApplyOutput;
    const NAME: &'static str = "resources_apply";
    const TITLE: &'static str = "Apply manifest";
    const DESCRIPTION: &'static str = "Server-side apply a YAML/JSON manifest (multi-document).";
    const TOOLSET: Toolset = Toolset::Kubernetes;
    const TAGS: &'static [&'static str] = &["resources", "write"];
    const ANNOTATIONS: Annotations = Annotations::WRITE_IDEMPOTENT;

    fn validate(input: &ResourcesApplyInput) -> Result<(), ToolError> {
        check_ns(input.namespace.as_ref())?;
        parse_manifest(&input.manifest).map(|_| ())
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        input: ResourcesApplyInput,
    ) -> Result<Reply<ResourcesApplyOutput>, ToolError> {
        let client = ctx.kube().await?;
        let docs = parse_manifest(&input.manifest)?;
        let mut resolved = resolve_all(&self.0, ctx, &client, docs, input.namespace.as_deref()).await?;
        let pp = PatchParams {
            dry_run: input.dry_run,
            force: input.force,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let mut results = Vec::new();
        let total = resolved.len();
        for (i, r) in resolved.iter_mut().enumerate() {
            let info = match r.info.clone() {
                Some(info) => info,
                // A dry run creates no CRD, so the kinds a CRD of the manifest defines are not served.
                None if input.dry_run => {
                    results.push(ApplyResult {
                        object: r.display(),
                        result: "not checked".into(),
                        diff: Some("(its CustomResourceDefinition is created by an earlier document; apply that first to preview this one)".into()),
                    });
                    continue;
                }
                None => resolve_late(&self.0, ctx, &client, r, input.namespace.as_deref()).await?,
            };
            let what = format!("document {} ({}){}", i + 1, r.display(), done_before(&results));
            let name = s(&r.doc, "/metadata/name").to_string();
            let raw = Raw::new(&client, &info, r.namespace.as_deref());
            let live = raw.get_opt(&name).await.map_err(|e| about(e, &what))?;
            let applied = raw.patch(&name, &pp, &Patch::Apply(r.doc.clone())).await.map_err(|e| about(e, &what))?;
            let (result, diff) = if input.dry_run {
                // A dry run keeps the resourceVersion: whether it changes anything is in the diff.
                let live = match live {
                    Some(l) => {
                        let (raw, name, what) = (&raw, name.as_str(), what.as_str());
                        let read = move || async move {
                            raw.get_opt(name).await?.ok_or_else(|| ToolError::NotFound(format!("{what} was deleted")))
                        };
                        Some(preview::matching_before(l, &applied, read).await.map_err(|e| about(e, what))?)
                    }
                    None => None,
                };
                let diff = preview::object_diff(live.as_ref(), Some(&applied));
                let result = match (&live, diff.is_empty()) {
                    (None, _) => "created",
                    (Some(_), true) => "unchanged",
                    (Some(_), false) => "configured",
                };
                (result, Some(diff))
            } else {
                // Unchanged: same resourceVersion, or the same values in every field the document sets
                // (controllers may have written other fields between the read and the apply).
                let result = match &live {
                    None => "created",
                    Some(l) if s(l, "/metadata/resourceVersion") == s(&applied, "/metadata/resourceVersion") => {
                        "unchanged"
                    }
                    Some(l) if projected(l, &r.doc) == projected(&applied, &r.doc) => "unchanged",
                    Some(_) => "configured",
                };
                (result, None)
            };
            if info.kind == "CustomResourceDefinition" && !input.dry_run {
                self.0.discovery.invalidate(ctx);
            }
            results.push(ApplyResult { object: r.display(), result: result.into(), diff });
            ctx.progress((i + 1) as f64, Some(total as f64), format!("{} {result}", r.display()));
        }
        let count = |what: &str| results.iter().filter(|r| r.result == what).count();
        let summary = if input.dry_run {
            let unchecked = count("not checked");
            format!(
                "{DRY_RUN}of {} objects, {} would be created, {} configured, {} unchanged{}.",
                results.len(),
                count("created"),
                count("configured"),
                count("unchanged"),
                if unchecked > 0 { format!(", {unchecked} not checked") } else { String::new() }
            )
        } else {
            format!(
                "Applied {} objects: {} created, {} configured, {} unchanged.",
                results.len(),
                count("created"),
                count("configured"),
                count("unchanged")
            )
        };
        let mut out = ResourcesApplyOutput { results, dry_run: input.dry_run };
        let notes = preview::cut_diffs(
            out.results.iter_mut().filter_map(|r| r.diff.as_mut().map(|d| (r.object.as_str(), d))),
            common::budget_bytes(ctx),
        );
        let mut reply = Reply::new(summary, out);
        if input.dry_run {
            reply = reply.untrusted();
        }
        for n in notes {
            reply = reply.omitted(n);
        }
        Ok(reply)
    }
}

fn done_before(results: &[ApplyResult]) -> String {
    if results.is_empty() {
        String::new()
    } else {
        format!(" — after applying {} document(s) before it", results.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_check() {
        let docs = parse_manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"b\"}}]}").expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["kind"], "Secret");
        for bad in [
            "",
            "kind: ConfigMap\nmetadata: {name: a}",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: A_B}",
            "- a\n- b",
            "apiVersion: v1\nkind: x\nmetadata: {name: a}",
            "a: [b",
        ] {
            assert!(matches!(parse_manifest(bad), Err(ToolError::InvalidArguments(_))), "{bad:?}");
        }
        let live =
            serde_json::json!({"metadata": {"name": "a", "annotations": {"x": "1"}}, "data": {"k": "v"}, "status": {}});
        let doc = serde_json::json!({"metadata": {"name": "a"}, "data": {"k": "v"}});
        assert_eq!(projected(&live, &doc), doc);
        assert_ne!(projected(&serde_json::json!({"data": {"k": "w"}}), &doc), projected(&live, &doc));
        assert!(defined_by_crd(
            &[
                serde_json::json!({"kind": "CustomResourceDefinition", "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1"}]}})
            ],
            "example.com/v1",
            "Widget"
        ));
    }
}
