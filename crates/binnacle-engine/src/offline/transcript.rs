//! The current run as the offline assistant sees it: the question (the last user message) and the tool
//! calls made since, each with its result read back through [`parse_tool_result`].

use crate::tool_text::parse_tool_result;
use binnacle_llm::ChatMessage;
use serde_json::Value;

/// What a tool call returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The call succeeded: its summary and structured content.
    Done {
        /// The summary line(s).
        summary: String,
        /// The structured content (`None` for text-only results).
        data: Option<Value>,
    },
    /// The call failed or was denied: the message without the `error: ` prefix.
    Failed {
        /// The message.
        message: String,
    },
    /// No result came back for the call.
    Missing,
}

impl Outcome {
    /// Who denied the call at the approval gate, when the result is a denial (`... denied by alice ...`).
    pub(crate) fn denied_by(&self) -> Option<String> {
        let Outcome::Failed { message } = self else { return None };
        let lower = message.to_lowercase();
        let at = lower.find("denied by ")? + "denied by ".len();
        let user: String = message.get(at..)?.split_whitespace().next()?.to_string();
        let user = user.trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']).to_string();
        (!user.is_empty()).then_some(user)
    }

    /// The first line of a successful call's summary.
    pub(crate) fn headline(&self) -> Option<&str> {
        match self {
            Outcome::Done { summary, .. } => summary.lines().next(),
            _ => None,
        }
    }
}

/// One tool call of this run and its result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    /// The tool.
    pub name: String,
    /// Its arguments (`Null` when only the result was seen).
    pub arguments: Value,
    /// Its result.
    pub outcome: Outcome,
}

impl Observation {
    /// A string argument.
    pub(crate) fn arg(&self, key: &str) -> Option<&str> {
        self.arguments.get(key).and_then(Value::as_str)
    }
}

/// The question and what has been done about it so far (`Default`: no question yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Transcript {
    /// The last user message.
    pub question: String,
    /// Assistant turns since the question.
    pub turns: usize,
    /// Tool calls since the question, in order.
    pub calls: Vec<Observation>,
    /// Tool calls in the whole conversation (for fresh call ids).
    pub calls_in_conversation: usize,
}

impl Transcript {
    /// Reads the conversation; `None` when there is no user message.
    pub(crate) fn read(messages: &[ChatMessage]) -> Option<Self> {
        let start = messages.iter().rposition(|m| matches!(m, ChatMessage::User { .. }))?;
        let question = match &messages[start] {
            ChatMessage::User { content } => content.clone(),
            _ => return None,
        };
        let calls_in_conversation = messages
            .iter()
            .map(|m| match m {
                ChatMessage::Assistant { tool_calls, .. } => tool_calls.len(),
                _ => 0,
            })
            .sum();
        let mut turns = 0;
        let mut calls: Vec<(Option<String>, Observation)> = Vec::new();
        for message in &messages[start + 1..] {
            match message {
                ChatMessage::Assistant { tool_calls, .. } => {
                    turns += 1;
                    for call in tool_calls {
                        calls.push((
                            Some(call.id.clone()),
                            Observation {
                                name: call.name.clone(),
                                arguments: call.arguments.clone(),
                                outcome: Outcome::Missing,
                            },
                        ));
                    }
                }
                ChatMessage::Tool { call_id, name, content, is_error } => {
                    let outcome = outcome_of(content, *is_error);
                    match calls
                        .iter_mut()
                        .find(|(id, o)| id.as_deref() == Some(call_id) && o.outcome == Outcome::Missing)
                    {
                        Some((_, observation)) => observation.outcome = outcome,
                        None => calls.push((None, Observation { name: name.clone(), arguments: Value::Null, outcome })),
                    }
                }
                ChatMessage::User { .. } => {}
            }
        }
        Some(Self { question, turns, calls: calls.into_iter().map(|(_, o)| o).collect(), calls_in_conversation })
    }

    /// The latest call of a tool.
    pub(crate) fn last(&self, tool: &str) -> Option<&Observation> {
        self.calls.iter().rev().find(|o| o.name == tool)
    }

    /// Every call of a tool, in order.
    pub(crate) fn all<'a>(&'a self, tool: &'a str) -> impl Iterator<Item = &'a Observation> + 'a {
        self.calls.iter().filter(move |o| o.name == tool)
    }
}

/// Reads one rendered tool result.
fn outcome_of(content: &str, is_error: bool) -> Outcome {
    if let Some(message) = content.strip_prefix("error:") {
        return Outcome::Failed { message: message.trim().to_string() };
    }
    if is_error {
        return Outcome::Failed { message: content.trim().to_string() };
    }
    let (summary, data) = parse_tool_result(content);
    Outcome::Done { summary: summary.to_string(), data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binnacle_llm::ToolCallRequest;
    use serde_json::json;

    #[test]
    fn reads_calls_and_results_after_the_last_question() {
        let messages = vec![
            ChatMessage::User { content: "old".into() },
            ChatMessage::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCallRequest {
                    id: "offline-1".into(),
                    name: "find_issues".into(),
                    arguments: json!({}),
                }],
            },
            ChatMessage::Tool {
                call_id: "offline-1".into(),
                name: "find_issues".into(),
                content: "x".into(),
                is_error: false,
            },
            ChatMessage::Assistant { content: "answer".into(), tool_calls: vec![] },
            ChatMessage::User { content: "scale x to 3".into() },
            ChatMessage::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCallRequest {
                    id: "offline-2".into(),
                    name: "workload_scale".into(),
                    arguments: json!({"name": "x"}),
                }],
            },
            ChatMessage::Tool {
                call_id: "offline-2".into(),
                name: "workload_scale".into(),
                content: "error: the call was denied by alice: not during the freeze".into(),
                is_error: true,
            },
        ];
        let t = Transcript::read(&messages).expect("a question");
        assert_eq!(t.question, "scale x to 3");
        assert_eq!(t.turns, 1);
        assert_eq!(t.calls_in_conversation, 2);
        let scale = t.last("workload_scale").expect("the call");
        assert_eq!(scale.arg("name"), Some("x"));
        assert_eq!(scale.outcome.denied_by().as_deref(), Some("alice"));
        let ok = outcome_of("3 pods.\n\n{\"items\":[]}", false);
        assert_eq!(ok.headline(), Some("3 pods."));
        assert!(matches!(&ok, Outcome::Done { data: Some(d), .. } if *d == json!({"items": []})));
        assert_eq!(ok.denied_by(), None);
    }
}
