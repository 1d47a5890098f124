//! The Jenkins connection every Jenkins tool uses: which Jenkins (URL from the call or the server's
//! settings), whose credentials (a Kubernetes Secret with `username` and `api-token`, read through kube-rs
//! and never logged or returned), bounded HTTP with timeouts, CSRF crumbs on every POST, and Jenkins'
//! answers mapped to [`ToolError`]s that say what to do.

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::validate;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// How long one HTTP request to Jenkins may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to Jenkins may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading the credentials Secret may take.
pub const SECRET_TIMEOUT: Duration = Duration::from_secs(5);
/// The most JSON read from one answer.
pub const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;

/// Checks a Jenkins base URL: `http` or `https`, a host, no user info, query or fragment.
pub fn check_url(raw: &str) -> Result<url::Url, ToolError> {
    let bad = |why: &str| {
        ToolError::invalid(format!(
            "Jenkins URL {raw:?} is not valid: {why} (e.g. https://jenkins.example.com or https://ci.example.com/jenkins)"
        ))
    };
    if raw.len() > 2048 || raw.chars().any(char::is_control) {
        return Err(bad("too long or contains control characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials must not be in the URL; put them in the credentials Secret"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    Ok(url)
}

/// Checks the per-call Jenkins arguments (URL, credentials Secret reference) before anything runs.
pub fn check_target(url: Option<&str>, secret: Option<&str>) -> Result<(), ToolError> {
    if let Some(u) = url {
        check_url(u)?;
    }
    if let Some(s) = secret {
        validate::secret_ref(s)?;
    }
    Ok(())
}

/// Checks a job path and a build number together.
pub fn check_job(job: &str) -> Result<(), ToolError> {
    validate::jenkins_job(job)
}

/// Percent-encodes one path segment (unreserved characters kept).
fn encode_segment(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Maps a validated job path `folder/job` to Jenkins' URL path `/job/folder/job/job`.
pub fn job_url_path(job: &str) -> String {
    job.split('/').map(|seg| format!("/job/{}", encode_segment(seg))).collect()
}

/// The URL path of a build: a number, or `lastBuild` when none is given.
pub fn build_url_path(job: &str, number: Option<u64>) -> String {
    match number {
        Some(n) => format!("{}/{n}", job_url_path(job)),
        None => format!("{}/lastBuild", job_url_path(job)),
    }
}

fn http() -> Result<&'static reqwest::Client, ToolError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(HTTP_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("binnacle/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ToolError::Internal(format!("cannot build the HTTP client: {e}")))
}

/// A Jenkins server with the credentials to use. `Debug` never shows the credentials.
pub struct Jenkins {
    base: String,
    auth: Option<(String, String)>,
    secret_ref: Option<String>,
}

impl std::fmt::Debug for Jenkins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jenkins").field("base", &self.base).field("secret", &self.secret_ref).finish()
    }
}

/// What a request was about, for error messages ("job team/api", "build #3 of team/api").
pub type What<'a> = &'a str;

/// A bounded answer: status, headers, body bytes, and whether the body was cut.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, at most the limit asked for.
    pub body: Vec<u8>,
    /// True when the body was longer than the limit.
    pub truncated: bool,
}

/// Resolves which Jenkins and which credentials a call uses, validates them, and reads the credentials.
pub async fn connect(ctx: &ToolContext, url: Option<&str>, secret: Option<&str>) -> Result<Jenkins, ToolError> {
    let raw_url = url.map(str::to_string).or_else(|| ctx.settings().jenkins_url.clone()).ok_or_else(|| {
        ToolError::invalid("no Jenkins URL: pass `url` or start the server with a default Jenkins URL")
    })?;
    let parsed = check_url(&raw_url)?;
    let secret_ref = secret.map(str::to_string).or_else(|| ctx.settings().jenkins_secret.clone());
    let secret_parts = match &secret_ref {
        Some(s) => Some(validate::secret_ref(s)?),
        None => None,
    };
    let base = parsed.as_str().trim_end_matches('/').to_string();
    let auth = match secret_parts {
        Some((ns, name)) => Some(read_credentials(ctx, &ns, &name).await?),
        None => None,
    };
    Ok(Jenkins { base, auth, secret_ref })
}

/// Reads `username` and `api-token` from a Secret, within [`SECRET_TIMEOUT`].
async fn read_credentials(ctx: &ToolContext, ns: &str, name: &str) -> Result<(String, String), ToolError> {
    let client = ctx.kube().await?;
    let api: Api<Secret> = Api::namespaced(client, ns);
    let secret = tokio::time::timeout(SECRET_TIMEOUT, api.get(name))
        .await
        .map_err(|_| ToolError::Unavailable(format!("reading the Jenkins credentials Secret {ns}/{name} took longer than {} s", SECRET_TIMEOUT.as_secs())))?
        .map_err(|e| match ToolError::from(e) {
            ToolError::NotFound(_) => ToolError::NotFound(format!("the Jenkins credentials Secret {ns}/{name} does not exist in this context; create it with keys `username` and `api-token`")),
            ToolError::Forbidden(m) => ToolError::Forbidden(format!("cannot read the Jenkins credentials Secret {ns}/{name}: {m}")),
            other => other,
        })?;
    let data = secret.data.unwrap_or_default();
    let key = |k: &str| -> Result<String, ToolError> {
        let bytes = data.get(k).map(|b| b.0.clone()).ok_or_else(|| {
            ToolError::invalid(format!(
                "the Secret {ns}/{name} has no `{k}` key; a Jenkins credentials Secret needs `username` and `api-token`"
            ))
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ToolError::invalid(format!("the `{k}` key of Secret {ns}/{name} is not UTF-8 text")))?;
        let text = text.trim().to_string();
        if text.is_empty() || text.chars().any(char::is_control) {
            return Err(ToolError::invalid(format!(
                "the `{k}` key of Secret {ns}/{name} is empty or holds control characters"
            )));
        }
        Ok(text)
    };
    Ok((key("username")?, key("api-token")?))
}

impl Jenkins {
    /// The base URL (no trailing slash; never credentials).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of a path on this Jenkins.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, ToolError> {
        let mut req = http()?.request(method, self.url(path));
        if let Some((user, token)) = &self.auth {
            req = req.basic_auth(user, Some(token));
        }
        Ok(req)
    }

    fn transport_error(&self, e: reqwest::Error) -> ToolError {
        if e.is_timeout() {
            ToolError::Timeout(HTTP_TIMEOUT.as_secs())
        } else {
            // reqwest's message names the URL, which never carries credentials (checked above).
            ToolError::Unavailable(format!(
                "cannot reach Jenkins at {}: {e}; check the URL and that Jenkins is up",
                self.base
            ))
        }
    }

    /// Maps a Jenkins error status to a [`ToolError`].
    pub fn status_error(&self, status: StatusCode, what: What<'_>, body: &[u8]) -> ToolError {
        let text = String::from_utf8_lossy(&body[..body.len().min(2000)]).to_string();
        let snippet = crate::output::untrusted_text(text.trim());
        let creds = match &self.secret_ref {
            Some(s) => format!("the credentials in Secret {s}"),
            None => "anonymous access (no credentials Secret configured)".to_string(),
        };
        match status.as_u16() {
            401 => ToolError::Forbidden(format!(
                "Jenkins at {} refused {creds} (401) for {what}: check that the Secret's `username` is a Jenkins user and `api-token` is a current API token of that user (Jenkins → your user → Security → API Token)",
                self.base
            )),
            403 if snippet.to_ascii_lowercase().contains("crumb") => ToolError::Forbidden(format!(
                "Jenkins at {} rejected the CSRF crumb for {what} (403): {snippet}",
                self.base
            )),
            403 => ToolError::Forbidden(format!(
                "Jenkins at {} answered 403 for {what}: the user from {creds} lacks the permission, or the api-token is wrong",
                self.base
            )),
            404 => ToolError::NotFound(format!(
                "{what} not found on Jenkins at {}: check the job path (folders separated by '/') and the build number",
                self.base
            )),
            400 | 405 | 409 | 422 => ToolError::InvalidArguments(format!(
                "Jenkins at {} rejected the request for {what} ({status}): {snippet}",
                self.base
            )),
            _ => ToolError::Unavailable(format!("Jenkins at {} answered {status} for {what}: {snippet}", self.base)),
        }
    }

    /// Reads at most `limit` bytes of a response body.
    async fn read_limited(&self, mut resp: reqwest::Response, limit: usize) -> Result<Answer, ToolError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            let room = limit.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, headers, body, truncated })
    }

    /// GETs a path and returns the bounded answer whatever its status.
    pub async fn get_raw(&self, path: &str, limit: usize) -> Result<Answer, ToolError> {
        let resp = self.request(Method::GET, path)?.send().await.map_err(|e| self.transport_error(e))?;
        self.read_limited(resp, limit).await
    }

    /// GETs a path, failing on any non-2xx status.
    pub async fn get_ok(&self, path: &str, what: What<'_>, limit: usize) -> Result<Answer, ToolError> {
        let answer = self.get_raw(path, limit).await?;
        if !answer.status.is_success() {
            return Err(self.status_error(answer.status, what, &answer.body));
        }
        Ok(answer)
    }

    /// GETs JSON from a path (`/api/json?tree=...`).
    pub async fn get_json(&self, path: &str, what: What<'_>) -> Result<Value, ToolError> {
        let answer = self.get_ok(path, what, MAX_JSON_BYTES).await?;
        if answer.truncated {
            return Err(ToolError::Unavailable(format!(
                "Jenkins' answer for {what} is larger than {} MiB",
                MAX_JSON_BYTES / (1024 * 1024)
            )));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            ToolError::Unavailable(format!(
                "Jenkins at {} did not answer JSON for {what}: {e}; is the URL a Jenkins?",
                self.base
            ))
        })
    }

    /// GETs a streaming response (console logs).
    pub async fn get_stream(&self, path: &str, what: What<'_>) -> Result<reqwest::Response, ToolError> {
        let resp = self.request(Method::GET, path)?.send().await.map_err(|e| self.transport_error(e))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let answer = self.read_limited(resp, 4096).await?;
            return Err(self.status_error(status, what, &answer.body));
        }
        Ok(resp)
    }

    /// Maps a transport error while streaming.
    pub fn stream_error(&self, e: reqwest::Error) -> ToolError {
        self.transport_error(e)
    }

    /// Asks the crumb issuer for a CSRF crumb (`None` when CSRF protection is off: 404). Returns the
    /// header name and value, and the session cookie the crumb is bound to.
    async fn crumb(&self) -> Result<Option<(String, String, Option<String>)>, ToolError> {
        let answer = self.get_raw("/crumbIssuer/api/json", 64 * 1024).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(self.status_error(answer.status, "the CSRF crumb issuer", &answer.body));
        }
        let v: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| ToolError::Unavailable(format!("Jenkins' crumb issuer did not answer JSON: {e}")))?;
        let field = v.get("crumbRequestField").and_then(Value::as_str).unwrap_or("Jenkins-Crumb").to_string();
        let crumb = v
            .get("crumb")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::Unavailable("Jenkins' crumb issuer answered without a crumb".into()))?
            .to_string();
        // The crumb is bound to the web session: send its cookies back.
        let cookies: Vec<String> = answer
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next().map(|s| s.trim().to_string()))
            .filter(|c| c.contains('='))
            .collect();
        let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
        Ok(Some((field, crumb, cookie)))
    }

    /// POSTs a form (after fetching a crumb) and returns the answer, failing on statuses other than 2xx
    /// and 3xx (Jenkins answers many actions with a redirect).
    pub async fn post_form(&self, path: &str, form: &[(String, String)], what: What<'_>) -> Result<Answer, ToolError> {
        let crumb = self.crumb().await?;
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form.iter()).finish();
        let mut req = self
            .request(Method::POST, path)?
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some((field, value, cookie)) = crumb {
            let header_value = HeaderValue::from_str(&value)
                .map_err(|_| ToolError::Unavailable("Jenkins' crumb is not a valid header value".into()))?;
            req = req.header(field.as_str(), header_value);
            if let Some(hv) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
                req = req.header(reqwest::header::COOKIE, hv);
            }
        }
        let resp = req.send().await.map_err(|e| self.transport_error(e))?;
        let answer = self.read_limited(resp, 64 * 1024).await?;
        if !(answer.status.is_success() || answer.status.is_redirection()) {
            return Err(self.status_error(answer.status, what, &answer.body));
        }
        Ok(answer)
    }
}

/// A Jenkins millisecond timestamp as RFC 3339.
pub fn millis_to_rfc3339(ms: Option<i64>) -> Option<String> {
    let ms = ms.filter(|m| *m > 0)?;
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_string())
}

/// Jenkins' `_class` without its package (`hudson.model.FreeStyleProject` → `FreeStyleProject`).
pub fn short_class(v: &Value) -> String {
    v.get("_class")
        .and_then(Value::as_str)
        .map(|c| c.rsplit(['.', '$']).next().unwrap_or(c).to_string())
        .unwrap_or_default()
}

/// The kind of a job from its class: `folder`, `pipeline`, `multibranch`, `freestyle` or `other`.
pub fn job_kind(class: &str) -> &'static str {
    match class {
        c if c.contains("MultiBranch") || c.contains("OrganizationFolder") => "multibranch",
        c if c.ends_with("Folder") => "folder",
        c if c.contains("Workflow") => "pipeline",
        c if c.contains("FreeStyle") || c.contains("Maven") || c.contains("Matrix") => "freestyle",
        _ => "other",
    }
}

/// A job's colour as a status (`blue` → `success`, `red_anime` → `failed` and building).
pub fn color_status(color: &str) -> (String, bool) {
    let building = color.ends_with("_anime");
    let base = color.trim_end_matches("_anime");
    let status = match base {
        "blue" | "green" => "success",
        "red" => "failed",
        "yellow" => "unstable",
        "aborted" => "aborted",
        "notbuilt" | "nobuilt" => "never built",
        "disabled" | "grey" => "disabled",
        "" => "unknown",
        other => other,
    };
    (status.to_string(), building)
}

/// A string field, sanitised (it came from Jenkins).
pub fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(crate::output::untrusted_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(check_url("https://ci.example.com/jenkins/").is_ok());
        assert!(check_url("ftp://ci").is_err());
        assert!(check_url("https://u:p@ci").is_err());
        assert!(check_url("https://ci/?x=1").is_err());
        assert!(check_url("not a url").is_err());
        assert_eq!(job_url_path("team/app build"), "/job/team/job/app%20build");
        assert_eq!(build_url_path("a", Some(3)), "/job/a/3");
        assert_eq!(build_url_path("a", None), "/job/a/lastBuild");
        assert_eq!(color_status("red_anime"), ("failed".into(), true));
        assert_eq!(job_kind("com.cloudbees.hudson.plugins.folder.Folder"), "folder");
        assert_eq!(short_class(&serde_json::json!({"_class": "hudson.model.Queue$LeftItem"})), "LeftItem");
    }
}
