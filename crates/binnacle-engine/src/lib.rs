//! Binnacle's agent runs: the loop over an LLM and the tool catalog, the approval gate, run events and the
//! offline assistant. No HTTP here: the API crate drives an [`Engine`].
//!
//! A **run** answers one user message: the model is asked, its tool calls are executed, their results go
//! back to the model, until it answers, is stopped, or reaches the step limit. Every call to a tool that is
//! not read-only stops at the **approval gate** ([`Engine::decide`]): the run persists an approval with a
//! preview of the change (the tool's server-side dry run) and waits — across restarts and replicas — for an
//! operator or admin. Everything a run does is streamed as numbered [`events::Event`]s and kept in the store,
//! so a follower can resume from any event id, on any replica.

mod agent;
pub mod error;
pub mod events;
mod follow;
pub mod metrics;
pub mod offline;
pub mod policy;
pub mod preview;
pub mod redact;
mod signals;
pub mod tool_text;
pub mod toolbox;

pub use error::EngineError;
pub use events::Event;
pub use metrics::Metrics;
pub use policy::ApprovalPolicy;
pub use toolbox::{ToolBox, ToolEntry};

use binnacle_llm::LlmProvider;
use binnacle_store::{
    Approval, ApprovalStatus, Conversation, NewAuditEntry, NewRun, Role, Run, RunStatus, Store, now_ms,
};
use events::{EventWriter, RunChannel};
use futures::stream::BoxStream;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

/// The longest user message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id.
    pub user_id: String,
    /// Login name (what the audit log and approvals show).
    pub username: String,
    /// Role.
    pub role: Role,
}

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This replica's name. Runs it drives carry it; with PostgreSQL give each replica a stable one (pod
    /// name) so a restarted replica resumes its runs at once instead of after the lease.
    pub replica_id: String,
    /// The most model turns in one run.
    pub max_steps: i64,
    /// Extra instructions appended to the built-in system prompt.
    pub extra_instructions: Option<String>,
    /// Auto-approval policy.
    pub policy: ApprovalPolicy,
    /// USD per million prompt and completion tokens, when known.
    pub pricing: Option<(f64, f64)>,
    /// How long a replica's claim on a run lasts without a heartbeat.
    pub lease: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            replica_id: format!("replica-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            max_steps: 12,
            extra_instructions: None,
            policy: ApprovalPolicy::default(),
            pricing: None,
            lease: Duration::from_secs(30),
        }
    }
}

/// A run driven by this replica.
struct LiveRun {
    channel: Arc<RunChannel>,
    cancel: CancellationToken,
    wake: Arc<Notify>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) llm: Arc<dyn LlmProvider>,
    pub(crate) tools: ToolBox,
    pub(crate) config: EngineConfig,
    pub(crate) metrics: Metrics,
    live: Mutex<HashMap<String, LiveRun>>,
    writer: EventWriter,
    /// Run ids whose stored events changed (from this replica's writer or another replica's NOTIFY).
    pub(crate) stored_events: broadcast::Sender<String>,
    pub(crate) shutdown: CancellationToken,
}

/// The engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<Inner>);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("replica", &self.0.config.replica_id).finish_non_exhaustive()
    }
}

/// What [`Engine::start_run`] created.
#[derive(Debug, Clone)]
pub struct RunStarted {
    /// The conversation (new or existing).
    pub conversation: Conversation,
    /// The run.
    pub run: Run,
}

/// A decision at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run the call.
    Approve,
    /// Do not run it; the model is told who denied it.
    Deny,
}

impl Engine {
    /// Starts the engine: its event writer, the cross-replica listener, heartbeats, and the recovery of runs
    /// left waiting at the gate (or orphaned by a replica that went away).
    pub async fn start(
        store: Store,
        llm: Arc<dyn LlmProvider>,
        tools: ToolBox,
        config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        let (stored_events, _) = broadcast::channel(1024);
        let notify_store = store.clone();
        let local_events = stored_events.clone();
        let on_written: Arc<dyn Fn(Vec<String>) + Send + Sync> = Arc::new(move |runs: Vec<String>| {
            for r in &runs {
                let _ = local_events.send(r.clone());
            }
            if notify_store.backend() == binnacle_store::Backend::Postgres {
                let store = notify_store.clone();
                tokio::spawn(async move {
                    for r in runs {
                        if let Err(e) = store.notify(signals::EVENTS_CHANNEL, &r).await {
                            tracing::warn!(error = %e, "could not signal new run events to other replicas");
                        }
                    }
                });
            }
        });
        let writer = EventWriter::start(store.clone(), on_written);
        let engine = Engine(Arc::new(Inner {
            store,
            llm,
            tools,
            config,
            metrics: Metrics::default(),
            live: Mutex::new(HashMap::new()),
            writer,
            stored_events,
            shutdown: CancellationToken::new(),
        }));
        signals::start_listener(&engine).await?;
        engine.spawn_housekeeping();
        engine.recover(true).await?;
        Ok(engine)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The tools.
    pub fn tools(&self) -> &ToolBox {
        &self.0.tools
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The model in use.
    pub fn provider(&self) -> binnacle_llm::ProviderInfo {
        self.0.llm.info()
    }

    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        &self.0.config.replica_id
    }

    /// Stops background work and every run this replica drives (runs at the gate stay pending in the store
    /// and are resumed by the next engine).
    pub fn shutdown(&self) {
        self.0.shutdown.cancel();
    }

    /// A token cancelled when [`Engine::shutdown`] is called: long-lived streams served next to the engine
    /// (MCP sessions) end with it, so a graceful server shutdown does not wait on them.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.0.shutdown.child_token()
    }

    /// Starts a run answering `text`, in `conversation_id` or in a new conversation. `context` names the
    /// kubeconfig context the conversation works in (must exist).
    pub async fn start_run(
        &self,
        actor: &Actor,
        conversation_id: Option<&str>,
        text: &str,
        context: Option<&str>,
    ) -> Result<RunStarted, EngineError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EngineError::Invalid("the message is empty; write what you want to know or do".into()));
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(EngineError::Invalid(format!(
                "the message is {} bytes; the limit is {MAX_MESSAGE_BYTES}. Shorten it or attach less output",
                text.len()
            )));
        }
        if let Some(ctx) = context {
            let known = self.0.tools.contexts();
            if !known.iter().any(|c| c == ctx) {
                return Err(EngineError::Invalid(format!(
                    "unknown cluster context {ctx:?}; known contexts: {known:?}"
                )));
            }
        }
        let store = &self.0.store;
        let conversation = match conversation_id {
            Some(id) => {
                let c = self.conversation_for(actor, id).await?;
                let active = store.runs_for_conversation(id).await?.into_iter().find(|r| !r.status.is_terminal());
                if let Some(r) = active {
                    return Err(EngineError::Conflict(format!(
                        "run {} is still in progress in this conversation; stop it or wait for it to finish",
                        r.id
                    )));
                }
                c
            }
            None => store.create_conversation(&actor.user_id, &title_from(text)).await?,
        };
        let mut data = json!({"role": "user", "content": text});
        if let Some(ctx) = context {
            data["context"] = Value::String(ctx.to_string());
        }
        let info = self.0.llm.info();
        let run = store
            .create_run(&NewRun {
                conversation_id: conversation.id.clone(),
                user_id: actor.user_id.clone(),
                provider: info.provider.clone(),
                model: info.model.clone(),
                owner: self.0.config.replica_id.clone(),
            })
            .await?;
        // The user's message carries the id of the run that answers it, so a replay pairs them exactly.
        store.append_message(&conversation.id, Some(&run.id), "user", &data).await?;
        self.0.metrics.runs_started.inc();
        let live = self.go_live(&run.id, 1);
        live.channel.emit(
            events::names::RUN_STARTED,
            json!({
                "runId": run.id, "conversationId": conversation.id, "provider": info.provider,
                "model": info.model, "offline": info.offline, "context": context,
            }),
        );
        self.spawn_drive(run.clone(), actor.clone(), live);
        let conversation = store.conversation(&conversation.id).await?.unwrap_or(conversation);
        Ok(RunStarted { conversation, run })
    }

    /// A conversation the actor may see: their own, or anyone's for an admin.
    pub async fn conversation_for(&self, actor: &Actor, id: &str) -> Result<Conversation, EngineError> {
        let c =
            self.0.store.conversation(id).await?.ok_or_else(|| EngineError::NotFound(format!("conversation {id}")))?;
        if c.user_id != actor.user_id && actor.role != Role::Admin {
            // Not found rather than forbidden: do not reveal that it exists.
            return Err(EngineError::NotFound(format!("conversation {id}")));
        }
        Ok(c)
    }

    /// A run the actor may see.
    pub async fn run_for(&self, actor: &Actor, id: &str) -> Result<Run, EngineError> {
        let run = self.0.store.run(id).await?.ok_or_else(|| EngineError::NotFound(format!("run {id}")))?;
        self.conversation_for(actor, &run.conversation_id)
            .await
            .map_err(|_| EngineError::NotFound(format!("run {id}")))?;
        Ok(run)
    }

    /// Stops a run at once: the model stream is dropped, a running tool is abandoned, a pending approval is
    /// cancelled. Works from any replica.
    pub async fn stop(&self, actor: &Actor, run_id: &str) -> Result<Run, EngineError> {
        let run = self.run_for(actor, run_id).await?;
        if !actor.role.can_operate() && run.user_id != actor.user_id {
            return Err(EngineError::Forbidden("only the run's owner, operators and admins may stop it".into()));
        }
        if run.status.is_terminal() {
            return Ok(run);
        }
        let local = self.live_cancel(run_id);
        if !local {
            self.0.store.notify(signals::CONTROL_CHANNEL, &signals::control_payload("stop", run_id)).await?;
            // Nobody drives it (its replica is gone): stop it here.
            let stale = now_ms() - self.0.config.lease.as_millis() as i64;
            let orphan =
                self.0.store.backend() == binnacle_store::Backend::Sqlite || run.heartbeat_at.is_none_or(|h| h < stale);
            if orphan && self.0.store.claim_run(run_id, &self.0.config.replica_id, i64::MAX).await? {
                agent::stop_orphan(self, &run, &actor.username).await?;
            }
        }
        self.audit(NewAuditEntry {
            actor: actor.username.clone(),
            action: "run.stopped".into(),
            run_id: Some(run_id.to_string()),
            ..Default::default()
        })
        .await;
        for _ in 0..50 {
            if let Some(r) = self.0.store.run(run_id).await?
                && r.status.is_terminal()
            {
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(self.0.store.run(run_id).await?.unwrap_or(run))
    }

    /// Approves or denies a pending call. `tool_call_id` and `preview_hash` must be those of the approval
    /// (what the decider saw); only operators and admins may decide. Works from any replica: the run is
    /// woken wherever it is driven.
    pub async fn decide(
        &self,
        actor: &Actor,
        approval_id: &str,
        tool_call_id: &str,
        preview_hash: &str,
        decision: Decision,
        reason: Option<&str>,
    ) -> Result<Approval, EngineError> {
        if !actor.role.can_operate() {
            return Err(EngineError::Forbidden(format!(
                "the {} role cannot approve or deny tool calls; ask an operator or admin",
                actor.role.as_str()
            )));
        }
        if reason.is_some_and(|r| r.len() > 2000) {
            return Err(EngineError::Invalid("the reason is longer than 2,000 characters".into()));
        }
        let store = &self.0.store;
        let approval = store
            .approval(approval_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("approval {approval_id}")))?;
        if approval.tool_call_id != tool_call_id {
            return Err(EngineError::Conflict(format!(
                "approval {approval_id} gates tool call {}, not {tool_call_id}; decide the approval shown for that call",
                approval.tool_call_id
            )));
        }
        let status = match decision {
            Decision::Approve => ApprovalStatus::Approved,
            Decision::Deny => ApprovalStatus::Denied,
        };
        let decided = store.decide_approval(approval_id, status, &actor.username, reason, preview_hash).await?;
        self.audit(NewAuditEntry {
            actor: actor.username.clone(),
            action: format!("approval.{}", status.as_str()),
            context: decided.context.clone(),
            tool: Some(decided.tool.clone()),
            arguments: Some(redact::redact_arguments(&decided.arguments)),
            decision: Some(status.as_str().to_string()),
            outcome: reason.map(|r| format!("reason: {r}")),
            run_id: Some(decided.run_id.clone()),
        })
        .await;
        if !self.live_wake(&decided.run_id) {
            store.notify(signals::CONTROL_CHANNEL, &signals::control_payload("decided", &decided.run_id)).await?;
        }
        Ok(decided)
    }

    /// Follows a run's events after `after` (0: from the start) until its `run.finished` event, from this
    /// replica's memory when it drives the run, else from the store.
    pub async fn follow(
        &self,
        actor: &Actor,
        run_id: &str,
        after: i64,
    ) -> Result<BoxStream<'static, Arc<Event>>, EngineError> {
        self.run_for(actor, run_id).await?;
        Ok(follow::follow(self.clone(), run_id.to_string(), after))
    }

    /// Appends an audit entry; failures are logged (the action itself already happened).
    pub(crate) async fn audit(&self, entry: NewAuditEntry) {
        if let Err(e) = self.0.store.append_audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "could not append to the audit log");
        }
    }

    fn go_live(&self, run_id: &str, next_seq: i64) -> LiveHandles {
        let channel = RunChannel::new(run_id, next_seq, self.0.writer.clone());
        let cancel = self.0.shutdown.child_token();
        let wake = Arc::new(Notify::new());
        let mut live = self.0.live.lock().unwrap_or_else(|p| p.into_inner());
        live.insert(
            run_id.to_string(),
            LiveRun { channel: channel.clone(), cancel: cancel.clone(), wake: wake.clone() },
        );
        self.0.metrics.runs_active.set(live.len() as i64);
        LiveHandles { channel, cancel, wake }
    }

    pub(crate) fn live_channel(&self, run_id: &str) -> Option<Arc<RunChannel>> {
        self.0.live.lock().unwrap_or_else(|p| p.into_inner()).get(run_id).map(|l| l.channel.clone())
    }

    pub(crate) fn live_cancel(&self, run_id: &str) -> bool {
        match self.0.live.lock().unwrap_or_else(|p| p.into_inner()).get(run_id) {
            Some(l) => {
                l.cancel.cancel();
                true
            }
            None => false,
        }
    }

    pub(crate) fn live_wake(&self, run_id: &str) -> bool {
        match self.0.live.lock().unwrap_or_else(|p| p.into_inner()).get(run_id) {
            Some(l) => {
                l.wake.notify_one();
                true
            }
            None => false,
        }
    }

    fn spawn_drive(&self, run: Run, actor: Actor, live: LiveHandles) {
        let engine = self.clone();
        tokio::spawn(async move {
            let run_id = run.id.clone();
            agent::drive(&engine, run, actor, &live).await;
            live.channel.flush().await;
            let mut map = engine.0.live.lock().unwrap_or_else(|p| p.into_inner());
            map.remove(&run_id);
            engine.0.metrics.runs_active.set(map.len() as i64);
        });
    }

    fn spawn_housekeeping(&self) {
        let engine = self.clone();
        let every = self.0.config.lease / 3;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = engine.0.shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                if let Err(e) = engine.0.store.heartbeat_runs(&engine.0.config.replica_id).await {
                    tracing::warn!(error = %e, "run heartbeat failed");
                }
                if let Err(e) = engine.recover(false).await {
                    tracing::warn!(error = %e, "adopting orphaned runs failed");
                }
            }
        });
    }

    /// Adopts runs nobody drives: those of this replica before a restart, or of a replica whose lease
    /// expired. A run waiting at the gate resumes; a run that was mid-step is marked interrupted (a tool
    /// call may or may not have happened, so it is not repeated blindly).
    ///
    /// At start-up every run of this replica (and, on SQLite, every run) is orphaned. Later passes look only
    /// at other replicas' runs whose lease expired: this replica's own runs are live, or about to be (a run
    /// is stored a moment before it goes live).
    async fn recover(&self, startup: bool) -> Result<(), EngineError> {
        let store = &self.0.store;
        let sqlite = store.backend() == binnacle_store::Backend::Sqlite;
        if sqlite && !startup {
            return Ok(());
        }
        let stale = if sqlite {
            i64::MAX // one replica: whatever is not live here is orphaned
        } else {
            now_ms() - self.0.config.lease.as_millis() as i64
        };
        for run in store.runs_with_status(&[RunStatus::Running, RunStatus::WaitingApproval]).await? {
            if self.live_channel(&run.id).is_some() {
                continue;
            }
            if !startup && run.owner.as_deref() == Some(self.0.config.replica_id.as_str()) {
                continue;
            }
            if !store.claim_run(&run.id, &self.0.config.replica_id, stale).await? {
                continue;
            }
            let next_seq = store.last_run_event_seq(&run.id).await? + 1;
            let actor = match store.user(&run.user_id).await? {
                Some(u) => Actor { user_id: u.id, username: u.username, role: u.role },
                None => Actor { user_id: run.user_id.clone(), username: "(deleted user)".into(), role: Role::Viewer },
            };
            let live = self.go_live(&run.id, next_seq);
            if run.status == RunStatus::WaitingApproval {
                tracing::info!(run = %run.id, "resuming a run waiting for approval");
                self.spawn_drive(run, actor, live);
            } else {
                tracing::warn!(run = %run.id, "a run was interrupted mid-step by a restart; marking it interrupted");
                agent::interrupt(self, &run, &live).await;
                live.channel.flush().await;
                self.0.live.lock().unwrap_or_else(|p| p.into_inner()).remove(&run.id);
            }
        }
        Ok(())
    }

    /// Approval and run status changes from other replicas.
    pub(crate) fn on_control(&self, kind: &str, run_id: &str) {
        match kind {
            "stop" => {
                self.live_cancel(run_id);
            }
            "decided" => {
                self.live_wake(run_id);
            }
            _ => {}
        }
    }
}

pub(crate) struct LiveHandles {
    pub(crate) channel: Arc<RunChannel>,
    pub(crate) cancel: CancellationToken,
    pub(crate) wake: Arc<Notify>,
}

/// A conversation title from its first message: the first line, at most 60 characters, cut at a word.
pub fn title_from(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    if line.chars().count() <= 60 {
        return line.to_string();
    }
    let cut: String = line.chars().take(60).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 30 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::title_from;

    #[test]
    fn titles() {
        assert_eq!(title_from("  what is broken in shop?\nmore"), "what is broken in shop?");
        let long = "why is the checkout deployment in namespace shop failing to roll out after the last change";
        let t = title_from(long);
        assert!(t.ends_with('…') && t.chars().count() <= 61, "{t}");
    }
}
