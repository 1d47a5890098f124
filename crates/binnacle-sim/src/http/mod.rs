//! The Kubernetes REST API over HTTP, as an axum `Router` (and so a `tower::Service`): kube-rs can use it
//! in process with `kube::Client::new(router, "default")`, and kubectl through a TCP listener.

mod discovery;
mod exec;
mod logs;
mod openapi;
mod request;
mod reviews;
mod table;
mod watch;

pub use discovery::AGGREGATED_CONTENT_TYPE;

use crate::cluster::{Cluster, DeleteOptions, Deleted, ListOptions, Part, Propagation, WriteOptions};
use crate::convert;
use crate::error::{ApiError, ApiResult, Reason};
use crate::registry::ResourceType;
use crate::schema::FieldValidation;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use binnacle_objects::selector::{FieldSelector, LabelSelector};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use request::{Query, Representation, ResourceRequest, Target};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use table::IncludeObject;
use tokio::sync::watch as watch_channel;

/// The largest request body accepted (the API server's limit is 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// One request as seen by the server, kept for tests to assert on.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Content-Type of the body.
    pub content_type: String,
    /// Response status code.
    pub status: u16,
}

/// State shared by every request to one cluster's API.
#[derive(Debug)]
pub struct ApiState {
    cluster: Arc<Cluster>,
    server_address: Mutex<String>,
    shutdown: watch_channel::Receiver<bool>,
    requests: Mutex<VecDeque<RecordedRequest>>,
}

const REQUEST_LOG: usize = 2000;

impl ApiState {
    /// State for a cluster; `shutdown` ends long-running watches and log streams.
    pub fn new(cluster: Arc<Cluster>, shutdown: watch_channel::Receiver<bool>) -> Arc<Self> {
        Arc::new(Self {
            cluster,
            server_address: Mutex::new("127.0.0.1:6443".into()),
            shutdown,
            requests: Mutex::new(VecDeque::new()),
        })
    }

    /// Sets the address reported in `/api` discovery.
    pub fn set_server_address(&self, address: &str) {
        *self.server_address.lock().unwrap_or_else(|e| e.into_inner()) = address.to_string();
    }

    /// The most recent requests, oldest first.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    fn record(&self, r: RecordedRequest) {
        let mut log = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(r);
    }
}

/// The API router for one cluster.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<Arc<ApiState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let response = match dispatch(&state, req).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    };
    tracing::debug!(%method, %path, %query, status = response.status().as_u16(), "request");
    state.record(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        content_type,
        status: response.status().as_u16(),
    });
    response
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// A JSON response.
fn json_response(status: StatusCode, body: &Value) -> Response {
    json_response_typed(status, body, "application/json")
}

fn json_response_typed(status: StatusCode, body: &Value, content_type: &str) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A `<Kind>List` written item by item, without copying the stored objects.
fn list_response(rt: &ResourceType, metadata: &Value, items: &[std::borrow::Cow<'_, Value>]) -> Response {
    let mut out: Vec<u8> = Vec::with_capacity(64 + items.len() * 1024);
    let head = json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": metadata}).to_string();
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if serde_json::to_writer(&mut out, item.as_ref()).is_err() {
            return error_response(&ApiError::internal("an object could not be serialized"));
        }
    }
    out.extend_from_slice(b"]}");
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(out))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Adds the request's warnings as `Warning: 299 - "..."` headers (kubectl prints them).
fn with_warnings(mut resp: Response, opts: &WriteOptions) -> Response {
    for w in opts.warnings.take() {
        let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(v) = http::HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn bytes_response(bytes: Vec<u8>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn text_response(status: StatusCode, text: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A Kubernetes `Status` error response.
pub fn error_response(e: &ApiError) -> Response {
    json_response(StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &e.to_status())
}

fn success_status(details: Value) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

async fn read_body(body: Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            Reason::RequestEntityTooLarge,
            format!("the request body is too large: the limit is {MAX_BODY_BYTES} bytes"),
        )
    })
}

async fn dispatch(state: &Arc<ApiState>, req: Request) -> ApiResult<Response> {
    let cluster = &state.cluster;
    let target = request::parse_path(cluster, req.uri().path())?;
    let accept = header_str(req.headers(), header::ACCEPT).to_string();
    let method = req.method().clone();
    let get_only = |method: &Method| -> ApiResult<()> {
        if method == Method::GET || method == Method::HEAD {
            Ok(())
        } else {
            Err(ApiError::new(Reason::MethodNotAllowed, format!("the server does not allow the {method} method here")))
        }
    };
    match target {
        Target::Version => {
            get_only(&method)?;
            Ok(json_response(StatusCode::OK, &discovery::version()))
        }
        Target::Health => Ok(text_response(StatusCode::OK, "ok".into())),
        Target::CoreVersions => {
            get_only(&method)?;
            if request::wants_aggregated_discovery(&accept) {
                Ok(json_response_typed(
                    StatusCode::OK,
                    &discovery::aggregated_core(cluster.registry()),
                    AGGREGATED_CONTENT_TYPE,
                ))
            } else {
                let addr = state.server_address.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Ok(json_response(StatusCode::OK, &discovery::core_versions(&addr)))
            }
        }
        Target::Groups => {
            get_only(&method)?;
            if request::wants_aggregated_discovery(&accept) {
                Ok(json_response_typed(
                    StatusCode::OK,
                    &discovery::aggregated_groups(cluster.registry()),
                    AGGREGATED_CONTENT_TYPE,
                ))
            } else {
                Ok(json_response(StatusCode::OK, &discovery::groups(cluster.registry())))
            }
        }
        Target::Group(g) => {
            get_only(&method)?;
            discovery::group(cluster.registry(), &g)
                .map(|doc| json_response(StatusCode::OK, &doc))
                .ok_or_else(|| ApiError::new(Reason::NotFound, "the server could not find the requested resource"))
        }
        Target::GroupVersion(g, v) => {
            get_only(&method)?;
            Ok(json_response(StatusCode::OK, &discovery::resource_list(cluster.registry(), &g, &v)))
        }
        Target::OpenApiIndex => Ok(json_response(StatusCode::OK, &openapi::index(cluster.registry()))),
        Target::OpenApiDoc(path) => openapi::document(cluster, &path)
            .map(|doc| doc.response())
            .ok_or_else(|| ApiError::new(Reason::NotFound, "the server could not find the requested resource")),
        Target::OpenApiV2 => Err(ApiError::new(Reason::NotFound, "OpenAPI v2 is not served; use /openapi/v3")),
        Target::Resource(r) => resource(state, r, req).await,
    }
}

fn write_options(query: &Query, headers: &HeaderMap, default_manager: &str) -> ApiResult<WriteOptions> {
    let manager = match query.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => {
            if m.len() > 128 || m.chars().any(|c| c.is_control()) {
                return Err(ApiError::bad_request("fieldManager must be at most 128 printable characters"));
            }
            m.to_string()
        }
        None => {
            let agent = header_str(headers, header::USER_AGENT);
            let from_agent = agent.split('/').next().unwrap_or_default();
            if from_agent.is_empty() { default_manager.to_string() } else { from_agent.to_string() }
        }
    };
    if let Some(v) = query.get("fieldValidation")
        && !matches!(v, "" | "Strict" | "Warn" | "Ignore")
    {
        return Err(ApiError::bad_request(format!("fieldValidation must be Strict, Warn or Ignore, not {v:?}")));
    }
    let field_validation = match query.get("fieldValidation") {
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        _ => FieldValidation::Warn,
    };
    Ok(WriteOptions {
        dry_run: query.dry_run()?,
        manager,
        force: query.flag("force"),
        field_validation,
        warnings: Default::default(),
    })
}

fn list_options(query: &Query) -> ApiResult<ListOptions> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = query.int("limit")?.unwrap_or(0);
    if limit < 0 {
        return Err(ApiError::bad_request("limit must not be negative"));
    }
    Ok(ListOptions {
        labels,
        fields,
        limit: limit as usize,
        continue_token: query.get("continue").filter(|c| !c.is_empty()).map(str::to_string),
    })
}

fn check_namespace_param(ns: &str) -> ApiResult<()> {
    binnacle_objects::names::check_dns1123_label(ns)
        .map_err(|e| ApiError::bad_request(format!("invalid namespace {ns:?}: {e}")))
}

async fn resource(state: &Arc<ApiState>, r: ResourceRequest, req: Request) -> ApiResult<Response> {
    let cluster = state.cluster.clone();
    let (parts, body) = req.into_parts();
    let query = Query::parse(parts.uri.query());
    let accept = header_str(&parts.headers, header::ACCEPT).to_string();
    let content_type = header_str(&parts.headers, header::CONTENT_TYPE).to_string();
    let representation = request::representation(&accept);
    let include = IncludeObject::parse(query.get("includeObject"));
    let rt = r.rt.clone();
    let ns = r.namespace.clone().unwrap_or_default();
    if r.namespace.is_some() {
        check_namespace_param(&ns)?;
    }
    if rt.namespaced && r.name.is_some() && r.namespace.is_none() {
        return Err(ApiError::new(Reason::NotFound, "the server could not find the requested resource"));
    }
    if let Some(name) = &r.name
        && (name.is_empty() || name.len() > 253 || name.contains(['/', '%']))
    {
        return Err(ApiError::bad_request(format!("invalid resource name {name:?}")));
    }
    crate::authz::check_request(
        &cluster,
        &parts.headers,
        &parts.method,
        &rt,
        r.namespace.as_deref(),
        r.name.as_deref(),
        r.subresource.as_deref(),
        query.flag("watch"),
    )?;
    if rt.group == "metrics.k8s.io" {
        let labels = list_options(&query)?.labels;
        return reviews::metrics(&cluster, &r, &parts.method, &labels).map(|v| json_response(StatusCode::OK, &v));
    }
    let method = parts.method.clone();
    match (method, r.name.as_deref(), r.subresource.as_deref()) {
        // ------------------------------------------------------------------ collections
        (Method::GET, None, None) => {
            let opts = list_options(&query)?;
            let namespace = if rt.namespaced { r.namespace.as_deref() } else { None };
            if query.flag("watch") {
                let timeout = query.int("timeoutSeconds")?.filter(|t| *t > 0).map(|t| t as u64).unwrap_or(1800);
                let wreq = watch::WatchRequest {
                    rt: rt.clone(),
                    namespace: namespace.map(str::to_string),
                    selectors: opts,
                    resource_version: query.get("resourceVersion").map(str::to_string),
                    send_initial_events: query.flag("sendInitialEvents"),
                    bookmarks: query.flag("allowWatchBookmarks"),
                    timeout: Duration::from_secs(timeout),
                    representation,
                    include_object: include,
                };
                let rx = watch::start(cluster.clone(), wreq, state.shutdown.clone());
                let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
                let body = Body::from_stream(futures::StreamExt::map(stream, Ok::<_, std::convert::Infallible>));
                let content_type = match representation {
                    Representation::Table => "application/json;as=Table;v=v1;g=meta.k8s.io",
                    _ => "application/json",
                };
                return Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, content_type)
                    .header(header::CACHE_CONTROL, "no-cache, private")
                    .body(body)
                    .map_err(|e| ApiError::internal(e.to_string()));
            }
            let page = cluster.list(&rt, namespace, &opts)?;
            let items: Vec<std::borrow::Cow<'_, Value>> =
                page.items.iter().map(|o| convert::served_cow(&rt, o)).collect();
            let body = match representation {
                Representation::Table => {
                    let bytes = table::table_bytes(
                        &rt,
                        &items,
                        include,
                        cluster.clock().now(),
                        page.resource_version,
                        page.continue_token.as_deref(),
                    )
                    .map_err(|e| ApiError::internal(format!("the table could not be serialized: {e}")))?;
                    return Ok(bytes_response(bytes));
                }
                Representation::Metadata => {
                    table::partial_metadata_list(&items, page.resource_version, page.continue_token.as_deref())
                }
                Representation::Json => {
                    let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
                    if let Some(c) = &page.continue_token {
                        metadata["continue"] = json!(c);
                    }
                    if let Some(n) = page.remaining {
                        metadata["remainingItemCount"] = json!(n);
                    }
                    return Ok(list_response(&rt, &metadata, &items));
                }
            };
            Ok(json_response(StatusCode::OK, &body))
        }
        (Method::POST, None, None) => {
            let body = read_body(body).await?;
            let obj = request::decode_body(&content_type, &body)?;
            if rt.group == "authorization.k8s.io" || rt.group == "authentication.k8s.io" {
                let answer = reviews::review(&cluster, &rt, obj)?;
                let answer = crate::authz::self_review(&cluster, &parts.headers, &rt.kind, &answer).unwrap_or(answer);
                return Ok(json_response(StatusCode::CREATED, &answer));
            }
            if rt.namespaced && r.namespace.is_none() {
                return Err(ApiError::new(
                    Reason::MethodNotAllowed,
                    format!("{} must be created in a namespace", rt.plural),
                ));
            }
            let opts = write_options(&query, &parts.headers, "unknown")?;
            let created = cluster.create(&rt, &ns, obj, &opts)?;
            Ok(with_warnings(json_response(StatusCode::CREATED, &created), &opts))
        }
        (Method::DELETE, None, None) => {
            let opts = list_options(&query)?;
            let namespace = if rt.namespaced { r.namespace.as_deref() } else { None };
            let page = cluster.list(&rt, namespace, &ListOptions { limit: 0, continue_token: None, ..opts })?;
            // DeleteOptions come in the query or in the body (kube-rs sends them there, dryRun included).
            let body = read_body(body).await?;
            let body = if body.is_empty() { None } else { Some(request::decode_body(&content_type, &body)?) };
            let dopts = delete_options(&query, body.as_ref())?;
            let mut deleted = Vec::new();
            for obj in page.items {
                let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
                let obj_ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_string();
                match cluster.delete(&rt, &obj_ns, &name, &dopts) {
                    Ok(Deleted::Gone(o) | Deleted::Pending(o)) => deleted.push(o),
                    Err(e) if e.reason == Reason::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(json_response(
                StatusCode::OK,
                &json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": {}, "items": deleted}),
            ))
        }
        // ------------------------------------------------------------------ objects
        (Method::GET, Some(name), None | Some("status")) => {
            let obj = cluster.get(&rt, &ns, name)?;
            Ok(json_response(StatusCode::OK, &render_one(&cluster, &rt, obj, representation, include)))
        }
        (Method::PUT, Some(name), sub @ (None | Some("status") | Some("finalize"))) => {
            let body = read_body(body).await?;
            let obj = request::decode_body(&content_type, &body)?;
            let opts = write_options(&query, &parts.headers, "unknown")?;
            let part = if sub == Some("status") { Part::Status } else { Part::Main };
            let existed = cluster.get_raw(&rt, &ns, name).is_ok();
            let updated = cluster.update(&rt, &ns, name, obj, part, &opts)?;
            Ok(with_warnings(
                json_response(if existed { StatusCode::OK } else { StatusCode::CREATED }, &updated),
                &opts,
            ))
        }
        (Method::PATCH, Some(name), sub @ (None | Some("status"))) => {
            let patch_type = request::patch_type(&content_type)?;
            let body = read_body(body).await?;
            let patch = request::decode_body(
                if patch_type == crate::cluster::PatchType::Apply { "application/yaml" } else { "application/json" },
                &body,
            )?;
            if patch_type == crate::cluster::PatchType::Apply && query.get("fieldManager").is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(
                    "PATCH with application/apply-patch+yaml requires the fieldManager parameter",
                ));
            }
            let opts = write_options(&query, &parts.headers, "unknown")?;
            let part = if sub == Some("status") { Part::Status } else { Part::Main };
            let (obj, created) = cluster.patch(&rt, &ns, name, patch_type, &patch, part, &opts)?;
            Ok(with_warnings(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &obj), &opts))
        }
        (Method::DELETE, Some(name), None) => {
            let body = read_body(body).await?;
            let body = if body.is_empty() { None } else { Some(request::decode_body(&content_type, &body)?) };
            let opts = delete_options(&query, body.as_ref())?;
            match cluster.delete(&rt, &ns, name, &opts)? {
                Deleted::Gone(obj) | Deleted::Pending(obj) => Ok(json_response(StatusCode::OK, &obj)),
            }
        }
        // ------------------------------------------------------------------ subresources
        (method, Some(name), Some("scale")) => reviews::scale(
            &cluster,
            &rt,
            &ns,
            name,
            &method,
            &content_type,
            read_body(body).await?,
            &query,
            &parts.headers,
        )
        .map(|(code, v)| json_response(code, &v)),
        (Method::GET, Some(name), Some("log")) if rt.kind == "Pod" => {
            logs::pod_logs(&cluster, &ns, name, &query, state.shutdown.clone()).await
        }
        (Method::POST, Some(name), Some("eviction")) if rt.kind == "Pod" => {
            let body = read_body(body).await?;
            let eviction = if body.is_empty() { json!({}) } else { request::decode_body(&content_type, &body)? };
            reviews::evict(&cluster, &ns, name, &eviction, query.dry_run()?)?;
            Ok(json_response(StatusCode::CREATED, &success_status(json!({"name": name, "kind": "pods"}))))
        }
        (Method::POST, Some(name), Some("binding")) if rt.kind == "Pod" => {
            let body = read_body(body).await?;
            let binding = request::decode_body(&content_type, &body)?;
            reviews::bind(&cluster, &ns, name, &binding, query.dry_run()?)?;
            Ok(json_response(StatusCode::CREATED, &success_status(json!({"name": name, "kind": "pods"}))))
        }
        (Method::POST, Some(name), Some("token")) if rt.kind == "ServiceAccount" => {
            let body = read_body(body).await?;
            let request = if body.is_empty() { json!({}) } else { request::decode_body(&content_type, &body)? };
            Ok(json_response(StatusCode::CREATED, &reviews::token(&cluster, &ns, name, request)?))
        }
        (_, Some(name), Some("exec")) if rt.kind == "Pod" => {
            let websocket = parts
                .headers
                .get(header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            if !websocket {
                return Err(ApiError::bad_request(
                    "exec needs a WebSocket upgrade with the v5.channel.k8s.io or v4.channel.k8s.io protocol; SPDY is not supported by the simulated cluster",
                ));
            }
            let req = exec::ExecRequest {
                namespace: ns.clone(),
                pod: name.to_string(),
                container: query.get("container").map(str::to_string),
                command: query.all("command"),
                stdin: query.flag("stdin"),
            };
            let mut parts = parts;
            let ws = <axum::extract::ws::WebSocketUpgrade as axum::extract::FromRequestParts<()>>::from_request_parts(
                &mut parts,
                &(),
            )
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot upgrade to a WebSocket: {e}")))?;
            exec::upgrade(ws, cluster.clone(), req)
        }
        (_, Some(_), Some(sub)) => Err(ApiError::new(
            Reason::NotFound,
            format!("the server could not find the requested resource ({} {sub})", rt.plural),
        )),
        (method, _, _) => Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!("the server does not allow the {method} method on {}", rt.plural),
        )),
    }
}

fn render_one(
    cluster: &Cluster,
    rt: &ResourceType,
    obj: Value,
    representation: Representation,
    include: IncludeObject,
) -> Value {
    match representation {
        Representation::Json => obj,
        Representation::Metadata => table::partial_metadata(&obj),
        Representation::Table => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            table::table(rt, &[obj], include, cluster.clock().now(), rv, None)
        }
    }
}

fn delete_options(query: &Query, body: Option<&Value>) -> ApiResult<DeleteOptions> {
    let from_body = |field: &str| body.and_then(|b| b.get(field));
    let propagation =
        match query.get("propagationPolicy").or_else(|| from_body("propagationPolicy").and_then(Value::as_str)) {
            None | Some("") => match from_body("orphanDependents").and_then(Value::as_bool) {
                Some(true) => Some(Propagation::Orphan),
                _ => None,
            },
            Some("Background") => Some(Propagation::Background),
            Some("Foreground") => Some(Propagation::Foreground),
            Some("Orphan") => Some(Propagation::Orphan),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "propagationPolicy must be Background, Foreground or Orphan, not {other:?}"
                )));
            }
        };
    let grace_period = match query.int("gracePeriodSeconds")? {
        Some(g) => Some(g),
        None => from_body("gracePeriodSeconds").and_then(Value::as_i64),
    };
    if grace_period.is_some_and(|g| g < 0) {
        return Err(ApiError::bad_request("gracePeriodSeconds must not be negative"));
    }
    let dry_run =
        query.dry_run()? || from_body("dryRun").and_then(Value::as_array).is_some_and(|d| d.iter().any(|x| x == "All"));
    Ok(DeleteOptions {
        propagation,
        grace_period,
        uid: from_body("preconditions").and_then(|p| p.get("uid")).and_then(Value::as_str).map(str::to_string),
        resource_version: from_body("preconditions")
            .and_then(|p| p.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run,
    })
}
