//! Both providers against the scripted LLM server of `binnacle-testkit`: real HTTP, real SSE framing.
//! Each scenario runs once per protocol (`openai_*` and `anthropic_*` tests).

use binnacle_llm::{
    ChatMessage, ChatRequest, LlmError, LlmEvent, LlmProvider, ProviderConfig, ProviderKind, StopReason,
    ToolCallRequest, ToolDef, Usage,
};
use binnacle_testkit::{Script, ScriptedConversation, ScriptedLlmHandle, ScriptedToolCall, Turn, start_scripted_llm};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every test must finish well within this.
const LIMIT: Duration = Duration::from_secs(5);

fn config(kind: ProviderKind, llm: &ScriptedLlmHandle) -> ProviderConfig {
    let base = match kind {
        ProviderKind::OpenAi => llm.url(),
        ProviderKind::Anthropic => llm.anthropic_url(),
    };
    let mut c = ProviderConfig::new(kind, base, "scripted-model");
    c.api_key = Some("sk-test-key".into());
    c.initial_backoff = Duration::from_millis(2);
    c.request_timeout = Duration::from_secs(2);
    c
}

fn provider(kind: ProviderKind, llm: &ScriptedLlmHandle) -> Arc<dyn LlmProvider> {
    config(kind, llm).build().expect("builds")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        system: "You are Binnacle.".into(),
        messages: vec![ChatMessage::User { content: text.into() }],
        tools: vec![],
        max_tokens: None,
    }
}

/// Reads the whole stream: the events, and the error that ended it (if any).
async fn run(provider: &dyn LlmProvider, request: ChatRequest) -> (Vec<LlmEvent>, Option<LlmError>) {
    let collect = async {
        let mut stream = provider.stream(request);
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(e) => events.push(e),
                Err(e) => {
                    assert!(stream.next().await.is_none(), "nothing follows an error");
                    return (events, Some(e));
                }
            }
        }
        (events, None)
    };
    tokio::time::timeout(LIMIT, collect).await.expect("the stream ends in time")
}

async fn events_ok(provider: &dyn LlmProvider, request: ChatRequest) -> Vec<LlmEvent> {
    let (events, error) = run(provider, request).await;
    assert!(error.is_none(), "unexpected error {error:?} after {events:?}");
    assert!(matches!(events.last(), Some(LlmEvent::Finished(_))), "Finished comes last: {events:?}");
    events
}

fn text(events: &[LlmEvent]) -> Vec<String> {
    events.iter().filter_map(|e| if let LlmEvent::TextDelta(t) = e { Some(t.clone()) } else { None }).collect()
}

fn tool_calls(events: &[LlmEvent]) -> Vec<ToolCallRequest> {
    events.iter().filter_map(|e| if let LlmEvent::ToolCall(c) = e { Some(c.clone()) } else { None }).collect()
}

fn generated_id(kind: ProviderKind, turn: usize, n: usize) -> String {
    match kind {
        ProviderKind::OpenAi => format!("call_{turn}_{n}"),
        ProviderKind::Anthropic => format!("toolu_{turn}_{n}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// The scenarios, each for one protocol.

async fn text_streams_in_order(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("The pods are all running.").with_usage(42, 7)]));
    let events = events_ok(&*provider(kind, &llm), ask("how are the pods?")).await;
    let mut expected: Vec<LlmEvent> =
        ["The", " pods", " are", " all", " running."].iter().map(|t| LlmEvent::TextDelta(t.to_string())).collect();
    expected.push(LlmEvent::Usage(Usage { prompt_tokens: 42, completion_tokens: 7 }));
    expected.push(LlmEvent::Finished(StopReason::EndTurn));
    assert_eq!(events, expected);
    assert_eq!(llm.request_count(), 1);
}

async fn thinking_comes_before_text(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![
        Turn::text_of("Looks fine.").with_thinking("Check the deployment first.").with_usage(5, 9),
    ]));
    let events = events_ok(&*provider(kind, &llm), ask("status?")).await;
    let thinking: Vec<&LlmEvent> = events.iter().filter(|e| matches!(e, LlmEvent::ThinkingDelta(_))).collect();
    assert_eq!(
        thinking,
        vec![
            &LlmEvent::ThinkingDelta("Check".into()),
            &LlmEvent::ThinkingDelta(" the".into()),
            &LlmEvent::ThinkingDelta(" deployment".into()),
            &LlmEvent::ThinkingDelta(" first.".into()),
        ]
    );
    let last_thinking = events.iter().rposition(|e| matches!(e, LlmEvent::ThinkingDelta(_))).expect("thinking");
    let first_text = events.iter().position(|e| matches!(e, LlmEvent::TextDelta(_))).expect("text");
    assert!(last_thinking < first_text, "{events:?}");
    assert_eq!(text(&events).concat(), "Looks fine.");
}

async fn one_tool_call(kind: ProviderKind) {
    let args = json!({"namespace": "default", "label_selector": "app=web", "limit": 20});
    let llm = start_scripted_llm(Script::turns(vec![Turn::tool_call("list_pods", args.clone()).with_usage(100, 20)]));
    let events = events_ok(&*provider(kind, &llm), ask("list the web pods")).await;
    assert_eq!(
        events,
        vec![
            LlmEvent::ToolCall(ToolCallRequest {
                id: generated_id(kind, 0, 0),
                name: "list_pods".into(),
                arguments: args
            }),
            LlmEvent::Usage(Usage { prompt_tokens: 100, completion_tokens: 20 }),
            LlmEvent::Finished(StopReason::ToolUse),
        ]
    );
}

async fn two_tool_calls_after_text(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![
        Turn::text_of("Let me look.")
            .with_tool_call_id("call-a", "get_pod", json!({"namespace": "shop", "name": "checkout-7d9f"}))
            .with_tool_call(
                "get_events",
                json!({"namespace": "shop", "field_selector": "involvedObject.name=checkout-7d9f"}),
            ),
    ]));
    let events = events_ok(&*provider(kind, &llm), ask("why does checkout crash?")).await;
    assert_eq!(text(&events).concat(), "Let me look.");
    assert_eq!(
        tool_calls(&events),
        vec![
            ToolCallRequest {
                id: "call-a".into(),
                name: "get_pod".into(),
                arguments: json!({"namespace": "shop", "name": "checkout-7d9f"}),
            },
            ToolCallRequest {
                id: generated_id(kind, 0, 1),
                name: "get_events".into(),
                arguments: json!({"namespace": "shop", "field_selector": "involvedObject.name=checkout-7d9f"}),
            },
        ]
    );
    let last_text = events.iter().rposition(|e| matches!(e, LlmEvent::TextDelta(_))).expect("text");
    let first_call = events.iter().position(|e| matches!(e, LlmEvent::ToolCall(_))).expect("call");
    assert!(last_text < first_call);
    assert_eq!(events.last(), Some(&LlmEvent::Finished(StopReason::ToolUse)));
}

/// A conversation after two tool calls: system prompt, tools, tool results.
fn second_turn_request() -> ChatRequest {
    ChatRequest {
        system: "You are Binnacle, an operations assistant.".into(),
        messages: vec![
            ChatMessage::User { content: "why does checkout crash?".into() },
            ChatMessage::Assistant {
                content: String::new(),
                tool_calls: vec![
                    ToolCallRequest { id: "c1".into(), name: "get_pod".into(), arguments: json!({"name": "checkout"}) },
                    ToolCallRequest { id: "c2".into(), name: "get_logs".into(), arguments: json!({"tail": 50}) },
                ],
            },
            ChatMessage::Tool {
                call_id: "c1".into(),
                name: "get_pod".into(),
                content: "pod checkout: CrashLoopBackOff".into(),
                is_error: false,
            },
            ChatMessage::Tool {
                call_id: "c2".into(),
                name: "get_logs".into(),
                content: "denied by policy".into(),
                is_error: true,
            },
        ],
        tools: vec![
            ToolDef {
                name: "get_pod".into(),
                description: "Reads a pod.".into(),
                input_schema: json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
            },
            ToolDef {
                name: "get_logs".into(),
                description: "Reads logs.".into(),
                input_schema: json!({"type": "object", "properties": {"tail": {"type": "integer"}}}),
            },
        ],
        max_tokens: Some(1000),
    }
}

fn mapping_script() -> Script {
    Script::new(vec![ScriptedConversation::when(
        "checkout",
        vec![Turn::text_of("unused first turn"), Turn::text_of("It runs out of memory.")],
    )])
}

#[tokio::test]
async fn openai_request_mapping() {
    let llm = start_scripted_llm(mapping_script());
    let events = events_ok(&*provider(ProviderKind::OpenAi, &llm), second_turn_request()).await;
    assert_eq!(text(&events).concat(), "It runs out of memory.", "turn 1 is played after one assistant message");
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.headers.get("authorization").map(String::as_str), Some("Bearer sk-test-key"));
    let b = &r.body;
    assert_eq!(b["model"], "scripted-model");
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"], json!({"include_usage": true}));
    assert_eq!(b["max_tokens"], 1000);
    assert_eq!(
        b["messages"],
        json!([
            {"role": "system", "content": "You are Binnacle, an operations assistant."},
            {"role": "user", "content": "why does checkout crash?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_pod", "arguments": "{\"name\":\"checkout\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "get_logs", "arguments": "{\"tail\":50}"}},
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "pod checkout: CrashLoopBackOff"},
            {"role": "tool", "tool_call_id": "c2", "content": "denied by policy"},
        ])
    );
    assert_eq!(
        b["tools"],
        json!([
            {"type": "function", "function": {"name": "get_pod", "description": "Reads a pod.",
                "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}},
            {"type": "function", "function": {"name": "get_logs", "description": "Reads logs.",
                "parameters": {"type": "object", "properties": {"tail": {"type": "integer"}}}}},
        ])
    );

    // No tools, no max_tokens, no key: none of them is sent; a trailing slash on the base URL is fine.
    let mut c = config(ProviderKind::OpenAi, &llm);
    c.api_key = None;
    c.base_url = format!("{}/", llm.url());
    events_ok(&*c.build().expect("builds"), ask("hello")).await;
    let r = &llm.requests()[1];
    assert_eq!(r.path, "/v1/chat/completions");
    assert!(r.body.get("tools").is_none() && r.body.get("max_tokens").is_none(), "{}", r.body);
    assert!(!r.headers.contains_key("authorization"));
}

#[tokio::test]
async fn anthropic_request_mapping() {
    let llm = start_scripted_llm(mapping_script());
    let events = events_ok(&*provider(ProviderKind::Anthropic, &llm), second_turn_request()).await;
    assert_eq!(text(&events).concat(), "It runs out of memory.");
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.headers.get("x-api-key").map(String::as_str), Some("sk-test-key"));
    assert_eq!(r.headers.get("anthropic-version").map(String::as_str), Some("2023-06-01"));
    let b = &r.body;
    assert_eq!(b["model"], "scripted-model");
    assert_eq!(b["system"], "You are Binnacle, an operations assistant.");
    assert_eq!(b["stream"], true);
    assert_eq!(b["max_tokens"], 1000);
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": "why does checkout crash?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "c1", "name": "get_pod", "input": {"name": "checkout"}},
                {"type": "tool_use", "id": "c2", "name": "get_logs", "input": {"tail": 50}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "pod checkout: CrashLoopBackOff", "is_error": false},
                {"type": "tool_result", "tool_use_id": "c2", "content": "denied by policy", "is_error": true},
            ]},
        ])
    );
    assert_eq!(
        b["tools"],
        json!([
            {"name": "get_pod", "description": "Reads a pod.",
             "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
            {"name": "get_logs", "description": "Reads logs.",
             "input_schema": {"type": "object", "properties": {"tail": {"type": "integer"}}}},
        ])
    );

    // Text with tool calls, the default max_tokens, a base URL with a trailing slash.
    let mut c = config(ProviderKind::Anthropic, &llm);
    c.base_url = format!("{}/", llm.anthropic_url());
    let mut request = ask("checkout again");
    request.messages.push(ChatMessage::Assistant {
        content: "Looking.".into(),
        tool_calls: vec![ToolCallRequest { id: "c9".into(), name: "get_pod".into(), arguments: json!({}) }],
    });
    request.messages.push(ChatMessage::Tool {
        call_id: "c9".into(),
        name: "get_pod".into(),
        content: "ok".into(),
        is_error: false,
    });
    events_ok(&*c.build().expect("builds"), request).await;
    let b = &llm.requests()[1].body;
    assert_eq!(b["max_tokens"], 4096);
    assert!(b.get("tools").is_none());
    assert_eq!(
        b["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": "c9", "name": "get_pod", "input": {}},
        ]})
    );
}

async fn retries_429_and_500_then_succeeds(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("finally").failing_first([429, 500])]));
    let events = events_ok(&*provider(kind, &llm), ask("hi")).await;
    assert_eq!(text(&events).concat(), "finally");
    let statuses: Vec<u16> = llm.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 500, 200]);
}

async fn retry_after_is_honoured(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("ok").failing_first([529]).with_retry_after(0.25)]));
    events_ok(&*provider(kind, &llm), ask("hi")).await;
    let requests = llm.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_at.duration_since(requests[0].received_at);
    assert!(gap >= Duration::from_millis(240), "waited only {gap:?} (backoff is 2 ms, Retry-After 250 ms)");
}

async fn unavailable_after_exhausting_retries(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("never").failing_first([500, 502, 503, 500])]));
    let mut c = config(kind, &llm);
    c.max_retries = 2;
    let (events, error) = run(&*c.build().expect("builds"), ask("hi")).await;
    assert!(events.is_empty());
    match error {
        Some(LlmError::Unavailable { url, reason }) => {
            assert!(url.starts_with(&llm.anthropic_url()), "{url}");
            assert!(reason.contains("503"), "the last status is named: {reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(llm.request_count(), 3, "one attempt and two retries");
}

async fn unavailable_on_a_closed_port(kind: ProviderKind) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("addr").port()
    };
    let base = match kind {
        ProviderKind::OpenAi => format!("http://127.0.0.1:{port}/v1"),
        ProviderKind::Anthropic => format!("http://127.0.0.1:{port}"),
    };
    let mut c = ProviderConfig::new(kind, base, "m");
    c.max_retries = 3;
    c.initial_backoff = Duration::from_millis(1);
    let started = Instant::now();
    let (events, error) = run(&*c.build().expect("builds"), ask("hi")).await;
    assert!(events.is_empty());
    match &error {
        Some(LlmError::Unavailable { url, reason }) => {
            assert!(url.contains(&format!("127.0.0.1:{port}")), "{url}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    let message = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("BINNACLE_LLM_BASE_URL"), "{message}");
}

async fn rejected_on_401(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("never").failing_first([401])]));
    let (events, error) = run(&*provider(kind, &llm), ask("hi")).await;
    assert!(events.is_empty());
    match error {
        Some(LlmError::Rejected { status, message }) => {
            assert_eq!(status, 401);
            assert_eq!(message, "scripted failure (HTTP 401)");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(llm.request_count(), 1, "a 401 is not retried");
}

async fn dropping_a_hanging_stream_cancels_it(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("I am still thinking").hanging()]));
    let p = provider(kind, &llm);
    let mut stream = p.stream(ask("hi"));
    let mut seen = String::new();
    while seen != "I am still thinking" {
        match tokio::time::timeout(LIMIT, stream.next()).await.expect("deltas arrive") {
            Some(Ok(LlmEvent::TextDelta(t))) => seen.push_str(&t),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Nothing more comes while the server hangs.
    assert!(tokio::time::timeout(Duration::from_millis(50), stream.next()).await.is_err());
    drop(stream);
    assert!(
        llm.wait_for_disconnects(1, Duration::from_secs(2)).await,
        "the server sees the connection close once the stream is dropped"
    );
}

async fn invalid_json_arguments(kind: ProviderKind) {
    let broken = r#"{"namespace": "default", "name": "web"#;
    let llm = start_scripted_llm(Script::turns(vec![Turn {
        tool_calls: vec![
            ScriptedToolCall {
                id: Some("bad".into()),
                name: "get_pod".into(),
                arguments: Value::String(broken.into()),
            },
            ScriptedToolCall {
                id: Some("empty".into()),
                name: "list_namespaces".into(),
                arguments: Value::String(String::new()),
            },
        ],
        ..Turn::default()
    }]));
    let events = events_ok(&*provider(kind, &llm), ask("hi")).await;
    assert_eq!(
        tool_calls(&events),
        vec![
            ToolCallRequest { id: "bad".into(), name: "get_pod".into(), arguments: json!({"_invalid_json": broken}) },
            ToolCallRequest { id: "empty".into(), name: "list_namespaces".into(), arguments: json!({}) },
        ]
    );
}

async fn an_error_inside_the_stream(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::text_of("partial").with_stream_error("Overloaded")]));
    let (events, error) = run(&*provider(kind, &llm), ask("hi")).await;
    assert_eq!(events, vec![LlmEvent::TextDelta("partial".into())]);
    match error {
        Some(LlmError::Stream(message)) => assert!(message.contains("Overloaded"), "{message}"),
        other => panic!("expected Stream, got {other:?}"),
    }
    assert_eq!(llm.request_count(), 1, "a failure mid-stream is not retried");
}

async fn max_tokens_and_other_stop_reasons(kind: ProviderKind) {
    let (cut, other) = match kind {
        ProviderKind::OpenAi => ("length", "content_filter"),
        ProviderKind::Anthropic => ("max_tokens", "refusal"),
    };
    let llm = start_scripted_llm(Script::new(vec![
        ScriptedConversation::when("long", vec![Turn::text_of("a very long").with_stop_reason(cut)]),
        ScriptedConversation::when("odd", vec![Turn::text_of("no").with_stop_reason(other)]),
    ]));
    let p = provider(kind, &llm);
    let events = events_ok(&*p, ask("something long")).await;
    assert_eq!(events.last(), Some(&LlmEvent::Finished(StopReason::MaxTokens)));
    let events = events_ok(&*p, ask("something odd")).await;
    assert_eq!(events.last(), Some(&LlmEvent::Finished(StopReason::Other(other.into()))));
}

async fn slow_chunks_arrive_as_they_are_sent(kind: ProviderKind) {
    let llm = start_scripted_llm(Script::turns(vec![Turn::texts(["one", "two", "three"]).with_delay_ms(25)]));
    let p = provider(kind, &llm);
    let mut stream = p.stream(ask("hi"));
    let started = Instant::now();
    let first = tokio::time::timeout(LIMIT, stream.next()).await.expect("arrives");
    assert_eq!(first.map(|r| r.ok()), Some(Some(LlmEvent::TextDelta("one".into()))));
    let first_at = started.elapsed();
    let mut rest = Vec::new();
    while let Some(item) = tokio::time::timeout(LIMIT, stream.next()).await.expect("arrives") {
        rest.push(item.expect("no error"));
    }
    // At least the two chunks of the other deltas follow the first, each 25 ms later.
    assert!(started.elapsed() >= first_at + Duration::from_millis(45), "the deltas are streamed, not buffered");
    assert_eq!(rest.last(), Some(&LlmEvent::Finished(StopReason::EndTurn)));
}

macro_rules! for_both {
    ($($scenario:ident),* $(,)?) => {
        mod openai {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(binnacle_llm::ProviderKind::OpenAi).await
                }
            )*
        }
        mod anthropic {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(binnacle_llm::ProviderKind::Anthropic).await
                }
            )*
        }
    };
}

for_both!(
    text_streams_in_order,
    thinking_comes_before_text,
    one_tool_call,
    two_tool_calls_after_text,
    retries_429_and_500_then_succeeds,
    retry_after_is_honoured,
    unavailable_after_exhausting_retries,
    unavailable_on_a_closed_port,
    rejected_on_401,
    dropping_a_hanging_stream_cancels_it,
    invalid_json_arguments,
    an_error_inside_the_stream,
    max_tokens_and_other_stop_reasons,
    slow_chunks_arrive_as_they_are_sent,
);
