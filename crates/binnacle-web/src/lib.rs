//! The Command Center, embedded: the built web app (`web/dist`, built by this crate's build script with
//! npm) compiled into the binary and served as the fallback of the API router.
//!
//! * Files get their `Content-Type`, a strong `ETag` (`If-None-Match` answers `304`), and caching:
//!   hashed `assets/*` are immutable for a year, everything else (`index.html`) is `no-cache`.
//!   Text files are stored gzipped too and sent so when the client accepts it.
//! * Single-page app: a `GET` for any other path (a deep link such as `/conversations/abc`) answers
//!   `index.html`; a missing `/assets/...` file is a plain `404` (never HTML in place of a script).
//! * `/api`, `/api/...` and `/metrics/...` never get the app: a JSON `404` in the API's error format, so a
//!   typo in an API path stays an API error.
//! * Every answer has `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; HTML has a
//!   Content-Security-Policy that allows only same-origin scripts, styles, images and connections
//!   ([`CONTENT_SECURITY_POLICY`]).
//! * When the app was not built (no npm, a failed build, `BINNACLE_WEB_SKIP_BUILD=1`), every page is a
//!   placeholder that says so and how to build it ([`not_built_reason`]).
//!
//! ```no_run
//! # fn api() -> axum::Router { axum::Router::new() }
//! let app = api().fallback_service(binnacle_web::router());
//! ```

// `compressible` is for the build script.
#[allow(dead_code)]
mod shared;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use std::collections::HashMap;
use std::sync::Arc;

/// The Content-Security-Policy of every HTML answer: scripts, styles, images and connections from this
/// origin only (inline styles allowed, `data:` images), no framing, no `<base>` or form posts elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// `Cache-Control` of content-hashed files under `assets/`.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: always revalidate (cheap with the ETag).
const REVALIDATE: &str = "no-cache";

const PLACEHOLDER: &str = include_str!("placeholder.html");

/// One file of the embedded build, as the build script lists it.
struct Embedded {
    path: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
    etag: &'static str,
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Why a [`Site`] cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A single-page app needs its `index.html`.
    #[error("the site has no index.html")]
    MissingIndex,
    /// A path must be relative, with `/` separators and no empty, `.` or `..` segments.
    #[error("invalid file path {0:?}: use a relative path such as assets/app.js")]
    InvalidPath(String),
}

/// One file to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    path: String,
    body: Bytes,
    gzip: Option<Bytes>,
    etag: String,
}

impl Asset {
    /// A file at `path` (relative to the site root, e.g. `assets/app-1a2b.js`).
    pub fn new(path: impl Into<String>, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        Self { path: path.into(), etag: shared::etag(&body), body, gzip: None }
    }

    /// The same file gzipped, sent to clients that accept gzip.
    pub fn with_gzip(mut self, gzip: impl Into<Bytes>) -> Self {
        self.gzip = Some(gzip.into());
        self
    }

    /// Its path, relative to the site root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its contents.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// A set of files served as a single-page app (see the crate docs for the rules).
#[derive(Debug, Clone)]
pub struct Site {
    files: HashMap<String, Asset>,
    not_built: Option<String>,
}

impl Site {
    /// A site of these files; one must be `index.html`.
    pub fn new(assets: impl IntoIterator<Item = Asset>) -> Result<Self, WebError> {
        let mut files = HashMap::new();
        for asset in assets {
            if asset.path.is_empty() || asset.path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
                return Err(WebError::InvalidPath(asset.path));
            }
            files.insert(asset.path.clone(), asset);
        }
        if !files.contains_key("index.html") {
            return Err(WebError::MissingIndex);
        }
        Ok(Self { files, not_built: None })
    }

    /// The page served when the app was not built, saying `reason` and how to build it.
    pub fn placeholder(reason: &str) -> Self {
        let html = PLACEHOLDER.replace("{{REASON}}", &escape_html(reason));
        let index = Asset::new("index.html", html);
        Self { files: HashMap::from([(index.path.clone(), index)]), not_built: Some(reason.to_string()) }
    }

    /// The build embedded in this binary (or the placeholder, when there was none).
    pub fn embedded() -> Self {
        if let Some(reason) = embedded::NOT_BUILT {
            return Self::placeholder(reason);
        }
        let files: HashMap<String, Asset> = embedded::FILES
            .iter()
            .map(|f| {
                let asset = Asset {
                    path: f.path.to_string(),
                    body: Bytes::from_static(f.body),
                    gzip: f.gzip.map(Bytes::from_static),
                    etag: f.etag.to_string(),
                };
                (asset.path.clone(), asset)
            })
            .collect();
        if !files.contains_key("index.html") {
            return Self::placeholder("the build in web/dist has no index.html");
        }
        Self { files, not_built: None }
    }

    /// Why the app is not built in (this is a placeholder), or `None` for a real build.
    pub fn not_built_reason(&self) -> Option<&str> {
        self.not_built.as_deref()
    }

    /// The file at `path` (relative to the site root), if any.
    pub fn file(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }

    /// The answer to a request: `path` is the request's path (without the query), `headers` its headers.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response<Body> {
        if is_api(path) {
            return api_not_found(path);
        }
        if method != Method::GET && method != Method::HEAD {
            let mut res =
                plain(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed: the web app is read with GET\n");
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        let key = path.trim_start_matches('/');
        let (asset, cache) = match self.files.get(key) {
            Some(asset) if key.starts_with("assets/") => (asset, IMMUTABLE),
            Some(asset) => (asset, REVALIDATE),
            None if key.starts_with("assets/") => {
                return plain(StatusCode::NOT_FOUND, "404 not found: no such file in this build of the web app\n");
            }
            // The single-page app's own routes (deep links) load the app, which routes in the browser.
            None => match self.files.get("index.html") {
                Some(index) => (index, REVALIDATE),
                None => return plain(StatusCode::NOT_FOUND, "404 not found\n"),
            },
        };
        let gzip = asset.gzip.as_ref().filter(|_| accepts_gzip(headers));
        let etag = match gzip {
            Some(_) => format!("{}-gzip\"", asset.etag.trim_end_matches('"')),
            None => asset.etag.clone(),
        };
        let content_type = shared::content_type(&asset.path);
        let mut builder = Response::builder().header(header::CACHE_CONTROL, cache);
        if asset.gzip.is_some() {
            builder = builder.header(header::VARY, "accept-encoding");
        }
        if content_type.starts_with("text/html") {
            builder = builder.header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
        }
        let not_modified = if_none_match(headers, &asset.etag, &etag);
        let body = gzip.unwrap_or(&asset.body);
        let mut res = if not_modified {
            builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
        } else {
            builder = builder
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, body.len());
            if gzip.is_some() {
                builder = builder.header(header::CONTENT_ENCODING, "gzip");
            }
            let body = if method == Method::HEAD { Body::empty() } else { Body::from(body.clone()) };
            builder.body(body)
        }
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "500 internal error\n"));
        if let Ok(v) = HeaderValue::from_str(&etag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        common_headers(res.headers_mut());
        res
    }

    /// This site as an axum router that answers every request (use it as the API router's fallback).
    pub fn router(self) -> Router {
        let site = Arc::new(self);
        Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let site = Arc::clone(&site);
            async move { site.respond(&method, uri.path(), &headers) }
        })
    }
}

/// The embedded Command Center as a router that answers every request: use it as the fallback of the
/// API router (`api.fallback_service(binnacle_web::router())`).
pub fn router() -> Router {
    Site::embedded().router()
}

/// Why this binary has no Command Center (it serves a placeholder page), or `None` when it has one.
pub fn not_built_reason() -> Option<&'static str> {
    embedded::NOT_BUILT
}

/// Paths that belong to the API, whatever the API router did not answer.
fn is_api(path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    under("/api") || under("/metrics")
}

/// The API's JSON 404 (`{"error": {"code", "message"}}`), for API paths the API router did not serve.
fn api_not_found(path: &str) -> Response<Body> {
    let message = format!("no API endpoint {path}; GET /api/v1/openapi.json lists them");
    let body = format!(r#"{{"error":{{"code":"not_found","message":"{}"}}}}"#, escape_json(&message));
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::NOT_FOUND;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    common_headers(res.headers_mut());
    res
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut res = Response::new(Body::from(text));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    common_headers(res.headers_mut());
    res
}

fn common_headers(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*` with a non-zero quality).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((k, v)) = param.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

/// Whether `If-None-Match` names the file (either representation; weak comparison, as RFC 9110 asks).
fn if_none_match(headers: &HeaderMap, identity: &str, sent: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || tag == identity || tag == sent
        },
    )
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn escape_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
