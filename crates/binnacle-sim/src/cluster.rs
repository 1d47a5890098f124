//! The API semantics of one simulated cluster: create, read, update, patch and delete with the rules
//! the real API server applies (validation, defaulting, generations, status and scale subresources,
//! optimistic concurrency, finalizers, dry runs, managed fields). The HTTP layer and the simulated
//! controllers both go through it.

use crate::clock::Clock;
use crate::convert;
use crate::defaults::apply_defaults;
use crate::error::{ApiError, ApiResult, Cause, Reason, qualified};
use crate::fields;
use crate::registry::{Registry, ResourceType, StorageKey};
use crate::schema::{self, Check, FieldValidation};
use crate::store::{ObjectKey, Store, StoreError};
use crate::validate::validate;
use binnacle_objects::selector::{FieldSelector, LabelSelector};
use binnacle_objects::time::format_timestamp;
use binnacle_objects::{apply, strategic};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Characters the API server uses for generated name suffixes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// How a write is carried out.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Validate and default, but store nothing (`dryRun=All`).
    pub dry_run: bool,
    /// The field manager recorded in managedFields.
    pub manager: String,
    /// Server-side apply: take ownership of conflicting fields.
    pub force: bool,
    /// What to do with unknown fields.
    pub field_validation: FieldValidation,
    /// Where warnings for the client go (HTTP `Warning` headers).
    pub warnings: Warnings,
}

/// Warnings collected during a request, sent back as `Warning` headers.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Adds a warning.
    pub fn push(&self, warning: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(warning);
    }

    /// The warnings so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The content type of a PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 JSON merge patch.
    Merge,
    /// Strategic merge patch (built-in kinds only).
    Strategic,
    /// Server-side apply.
    Apply,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object itself (status is ignored for kinds with a status subresource).
    Main,
    /// The status subresource (only status changes).
    Status,
}

/// Deletion propagation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now; the garbage collector deletes dependents.
    Background,
    /// Delete dependents first, then the owner.
    Foreground,
    /// Leave dependents, removing their ownerReferences.
    Orphan,
}

/// Options of a DELETE.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Propagation policy; `None` means Background.
    pub propagation: Option<Propagation>,
    /// Grace period in seconds (pods).
    pub grace_period: Option<i64>,
    /// Precondition on uid.
    pub uid: Option<String>,
    /// Precondition on resourceVersion.
    pub resource_version: Option<String>,
    /// Validate only.
    pub dry_run: bool,
}

/// What a DELETE did.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Value),
    /// Deletion started (finalizers, graceful pod termination, namespace cleanup); the object as it is now.
    Pending(Value),
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Matching objects, in storage order.
    pub items: Vec<Arc<Value>>,
    /// The store's resourceVersion at the time of the list.
    pub resource_version: u64,
    /// Token for the next page, if any.
    pub continue_token: Option<String>,
    /// How many matching objects remain after this page.
    pub remaining: Option<usize>,
}

/// Selection and paging of a list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
    /// Page size, 0 for all.
    pub limit: usize,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
}

/// One simulated cluster's API state.
#[derive(Debug)]
pub struct Cluster {
    name: String,
    store: Store,
    registry: Registry,
    clock: Arc<Clock>,
    rng: Mutex<SmallRng>,
    next_service_ip: Mutex<u32>,
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn rv_number(obj: &Value) -> Option<u64> {
    meta_str(obj, "resourceVersion")?.parse().ok()
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty())
}

/// Everything of an object except metadata and status (what bumps `metadata.generation`).
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
        map.remove("apiVersion");
        map.remove("kind");
    }
    v
}

impl Cluster {
    /// A cluster with the built-in kinds and no objects; `seed` makes names and uids reproducible.
    pub fn new(name: &str, clock: Arc<Clock>, seed: u64) -> Self {
        Self::with_history(name, clock, seed, crate::store::DEFAULT_HISTORY)
    }

    /// A cluster whose watches can replay the last `history` changes.
    pub fn with_history(name: &str, clock: Arc<Clock>, seed: u64, history: usize) -> Self {
        Self {
            name: name.to_string(),
            store: Store::new(history),
            registry: Registry::new(),
            clock,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            next_service_ip: Mutex::new(10),
        }
    }

    /// The cluster's name (its kubeconfig context).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The object store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The resource registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// The current time as a Kubernetes timestamp string.
    pub fn now_string(&self) -> String {
        format_timestamp(self.clock.now())
    }

    /// A random lowercase suffix of `n` characters, as in generated names.
    pub fn random_suffix(&self, n: usize) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (0..n).map(|_| NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())] as char).collect()
    }

    /// A random UUID (version 4 layout).
    pub fn new_uid(&self) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let b: [u8; 16] = rng.random();
        format!(
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6] & 0x0f,
            b[7],
            8 | (b[8] & 0x3),
            b[8] >> 4,
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }

    /// A random number in a range, from the cluster's seeded generator.
    pub fn random_range(&self, range: std::ops::Range<u64>) -> u64 {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.random_range(range)
    }

    /// Looks up a resource type or fails with NotFound in the API server's words.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> ApiResult<Arc<ResourceType>> {
        self.registry.get(group, version, plural).ok_or_else(|| {
            ApiError::new(Reason::NotFound, "the server could not find the requested resource")
                .with_details(group, plural, "")
        })
    }

    /// The preferred resource type for a kind; panics never, returns NotFound.
    pub fn resource_for_kind(&self, group: &str, kind: &str) -> ApiResult<Arc<ResourceType>> {
        self.registry
            .by_kind(group, kind)
            .ok_or_else(|| ApiError::new(Reason::NotFound, format!("no resource for kind {kind} in group {group:?}")))
    }

    fn key(rt: &ResourceType, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey::new(if rt.namespaced { namespace } else { "" }, name)
    }

    // ---------------------------------------------------------------- reads

    /// One object in its stored form.
    pub fn get_raw(&self, rt: &ResourceType, namespace: &str, name: &str) -> ApiResult<Arc<Value>> {
        self.store
            .get(&rt.storage, &Self::key(rt, namespace, name))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    /// One object as served for `rt`.
    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> ApiResult<Value> {
        let obj = self.get_raw(rt, namespace, name)?;
        Ok(convert::to_served(rt, &obj))
    }

    /// Lists objects (stored form) with selectors and paging. `namespace` `None` lists all namespaces.
    pub fn list(&self, rt: &ResourceType, namespace: Option<&str>, opts: &ListOptions) -> ApiResult<ListPage> {
        for field in opts.fields.fields() {
            if !fields::supported(rt, field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
        }
        let namespace = if rt.namespaced { namespace } else { None };
        let (all, rv) = self.store.list(&rt.storage, namespace);
        let start_after = match &opts.continue_token {
            Some(token) => Some(decode_continue(token)?),
            None => None,
        };
        let name_filter = opts.fields.required_value("metadata.name");
        let mut matching = all.into_iter().filter(|o| {
            if let Some(n) = name_filter
                && meta_str(o, "name") != Some(n)
            {
                return false;
            }
            if let Some(after) = &start_after
                && ObjectKey::of(o) <= *after
            {
                return false;
            }
            opts.labels.matches_object(o) && opts.fields.matches(|f| fields::value(o, f))
        });
        if opts.limit == 0 {
            return Ok(ListPage {
                items: matching.collect(),
                resource_version: rv,
                continue_token: None,
                remaining: None,
            });
        }
        let items: Vec<Arc<Value>> = matching.by_ref().take(opts.limit).collect();
        let remaining = matching.count();
        let continue_token =
            if remaining > 0 { items.last().map(|o| encode_continue(&ObjectKey::of(o))) } else { None };
        Ok(ListPage { items, resource_version: rv, continue_token, remaining: (remaining > 0).then_some(remaining) })
    }

    /// Lists every object of a kind in stored form (for controllers), optionally in one namespace.
    pub fn list_all(&self, storage: &StorageKey, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.store.list(storage, namespace).0
    }

    // ---------------------------------------------------------------- create

    /// Creates an object from a client request (status is reset for kinds with a status subresource).
    pub fn create(&self, rt: &ResourceType, namespace: &str, obj: Value, opts: &WriteOptions) -> ApiResult<Value> {
        let created = self.create_inner(rt, namespace, obj, opts, false)?;
        Ok(convert::to_served(rt, &created))
    }

    /// Creates an object keeping its status (scenarios, snapshots and controllers).
    pub fn create_with_status(
        &self,
        rt: &ResourceType,
        namespace: &str,
        obj: Value,
        manager: &str,
    ) -> ApiResult<Arc<Value>> {
        let created = self.create_inner(
            rt,
            namespace,
            obj,
            &WriteOptions { manager: manager.into(), ..Default::default() },
            true,
        )?;
        Ok(Arc::new(created))
    }

    /// Creates an object from a scenario file: like [`Cluster::create_with_status`], but unknown fields are
    /// refused so that typos in a user's file are reported.
    pub fn create_checked(
        &self,
        rt: &ResourceType,
        namespace: &str,
        obj: Value,
        manager: &str,
    ) -> ApiResult<Arc<Value>> {
        let opts =
            WriteOptions { manager: manager.into(), field_validation: FieldValidation::Strict, ..Default::default() };
        Ok(Arc::new(self.create_inner(rt, namespace, obj, &opts, true)?))
    }

    fn create_inner(
        &self,
        rt: &ResourceType,
        namespace: &str,
        obj: Value,
        opts: &WriteOptions,
        keep_status: bool,
    ) -> ApiResult<Value> {
        if rt.read_only || !rt.verbs.iter().any(|v| v == "create") {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                format!("the server does not allow this method on the requested resource ({})", rt.plural),
            ));
        }
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!("the body of the request must be a {} object", rt.kind)));
        }
        self.check_type_meta(rt, &obj)?;
        let mut obj = convert::to_storage(rt, obj);
        let storage_version = if rt.custom { self.storage_api_version(rt) } else { rt.api_version() };
        let storage_kind = if rt.group == "events.k8s.io" { "Event".to_string() } else { rt.kind.clone() };
        let storage_api_version = if rt.group == "events.k8s.io" { "v1".to_string() } else { storage_version };
        obj["apiVersion"] = json!(storage_api_version);
        obj["kind"] = json!(storage_kind);
        if obj.get("metadata").is_none_or(|m| !m.is_object()) {
            obj["metadata"] = json!({});
        }
        let now = self.now_string();
        // Admission refusals name the object before its name is generated (`pods "web-" is forbidden`).
        let requested_name = meta_str(&obj, "name")
            .filter(|n| !n.is_empty())
            .or_else(|| meta_str(&obj, "generateName"))
            .unwrap_or_default()
            .to_string();
        {
            let meta =
                obj["metadata"].as_object_mut().ok_or_else(|| ApiError::internal("metadata is not an object"))?;
            if rt.namespaced {
                match meta.get("namespace").and_then(Value::as_str) {
                    Some(ns) if !ns.is_empty() && ns != namespace => {
                        return Err(ApiError::bad_request(format!(
                            "the namespace of the provided object ({ns}) does not match the namespace sent on the request ({namespace})"
                        )));
                    }
                    _ => {
                        meta.insert("namespace".into(), json!(namespace));
                    }
                }
            } else {
                meta.remove("namespace");
            }
            let name = meta.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if name.is_empty()
                && let Some(prefix) = meta.get("generateName").and_then(Value::as_str).filter(|p| !p.is_empty())
            {
                let generated = format!("{prefix}{}", self.random_suffix(5));
                meta.insert("name".into(), json!(generated));
            }
            meta.insert("uid".into(), json!(self.new_uid()));
            meta.insert("creationTimestamp".into(), json!(now));
            meta.insert("generation".into(), json!(1));
            meta.remove("resourceVersion");
            meta.remove("deletionTimestamp");
            meta.remove("deletionGracePeriodSeconds");
            meta.remove("selfLink");
        }
        if rt.namespaced && !(rt.group.is_empty() && rt.kind == "Event") {
            self.check_namespace_open(namespace)?;
        } else if rt.namespaced {
            self.check_namespace_exists(namespace)?;
        }
        if rt.has_status()
            && !keep_status
            && let Some(map) = obj.as_object_mut()
        {
            map.remove("status");
        }
        self.check_fields(rt, &mut obj, opts)?;
        apply_defaults(&rt.group, &rt.kind, &mut obj);
        if rt.group.is_empty() && rt.kind == "Pod" && obj.get("status").is_none() {
            obj["status"] = json!({"phase": "Pending", "qosClass": crate::defaults::qos_class(&obj)});
        }
        self.kind_specific_create(rt, &mut obj, opts.dry_run)?;
        let causes = validate(rt, &obj);
        let name = meta_str(&obj, "name").unwrap_or_default().to_string();
        if !causes.is_empty() {
            return Err(ApiError::invalid(&rt.group, &rt.kind, &name, causes));
        }
        if rt.group.is_empty() && rt.kind == "Pod" {
            crate::admission::admit_pod(self, namespace, &requested_name, &mut obj, opts.dry_run)?;
            if obj.pointer("/status/qosClass").is_some() {
                obj["status"]["qosClass"] = json!(crate::defaults::qos_class(&obj));
            }
        }
        if !opts.manager.is_empty() && !keep_status {
            apply::record_update(&rt.kind, &rt.api_version(), &opts.manager, &now, None, &mut obj);
        }
        if opts.dry_run {
            if self.store.get(&rt.storage, &Self::key(rt, namespace, &name)).is_some() {
                return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
            }
            return Ok(obj);
        }
        let stored = self.store.create(&rt.storage, obj).map_err(|e| match e {
            StoreError::AlreadyExists => ApiError::already_exists(&rt.group, &rt.plural, &name),
            other => ApiError::internal(other.to_string()),
        })?;
        self.after_write(rt, None, Some(&stored));
        Ok((*stored).clone())
    }

    /// Rejects a body whose apiVersion/kind name another resource.
    fn check_type_meta(&self, rt: &ResourceType, obj: &Value) -> ApiResult<()> {
        if let Some(kind) = obj.get("kind").and_then(Value::as_str)
            && !kind.is_empty()
            && kind != rt.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind of the provided object ({kind}) does not match the resource {} ({})",
                qualified(&rt.group, &rt.plural),
                rt.kind
            )));
        }
        if let Some(api_version) = obj.get("apiVersion").and_then(Value::as_str) {
            let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
            if !api_version.is_empty() && group != rt.group {
                return Err(ApiError::bad_request(format!(
                    "the API version of the provided object ({api_version}) does not match the group of resource {}",
                    qualified(&rt.group, &rt.plural)
                )));
            }
        }
        Ok(())
    }

    fn storage_api_version(&self, rt: &ResourceType) -> String {
        let crd_name = format!("{}.{}", rt.plural, rt.group);
        let crds = StorageKey::new("apiextensions.k8s.io", "customresourcedefinitions");
        self.store
            .get(&crds, &ObjectKey::new("", &crd_name))
            .and_then(|crd| {
                crd.pointer("/spec/versions")?
                    .as_array()?
                    .iter()
                    .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))?
                    .get("name")?
                    .as_str()
                    .map(|v| format!("{}/{v}", rt.group))
            })
            .unwrap_or_else(|| rt.api_version())
    }

    fn check_namespace_exists(&self, namespace: &str) -> ApiResult<Arc<Value>> {
        self.store
            .get(&StorageKey::new("", "namespaces"), &ObjectKey::new("", namespace))
            .ok_or_else(|| ApiError::not_found("", "namespaces", namespace))
    }

    fn check_namespace_open(&self, namespace: &str) -> ApiResult<()> {
        let ns = self.check_namespace_exists(namespace)?;
        if ns.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(ApiError::new(
                Reason::Forbidden,
                format!("unable to create new content in namespace {namespace} because it is being terminated"),
            ));
        }
        Ok(())
    }

    /// Kind-specific work at creation: Service cluster IPs, CRD status, ServiceAccount secrets... A dry
    /// run allocates nothing (it shows the IP the next create would get).
    fn kind_specific_create(&self, rt: &ResourceType, obj: &mut Value, dry_run: bool) -> ApiResult<()> {
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "Service") => {
                let ty = obj.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
                if ty != "ExternalName"
                    && obj.pointer("/spec/clusterIP").and_then(Value::as_str).is_none_or(str::is_empty)
                {
                    let ip = self.allocate_service_ip(dry_run);
                    obj["spec"]["clusterIP"] = json!(ip);
                    obj["spec"]["clusterIPs"] = json!([ip]);
                } else if let Some(ip) = obj.pointer("/spec/clusterIP").cloned()
                    && obj.pointer("/spec/clusterIPs").is_none()
                {
                    obj["spec"]["clusterIPs"] = json!([ip]);
                }
                if matches!(ty.as_str(), "NodePort" | "LoadBalancer")
                    && let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut)
                {
                    for p in ports.iter_mut() {
                        if p.get("nodePort").is_none() {
                            p["nodePort"] = json!(30000 + self.random_range(0..2768));
                        }
                    }
                }
                if ty == "LoadBalancer" && obj.pointer("/status/loadBalancer").is_none() {
                    obj["status"] = json!({"loadBalancer": {}});
                }
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                let names = obj.pointer("/spec/names").cloned().unwrap_or(json!({}));
                let mut accepted = names.clone();
                if accepted.get("singular").is_none()
                    && let Some(kind) = names.get("kind").and_then(Value::as_str)
                {
                    accepted["singular"] = json!(kind.to_lowercase());
                }
                if accepted.get("listKind").is_none()
                    && let Some(kind) = names.get("kind").and_then(Value::as_str)
                {
                    accepted["listKind"] = json!(format!("{kind}List"));
                }
                let now = self.now_string();
                let stored: Vec<Value> = obj
                    .pointer("/spec/versions")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                            .filter_map(|v| v.get("name").cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                obj["status"] = json!({
                    "acceptedNames": accepted,
                    "storedVersions": stored,
                    "conditions": [
                        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now}
                    ]
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn allocate_service_ip(&self, dry_run: bool) -> String {
        let mut next = self.next_service_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = *next;
        if !dry_run {
            *next += 1;
        }
        format!("10.96.{}.{}", n / 250, n % 250 + 1)
    }

    // ---------------------------------------------------------------- update and patch

    /// Replaces an object (PUT). A stale `metadata.resourceVersion` gives 409 Conflict.
    pub fn update(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        obj: Value,
        part: Part,
        opts: &WriteOptions,
    ) -> ApiResult<Value> {
        self.check_writable(rt)?;
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!("the body of the request must be a {} object", rt.kind)));
        }
        self.check_type_meta(rt, &obj)?;
        let obj = convert::to_storage(rt, obj);
        if let Some(body_name) = meta_str(&obj, "name")
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let live = match self.get_raw(rt, namespace, name) {
            Ok(live) => live,
            Err(e) if e.reason == Reason::NotFound && part == Part::Main => {
                // PUT on a missing object creates it, as the API server does for most kinds.
                return self.create(rt, namespace, obj, opts);
            }
            Err(e) => return Err(e),
        };
        let precondition = match meta_str(&obj, "resourceVersion").filter(|s| !s.is_empty()) {
            Some(rv) => {
                Some(rv.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?)
            }
            None => None,
        };
        if let Some(expected) = precondition
            && rv_number(&live) != Some(expected)
        {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let stored = self.write_over(rt, &live, obj, part, opts, true)?;
        Ok(convert::to_served(rt, &stored))
    }

    /// Patches an object. Server-side apply creates a missing object; the other types give 404.
    /// Returns the object and whether it was created.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        body: &Value,
        part: Part,
        opts: &WriteOptions,
    ) -> ApiResult<(Value, bool)> {
        self.check_writable(rt)?;
        if patch_type == PatchType::Strategic && (rt.custom || !strategic::supports_strategic(&rt.group, &rt.kind)) {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ));
        }
        // Retry a few times when a controller writes between our read and our write, as the API server does.
        for _ in 0..8 {
            let live = match self.get_raw(rt, namespace, name) {
                Ok(live) => live,
                Err(e) if e.reason == Reason::NotFound && patch_type == PatchType::Apply && part == Part::Main => {
                    return self.apply_create(rt, namespace, name, body, opts).map(|v| (v, true));
                }
                Err(e) => return Err(e),
            };
            let served = convert::to_served(rt, &live);
            let patched = match patch_type {
                PatchType::Merge => {
                    let mut target = served.clone();
                    json_patch::merge(&mut target, body);
                    target
                }
                PatchType::Json => {
                    let mut target = served.clone();
                    crate::jsonpatch::apply(&mut target, body)?;
                    target
                }
                PatchType::Strategic => strategic::strategic_merge(&rt.kind, &served, body).map_err(|e| {
                    ApiError::bad_request(format!("the strategic merge patch could not be applied: {e}"))
                })?,
                PatchType::Apply => {
                    let mut config = body.clone();
                    self.check_type_meta(rt, &config)?;
                    if rt.has_status()
                        && part == Part::Main
                        && let Some(m) = config.as_object_mut()
                    {
                        m.remove("status");
                    }
                    let params = apply::ApplyParams {
                        kind: &rt.kind,
                        api_version: &rt.api_version(),
                        manager: &opts.manager,
                        force: opts.force,
                        now: &self.now_string(),
                    };
                    apply::server_side_apply(Some(&served), &config, &params).map_err(|e| apply_error(rt, name, e))?
                }
            };
            if patched.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).is_some_and(|n| n != name) {
                return Err(ApiError::bad_request("a patch may not change metadata.name"));
            }
            // A resourceVersion inside a merge or strategic patch is a precondition.
            if let Some(rv) = body.pointer("/metadata/resourceVersion").and_then(Value::as_str)
                && matches!(patch_type, PatchType::Merge | PatchType::Strategic)
                && Some(rv.to_string()) != meta_str(&live, "resourceVersion").map(str::to_string)
            {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.plural,
                    name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            let patched = convert::to_storage(rt, patched);
            let record = patch_type != PatchType::Apply;
            match self.write_over(rt, &live, patched, part, opts, record) {
                Err(e) if e.reason == Reason::Conflict && e.causes.is_empty() => continue,
                Err(e) => return Err(e),
                Ok(stored) => return Ok((convert::to_served(rt, &stored), false)),
            }
        }
        Err(ApiError::conflict(
            &rt.group,
            &rt.plural,
            name,
            "the object kept changing while the patch was applied; try again",
        ))
    }

    fn apply_create(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> ApiResult<Value> {
        self.check_type_meta(rt, body)?;
        let params = apply::ApplyParams {
            kind: &rt.kind,
            api_version: &rt.api_version(),
            manager: &opts.manager,
            force: opts.force,
            now: &self.now_string(),
        };
        let mut obj = apply::server_side_apply(None, body, &params).map_err(|e| apply_error(rt, name, e))?;
        if meta_str(&obj, "name").is_none() {
            obj["metadata"]["name"] = json!(name);
        }
        let managed = obj.pointer("/metadata/managedFields").cloned();
        let create_opts = WriteOptions { manager: String::new(), ..opts.clone() };
        let mut created = self.create_inner(rt, namespace, obj, &create_opts, false)?;
        if let Some(managed) = managed {
            created["metadata"]["managedFields"] = managed;
            if !opts.dry_run {
                let stored =
                    self.store.update(&rt.storage, created, None).map_err(|e| ApiError::internal(e.to_string()))?;
                return Ok(convert::to_served(rt, &stored));
            }
        }
        Ok(convert::to_served(rt, &created))
    }

    fn check_writable(&self, rt: &ResourceType) -> ApiResult<()> {
        if rt.read_only || !rt.verbs.iter().any(|v| v == "update" || v == "patch") {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                format!("the server does not allow this method on the requested resource ({})", rt.plural),
            ));
        }
        Ok(())
    }

    /// Writes `new` over `live` with the update rules. `record` adds an Update managedFields entry.
    fn write_over(
        &self,
        rt: &ResourceType,
        live: &Arc<Value>,
        mut new: Value,
        part: Part,
        opts: &WriteOptions,
        record: bool,
    ) -> ApiResult<Arc<Value>> {
        let name = meta_str(live, "name").unwrap_or_default().to_string();
        if !new.is_object() {
            return Err(ApiError::bad_request("the object must be a JSON object"));
        }
        // Immutable and server-owned metadata comes from the live object.
        {
            if new.get("metadata").is_none_or(|m| !m.is_object()) {
                new["metadata"] = json!({});
            }
            let live_meta = live.get("metadata").cloned().unwrap_or(json!({}));
            let meta =
                new["metadata"].as_object_mut().ok_or_else(|| ApiError::internal("metadata is not an object"))?;
            for field in [
                "uid",
                "creationTimestamp",
                "namespace",
                "name",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match live_meta.get(field) {
                    Some(v) => {
                        meta.insert(field.into(), v.clone());
                    }
                    None => {
                        meta.remove(field);
                    }
                }
            }
            if let Some(uid) = meta.get("uid")
                && live_meta.get("uid") != Some(uid)
            {
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    &name,
                    vec![crate::error::invalid_field("metadata.uid", "field is immutable")],
                ));
            }
        }
        new["apiVersion"] = live.get("apiVersion").cloned().unwrap_or(json!(rt.api_version()));
        new["kind"] = live.get("kind").cloned().unwrap_or(json!(rt.kind));
        match part {
            Part::Main if rt.has_status() => match live.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            },
            Part::Status => {
                let status = new.get("status").cloned();
                let mut merged = (**live).clone();
                match status {
                    Some(s) => merged["status"] = s,
                    None => {
                        if let Some(m) = merged.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                if let Some(mf) = new.pointer("/metadata/managedFields").cloned() {
                    merged["metadata"]["managedFields"] = mf;
                }
                new = merged;
            }
            Part::Main => {}
        }
        self.check_fields(rt, &mut new, opts)?;
        if part == Part::Main {
            self.check_immutable(rt, live, &new)?;
            apply_defaults(&rt.group, &rt.kind, &mut new);
            if spec_part(live) != spec_part(&new) {
                let generation = live.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1) + 1;
                new["metadata"]["generation"] = json!(generation);
            }
            let causes = validate(rt, &new);
            if !causes.is_empty() {
                return Err(ApiError::invalid(&rt.group, &rt.kind, &name, causes));
            }
            if live.pointer("/metadata/deletionTimestamp").is_some() {
                let old: Vec<Value> =
                    live.pointer("/metadata/finalizers").and_then(Value::as_array).cloned().unwrap_or_default();
                let added = new
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|f| f.iter().any(|x| !old.contains(x)));
                if added {
                    return Err(ApiError::new(
                        Reason::Forbidden,
                        format!(
                            "no new finalizers can be added if the object is being deleted, found new finalizers {:?}",
                            new.pointer("/metadata/finalizers")
                        ),
                    ));
                }
            }
        }
        // A write that changes nothing is not stored (kubectl reports "patched (no change)").
        if without_managed_fields(&new) == without_managed_fields(live) {
            return Ok(live.clone());
        }
        if record && !opts.manager.is_empty() {
            let now = self.now_string();
            apply::record_update(&rt.kind, &rt.api_version(), &opts.manager, &now, Some(live), &mut new);
        }
        if opts.dry_run {
            // Nothing is stored: the answer keeps the resourceVersion it was computed from, as the API
            // server's dry runs do (a PUT body or a scale update may come without one).
            if let Some(rv) = live.pointer("/metadata/resourceVersion").cloned() {
                new["metadata"]["resourceVersion"] = rv;
            }
            return Ok(Arc::new(new));
        }
        // Removing the last finalizer of an object being deleted removes it.
        let finishing =
            live.pointer("/metadata/deletionTimestamp").is_some() && has_finalizers(live) && !has_finalizers(&new);
        let expected = rv_number(live);
        if finishing {
            let stored = self.store.update(&rt.storage, new, expected).map_err(|e| store_error(rt, &name, e))?;
            let gone =
                self.store.delete(&rt.storage, &ObjectKey::of(&stored), None).map_err(|e| store_error(rt, &name, e))?;
            self.after_write(rt, Some(live), None);
            return Ok(gone);
        }
        let stored = self.store.update(&rt.storage, new, expected).map_err(|e| store_error(rt, &name, e))?;
        self.after_write(rt, Some(live), Some(&stored));
        Ok(stored)
    }

    /// Field validation: unknown fields are refused (Strict), dropped with a warning (Warn) or dropped
    /// (Ignore); values of the wrong type are always refused.
    fn check_fields(&self, rt: &ResourceType, obj: &mut Value, opts: &WriteOptions) -> ApiResult<()> {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or(&rt.kind).to_string();
        let version = rt.version.clone();
        let prefix = || format!("{kind} in version \"{version}\" cannot be handled as a {kind}");
        match schema::check(obj) {
            Check::Unchecked => Ok(()),
            Check::Malformed(msg) => Err(ApiError::bad_request(format!("{}: {msg}", prefix()))),
            Check::Unknown(fields) if fields.is_empty() => Ok(()),
            Check::Unknown(fields) => match opts.field_validation {
                FieldValidation::Strict => Err(ApiError::bad_request(format!(
                    "{}: strict decoding error: {}",
                    prefix(),
                    schema::unknown_message(&fields)
                ))),
                FieldValidation::Warn => {
                    for f in fields {
                        opts.warnings.push(format!("unknown field \"{f}\""));
                    }
                    Ok(())
                }
                FieldValidation::Ignore => Ok(()),
            },
        }
    }

    fn check_immutable(&self, rt: &ResourceType, live: &Value, new: &Value) -> ApiResult<()> {
        let name = meta_str(live, "name").unwrap_or_default();
        let immutable: &[&str] = match (rt.group.as_str(), rt.kind.as_str()) {
            ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => &["/spec/selector"],
            ("batch", "Job") => &["/spec/selector", "/spec/template"],
            ("", "Service") => &["/spec/clusterIP"],
            ("", "Pod") => &["/spec/containers/0/name", "/spec/nodeName", "/spec/restartPolicy"],
            _ => &[],
        };
        for pointer in immutable {
            let old = live.pointer(pointer);
            if old.is_some() && old != new.pointer(pointer) {
                // kubectl and controllers set nodeName exactly once (binding).
                if *pointer == "/spec/nodeName" && old.and_then(Value::as_str).is_none_or(str::is_empty) {
                    continue;
                }
                let field = pointer.trim_start_matches('/').replace('/', ".");
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    name,
                    vec![crate::error::invalid_field(&field, "Invalid value: field is immutable")],
                ));
            }
        }
        if rt.group.is_empty() && rt.kind == "Pod" {
            // Only images (and a few scheduling fields) of a pod may change.
            let strip = |v: &Value| {
                let mut s = v.get("spec").cloned().unwrap_or(json!({}));
                for list in ["containers", "initContainers"] {
                    if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
                        for c in cs.iter_mut() {
                            if let Some(m) = c.as_object_mut() {
                                m.remove("image");
                            }
                        }
                    }
                }
                if let Some(m) = s.as_object_mut() {
                    for f in [
                        "nodeName",
                        "activeDeadlineSeconds",
                        "tolerations",
                        "terminationGracePeriodSeconds",
                        "schedulingGates",
                    ] {
                        m.remove(f);
                    }
                }
                s
            };
            if strip(live) != strip(new) {
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    name,
                    vec![crate::error::invalid_field(
                        "spec",
                        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
                    )],
                ));
            }
        }
        Ok(())
    }

    /// Updates an object from inside the simulator (controllers): reads the live object, lets `change`
    /// edit a copy, and writes it when it changed, retrying on conflicts. Status and spec may both change.
    /// Returns the stored object, or `None` when nothing changed or the object is gone.
    pub fn modify(&self, rt: &ResourceType, key: &ObjectKey, change: impl Fn(&mut Value)) -> Option<Arc<Value>> {
        for _ in 0..8 {
            let live = self.store.get(&rt.storage, key)?;
            let mut new = (*live).clone();
            change(&mut new);
            if new == *live {
                return None;
            }
            if spec_part(&live) != spec_part(&new) {
                let generation = live.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1) + 1;
                new["metadata"]["generation"] = json!(generation);
            }
            let finishing =
                live.pointer("/metadata/deletionTimestamp").is_some() && has_finalizers(&live) && !has_finalizers(&new);
            match self.store.update(&rt.storage, new, rv_number(&live)) {
                Ok(stored) => {
                    if finishing {
                        let gone = self.store.delete(&rt.storage, key, None).ok();
                        self.after_write(rt, Some(&live), None);
                        return gone;
                    }
                    self.after_write(rt, Some(&live), Some(&stored));
                    return Some(stored);
                }
                Err(StoreError::Conflict) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    // ---------------------------------------------------------------- delete

    /// Deletes an object following its finalizers, the propagation policy and pod grace periods.
    pub fn delete(&self, rt: &ResourceType, namespace: &str, name: &str, opts: &DeleteOptions) -> ApiResult<Deleted> {
        if rt.read_only || !rt.verbs.iter().any(|v| v == "delete") {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                format!("the server does not allow this method on the requested resource ({})", rt.plural),
            ));
        }
        let live = self.get_raw(rt, namespace, name)?;
        if let Some(uid) = &opts.uid
            && meta_str(&live, "uid") != Some(uid.as_str())
        {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&live, "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && meta_str(&live, "resourceVersion") != Some(rv.as_str())
        {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        if opts.dry_run {
            return Ok(Deleted::Gone(convert::to_served(rt, &live)));
        }
        let now = self.now_string();
        let key = ObjectKey::of(&live);
        let is_pod = rt.group.is_empty() && rt.kind == "Pod";
        if rt.group.is_empty() && rt.kind == "Namespace" {
            let updated = self.modify(rt, &key, |ns| {
                if ns.pointer("/metadata/deletionTimestamp").is_none() {
                    ns["metadata"]["deletionTimestamp"] = json!(now);
                    ns["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                }
                ns["status"]["phase"] = json!("Terminating");
            });
            let current = updated.map(|u| (*u).clone()).unwrap_or_else(|| (*live).clone());
            return Ok(Deleted::Pending(convert::to_served(rt, &current)));
        }
        if is_pod {
            let grace = opts.grace_period.unwrap_or_else(|| {
                live.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30)
            });
            let phase = live.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
            let scheduled = live.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
            let terminal = matches!(phase, "Succeeded" | "Failed");
            if grace > 0 && scheduled && !terminal {
                let deadline = format_timestamp(self.clock.now() + jiff::SignedDuration::from_secs(grace));
                let updated = self.modify(rt, &key, |pod| {
                    if pod.pointer("/metadata/deletionTimestamp").is_none() {
                        pod["metadata"]["deletionTimestamp"] = json!(deadline);
                        pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                    }
                    add_propagation_finalizer(pod, opts.propagation);
                });
                let current = updated.map(|u| (*u).clone()).unwrap_or_else(|| (*live).clone());
                return Ok(Deleted::Pending(convert::to_served(rt, &current)));
            }
        }
        let wants_finalizer = matches!(opts.propagation, Some(Propagation::Foreground | Propagation::Orphan));
        if has_finalizers(&live) || wants_finalizer {
            let updated = self.modify(rt, &key, |obj| {
                if obj.pointer("/metadata/deletionTimestamp").is_none() {
                    obj["metadata"]["deletionTimestamp"] = json!(now);
                    obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                }
                add_propagation_finalizer(obj, opts.propagation);
            });
            let current = updated.map(|u| (*u).clone()).unwrap_or_else(|| (*live).clone());
            return Ok(Deleted::Pending(convert::to_served(rt, &current)));
        }
        let gone = self.store.delete(&rt.storage, &key, None).map_err(|e| store_error(rt, name, e))?;
        self.after_write(rt, Some(&live), None);
        Ok(Deleted::Gone(convert::to_served(rt, &gone)))
    }

    /// Removes an object at once, ignoring finalizers (the kubelet finishing a pod, the namespace controller).
    pub fn remove_now(&self, rt: &ResourceType, key: &ObjectKey) -> Option<Arc<Value>> {
        let live = self.store.get(&rt.storage, key)?;
        let gone = self.store.delete(&rt.storage, key, None).ok()?;
        self.after_write(rt, Some(&live), None);
        Some(gone)
    }

    /// Side effects of a write that must happen at once: registering CRDs.
    fn after_write(&self, rt: &ResourceType, old: Option<&Arc<Value>>, new: Option<&Arc<Value>>) {
        if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
            match new {
                Some(crd) if crd.pointer("/metadata/deletionTimestamp").is_none() => {
                    self.registry.register_crd(crd);
                }
                Some(crd) => {
                    if let Some(name) = meta_str(crd, "name") {
                        self.registry.unregister_crd(name);
                    }
                }
                None => {
                    if let Some(name) = old.and_then(|o| meta_str(o, "name").map(str::to_string)) {
                        let group_plural = name.split_once('.').map(|(p, g)| StorageKey::new(g, p));
                        self.registry.unregister_crd(&name);
                        if let Some(sk) = group_plural {
                            for obj in self.store.list(&sk, None).0 {
                                let _ = self.store.delete(&sk, &ObjectKey::of(&obj), None);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An object without `metadata.managedFields` and `metadata.resourceVersion`, for change detection.
fn without_managed_fields(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    v
}

fn add_propagation_finalizer(obj: &mut Value, propagation: Option<Propagation>) {
    let finalizer = match propagation {
        Some(Propagation::Foreground) => "foregroundDeletion",
        Some(Propagation::Orphan) => "orphan",
        _ => return,
    };
    let list = obj["metadata"].as_object_mut().map(|m| m.entry("finalizers").or_insert(json!([])));
    if let Some(Value::Array(list)) = list
        && !list.iter().any(|f| f == finalizer)
    {
        list.push(json!(finalizer));
    }
}

fn store_error(rt: &ResourceType, name: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(&rt.group, &rt.plural, name),
        StoreError::AlreadyExists => ApiError::already_exists(&rt.group, &rt.plural, name),
        StoreError::Conflict => ApiError::conflict(
            &rt.group,
            &rt.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
    }
}

fn apply_error(rt: &ResourceType, name: &str, e: apply::ApplyError) -> ApiError {
    match e {
        apply::ApplyError::Conflicts(conflicts) => {
            let mut err = ApiError::new(Reason::Conflict, apply::ApplyError::Conflicts(conflicts.clone()).to_string())
                .with_details(&rt.group, &rt.plural, name);
            err.causes = conflicts
                .iter()
                .map(|c| Cause {
                    reason: "FieldManagerConflict".into(),
                    message: format!("conflict with \"{}\"", c.manager),
                    field: c.field.clone(),
                })
                .collect();
            err
        }
        other => ApiError::bad_request(other.to_string()),
    }
}

fn encode_continue(key: &ObjectKey) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"ns": key.namespace, "name": key.name}).to_string())
}

fn decode_continue(token: &str) -> ApiResult<ObjectKey> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}; list again without it"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok(ObjectKey::new(
        v.get("ns").and_then(Value::as_str).ok_or_else(bad)?,
        v.get("name").and_then(Value::as_str).ok_or_else(bad)?,
    ))
}
