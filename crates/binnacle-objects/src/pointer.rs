//! JSON pointer lookups without allocation. `serde_json::Value::pointer` unescapes every segment into a
//! new `String`; in hot paths (Table rows, selectors) that dominates. Segments containing `~` fall back
//! to the standard implementation.

use serde_json::Value;

/// Looks up an RFC 6901 pointer (`/metadata/labels/app`), like `Value::pointer` but allocation-free.
pub fn get<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    if rest.contains('~') {
        return value.pointer(pointer);
    }
    let mut current = value;
    for token in rest.split('/') {
        current = match current {
            Value::Object(map) => map.get(token)?,
            Value::Array(list) => {
                if token.len() > 1 && token.starts_with('0') {
                    return None;
                }
                list.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// The string at a pointer, if it is a string.
pub fn get_str<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    get(value, pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_serde_pointer() {
        let v = json!({"a": {"b": [10, {"c": "x"}], "d~e": 1, "f/g": 2}, "": 3});
        for p in ["", "/a", "/a/b", "/a/b/0", "/a/b/1/c", "/a/b/2", "/a/b/01", "/a/d~0e", "/a/f~1g", "/", "/zz", "a"] {
            assert_eq!(get(&v, p), v.pointer(p), "{p}");
        }
    }
}
