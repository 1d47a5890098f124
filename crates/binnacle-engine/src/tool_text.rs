//! How a tool's result is written into the conversation for the model, and read back.
//!
//! A result is its summary, a blank line, and its structured content as compact JSON:
//!
//! ```text
//! 3 pods in namespace shop (1 not ready).
//!
//! {"items":[...]}
//! ```
//!
//! An error is `error: <message>` with no JSON. The offline assistant reads results back with
//! [`parse_tool_result`].

use serde_json::Value;

/// Renders a successful result.
pub fn render_tool_result(summary: &str, structured: &Value) -> String {
    if structured.is_null() {
        return summary.to_string();
    }
    format!("{summary}\n\n{structured}")
}

/// Renders a failed call.
pub fn render_tool_error(message: &str) -> String {
    format!("error: {message}")
}

/// Splits a rendered result back into its summary and structured content (`None` for errors or text-only
/// results).
pub fn parse_tool_result(content: &str) -> (&str, Option<Value>) {
    if let Some((summary, json)) = content.rsplit_once("\n\n")
        && let Ok(value) = serde_json::from_str::<Value>(json)
    {
        return (summary, Some(value));
    }
    (content, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = serde_json::json!({"items": [1, 2], "note": "a\n\nb"});
        let text = render_tool_result("two items.\n\nsecond paragraph", &v);
        let (summary, parsed) = parse_tool_result(&text);
        assert_eq!(summary, "two items.\n\nsecond paragraph");
        assert_eq!(parsed, Some(v));
        assert_eq!(parse_tool_result("error: boom"), ("error: boom", None));
    }
}
