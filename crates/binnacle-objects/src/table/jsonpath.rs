//! A small JSONPath subset, as used by CRD `additionalPrinterColumns` and kubectl's `-o jsonpath`:
//!
//! - fields: `.spec.replicas`, escaped dots `.metadata.labels.app\.kubernetes\.io/name`, quoted keys
//!   `['app.kubernetes.io/name']`;
//! - wildcards `.*` and `[*]`, indexes `[0]` and `[-1]`, slices `[1:3]`, unions `[0,2]`, `['a','b']`;
//! - recursive descent `..name`;
//! - filters `[?(@.type=="Ready")]` with `==`, `!=`, `<`, `<=`, `>`, `>=` against a string, number or
//!   boolean literal, and existence filters `[?(@.field)]`.
//!
//! An expression may be wrapped in `{...}` and start with `$`. Missing keys give no result rather than
//! an error, as the API server's printer columns do.

use serde_json::Value;

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {expression:?}: {reason}")]
pub struct JsonPathError {
    /// The expression as given.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A comparison operator of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// An object field.
    Field(String),
    /// Several object fields.
    Fields(Vec<String>),
    /// All children of an object or array.
    Wildcard,
    /// Array elements by index (negative from the end).
    Indexes(Vec<i64>),
    /// An array slice `[start:end]`.
    Slice(Option<i64>, Option<i64>),
    /// The node itself and all its descendants (`..`).
    Descendants,
    /// Array elements for which the relative path (optionally compared with a literal) holds.
    Filter(Vec<Segment>, Option<(Op, Value)>),
}

/// A parsed JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

impl JsonPath {
    /// Parses an expression such as `.status.conditions[?(@.type=="Ready")].status`.
    pub fn parse(expression: &str) -> Result<JsonPath, JsonPathError> {
        let error = |reason: &str| JsonPathError { expression: expression.to_string(), reason: reason.to_string() };
        let mut text = expression.trim();
        if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            text = inner.trim();
        }
        let text = text.strip_prefix('$').unwrap_or(text);
        let segments = parse_segments(text, true).map_err(|reason| error(&reason))?;
        Ok(JsonPath { segments })
    }

    /// All values the path selects in `root`, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        apply(&self.segments, vec![root])
    }

    /// The first value the path selects, if any.
    pub fn first<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.find(root).into_iter().next()
    }
}

/// The text of a selected value as kubectl prints it: strings verbatim, scalars in JSON form, objects
/// and arrays as compact JSON, null as an empty string.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a sequence of segments; `leading` allows a first bare field without a dot (`spec.replicas`).
fn parse_segments(text: &str, leading: bool) -> Result<Vec<Segment>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut i = 0;
    if leading && chars.first().is_some_and(|c| is_name_char(*c)) {
        let (name, next) = read_name(&chars, 0);
        segments.push(Segment::Field(name));
        i = next;
    }
    while i < chars.len() {
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                segments.push(Segment::Descendants);
                i += 2;
                i = read_dotted(&chars, i, &mut segments)?;
            }
            '.' => {
                i = read_dotted(&chars, i + 1, &mut segments)?;
            }
            '[' => {
                let end = matching_bracket(&chars, i).ok_or("unclosed '['")?;
                let inner: String = chars[i + 1..end].iter().collect();
                segments.push(parse_bracket(inner.trim())?);
                i = end + 1;
            }
            c if c.is_whitespace() => i += 1,
            c => return Err(format!("unexpected {c:?} at offset {i}")),
        }
    }
    Ok(segments)
}

/// After a `.`: `*`, a field name, or nothing when a bracket follows.
fn read_dotted(chars: &[char], i: usize, segments: &mut Vec<Segment>) -> Result<usize, String> {
    match chars.get(i) {
        Some('*') => {
            segments.push(Segment::Wildcard);
            Ok(i + 1)
        }
        Some('[') | None => Ok(i),
        Some(c) if is_name_char(*c) => {
            let (name, next) = read_name(chars, i);
            segments.push(Segment::Field(name));
            Ok(next)
        }
        Some(c) => Err(format!("unexpected {c:?} after '.'")),
    }
}

/// Whether a character can appear in an unquoted field name.
fn is_name_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '(' | ')' | '\'' | '"' | '@' | '$' | '=' | '!' | '<' | '>' | ',' | '*' | '{' | '}')
        && !c.is_whitespace()
        || c == '\\'
}

/// Reads a field name from `start`, honouring `\.` escapes; returns it and the next offset.
fn read_name(chars: &[char], start: usize) -> (String, usize) {
    let mut name = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\'
            && let Some(next) = chars.get(i + 1)
        {
            name.push(*next);
            i += 2;
            continue;
        }
        if !is_name_char(c) {
            break;
        }
        name.push(c);
        i += 1;
    }
    (name, i)
}

/// The offset of the `]` closing the `[` at `open`, skipping quoted text and nested brackets.
fn matching_bracket(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = open;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == '\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Splits on commas outside quotes.
fn split_top_level(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                current.push(c);
            }
            None if c == separator => parts.push(std::mem::take(&mut current)),
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                current.push(c);
            }
        }
    }
    parts.push(current);
    parts
}

/// A quoted string literal without its quotes (backslash escapes resolved), if `text` is one.
fn unquote(text: &str) -> Option<String> {
    let text = text.trim();
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Parses the inside of `[...]`.
fn parse_bracket(inner: &str) -> Result<Segment, String> {
    if inner == "*" {
        return Ok(Segment::Wildcard);
    }
    if let Some(filter) = inner.strip_prefix('?') {
        let body = filter.trim().strip_prefix('(').and_then(|f| f.strip_suffix(')')).ok_or("filter needs ?(...)")?;
        return parse_filter(body.trim());
    }
    let parts = split_top_level(inner, ',');
    if parts.iter().all(|p| unquote(p).is_some()) {
        let mut keys: Vec<String> = parts.iter().filter_map(|p| unquote(p)).collect();
        return Ok(if keys.len() == 1 { Segment::Field(keys.remove(0)) } else { Segment::Fields(keys) });
    }
    if parts.len() == 1 && inner.contains(':') {
        let mut bounds = inner.splitn(3, ':');
        let bound = |b: Option<&str>| -> Result<Option<i64>, String> {
            match b.map(str::trim) {
                None | Some("") => Ok(None),
                Some(n) => n.parse().map(Some).map_err(|_| format!("bad slice bound {n:?}")),
            }
        };
        let start = bound(bounds.next())?;
        let end = bound(bounds.next())?;
        return Ok(Segment::Slice(start, end));
    }
    let indexes = parts
        .iter()
        .map(|p| p.trim().parse::<i64>().map_err(|_| format!("bad index {:?}", p.trim())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Segment::Indexes(indexes))
}

/// Parses `@.path`, `@.path op literal`.
fn parse_filter(body: &str) -> Result<Segment, String> {
    let (left, comparison) = match find_operator(body) {
        Some((at, op, len)) => {
            let literal = parse_literal(body[at + len..].trim())?;
            (body[..at].trim(), Some((op, literal)))
        }
        None => (body, None),
    };
    let relative = left.strip_prefix('@').ok_or("filter must start with @")?;
    Ok(Segment::Filter(parse_segments(relative, false)?, comparison))
}

/// The first comparison operator outside quotes: offset, operator and its length.
fn find_operator(body: &str) -> Option<(usize, Op, usize)> {
    let bytes = body.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            continue;
        }
        let next = bytes.get(i + 1).copied();
        match (b, next) {
            (b'\'' | b'"', _) => quote = Some(b),
            (b'=', Some(b'=')) => return Some((i, Op::Eq, 2)),
            (b'!', Some(b'=')) => return Some((i, Op::Ne, 2)),
            (b'<', Some(b'=')) => return Some((i, Op::Le, 2)),
            (b'>', Some(b'=')) => return Some((i, Op::Ge, 2)),
            (b'<', _) => return Some((i, Op::Lt, 1)),
            (b'>', _) => return Some((i, Op::Gt, 1)),
            _ => {}
        }
    }
    None
}

/// A filter literal: quoted string, number, `true`, `false` or `null`.
fn parse_literal(text: &str) -> Result<Value, String> {
    if let Some(s) = unquote(text) {
        return Ok(Value::String(s));
    }
    match text {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(text)
            .map(Value::Number)
            .map_err(|_| format!("unsupported filter literal {text:?}")),
    }
}

/// Applies segments to a set of nodes.
fn apply<'a>(segments: &[Segment], mut nodes: Vec<&'a Value>) -> Vec<&'a Value> {
    for segment in segments {
        let mut next = Vec::new();
        for node in nodes {
            step(segment, node, &mut next);
        }
        nodes = next;
    }
    nodes
}

/// A possibly negative index resolved against a length.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let resolved = if index < 0 { len + index } else { index };
    if (0..len).contains(&resolved) { usize::try_from(resolved).ok() } else { None }
}

/// Applies one segment to one node.
fn step<'a>(segment: &Segment, node: &'a Value, out: &mut Vec<&'a Value>) {
    match segment {
        Segment::Field(name) => out.extend(node.as_object().and_then(|o| o.get(name))),
        Segment::Fields(names) => {
            if let Some(object) = node.as_object() {
                out.extend(names.iter().filter_map(|n| object.get(n)));
            }
        }
        Segment::Wildcard => match node {
            Value::Object(object) => out.extend(object.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Segment::Indexes(indexes) => {
            if let Some(items) = node.as_array() {
                out.extend(indexes.iter().filter_map(|i| resolve_index(*i, items.len())).map(|i| &items[i]));
            }
        }
        Segment::Slice(start, end) => {
            if let Some(items) = node.as_array() {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let clamp = |b: i64| if b < 0 { (len + b).max(0) } else { b.min(len) };
                let from = clamp(start.unwrap_or(0));
                let to = clamp(end.unwrap_or(len));
                for i in from..to {
                    if let Some(item) = usize::try_from(i).ok().and_then(|i| items.get(i)) {
                        out.push(item);
                    }
                }
            }
        }
        Segment::Descendants => descendants(node, out),
        Segment::Filter(path, comparison) => {
            if let Some(items) = node.as_array() {
                for item in items {
                    let found = apply(path, vec![item]);
                    let keep = match (comparison, found.first()) {
                        (_, None) => false,
                        (None, Some(_)) => true,
                        (Some((op, literal)), Some(left)) => compare(left, *op, literal),
                    };
                    if keep {
                        out.push(item);
                    }
                }
            }
        }
    }
}

/// The node and all its descendants, in pre-order.
fn descendants<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    match node {
        Value::Object(object) => object.values().for_each(|v| descendants(v, out)),
        Value::Array(items) => items.iter().for_each(|v| descendants(v, out)),
        _ => {}
    }
}

/// Evaluates `left op right`: numbers numerically, strings lexically, others by equality only.
fn compare(left: &Value, op: Op, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match (op, ordering) {
        (Op::Eq, Some(o)) => o.is_eq(),
        (Op::Ne, Some(o)) => o.is_ne(),
        (Op::Eq, None) => left == right,
        (Op::Ne, None) => left != right,
        (Op::Lt, Some(o)) => o.is_lt(),
        (Op::Le, Some(o)) => o.is_le(),
        (Op::Gt, Some(o)) => o.is_gt(),
        (Op::Ge, Some(o)) => o.is_ge(),
        (_, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "metadata": {"name": "db", "labels": {"app.kubernetes.io/name": "pg"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [
                {"type": "Synced", "status": "True"},
                {"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}
            ]}
        })
    }

    fn texts(path: &str) -> Vec<String> {
        let doc = doc();
        let path = JsonPath::parse(path).expect("valid path");
        path.find(&doc).into_iter().map(value_text).collect()
    }

    #[test]
    fn fields_indexes_and_wildcards() {
        assert_eq!(texts(".spec.replicas"), ["3"]);
        assert_eq!(texts("{.metadata.name}"), ["db"]);
        assert_eq!(texts("$.spec.ports[1].port"), ["443"]);
        assert_eq!(texts(".spec.ports[-1].port"), ["443"]);
        assert_eq!(texts(".spec.ports[*].port"), ["80", "443"]);
        assert_eq!(texts(".spec.ports[0:1].port"), ["80"]);
        assert_eq!(texts(".spec.ports[0,1].port"), ["80", "443"]);
        assert_eq!(texts(".spec.ports[0]"), [r#"{"port":80}"#]);
        assert_eq!(texts("..port"), ["80", "443"]);
        assert!(texts(".spec.missing.deeper").is_empty());
        assert!(texts(".spec.ports[5]").is_empty());
    }

    #[test]
    fn escaped_and_quoted_keys() {
        assert_eq!(texts(r".metadata.labels.app\.kubernetes\.io/name"), ["pg"]);
        assert_eq!(texts(".metadata.labels['app.kubernetes.io/name']"), ["pg"]);
    }

    #[test]
    fn filters() {
        assert_eq!(texts(r#".status.conditions[?(@.type=="Ready")].status"#), ["False"]);
        assert_eq!(texts(".status.conditions[?(@.type == 'Synced')].status"), ["True"]);
        assert_eq!(texts(r#".status.conditions[?(@.type!="Ready")].type"#), ["Synced"]);
        assert_eq!(texts(".status.conditions[?(@.lastTransitionTime)].type"), ["Ready"]);
        assert_eq!(texts(".spec.ports[?(@.port > 100)].port"), ["443"]);
        assert!(texts(r#".status.conditions[?(@.type=="Gone")].status"#).is_empty());
    }

    #[test]
    fn rejects_malformed_paths() {
        assert!(JsonPath::parse(".spec[0").is_err());
        assert!(JsonPath::parse(".spec[?(@.a==)]").is_err());
        assert!(JsonPath::parse(".spec[abc]").is_err());
    }
}
