//! Validation of object names, label keys and label values, with the API server's messages.

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;

fn is_label_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// Checks a DNS-1123 label (namespaces, Service names): lower case alphanumerics and '-', at most 63
/// characters, starting and ending with an alphanumeric.
pub fn check_dns1123_label(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a lowercase RFC 1123 label must not be empty".into());
    }
    if name.len() > DNS1123_LABEL_MAX {
        return Err(format!("must be no more than {DNS1123_LABEL_MAX} characters"));
    }
    let ok = name.chars().all(is_label_char)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    Ok(())
}

/// Checks a DNS-1123 subdomain (most object names): labels separated by '.', at most 253 characters.
pub fn check_dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if name.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!("must be no more than {DNS1123_SUBDOMAIN_MAX} characters"));
    }
    let ok = name.split('.').all(|l| {
        !l.is_empty()
            && l.chars().all(is_label_char)
            && l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && l.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
    });
    if !ok {
        return Err("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string());
    }
    Ok(())
}

/// Checks a path-segment name (RBAC objects and a few others allow anything but `/`, `%`, `.` and `..`).
pub fn check_path_segment(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("may not be '{name}'"));
    }
    if name.contains('/') || name.contains('%') {
        return Err("may not contain '/' or '%'".to_string());
    }
    Ok(())
}

fn is_qualified_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// Checks a qualified name (label and annotation keys): an optional DNS subdomain prefix and '/', then a
/// name of at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric.
pub fn check_qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns1123_subdomain(prefix).map_err(|e| format!("prefix part {e}"))?;
    }
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(is_qualified_char)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc'), with at most 63 characters".to_string());
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 alphanumerics, '-', '_' or '.', starting and ending with an
/// alphanumeric.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let ok = value.len() <= 63
        && value.chars().all(is_qualified_char)
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345'), with at most 63 characters".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_dns1123_label("web-1").is_ok());
        assert!(check_dns1123_label("Web").is_err());
        assert!(check_dns1123_label("-web").is_err());
        assert!(check_dns1123_label(&"a".repeat(64)).is_err());
        assert!(check_dns1123_subdomain("rollouts.argoproj.io").is_ok());
        assert!(check_dns1123_subdomain("a..b").is_err());
        assert!(check_qualified_name("app.kubernetes.io/name").is_ok());
        assert!(check_qualified_name("bad key").is_err());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("v1.2_3").is_ok());
        assert!(check_label_value("-x").is_err());
        assert!(check_path_segment("system:admin").is_ok());
        assert!(check_path_segment("a/b").is_err());
    }
}
