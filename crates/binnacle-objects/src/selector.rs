//! Label selectors (`app=web,tier in (fe,be),!canary`) and field selectors (`status.phase!=Running`).

use serde_json::Value;
use std::collections::BTreeSet;

/// A selector string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement {input:?}: {reason}")]
pub struct SelectorError {
    /// The offending part of the selector.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value` (also matches objects without the key).
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, BTreeSet<String>),
    /// `key notin (a,b)` (also matches objects without the key).
    NotIn(String, BTreeSet<String>),
    /// `key`: the label exists.
    Exists(String),
    /// `!key`: the label does not exist.
    DoesNotExist(String),
}

/// A label selector: all requirements must hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// The requirements, ANDed.
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the string form used in `?labelSelector=`.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(Self { requirements })
    }

    /// Builds a selector from the structured form (`matchLabels` and `matchExpressions`), as found in
    /// Deployment and Service specs. A Service `spec.selector` (a plain map) is accepted too.
    pub fn from_object(selector: &Value) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        let Some(map) = selector.as_object() else {
            return Ok(Self::default());
        };
        let is_structured = map.contains_key("matchLabels") || map.contains_key("matchExpressions");
        let labels = if is_structured { map.get("matchLabels").and_then(Value::as_object) } else { Some(map) };
        if let Some(labels) = labels {
            for (k, v) in labels {
                requirements.push(Requirement::Equals(k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        if let Some(exprs) = map.get("matchExpressions").and_then(Value::as_array) {
            for expr in exprs {
                let key = expr.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
                let values: BTreeSet<String> = expr
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| vs.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
                let op = expr.get("operator").and_then(Value::as_str).unwrap_or_default();
                requirements.push(match op {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::DoesNotExist(key),
                    other => {
                        return Err(SelectorError {
                            input: format!("{key} {other}"),
                            reason: "operator must be In, NotIn, Exists or DoesNotExist".into(),
                        });
                    }
                });
            }
        }
        Ok(Self { requirements })
    }

    /// True when the selector has no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a label map (`metadata.labels`, may be null) satisfies every requirement.
    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(obj.get("metadata").and_then(|m| m.get("labels")))
    }

    /// The string form (`a=b,c in (d,e)`), as shown in `kubectl get -o wide` selector columns.
    pub fn to_selector_string(&self) -> String {
        let join = |vs: &BTreeSet<String>| vs.iter().cloned().collect::<Vec<_>>().join(",");
        self.requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", join(vs)),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", join(vs)),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let err = |reason: &str| SelectorError { input: part.to_string(), reason: reason.to_string() };
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_label_key(key).map_err(|r| err(&r))?;
        return Ok(Requirement::DoesNotExist(key.to_string()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(checked_key(k, &err)?, checked_value(v, &err)?));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(checked_key(k, &err)?, checked_value(v, &err)?));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(checked_key(k, &err)?, checked_value(v, &err)?));
    }
    let tokens: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if tokens.len() == 2 {
        let key = checked_key(tokens[0], &err)?;
        let rest = tokens[1].trim_start();
        let (op, list) = if let Some(l) = rest.strip_prefix("notin") {
            ("notin", l)
        } else if let Some(l) = rest.strip_prefix("in") {
            ("in", l)
        } else {
            return Err(err("expected one of: =, ==, !=, in, notin"));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| err("a set must be in parentheses, e.g. (a,b)"))?;
        let mut values = BTreeSet::new();
        for v in inner.split(',') {
            values.insert(checked_value(v, &err)?);
        }
        return Ok(if op == "in" { Requirement::In(key, values) } else { Requirement::NotIn(key, values) });
    }
    Ok(Requirement::Exists(checked_key(part, &err)?))
}

fn checked_key(k: &str, err: &impl Fn(&str) -> SelectorError) -> Result<String, SelectorError> {
    let k = k.trim();
    check_label_key(k).map_err(|r| err(&r))?;
    Ok(k.to_string())
}

fn checked_value(v: &str, err: &impl Fn(&str) -> SelectorError) -> Result<String, SelectorError> {
    let v = v.trim();
    crate::names::check_label_value(v).map_err(|r| err(&r))?;
    Ok(v.to_string())
}

fn check_label_key(k: &str) -> Result<(), String> {
    crate::names::check_qualified_name(k)
}

/// One requirement of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `status.phase`.
    pub field: String,
    /// The value compared against.
    pub value: String,
    /// True for `!=`.
    pub negated: bool,
}

/// A field selector: all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// The requirements, ANDed.
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses `a=b,c!=d` (also `==`).
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in input.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, false)
            } else {
                return Err(SelectorError {
                    input: part.to_string(),
                    reason: "field selectors take the form field=value or field!=value".into(),
                });
            };
            requirements.push(FieldRequirement {
                field: field.trim().to_string(),
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(Self { requirements })
    }

    /// Whether an object matches, reading each field through `get` (which returns the field's string
    /// value; a missing field reads as the empty string).
    pub fn matches(&self, get: impl Fn(&str) -> String) -> bool {
        self.requirements.iter().all(|r| (get(&r.field) == r.value) != r.negated)
    }

    /// The fields the selector names.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| r.field.as_str())
    }

    /// The value a selector requires for `field` with `=`, if any (used to narrow lookups by name).
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.requirements.iter().find(|r| r.field == field && !r.negated).map(|r| r.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_matches_every_form() {
        let labels = json!({"app": "web", "tier": "fe"});
        let m = |s: &str| LabelSelector::parse(s).expect("parses").matches(Some(&labels));
        assert!(m("app=web"));
        assert!(m("app==web,tier=fe"));
        assert!(!m("app!=web"));
        assert!(m("app in (web,api)"));
        assert!(m("tier notin (be)"));
        assert!(m("app"));
        assert!(m("!canary"));
        assert!(!m("!app"));
        assert!(m(""));
        assert!(m("app in (web, api),tier=fe"));
    }

    #[test]
    fn rejects_bad_selectors() {
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("bad key=x").is_err());
        assert!(LabelSelector::parse("app=in valid").is_err());
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn structured_selectors() {
        let sel = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]
        }))
        .expect("valid");
        assert!(sel.matches(Some(&json!({"app": "web", "tier": "fe"}))));
        assert!(!sel.matches(Some(&json!({"app": "web"}))));
        let svc = LabelSelector::from_object(&json!({"app": "web"})).expect("valid");
        assert_eq!(svc.to_selector_string(), "app=web");
    }

    #[test]
    fn field_selectors() {
        let sel = FieldSelector::parse("status.phase!=Succeeded,spec.nodeName=node-1").expect("valid");
        assert!(sel.matches(|f| if f == "status.phase" { "Running".into() } else { "node-1".into() }));
        assert!(!sel.matches(|f| if f == "status.phase" { "Succeeded".into() } else { "node-1".into() }));
        assert_eq!(sel.required_value("spec.nodeName"), Some("node-1"));
    }
}
