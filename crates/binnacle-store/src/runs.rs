//! Runs (one agent loop answering one user message), their event log, tool calls and approvals.

use crate::util::{
    flag, get, get_enum, get_flag, get_json, get_json_opt, is_foreign_key_violation, is_unique_violation, json_text,
};
use crate::{Store, StoreError, new_id, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

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

const RUN_COLUMNS: &str = "id, conversation_id, user_id, status, provider, model, started_at, finished_at, error, \
     prompt_tokens, completion_tokens, cost_usd, ttft_ms, steps, owner, heartbeat_at";
const TOOL_CALL_COLUMNS: &str = "id, run_id, conversation_id, call_id, tool, context, arguments, status, result, \
     is_error, created_at, finished_at, duration_ms";
const APPROVAL_COLUMNS: &str = "id, tool_call_id, run_id, conversation_id, tool, context, arguments, preview, \
     preview_hash, status, decided_by, reason, created_at, decided_at";

/// The statuses in which a run can still change, as SQL.
const LIVE_STATUSES: &str = "('running', 'waiting_approval')";

fn run_from_row(row: &AnyRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: get(row, "id")?,
        conversation_id: get(row, "conversation_id")?,
        user_id: get(row, "user_id")?,
        status: get_enum(row, "status")?,
        provider: get(row, "provider")?,
        model: get(row, "model")?,
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        error: get(row, "error")?,
        prompt_tokens: get(row, "prompt_tokens")?,
        completion_tokens: get(row, "completion_tokens")?,
        cost_usd: get(row, "cost_usd")?,
        ttft_ms: get(row, "ttft_ms")?,
        steps: get(row, "steps")?,
        owner: get(row, "owner")?,
        heartbeat_at: get(row, "heartbeat_at")?,
    })
}

fn event_from_row(row: &AnyRow) -> Result<RunEvent, StoreError> {
    Ok(RunEvent {
        run_id: get(row, "run_id")?,
        seq: get(row, "seq")?,
        event: get(row, "event")?,
        data: get_json(row, "data")?,
        created_at: get(row, "created_at")?,
    })
}

fn tool_call_from_row(row: &AnyRow) -> Result<ToolCall, StoreError> {
    Ok(ToolCall {
        id: get(row, "id")?,
        run_id: get(row, "run_id")?,
        conversation_id: get(row, "conversation_id")?,
        call_id: get(row, "call_id")?,
        tool: get(row, "tool")?,
        context: get(row, "context")?,
        arguments: get_json(row, "arguments")?,
        status: get_enum(row, "status")?,
        result: get_json_opt(row, "result")?,
        is_error: get_flag(row, "is_error")?,
        created_at: get(row, "created_at")?,
        finished_at: get(row, "finished_at")?,
        duration_ms: get(row, "duration_ms")?,
    })
}

fn approval_from_row(row: &AnyRow) -> Result<Approval, StoreError> {
    Ok(Approval {
        id: get(row, "id")?,
        tool_call_id: get(row, "tool_call_id")?,
        run_id: get(row, "run_id")?,
        conversation_id: get(row, "conversation_id")?,
        tool: get(row, "tool")?,
        context: get(row, "context")?,
        arguments: get_json(row, "arguments")?,
        preview: get_json(row, "preview")?,
        preview_hash: get(row, "preview_hash")?,
        status: get_enum(row, "status")?,
        decided_by: get(row, "decided_by")?,
        reason: get(row, "reason")?,
        created_at: get(row, "created_at")?,
        decided_at: get(row, "decided_at")?,
    })
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (proleptic Gregorian; Howard Hinnant's `civil_from_days`).
fn civil_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl Store {
    /// Creates a run (status `running`, heartbeat now).
    pub async fn create_run(&self, run: &NewRun) -> Result<Run, StoreError> {
        let now = now_ms();
        let created = Run {
            id: new_id(),
            conversation_id: run.conversation_id.clone(),
            user_id: run.user_id.clone(),
            status: RunStatus::Running,
            provider: run.provider.clone(),
            model: run.model.clone(),
            started_at: now,
            finished_at: None,
            error: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: None,
            ttft_ms: None,
            steps: 0,
            owner: Some(run.owner.clone()),
            heartbeat_at: Some(now),
        };
        sqlx::query(
            "INSERT INTO runs (id, conversation_id, user_id, status, provider, model, started_at, prompt_tokens, \
             completion_tokens, steps, owner, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, $8, $9)",
        )
        .bind(&created.id)
        .bind(&created.conversation_id)
        .bind(&created.user_id)
        .bind(created.status.as_str())
        .bind(&created.provider)
        .bind(&created.model)
        .bind(now)
        .bind(&run.owner)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("conversation {}", run.conversation_id))
            } else {
                e.into()
            }
        })?;
        Ok(created)
    }

    /// A run by id.
    pub async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The runs of a conversation, oldest first.
    pub async fn runs_for_conversation(&self, conversation_id: &str) -> Result<Vec<Run>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE conversation_id = $1 ORDER BY started_at, id"))
                .bind(conversation_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Runs in any of these statuses.
    pub async fn runs_with_status(&self, statuses: &[RunStatus]) -> Result<Vec<Run>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status IN ({}) ORDER BY started_at, id",
            placeholders(1, statuses.len())
        );
        let mut query = sqlx::query(&sql);
        for status in statuses {
            query = query.bind(status.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Sets a run's status (and `finished_at` when terminal, `error` when given).
    pub async fn set_run_status(&self, id: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        let done = if status.is_terminal() {
            sqlx::query("UPDATE runs SET status = $1, finished_at = $2, error = COALESCE($3, error) WHERE id = $4")
                .bind(status.as_str())
                .bind(now_ms())
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?
        } else {
            sqlx::query("UPDATE runs SET status = $1, error = COALESCE($2, error) WHERE id = $3")
                .bind(status.as_str())
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("run {id}")));
        }
        Ok(())
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
        // No nullable f64 parameter: see `add_conversation_usage`.
        let done =
            match cost_usd {
                Some(cost) => sqlx::query(
                    "UPDATE runs SET prompt_tokens = prompt_tokens + $1, completion_tokens = completion_tokens + $2, \
                     ttft_ms = COALESCE(ttft_ms, $3), steps = $4, cost_usd = COALESCE(cost_usd, 0) + $5 WHERE id = $6",
                )
                .bind(prompt_tokens)
                .bind(completion_tokens)
                .bind(ttft_ms)
                .bind(steps)
                .bind(cost)
                .bind(id)
                .execute(self.pool())
                .await?,
                None => sqlx::query(
                    "UPDATE runs SET prompt_tokens = prompt_tokens + $1, completion_tokens = completion_tokens + $2, \
                     ttft_ms = COALESCE(ttft_ms, $3), steps = $4 WHERE id = $5",
                )
                .bind(prompt_tokens)
                .bind(completion_tokens)
                .bind(ttft_ms)
                .bind(steps)
                .bind(id)
                .execute(self.pool())
                .await?,
            };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("run {id}")));
        }
        Ok(())
    }

    /// Takes ownership of a non-terminal run for `owner` when it is unowned, already `owner`'s, or its
    /// owner's heartbeat is older than `stale_before` (ms). `true` when `owner` now holds it.
    pub async fn claim_run(&self, id: &str, owner: &str, stale_before: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE runs SET owner = $1, heartbeat_at = $2 WHERE id = $3 AND status IN {LIVE_STATUSES} \
             AND (owner IS NULL OR owner = $1 OR heartbeat_at IS NULL OR heartbeat_at < $4)"
        ))
        .bind(owner)
        .bind(now_ms())
        .bind(id)
        .bind(stale_before)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Refreshes the heartbeat of every non-terminal run `owner` holds.
    pub async fn heartbeat_runs(&self, owner: &str) -> Result<u64, StoreError> {
        let done =
            sqlx::query(&format!("UPDATE runs SET heartbeat_at = $1 WHERE owner = $2 AND status IN {LIVE_STATUSES}"))
                .bind(now_ms())
                .bind(owner)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected())
    }

    /// Appends events to runs' logs (one transaction; `(run_id, seq)` is unique).
    pub async fn append_run_events(&self, events: &[RunEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for event in events {
            sqlx::query("INSERT INTO run_events (run_id, seq, event, data, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&event.run_id)
                .bind(event.seq)
                .bind(&event.event)
                .bind(json_text(&event.data))
                .bind(event.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(format!("run {} already has an event {}", event.run_id, event.seq))
                    } else if is_foreign_key_violation(&e) {
                        StoreError::NotFound(format!("run {}", event.run_id))
                    } else {
                        e.into()
                    }
                })?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A run's events with `seq > after`, in order, at most `limit`.
    pub async fn run_events_after(&self, run_id: &str, after: i64, limit: i64) -> Result<Vec<RunEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, seq, event, data, created_at FROM run_events WHERE run_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(run_id)
        .bind(after)
        .bind(limit.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The highest event `seq` of a run (0 when none).
    pub async fn last_run_event_seq(&self, run_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM run_events WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(self.pool())
            .await?;
        get(&row, "seq")
    }

    /// Records a tool call.
    pub async fn insert_tool_call(&self, call: &NewToolCall) -> Result<ToolCall, StoreError> {
        let created = ToolCall {
            id: new_id(),
            run_id: call.run_id.clone(),
            conversation_id: call.conversation_id.clone(),
            call_id: call.call_id.clone(),
            tool: call.tool.clone(),
            context: call.context.clone(),
            arguments: call.arguments.clone(),
            status: call.status,
            result: None,
            is_error: false,
            created_at: now_ms(),
            finished_at: None,
            duration_ms: None,
        };
        sqlx::query(
            "INSERT INTO tool_calls (id, run_id, conversation_id, call_id, tool, context, arguments, status, is_error, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(&created.id)
        .bind(&created.run_id)
        .bind(&created.conversation_id)
        .bind(&created.call_id)
        .bind(&created.tool)
        .bind(&created.context)
        .bind(json_text(&created.arguments))
        .bind(created.status.as_str())
        .bind(created.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("run {} of conversation {}", call.run_id, call.conversation_id))
            } else {
                e.into()
            }
        })?;
        Ok(created)
    }

    /// A tool call by id.
    pub async fn tool_call(&self, id: &str) -> Result<Option<ToolCall>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TOOL_CALL_COLUMNS} FROM tool_calls WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(tool_call_from_row).transpose()
    }

    /// The tool calls of a run, in order.
    pub async fn tool_calls_for_run(&self, run_id: &str) -> Result<Vec<ToolCall>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOOL_CALL_COLUMNS} FROM tool_calls WHERE run_id = $1 ORDER BY created_at, id"
        ))
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(tool_call_from_row).collect()
    }

    /// The tool calls of a conversation, in order.
    pub async fn tool_calls_for_conversation(&self, conversation_id: &str) -> Result<Vec<ToolCall>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOOL_CALL_COLUMNS} FROM tool_calls WHERE conversation_id = $1 ORDER BY created_at, id"
        ))
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(tool_call_from_row).collect()
    }

    /// Sets a tool call's status.
    pub async fn set_tool_call_status(&self, id: &str, status: ToolCallStatus) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE tool_calls SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tool call {id}")));
        }
        Ok(())
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
        let done = sqlx::query(
            "UPDATE tool_calls SET status = $1, result = $2, is_error = $3, duration_ms = $4, finished_at = $5 \
             WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(json_text(result))
        .bind(flag(is_error))
        .bind(duration_ms)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tool call {id}")));
        }
        Ok(())
    }

    /// Creates a pending approval.
    pub async fn insert_approval(&self, approval: &NewApproval) -> Result<Approval, StoreError> {
        let created = Approval {
            id: new_id(),
            tool_call_id: approval.tool_call_id.clone(),
            run_id: approval.run_id.clone(),
            conversation_id: approval.conversation_id.clone(),
            tool: approval.tool.clone(),
            context: approval.context.clone(),
            arguments: approval.arguments.clone(),
            preview: approval.preview.clone(),
            preview_hash: approval.preview_hash.clone(),
            status: ApprovalStatus::Pending,
            decided_by: None,
            reason: None,
            created_at: now_ms(),
            decided_at: None,
        };
        sqlx::query(
            "INSERT INTO approvals (id, tool_call_id, run_id, conversation_id, tool, context, arguments, preview, \
             preview_hash, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&created.id)
        .bind(&created.tool_call_id)
        .bind(&created.run_id)
        .bind(&created.conversation_id)
        .bind(&created.tool)
        .bind(&created.context)
        .bind(json_text(&created.arguments))
        .bind(json_text(&created.preview))
        .bind(&created.preview_hash)
        .bind(created.status.as_str())
        .bind(created.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "tool call {} of run {} of conversation {}",
                    approval.tool_call_id, approval.run_id, approval.conversation_id
                ))
            } else {
                e.into()
            }
        })?;
        Ok(created)
    }

    /// An approval by id.
    pub async fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        let row = sqlx::query(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(approval_from_row).transpose()
    }

    /// Approvals, newest first, filtered by status and/or by the conversations of one user.
    pub async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        user_id: Option<&str>,
    ) -> Result<Vec<Approval>, StoreError> {
        let mut sql = format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE 1 = 1");
        let mut n = 0;
        if status.is_some() {
            n += 1;
            sql.push_str(&format!(" AND status = ${n}"));
        }
        if user_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND conversation_id IN (SELECT id FROM conversations WHERE user_id = ${n})"));
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC");
        let mut query = sqlx::query(&sql);
        if let Some(status) = status {
            query = query.bind(status.as_str());
        }
        if let Some(user_id) = user_id {
            query = query.bind(user_id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(approval_from_row).collect()
    }

    /// The approvals of a run, oldest first.
    pub async fn approvals_for_run(&self, run_id: &str) -> Result<Vec<Approval>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE run_id = $1 ORDER BY created_at, id"))
                .bind(run_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(approval_from_row).collect()
    }

    /// The approvals of a conversation, oldest first.
    pub async fn approvals_for_conversation(&self, conversation_id: &str) -> Result<Vec<Approval>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE conversation_id = $1 ORDER BY created_at, id"
        ))
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(approval_from_row).collect()
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
        if decision == ApprovalStatus::Pending {
            return Err(StoreError::Conflict(format!("approval {id} cannot be decided as pending")));
        }
        let done = sqlx::query(
            "UPDATE approvals SET status = $1, decided_by = $2, reason = $3, decided_at = $4 \
             WHERE id = $5 AND status = 'pending' AND preview_hash = $6",
        )
        .bind(decision.as_str())
        .bind(decided_by)
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .bind(preview_hash)
        .execute(self.pool())
        .await?;
        let current = self.approval(id).await?.ok_or_else(|| StoreError::NotFound(format!("approval {id}")))?;
        if done.rows_affected() == 1 {
            return Ok(current);
        }
        if current.status != ApprovalStatus::Pending {
            let by = current.decided_by.as_deref().unwrap_or("nobody");
            return Err(StoreError::Conflict(format!("approval {id} was already {} by {by}", current.status.as_str())));
        }
        if current.preview_hash != preview_hash {
            return Err(StoreError::Conflict("the approval's preview changed; reload it and decide again".to_string()));
        }
        // Pending with the same hash, yet not updated: it changed and changed back in between. Rare enough to
        // ask the caller to try again.
        Err(StoreError::Conflict(format!("approval {id} changed while it was being decided; decide again")))
    }

    /// Token usage per UTC day for runs started at or after `since` (ms), oldest day first.
    pub async fn usage_by_day(&self, since: i64) -> Result<Vec<UsageBucket>, StoreError> {
        const DAY_MS: i64 = 86_400_000;
        let rows = sqlx::query(
            "SELECT started_at, prompt_tokens, completion_tokens, cost_usd FROM runs WHERE started_at >= $1 \
             ORDER BY started_at",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let mut days: BTreeMap<i64, UsageBucket> = BTreeMap::new();
        for row in &rows {
            let started_at: i64 = get(row, "started_at")?;
            let cost: Option<f64> = get(row, "cost_usd")?;
            let day = started_at.div_euclid(DAY_MS);
            let bucket = days.entry(day).or_insert_with(|| UsageBucket {
                day: civil_day(day),
                runs: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                cost_usd: None,
            });
            bucket.runs += 1;
            bucket.prompt_tokens += get::<i64>(row, "prompt_tokens")?;
            bucket.completion_tokens += get::<i64>(row, "completion_tokens")?;
            if let Some(cost) = cost {
                bucket.cost_usd = Some(bucket.cost_usd.unwrap_or(0.0) + cost);
            }
        }
        Ok(days.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::civil_day;

    #[test]
    fn civil_days() {
        assert_eq!(civil_day(0), "1970-01-01");
        assert_eq!(civil_day(-1), "1969-12-31");
        assert_eq!(civil_day(59), "1970-03-01");
        assert_eq!(civil_day(11_016), "2000-02-29");
        assert_eq!(civil_day(19_782), "2024-02-29");
        assert_eq!(civil_day(20_415), "2025-11-23");
    }
}
