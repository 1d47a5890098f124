//! The next step for each intent: which tools to call, or the answer to write. Every flow reads only the
//! transcript of the current run, so the same conversation always gives the same step, and every flow
//! ends within a fixed number of tool turns.

mod change;
mod diagnose;
mod health;
mod help;
mod list;
mod logs;

use super::error::OfflineError;
use super::intent::Intent;
use super::markdown;
use super::transcript::{Observation, Outcome, Transcript};
use serde_json::Value;
use std::collections::BTreeSet;

/// The most tool turns any flow takes; a run that gets here anyway is answered with what it has.
pub const MAX_TURNS: usize = 3;

/// A tool call to make.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// The tool.
    pub tool: &'static str,
    /// Its arguments.
    pub arguments: Value,
}

impl Call {
    /// A call of `tool` with `arguments`.
    pub(crate) fn new(tool: &'static str, arguments: Value) -> Self {
        Self { tool, arguments }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Call tools (all in one turn).
    Calls(Vec<Call>),
    /// Write this answer (Markdown, without the offline note).
    Answer(String),
}

/// The tools the run may call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tools(BTreeSet<String>);

impl Tools {
    /// The tools named.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().map(str::to_string).collect())
    }

    /// Whether a tool is enabled.
    pub(crate) fn has(&self, tool: &str) -> bool {
        self.0.contains(tool)
    }

    /// Checks that every tool is enabled.
    pub(crate) fn require(&self, tools: &[&str]) -> Result<(), OfflineError> {
        let missing: Vec<String> = tools.iter().filter(|t| !self.has(t)).map(|t| (*t).to_string()).collect();
        if missing.is_empty() { Ok(()) } else { Err(OfflineError::NotEnabled(missing)) }
    }
}

/// The next step for a question.
pub(crate) fn next(intent: &Intent, t: &Transcript, tools: &Tools) -> Next {
    let next = match intent {
        Intent::Health { namespace } => health::next(namespace.as_deref(), t, tools),
        Intent::Diagnose { target } => diagnose::next(target, t, tools),
        Intent::Logs { target, previous, tail_lines } => logs::next(target, *previous, *tail_lines, t, tools),
        Intent::Change { action, target } => change::next(action, target, t, tools),
        Intent::List { kind, plural, namespaced, namespace } => list::next(
            list::Request { kind, plural, namespaced: *namespaced, namespace: namespace.as_deref() },
            t,
            tools,
        ),
        Intent::Help { hint } => Next::Answer(help::answer(hint.as_deref())),
    };
    match next {
        Next::Calls(_) if t.turns >= MAX_TURNS => Next::Answer(stopped(t)),
        Next::Calls(calls) if calls.is_empty() => Next::Answer(stopped(t)),
        other => other,
    }
}

/// The answer when a run would go on for too long (a safeguard: no flow gets here).
fn stopped(t: &Transcript) -> String {
    let done: Vec<String> = t.calls.iter().map(|o| markdown::code(&o.name)).collect();
    format!(
        "I stopped after {} tool turns without a complete answer (called: {}). Ask a narrower question, or say \
         `help` to see what I can answer.\n",
        t.turns,
        if done.is_empty() { "nothing".to_string() } else { done.join(", ") }
    )
}

/// The answer for an error that ends a flow.
pub(crate) fn explain(error: &OfflineError) -> String {
    match error {
        OfflineError::NotEnabled(tools) => format!(
            "I need {} for this, but {} not enabled in this session (the server's toolsets, read-only mode or \
             allow/deny lists leave {} out). Ask an administrator to enable {}, or configure an LLM.\n",
            tools.iter().map(|t| markdown::code(t)).collect::<Vec<_>>().join(" and "),
            if tools.len() == 1 { "it is" } else { "they are" },
            if tools.len() == 1 { "it" } else { "them" },
            if tools.len() == 1 { "it" } else { "them" },
        ),
        OfflineError::ToolFailed { tool, message } => format!(
            "{} failed, so I cannot answer this. Its error:\n\n{}",
            markdown::code(tool),
            markdown::code_block(&[message])
        ),
        OfflineError::NoResult(tool) => {
            format!("No result came back for {}, so I cannot answer this.\n", markdown::code(tool))
        }
        OfflineError::Unreadable(tool) => format!(
            "I could not read the result of {} (it has no structured content), so I cannot answer this.\n",
            markdown::code(tool)
        ),
    }
}

/// The structured content of a call, or the error that stops the flow.
pub(crate) fn data_of(o: &Observation) -> Result<&Value, OfflineError> {
    match &o.outcome {
        Outcome::Done { data: Some(data), .. } => Ok(data),
        Outcome::Done { data: None, .. } => Err(OfflineError::Unreadable(o.name.clone())),
        Outcome::Failed { message } => Err(OfflineError::ToolFailed { tool: o.name.clone(), message: message.clone() }),
        Outcome::Missing => Err(OfflineError::NoResult(o.name.clone())),
    }
}

/// A string field of a JSON object (`""` when absent).
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An array field of a JSON object (empty when absent).
pub(crate) fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// A JSON value as a table cell or line: strings as they are, anything else as compact JSON.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
