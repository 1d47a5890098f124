//! Validation of the Helm tools' arguments. Everything that reaches the `helm` command line is checked
//! here first: release names, chart references, versions, repository names and URLs, search keywords,
//! values YAML and timeouts. None of them can start with `-`, so none can be read as a flag.

use crate::error::ToolError;
use crate::validate;
use regex::Regex;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

/// A Helm release name: a DNS-1123 subdomain of at most 53 characters.
pub fn release(name: &str) -> Result<(), ToolError> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let ok = name.len() <= 53
        && re(&RE, r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
            .is_some_and(|r| r.is_match(name));
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "release name {name:?} is not valid: lower case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 53 characters"
        )))
    }
}

/// A chart repository name (as `helm repo add` names it).
pub fn repo_name(name: &str) -> Result<(), ToolError> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let ok = re(&RE, r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$").is_some_and(|r| r.is_match(name));
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "repository name {name:?} is not valid: letters, digits, '.', '_' and '-', at most 63 characters, not starting with a symbol"
        )))
    }
}

/// A URL without credentials, query or fragment, with one of the given schemes.
fn clean_url(raw: &str, schemes: &[&str], what: &str) -> Result<url::Url, ToolError> {
    let bad = |why: &str| ToolError::invalid(format!("{what} {raw:?} is not valid: {why}"));
    if raw.len() > 2048 || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("too long, or contains spaces or control characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if !schemes.contains(&url.scheme()) {
        return Err(bad(&format!("the scheme must be one of {schemes:?}")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials must not be in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    Ok(url)
}

/// A chart repository URL (`https://charts.example.com/stable`).
pub fn repo_url(raw: &str) -> Result<(), ToolError> {
    clean_url(raw, &["http", "https"], "repository URL").map(|_| ())
}

/// A chart reference: `repo/chart`, `oci://registry/path/chart`, an `http(s)://.../chart.tgz` URL, or
/// an absolute path to a chart directory or archive on the server.
pub fn chart(reference: &str) -> Result<(), ToolError> {
    static REPO_CHART: OnceLock<Option<Regex>> = OnceLock::new();
    static PATH: OnceLock<Option<Regex>> = OnceLock::new();
    let bad = || {
        ToolError::invalid(format!(
            "chart {reference:?} is not valid: use repo/chart (after helm_repo_add), oci://registry/path/chart, an https URL of a .tgz, or an absolute path on the server"
        ))
    };
    if reference.is_empty() || reference.len() > 1024 || reference.starts_with('-') {
        return Err(bad());
    }
    if reference.starts_with("oci://") {
        let url = clean_url(reference, &["oci"], "chart reference")?;
        if url.path().len() <= 1 || url.path().contains("..") {
            return Err(bad());
        }
        return Ok(());
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        let url = clean_url(reference, &["http", "https"], "chart URL")?;
        if !url.path().ends_with(".tgz") {
            return Err(ToolError::invalid(format!("chart URL {reference:?} must point at a packaged chart (.tgz)")));
        }
        return Ok(());
    }
    if reference.starts_with('/') {
        let ok = re(&PATH, r"^(/[A-Za-z0-9._-]+)+/?$").is_some_and(|r| r.is_match(reference))
            && !reference.split('/').any(|s| s == "..");
        return if ok { Ok(()) } else { Err(bad()) };
    }
    if re(&REPO_CHART, r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}/[a-z0-9][a-z0-9._-]{0,99}$")
        .is_some_and(|r| r.is_match(reference))
    {
        return Ok(());
    }
    Err(bad())
}

/// A chart version or version constraint (`1.2.3`, `^1.2`, `>=1.0.0 <2.0.0`).
pub fn version(v: &str) -> Result<(), ToolError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && !v.starts_with('-')
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '.' | '+' | '-' | '^' | '~' | '<' | '>' | '=' | '*' | ',' | ' ' | '|')
        });
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!("chart version {v:?} is not valid (e.g. 1.2.3, ^1.2 or >=1.0.0 <2.0.0)")))
    }
}

/// A search keyword.
pub fn keyword(k: &str) -> Result<(), ToolError> {
    let ok = !k.is_empty()
        && k.len() <= 100
        && !k.starts_with('-')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ' '));
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "search keyword {k:?} is not valid: letters, digits, '.', '_', '-', '/' and spaces, at most 100 characters"
        )))
    }
}

/// Values YAML: at most 1 MiB, a mapping (or empty). Returns it parsed, for checks and redaction.
pub fn values(yaml: &str) -> Result<serde_json::Value, ToolError> {
    if yaml.len() > 1024 * 1024 {
        return Err(ToolError::invalid("values are larger than 1 MiB"));
    }
    let parsed: serde_json::Value =
        serde_norway::from_str(yaml).map_err(|e| ToolError::invalid(format!("values are not valid YAML: {e}")))?;
    match parsed {
        serde_json::Value::Object(_) => Ok(parsed),
        serde_json::Value::Null => Ok(serde_json::json!({})),
        _ => Err(ToolError::invalid("values must be a YAML mapping (key: value), e.g. `replicaCount: 2`")),
    }
}

/// A helm `--timeout` (`5m`, `90s`); at most an hour. Returns seconds.
pub fn timeout(t: &str) -> Result<u64, ToolError> {
    let secs = validate::duration_secs(t)?;
    if secs == 0 || secs > 3600 {
        return Err(ToolError::invalid(format!("timeout {t:?} must be between 1s and 1h")));
    }
    Ok(secs)
}

/// An optional namespace.
pub fn namespace(ns: Option<&str>) -> Result<(), ToolError> {
    match ns {
        Some(ns) => validate::namespace(ns),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_reach_helm_are_checked() {
        assert!(release("podinfo").is_ok());
        assert!(release("--set").is_err());
        assert!(release("Podinfo").is_err());
        assert!(release(&"a".repeat(54)).is_err());
        for ok in [
            "bitnami/nginx",
            "oci://ghcr.io/stefanprodan/charts/podinfo",
            "https://example.com/charts/app-1.0.0.tgz",
            "/srv/charts/app",
            "/tmp/x/app-0.1.0.tgz",
        ] {
            assert!(chart(ok).is_ok(), "{ok}");
        }
        for bad in [
            "--repo=x",
            "nginx",
            "a/b/c",
            "/srv/../etc",
            "https://u:p@example.com/x.tgz",
            "https://example.com/x",
            "file:///etc/passwd",
            "oci://",
            "repo/chart;rm",
        ] {
            assert!(chart(bad).is_err(), "{bad}");
        }
        assert!(version("^1.2").is_ok() && version("-1").is_err());
        assert!(repo_name("bitnami").is_ok() && repo_name("-x").is_err());
        assert!(
            repo_url("https://charts.bitnami.com/bitnami").is_ok()
                && repo_url("ftp://x").is_err()
                && repo_url("https://u:p@x").is_err()
        );
        assert!(values("a: 1\nb: {c: d}").is_ok() && values("- a").is_err() && values("a: [").is_err());
        assert_eq!(values("").ok(), Some(serde_json::json!({})));
        assert_eq!(timeout("5m").ok(), Some(300));
        assert!(timeout("2h").is_err());
        assert!(keyword("nginx").is_ok() && keyword("--devel").is_err());
    }
}
