//! Argument validation shared by tools: Kubernetes names, namespaces, label and field selectors, image
//! references, durations, Jenkins job paths and Secret references. Each returns a message that says what
//! was wrong.

use crate::error::ToolError;
use binnacle_objects::names;
use binnacle_objects::selector::{FieldSelector, LabelSelector};

/// A namespace (DNS-1123 label).
pub fn namespace(ns: &str) -> Result<(), ToolError> {
    names::check_dns1123_label(ns).map_err(|e| ToolError::invalid(format!("namespace {ns:?} is not valid: {e}")))
}

/// An object name (DNS-1123 subdomain; RBAC names may be any path segment).
pub fn object_name(name: &str) -> Result<(), ToolError> {
    names::check_dns1123_subdomain(name)
        .or_else(|_| if name.contains(':') { names::check_path_segment(name) } else { Err(String::new()) })
        .map_err(|_| ToolError::invalid(format!("name {name:?} is not a valid Kubernetes object name (lower case letters, digits, '-' and '.', at most 253 characters)")))
}

/// A label selector string.
pub fn label_selector(s: &str) -> Result<(), ToolError> {
    LabelSelector::parse(s)
        .map(|_| ())
        .map_err(|e| ToolError::invalid(format!("label selector {s:?} is not valid: {e}")))
}

/// A field selector string.
pub fn field_selector(s: &str) -> Result<(), ToolError> {
    FieldSelector::parse(s)
        .map(|_| ())
        .map_err(|e| ToolError::invalid(format!("field selector {s:?} is not valid: {e}")))
}

/// A container image reference (`registry:port/repo/name:tag@sha256:...`).
pub fn image(image: &str) -> Result<(), ToolError> {
    let ok = !image.is_empty()
        && image.len() <= 512
        && !image.starts_with(['-', '/', ':', '@'])
        && image.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '@'))
        && image.split('@').count() <= 2;
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "image {image:?} is not a valid image reference (e.g. nginx:1.27 or ghcr.io/org/app@sha256:...)"
        )))
    }
}

/// A duration like `30s`, `5m`, `1h`, `1h30m`; returns seconds.
pub fn duration_secs(s: &str) -> Result<u64, ToolError> {
    let bad =
        || ToolError::invalid(format!("duration {s:?} is not valid: use a number with a unit, e.g. 30s, 5m, 1h30m"));
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad()),
        };
        total = total.checked_add(n.checked_mul(unit).ok_or_else(bad)?).ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// A Secret reference `namespace/name`.
pub fn secret_ref(s: &str) -> Result<(String, String), ToolError> {
    let (ns, name) = s
        .split_once('/')
        .ok_or_else(|| ToolError::invalid(format!("secret reference {s:?} must be namespace/name")))?;
    namespace(ns)?;
    names::check_dns1123_subdomain(name)
        .map_err(|e| ToolError::invalid(format!("secret name {name:?} is not valid: {e}")))?;
    Ok((ns.to_string(), name.to_string()))
}

/// A Jenkins job path (`folder/job`, each segment of safe characters).
pub fn jenkins_job(path: &str) -> Result<(), ToolError> {
    let ok = !path.is_empty()
        && path.len() <= 512
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        });
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "Jenkins job path {path:?} is not valid: use folder/job with letters, digits, '-', '_', '.' and spaces"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        assert!(namespace("shop").is_ok());
        assert!(namespace("Shop").is_err());
        assert!(object_name("web-1.x").is_ok());
        assert!(object_name("system:controller:foo").is_ok());
        assert!(object_name("--flag").is_err());
        assert!(label_selector("app in (a,b)").is_ok());
        assert!(label_selector("app in a").is_err());
        assert!(image("ghcr.io/acme/app:1.2@sha256:abc").is_ok());
        assert!(image("--privileged").is_err());
        assert!(image("nginx; rm -rf /").is_err());
        assert_eq!(duration_secs("1h30m").ok(), Some(5400));
        assert!(duration_secs("10").is_err());
        assert!(duration_secs("5x").is_err());
        assert_eq!(secret_ref("ci/jenkins-creds").ok(), Some(("ci".into(), "jenkins-creds".into())));
        assert!(secret_ref("jenkins").is_err());
        assert!(jenkins_job("team/app build").is_ok());
        assert!(jenkins_job("../etc").is_err());
    }
}
