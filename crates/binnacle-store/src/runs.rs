//! Runs (one agent loop answering one user message), their event log, tool calls and approvals.

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Talking to the model or running tools.
    Running,
    /// Paused at the approval gate.
    WaitingApproval,
    /// Answered.
    Completed,
    /// Ended with an error.
    Failed,
    /// Stopped by a person.
    Stopped,
    /// Its replica went away mid-step (not at the gate); it cannot be resumed.
    Interrupted,
}

impl RunStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::WaitingApproval => "waiting_approval",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// True once the run can change no more.
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Running | RunStatus::WaitingApproval)
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "running" => RunStatus::Running,
            "waiting_approval" => RunStatus::WaitingApproval,
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "stopped" => RunStatus::Stopped,
            "interrupted" => RunStatus::Interrupted,
            other => return Err(format!("unknown run status {other:?}")),
        })
    }
}

/// A run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// Id.
    pub id: String,
    /// Conversation.
    pub conversation_id: String,
    /// Who started it.
    pub user_id: String,
    /// Status.
    pub status: RunStatus,
    /// `openai`, `anthropic` or `offline`.
    pub provider: String,
    /// Model name.
    pub model: String,
    /// Started, ms.
    pub started_at: i64,
    /// Ended, ms.
    pub finished_at: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Cost in USD when known.
    pub cost_usd: Option<f64>,
    /// Time to the first token of the first model turn, ms.
    pub ttft_ms: Option<i64>,
    /// Model turns taken.
    pub steps: i64,
    /// The replica driving it.
    pub owner: Option<String>,
    /// When that replica last said it is alive, ms.
    pub heartbeat_at: Option<i64>,
}

/// A run to create (status `running`, owned by `owner`).
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Conversation.
    pub conversation_id: String,
    /// Who starts it.
    pub user_id: String,
    /// Provider name.
    pub provider: String,
    /// Model name.
    pub model: String,
    /// The replica that drives it.
    pub owner: String,
}

/// One event of a run's stream, as kept for `Last-Event-ID` resumption and for following a run from
/// another replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    /// Run.
    pub run_id: String,
    /// Position in the run's stream, from 1 (the SSE id is `{run_id}:{seq}`... the engine decides).
    pub seq: i64,
    /// Event name (`message.delta`, `tool.started`, ...).
    pub event: String,
    /// Payload.
    pub data: Value,
    /// Written, ms.
    pub created_at: i64,
}

/// Where a tool call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallStatus {
    /// Waiting at the approval gate.
    PendingApproval,
    /// Executing.
    Running,
    /// Done, without error.
    Succeeded,
    /// Done, with an error.
    Failed,
    /// Refused at the gate.
    Denied,
    /// Abandoned (the run was stopped).
    Cancelled,
}

impl ToolCallStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolCallStatus::PendingApproval => "pending_approval",
            ToolCallStatus::Running => "running",
            ToolCallStatus::Succeeded => "succeeded",
            ToolCallStatus::Failed => "failed",
            ToolCallStatus::Denied => "denied",
            ToolCallStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for ToolCallStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending_approval" => ToolCallStatus::PendingApproval,
            "running" => ToolCallStatus::Running,
            "succeeded" => ToolCallStatus::Succeeded,
            "failed" => ToolCallStatus::Failed,
            "denied" => ToolCallStatus::Denied,
            "cancelled" => ToolCallStatus::Cancelled,
            other => return Err(format!("unknown tool call status {other:?}")),
        })
    }
}

/// A tool call made during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    /// Id.
    pub id: String,
    /// Run.
    pub run_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// The model's id for the call.
    pub call_id: String,
    /// Tool name.
    pub tool: String,
    /// The kubeconfig context it targets, when it names one.
    pub context: Option<String>,
    /// Arguments (as the model gave them; the audit log keeps a redacted copy).
    pub arguments: Value,
    /// Status.
    pub status: ToolCallStatus,
    /// The result (summary + structured content, or the error).
    pub result: Option<Value>,
    /// True when it failed or was denied.
    pub is_error: bool,
    /// Created, ms.
    pub created_at: i64,
    /// Finished, ms.
    pub finished_at: Option<i64>,
    /// How long the tool ran, ms.
    pub duration_ms: Option<i64>,
}

/// A tool call to record.
#[derive(Debug, Clone)]
pub struct NewToolCall {
    /// Run.
    pub run_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// The model's id for the call.
    pub call_id: String,
    /// Tool name.
    pub tool: String,
    /// Target context.
    pub context: Option<String>,
    /// Arguments.
    pub arguments: Value,
    /// Initial status (`running` or `pending_approval`).
    pub status: ToolCallStatus,
}

/// Where an approval is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved (by a person or by policy).
    Approved,
    /// Denied.
    Denied,
    /// The run was stopped before a decision.
    Cancelled,
}

impl ApprovalStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for ApprovalStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => ApprovalStatus::Pending,
            "approved" => ApprovalStatus::Approved,
            "denied" => ApprovalStatus::Denied,
            "cancelled" => ApprovalStatus::Cancelled,
            other => return Err(format!("unknown approval status {other:?}")),
        })
    }
}

/// A request for a person to approve one exact tool call with one exact preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Id.
    pub id: String,
    /// The tool call it gates.
    pub tool_call_id: String,
    /// Run.
    pub run_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// Tool name.
    pub tool: String,
    /// Target context.
    pub context: Option<String>,
    /// Arguments.
    pub arguments: Value,
    /// The preview shown to the approver (dry-run diff or description).
    pub preview: Value,
    /// Hex SHA-256 binding tool, arguments and preview; a decision must name it.
    pub preview_hash: String,
    /// Status.
    pub status: ApprovalStatus,
    /// Who decided (username, or `policy`).
    pub decided_by: Option<String>,
    /// The decider's reason.
    pub reason: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Decided, ms.
    pub decided_at: Option<i64>,
}

/// An approval to create (status `pending`).
#[derive(Debug, Clone)]
pub struct NewApproval {
    /// The tool call it gates.
    pub tool_call_id: String,
    /// Run.
    pub run_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// Tool name.
    pub tool: String,
    /// Target context.
    pub context: Option<String>,
    /// Arguments.
    pub arguments: Value,
    /// Preview.
    pub preview: Value,
    /// Hash binding tool, arguments and preview.
    pub preview_hash: String,
}

/// Token usage summed over one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageBucket {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Runs started that day.
    pub runs: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Cost, when known.
    pub cost_usd: Option<f64>,
}

impl Store {
    /// Creates a run (status `running`, heartbeat now).
    pub async fn create_run(&self, run: &NewRun) -> Result<Run, StoreError> {
        todo!("{run:?}")
    }

    /// A run by id.
    pub async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        todo!("{id}")
    }

    /// The runs of a conversation, oldest first.
    pub async fn runs_for_conversation(&self, conversation_id: &str) -> Result<Vec<Run>, StoreError> {
        todo!("{conversation_id}")
    }

    /// Runs in any of these statuses.
    pub async fn runs_with_status(&self, statuses: &[RunStatus]) -> Result<Vec<Run>, StoreError> {
        todo!("{statuses:?}")
    }

    /// Sets a run's status (and `finished_at` when terminal, `error` when given).
    pub async fn set_run_status(&self, id: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        todo!("{id}{status:?}{error:?}")
    }

    /// Adds token usage and cost to a run, sets its time to first token if unset, and its step count.
    pub async fn add_run_usage(
        &self,
        id: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
        cost_usd: Option<f64>,
        ttft_ms: Option<i64>,
        steps: i64,
    ) -> Result<(), StoreError> {
        todo!("{id}{prompt_tokens}{completion_tokens}{cost_usd:?}{ttft_ms:?}{steps}")
    }

    /// Takes ownership of a non-terminal run for `owner` when it is unowned, already `owner`'s, or its
    /// owner's heartbeat is older than `stale_before` (ms). `true` when `owner` now holds it.
    pub async fn claim_run(&self, id: &str, owner: &str, stale_before: i64) -> Result<bool, StoreError> {
        todo!("{id}{owner}{stale_before}")
    }

    /// Refreshes the heartbeat of every non-terminal run `owner` holds.
    pub async fn heartbeat_runs(&self, owner: &str) -> Result<u64, StoreError> {
        todo!("{owner}")
    }

    /// Appends events to runs' logs (one transaction; `(run_id, seq)` is unique).
    pub async fn append_run_events(&self, events: &[RunEvent]) -> Result<(), StoreError> {
        todo!("{events:?}")
    }

    /// A run's events with `seq > after`, in order, at most `limit`.
    pub async fn run_events_after(&self, run_id: &str, after: i64, limit: i64) -> Result<Vec<RunEvent>, StoreError> {
        todo!("{run_id}{after}{limit}")
    }

    /// The highest event `seq` of a run (0 when none).
    pub async fn last_run_event_seq(&self, run_id: &str) -> Result<i64, StoreError> {
        todo!("{run_id}")
    }

    /// Records a tool call.
    pub async fn insert_tool_call(&self, call: &NewToolCall) -> Result<ToolCall, StoreError> {
        todo!("{call:?}")
    }

    /// A tool call by id.
    pub async fn tool_call(&self, id: &str) -> Result<Option<ToolCall>, StoreError> {
        todo!("{id}")
    }

    /// The tool calls of a run, in order.
    pub async fn tool_calls_for_run(&self, run_id: &str) -> Result<Vec<ToolCall>, StoreError> {
        todo!("{run_id}")
    }

    /// The tool calls of a conversation, in order.
    pub async fn tool_calls_for_conversation(&self, conversation_id: &str) -> Result<Vec<ToolCall>, StoreError> {
        todo!("{conversation_id}")
    }

    /// Sets a tool call's status.
    pub async fn set_tool_call_status(&self, id: &str, status: ToolCallStatus) -> Result<(), StoreError> {
        todo!("{id}{status:?}")
    }

    /// Records a tool call's outcome (status, result, error flag, duration; `finished_at` now).
    pub async fn finish_tool_call(
        &self,
        id: &str,
        status: ToolCallStatus,
        result: &Value,
        is_error: bool,
        duration_ms: i64,
    ) -> Result<(), StoreError> {
        todo!("{id}{status:?}{result}{is_error}{duration_ms}")
    }

    /// Creates a pending approval.
    pub async fn insert_approval(&self, approval: &NewApproval) -> Result<Approval, StoreError> {
        todo!("{approval:?}")
    }

    /// An approval by id.
    pub async fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        todo!("{id}")
    }

    /// Approvals, newest first, filtered by status and/or by the conversations of one user.
    pub async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        user_id: Option<&str>,
    ) -> Result<Vec<Approval>, StoreError> {
        todo!("{status:?}{user_id:?}")
    }

    /// The approvals of a run, oldest first.
    pub async fn approvals_for_run(&self, run_id: &str) -> Result<Vec<Approval>, StoreError> {
        todo!("{run_id}")
    }

    /// The approvals of a conversation, oldest first.
    pub async fn approvals_for_conversation(&self, conversation_id: &str) -> Result<Vec<Approval>, StoreError> {
        todo!("{conversation_id}")
    }

    /// Decides a pending approval, atomically and only if `preview_hash` matches: `NotFound` when absent,
    /// `Conflict` when already decided or when the hash differs (the call or preview changed).
    pub async fn decide_approval(
        &self,
        id: &str,
        decision: ApprovalStatus,
        decided_by: &str,
        reason: Option<&str>,
        preview_hash: &str,
    ) -> Result<Approval, StoreError> {
        todo!("{id}{decision:?}{decided_by}{reason:?}{preview_hash}")
    }

    /// Token usage per UTC day for runs started at or after `since` (ms), oldest day first.
    pub async fn usage_by_day(&self, since: i64) -> Result<Vec<UsageBucket>, StoreError> {
        todo!("{since}")
    }
}
