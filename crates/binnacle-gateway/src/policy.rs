//! The tool policy of a Gateway: allow and deny patterns and read-only mode, applied to the name a client
//! sees (`<prefix><separator><tool>`). Pure: no I/O.

use crate::crd::ToolPolicy;
use rmcp::model::Tool;

/// A name pattern: `*` matches any run of characters (also none); everything else matches itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    parts: Vec<String>,
}

impl Pattern {
    /// Parses a pattern; refuses empty ones.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("a tool pattern must not be empty".into());
        }
        Ok(Pattern { text: trimmed.to_string(), parts: trimmed.split('*').map(str::to_string).collect() })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let [first, middle @ .., last] = self.parts.as_slice() else {
            // One part: no `*`.
            return self.parts.first().is_some_and(|p| p == name);
        };
        let Some(mut rest) = name.strip_prefix(first.as_str()) else { return false };
        for part in middle {
            match rest.find(part.as_str()) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }
}

/// Why a tool is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Matches a deny pattern.
    Denied(String),
    /// Matches no allow pattern.
    NotAllowed,
    /// Not marked read-only while the gateway is read-only.
    NotReadOnly,
}

impl Refusal {
    /// The message a client gets when it calls the tool anyway.
    pub fn message(&self, name: &str) -> String {
        match self {
            Refusal::Denied(p) => {
                format!("tool {name:?} is denied by this gateway's tool policy (deny pattern {p:?})")
            }
            Refusal::NotAllowed => {
                format!("tool {name:?} is not in this gateway's tool policy allow list")
            }
            Refusal::NotReadOnly => format!(
                "tool {name:?} may change things (its upstream does not mark it readOnlyHint: true) and this \
                 gateway's tool policy is read-only"
            ),
        }
    }
}

/// A compiled tool policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
    read_only: bool,
}

impl Policy {
    /// Compiles the spec's policy; the error names the bad pattern.
    pub fn compile(spec: Option<&ToolPolicy>) -> Result<Policy, String> {
        let Some(spec) = spec else { return Ok(Policy::default()) };
        let compile = |list: &[String], field: &str| {
            list.iter()
                .enumerate()
                .map(|(i, p)| Pattern::parse(p).map_err(|e| format!("toolPolicy.{field}[{i}]: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Policy {
            allow: compile(&spec.allow, "allow")?,
            deny: compile(&spec.deny, "deny")?,
            read_only: spec.read_only,
        })
    }

    /// Whether the policy lets the tool (as clients name it) through; `Err` says why not. A tool without
    /// annotations counts as not read-only.
    pub fn check(&self, name: &str, tool: &Tool) -> Result<(), Refusal> {
        if let Some(p) = self.deny.iter().find(|p| p.matches(name)) {
            return Err(Refusal::Denied(p.as_str().to_string()));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| p.matches(name)) {
            return Err(Refusal::NotAllowed);
        }
        if self.read_only && !is_read_only(tool) {
            return Err(Refusal::NotReadOnly);
        }
        Ok(())
    }
}

/// Whether the upstream marks a tool read-only (no annotations: no).
pub fn is_read_only(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ToolAnnotations;
    use std::sync::Arc;

    fn tool(read_only: Option<bool>) -> Tool {
        let t = Tool::new("t", "d", Arc::new(serde_json::Map::new()));
        match read_only {
            Some(r) => t.with_annotations(ToolAnnotations::from_raw(None, Some(r), None, None, None)),
            None => t,
        }
    }

    #[test]
    fn patterns() {
        let p = |s: &str| Pattern::parse(s).expect("pattern");
        assert!(p("a.b").matches("a.b"));
        assert!(!p("a.b").matches("a.bc"));
        assert!(p("payments.*").matches("payments.get"));
        assert!(p("payments.*").matches("payments."));
        assert!(!p("payments.*").matches("payment.get"));
        assert!(p("*.delete_*").matches("x.delete_pod"));
        assert!(!p("*.delete_*").matches("x.list_pods"));
        assert!(p("*").matches(""));
        assert!(p("a*b*c").matches("abc"));
        assert!(p("a*b*c").matches("a-b-b-c"));
        assert!(!p("a*b*c").matches("a-c"));
        assert!(!p("ab*ba").matches("aba"), "prefix and suffix must not overlap");
        assert!(Pattern::parse("  ").is_err());
    }

    #[test]
    fn policy_order_and_read_only() {
        let spec =
            ToolPolicy { allow: vec!["inv.*".into(), "k8s.*".into()], deny: vec!["*.purge*".into()], read_only: false };
        let policy = Policy::compile(Some(&spec)).expect("policy");
        assert_eq!(policy.check("inv.read", &tool(None)), Ok(()));
        assert_eq!(policy.check("inv.purge_all", &tool(Some(true))), Err(Refusal::Denied("*.purge*".into())));
        assert_eq!(policy.check("other.read", &tool(Some(true))), Err(Refusal::NotAllowed));
        let ro = Policy::compile(Some(&ToolPolicy { read_only: true, ..Default::default() })).expect("policy");
        assert_eq!(ro.check("x.y", &tool(Some(true))), Ok(()));
        assert_eq!(ro.check("x.y", &tool(Some(false))), Err(Refusal::NotReadOnly));
        assert_eq!(ro.check("x.y", &tool(None)), Err(Refusal::NotReadOnly), "no annotations: not read-only");
        assert!(Refusal::Denied("p".into()).message("x.y").contains("deny pattern \"p\""));
        let bad = Policy::compile(Some(&ToolPolicy { deny: vec!["".into()], ..Default::default() }));
        assert_eq!(bad.err().as_deref(), Some("toolPolicy.deny[0]: a tool pattern must not be empty"));
    }
}
