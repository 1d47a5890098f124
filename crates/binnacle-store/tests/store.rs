//! The store's behaviour on real databases: every test body runs once on SQLite (a temporary file) and once
//! on PostgreSQL (a fresh database from `binnacle_testkit::postgres_database`: on the server named by
//! `BINNACLE_TEST_POSTGRES_URL`, else on a throwaway server started for the test process).

use anyhow::{Context, Result, ensure};
use binnacle_store::{
    ApprovalStatus, Backend, NewApproval, NewAuditEntry, NewIntegration, NewRefreshToken, NewRun, NewToolCall, Role,
    RunEvent, RunStatus, Store, StoreError, ToolCallStatus, new_id, now_ms,
};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// A store on a fresh database, and what keeps that database alive.
struct Db {
    store: Store,
    url: String,
    _guard: Guard,
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] binnacle_testkit::TestDatabase),
}

impl Db {
    async fn sqlite() -> Result<Db> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("nested").join("store.db").display());
        let store = Store::connect(&url).await.context("connecting to SQLite")?;
        ensure!(store.backend() == Backend::Sqlite);
        Ok(Db { store, url, _guard: Guard::Sqlite(dir) })
    }

    async fn postgres() -> Result<Db> {
        let db = binnacle_testkit::postgres_database().await?;
        let url = db.url().to_string();
        let store = Store::connect(&url).await.context("connecting to PostgreSQL")?;
        ensure!(store.backend() == Backend::Postgres);
        Ok(Db { store, url, _guard: Guard::Postgres(db) })
    }

    /// Another store on the same database, as another engine replica would have.
    async fn replica(&self) -> Result<Store> {
        Ok(Store::connect(&self.url).await?)
    }

    /// Runs SQL behind the store's back (to tamper with rows or set timestamps).
    async fn raw(&self, sql: &str) -> Result<u64> {
        let pool = sqlx::AnyPool::connect(&self.url).await?;
        let done = sqlx::query(sql).execute(&pool).await?;
        pool.close().await;
        Ok(done.rows_affected())
    }
}

/// One `#[tokio::test]` per backend for each test body: `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                super::$name(super::Db::sqlite().await?).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                super::$name(super::Db::postgres().await?).await
            }
        }
    )*};
}

on_both_backends!(
    users_crud,
    refresh_tokens,
    conversations_crud_search_and_cascade,
    messages_in_order_under_concurrent_appends,
    runs_status_and_usage,
    claim_run_and_heartbeats,
    run_events,
    tool_calls,
    approvals_decided_atomically,
    approvals_concurrent_decisions_one_wins,
    audit_chain,
    audit_concurrent_appends,
    audit_tampering_detected,
    integrations_crud,
    settings_race,
    notify_and_listen,
    usage_by_day,
    corrupt_values_are_reported,
);

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

fn is_not_found<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound(_)))
}

async fn users_crud(db: Db) -> Result<()> {
    let s = &db.store;
    assert_eq!(s.count_users().await?, 0);
    let bob = s.create_user("bob", "hash-b", Role::Operator).await?;
    let alice = s.create_user("alice", "hash-a", Role::Admin).await?;
    assert!(!alice.disabled);
    let dup = s.create_user("alice", "other", Role::Viewer).await;
    match &dup {
        Err(StoreError::Conflict(msg)) => assert_eq!(msg, "user \"alice\" already exists"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.count_users().await?, 2);

    let (found, hash) = s.user_by_username("alice").await?.context("alice")?;
    assert_eq!((found, hash.as_str()), (alice.clone(), "hash-a"));
    assert!(s.user_by_username("carol").await?.is_none());
    assert_eq!(s.user(&bob.id).await?, Some(bob.clone()));
    assert!(s.user("nope").await?.is_none());
    let names: Vec<String> = s.list_users().await?.into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["alice", "bob"]);

    let updated = s.update_user(&bob.id, Some(Role::Viewer), None).await?;
    assert_eq!((updated.role, updated.disabled), (Role::Viewer, false));
    let updated = s.update_user(&bob.id, None, Some(true)).await?;
    assert_eq!((updated.role, updated.disabled), (Role::Viewer, true));
    let updated = s.update_user(&bob.id, None, None).await?;
    assert_eq!((updated.role, updated.disabled), (Role::Viewer, true));
    let updated = s.update_user(&bob.id, Some(Role::Admin), Some(false)).await?;
    assert_eq!((updated.role, updated.disabled), (Role::Admin, false));
    assert!(is_not_found(&s.update_user("nope", Some(Role::Admin), None).await));

    s.set_password(&bob.id, "hash-b2").await?;
    assert_eq!(s.user_by_username("bob").await?.context("bob")?.1, "hash-b2");
    assert!(is_not_found(&s.set_password("nope", "x").await));

    // Deleting a user keeps their conversations.
    let conversation = s.create_conversation(&bob.id, "bob's chat").await?;
    s.insert_refresh_token(&NewRefreshToken {
        user_id: bob.id.clone(),
        family_id: new_id(),
        token_hash: "h-bob".into(),
        expires_at: now_ms() + 60_000,
    })
    .await?;
    s.delete_user(&bob.id).await?;
    assert!(s.user(&bob.id).await?.is_none());
    assert!(s.refresh_token_by_hash("h-bob").await?.is_none());
    assert!(s.conversation(&conversation.id).await?.is_some());
    assert!(is_not_found(&s.delete_user(&bob.id).await));
    assert_eq!(s.count_users().await?, 1);
    // The name is free again.
    s.create_user("bob", "hash-b3", Role::Viewer).await?;
    Ok(())
}

async fn refresh_tokens(db: Db) -> Result<()> {
    let s = &db.store;
    let user = s.create_user("alice", "h", Role::Admin).await?;
    let family = new_id();
    let expires_at = now_ms() + 3_600_000;
    let token = |hash: &str, family: &str| NewRefreshToken {
        user_id: user.id.clone(),
        family_id: family.to_string(),
        token_hash: hash.to_string(),
        expires_at,
    };
    let first = s.insert_refresh_token(&token("h1", &family)).await?;
    assert_eq!((first.used_at, first.revoked_at, first.expires_at), (None, None, expires_at));
    assert_eq!(s.refresh_token_by_hash("h1").await?, Some(first.clone()));
    assert!(s.refresh_token_by_hash("h0").await?.is_none());
    assert!(is_conflict(&s.insert_refresh_token(&token("h1", &family)).await));
    let orphan = NewRefreshToken { user_id: "no-such-user".into(), ..token("h9", &family) };
    assert!(is_not_found(&s.insert_refresh_token(&orphan).await));

    // Rotation: the first use wins, a reuse is refused.
    assert!(s.use_refresh_token(&first.id).await?);
    assert!(!s.use_refresh_token(&first.id).await?);
    let used = s.refresh_token_by_hash("h1").await?.context("h1")?;
    assert!(used.used_at.is_some() && used.revoked_at.is_none());
    let second = s.insert_refresh_token(&token("h2", &family)).await?;
    let other_family = s.insert_refresh_token(&token("h3", &new_id())).await?;

    // The reuse revokes the family: both tokens of it, not the other family.
    assert_eq!(s.revoke_refresh_family(&family).await?, 2);
    assert_eq!(s.revoke_refresh_family(&family).await?, 0);
    assert!(!s.use_refresh_token(&second.id).await?);
    assert!(s.refresh_token_by_hash("h2").await?.context("h2")?.revoked_at.is_some());
    assert!(s.refresh_token_by_hash("h3").await?.context("h3")?.revoked_at.is_none());

    // Concurrent uses of one token: exactly one succeeds.
    let fresh = s.insert_refresh_token(&token("h4", &new_id())).await?;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (s, id) = (s.clone(), fresh.id.clone());
        tasks.push(tokio::spawn(async move { s.use_refresh_token(&id).await }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await??);
    }
    assert_eq!(wins, 1);

    assert_eq!(s.revoke_user_refresh_tokens(&user.id).await?, 2); // h3 and h4
    assert!(!s.use_refresh_token(&other_family.id).await?);
    Ok(())
}

async fn conversations_crud_search_and_cascade(db: Db) -> Result<()> {
    let s = &db.store;
    let a = s.create_conversation("u1", "Why is payments-api crashing?").await?;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let b = s.create_conversation("u1", "Scale the FRONTEND to 5").await?;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let c = s.create_conversation("u2", "100% CPU on node_1").await?;
    assert_eq!((a.prompt_tokens, a.completion_tokens, a.cost_usd), (0, 0, None));
    assert_eq!(s.conversation(&a.id).await?, Some(a.clone()));
    assert!(s.conversation("nope").await?.is_none());

    let ids = |list: Vec<binnacle_store::Conversation>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    // Newest activity first.
    assert_eq!(ids(s.list_conversations(None, None, 10, 0).await?), [c.id.as_str(), b.id.as_str(), a.id.as_str()]);
    assert_eq!(ids(s.list_conversations(Some("u1"), None, 10, 0).await?), [b.id.as_str(), a.id.as_str()]);
    assert_eq!(ids(s.list_conversations(Some("u1"), None, 1, 1).await?), [a.id.as_str()]);
    assert_eq!(ids(s.list_conversations(Some("u3"), None, 10, 0).await?), Vec::<String>::new());
    // Case-insensitive substring search, with % and _ taken literally.
    assert_eq!(ids(s.list_conversations(None, Some("frontend"), 10, 0).await?), [b.id.as_str()]);
    assert_eq!(ids(s.list_conversations(Some("u1"), Some("PAYMENTS"), 10, 0).await?), [a.id.as_str()]);
    assert_eq!(ids(s.list_conversations(Some("u2"), Some("PAYMENTS"), 10, 0).await?), Vec::<String>::new());
    assert_eq!(ids(s.list_conversations(None, Some("100%"), 10, 0).await?), [c.id.as_str()]);
    assert_eq!(ids(s.list_conversations(None, Some("%"), 10, 0).await?), [c.id.as_str()]);
    assert_eq!(ids(s.list_conversations(None, Some("node_1"), 10, 0).await?), [c.id.as_str()]);
    assert_eq!(ids(s.list_conversations(None, Some("e_1"), 10, 0).await?), [c.id.as_str()]);
    assert_eq!(ids(s.list_conversations(None, Some("_"), 10, 0).await?), [c.id.as_str()]);
    assert_eq!(ids(s.list_conversations(None, Some(""), 10, 0).await?).len(), 3);

    let renamed = s.rename_conversation(&a.id, "Payments crash").await?;
    assert_eq!(renamed.title, "Payments crash");
    assert!(is_not_found(&s.rename_conversation("nope", "x").await));

    s.add_conversation_usage(&a.id, 10, 5, None).await?;
    let got = s.conversation(&a.id).await?.context("a")?;
    assert_eq!((got.prompt_tokens, got.completion_tokens, got.cost_usd), (10, 5, None));
    s.add_conversation_usage(&a.id, 1, 2, Some(0.25)).await?;
    s.add_conversation_usage(&a.id, 1, 2, None).await?;
    s.add_conversation_usage(&a.id, 1, 2, Some(0.5)).await?;
    let got = s.conversation(&a.id).await?.context("a")?;
    assert_eq!((got.prompt_tokens, got.completion_tokens, got.cost_usd), (13, 11, Some(0.75)));
    assert!(is_not_found(&s.add_conversation_usage("nope", 1, 1, Some(1.0)).await));

    // A conversation with everything hanging off it; the delete takes it all, except the audit log.
    s.append_message(&a.id, None, "user", &json!({"content": "hi"})).await?;
    let run = s.create_run(&new_run(&a.id, "replica-1")).await?;
    s.append_message(&a.id, Some(&run.id), "assistant", &json!({"content": "hello"})).await?;
    s.append_run_events(&[event(&run.id, 1), event(&run.id, 2)]).await?;
    let call = s.insert_tool_call(&new_tool_call(&run.id, &a.id, "c1")).await?;
    let approval = s.insert_approval(&new_approval(&call.id, &run.id, &a.id, "hash")).await?;
    s.append_audit(&NewAuditEntry {
        actor: "u1".into(),
        action: "tool.call".into(),
        run_id: Some(run.id.clone()),
        ..Default::default()
    })
    .await?;
    // The other conversation's rows stay.
    let run_b = s.create_run(&new_run(&b.id, "replica-1")).await?;
    s.append_message(&b.id, None, "user", &json!("x")).await?;

    s.delete_conversation(&a.id).await?;
    assert!(s.conversation(&a.id).await?.is_none());
    assert!(s.messages(&a.id).await?.is_empty());
    assert!(s.run(&run.id).await?.is_none());
    assert!(s.runs_for_conversation(&a.id).await?.is_empty());
    assert_eq!(s.last_run_event_seq(&run.id).await?, 0);
    assert!(s.tool_call(&call.id).await?.is_none());
    assert!(s.approval(&approval.id).await?.is_none());
    assert_eq!(s.audit_entries(0, 10).await?.len(), 1);
    assert!(is_not_found(&s.delete_conversation(&a.id).await));
    assert!(s.run(&run_b.id).await?.is_some());
    assert_eq!(s.messages(&b.id).await?.len(), 1);
    Ok(())
}

fn new_run(conversation_id: &str, owner: &str) -> NewRun {
    NewRun {
        conversation_id: conversation_id.to_string(),
        user_id: "u1".into(),
        provider: "offline".into(),
        model: "offline-1".into(),
        owner: owner.to_string(),
    }
}

fn event(run_id: &str, seq: i64) -> RunEvent {
    RunEvent {
        run_id: run_id.to_string(),
        seq,
        event: "message.delta".into(),
        data: json!({"text": format!("part {seq}")}),
        created_at: now_ms(),
    }
}

fn new_tool_call(run_id: &str, conversation_id: &str, call_id: &str) -> NewToolCall {
    NewToolCall {
        run_id: run_id.to_string(),
        conversation_id: conversation_id.to_string(),
        call_id: call_id.to_string(),
        tool: "k8s_scale".into(),
        context: Some("prod".into()),
        arguments: json!({"namespace": "shop", "name": "frontend", "replicas": 5}),
        status: ToolCallStatus::PendingApproval,
    }
}

fn new_approval(tool_call_id: &str, run_id: &str, conversation_id: &str, hash: &str) -> NewApproval {
    NewApproval {
        tool_call_id: tool_call_id.to_string(),
        run_id: run_id.to_string(),
        conversation_id: conversation_id.to_string(),
        tool: "k8s_scale".into(),
        context: Some("prod".into()),
        arguments: json!({"namespace": "shop", "name": "frontend", "replicas": 5}),
        preview: json!({"diff": "- replicas: 2\n+ replicas: 5"}),
        preview_hash: hash.to_string(),
    }
}

async fn messages_in_order_under_concurrent_appends(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    let first = s.append_message(&conversation.id, None, "user", &json!({"content": "one", "n": 1.5})).await?;
    assert_eq!(first.seq, 1);
    assert_eq!(first.data, json!({"content": "one", "n": 1.5}));
    let second = s.append_message(&conversation.id, Some("run-1"), "assistant", &json!({"content": "two"})).await?;
    assert_eq!((second.seq, second.run_id.as_deref()), (2, Some("run-1")));
    assert_eq!(s.messages(&conversation.id).await?, [first.clone(), second]);
    assert!(s.conversation(&conversation.id).await?.context("conversation")?.updated_at >= first.created_at);
    assert!(is_not_found(&s.append_message("nope", None, "user", &json!("x")).await));

    // Two replicas, four writers each, ten messages each.
    let stores = [s.clone(), db.replica().await?];
    let mut tasks = Vec::new();
    for (r, store) in stores.iter().enumerate() {
        for w in 0..4 {
            let (store, id) = (store.clone(), conversation.id.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    store.append_message(&id, None, "user", &json!({"writer": format!("{r}-{w}"), "i": i})).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }
    let messages = s.messages(&conversation.id).await?;
    assert_eq!(messages.len(), 82);
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=82).collect::<Vec<_>>());
    // Each writer's messages are in its order.
    for r in 0..2 {
        for w in 0..4 {
            let writer = format!("{r}-{w}");
            let order: Vec<i64> = messages
                .iter()
                .filter(|m| m.data["writer"] == json!(writer))
                .filter_map(|m| m.data["i"].as_i64())
                .collect();
            assert_eq!(order, (0..10).collect::<Vec<_>>());
        }
    }
    Ok(())
}

async fn runs_status_and_usage(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    let run = s.create_run(&new_run(&conversation.id, "replica-1")).await?;
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.owner.as_deref(), Some("replica-1"));
    assert_eq!(run.heartbeat_at, Some(run.started_at));
    assert_eq!(s.run(&run.id).await?, Some(run.clone()));
    assert!(s.run("nope").await?.is_none());
    assert!(is_not_found(&s.create_run(&new_run("no-such-conversation", "r")).await));
    tokio::time::sleep(Duration::from_millis(3)).await;
    let later = s.create_run(&new_run(&conversation.id, "replica-2")).await?;
    let ids: Vec<String> = s.runs_for_conversation(&conversation.id).await?.into_iter().map(|r| r.id).collect();
    assert_eq!(ids, [run.id.clone(), later.id.clone()]);

    // Usage: tokens add up, the cost stays unknown until one is given, the first TTFT sticks, steps are set.
    s.add_run_usage(&run.id, 100, 20, None, Some(350), 1).await?;
    let got = s.run(&run.id).await?.context("run")?;
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens, got.cost_usd, got.ttft_ms, got.steps),
        (100, 20, None, Some(350), 1)
    );
    s.add_run_usage(&run.id, 50, 10, Some(0.125), Some(999), 2).await?;
    s.add_run_usage(&run.id, 1, 1, None, None, 3).await?;
    s.add_run_usage(&run.id, 1, 1, Some(0.125), None, 4).await?;
    let got = s.run(&run.id).await?.context("run")?;
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens, got.cost_usd, got.ttft_ms, got.steps),
        (152, 32, Some(0.25), Some(350), 4)
    );
    assert!(is_not_found(&s.add_run_usage("nope", 1, 1, Some(1.0), None, 1).await));
    let fresh = s.run(&later.id).await?.context("later")?;
    assert_eq!(fresh.ttft_ms, None);
    s.add_run_usage(&later.id, 1, 1, None, None, 1).await?;
    assert_eq!(s.run(&later.id).await?.context("later")?.ttft_ms, None);

    // Status.
    s.set_run_status(&run.id, RunStatus::WaitingApproval, None).await?;
    let got = s.run(&run.id).await?.context("run")?;
    assert_eq!((got.status, got.finished_at), (RunStatus::WaitingApproval, None));
    let waiting: Vec<String> =
        s.runs_with_status(&[RunStatus::WaitingApproval]).await?.into_iter().map(|r| r.id).collect();
    assert_eq!(waiting, [run.id.as_str()]);
    let live = s.runs_with_status(&[RunStatus::Running, RunStatus::WaitingApproval]).await?;
    assert_eq!(live.len(), 2);
    assert!(s.runs_with_status(&[]).await?.is_empty());
    s.set_run_status(&run.id, RunStatus::Failed, Some("model unreachable")).await?;
    let got = s.run(&run.id).await?.context("run")?;
    assert_eq!(got.status, RunStatus::Failed);
    assert_eq!(got.error.as_deref(), Some("model unreachable"));
    assert!(got.finished_at.is_some_and(|t| t >= got.started_at));
    s.set_run_status(&later.id, RunStatus::Completed, None).await?;
    let got = s.run(&later.id).await?.context("later")?;
    assert_eq!((got.status, got.error), (RunStatus::Completed, None));
    assert!(got.finished_at.is_some());
    assert!(is_not_found(&s.set_run_status("nope", RunStatus::Stopped, None).await));
    let ended = s.runs_with_status(&[RunStatus::Failed, RunStatus::Completed, RunStatus::Interrupted]).await?;
    assert_eq!(ended.len(), 2);
    Ok(())
}

async fn claim_run_and_heartbeats(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    let run = s.create_run(&new_run(&conversation.id, "a")).await?;
    let long_ago = now_ms() - 60_000;
    // Fresh heartbeat: another replica cannot take it; the owner can.
    assert!(!s.claim_run(&run.id, "b", long_ago).await?);
    assert!(s.claim_run(&run.id, "a", long_ago).await?);
    assert_eq!(s.run(&run.id).await?.context("run")?.owner.as_deref(), Some("a"));
    // Stale heartbeat: it can.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(s.claim_run(&run.id, "b", now_ms()).await?);
    let got = s.run(&run.id).await?.context("run")?;
    assert_eq!(got.owner.as_deref(), Some("b"));
    assert!(!s.claim_run(&run.id, "a", long_ago).await?);
    // Unowned: anyone.
    ensure!(db.raw(&format!("UPDATE runs SET owner = NULL, heartbeat_at = NULL WHERE id = '{}'", run.id)).await? == 1);
    assert!(s.claim_run(&run.id, "c", long_ago).await?);
    assert_eq!(s.run(&run.id).await?.context("run")?.owner.as_deref(), Some("c"));
    // Waiting at the gate counts as live; a terminal run cannot be claimed.
    s.set_run_status(&run.id, RunStatus::WaitingApproval, None).await?;
    assert!(s.claim_run(&run.id, "c", long_ago).await?);
    s.set_run_status(&run.id, RunStatus::Stopped, None).await?;
    assert!(!s.claim_run(&run.id, "c", long_ago).await?);
    assert!(!s.claim_run(&run.id, "d", now_ms() + 60_000).await?);
    assert!(!s.claim_run("nope", "c", long_ago).await?);

    // Concurrent claims of a stale run: the winners all name the same owner.
    let contested = s.create_run(&new_run(&conversation.id, "gone")).await?;
    ensure!(db.raw(&format!("UPDATE runs SET heartbeat_at = 1 WHERE id = '{}'", contested.id)).await? == 1);
    let stale_before = now_ms() - 30_000;
    let mut tasks = Vec::new();
    for replica in ["r1", "r2", "r3", "r4"] {
        let (s, id) = (s.clone(), contested.id.clone());
        tasks.push(tokio::spawn(async move { (replica, s.claim_run(&id, replica, stale_before).await) }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (replica, won) = task.await?;
        if won? {
            winners.push(replica);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(s.run(&contested.id).await?.context("contested")?.owner.as_deref(), Some(winners[0]));

    // Heartbeats refresh the owner's live runs only.
    let mine = s.create_run(&new_run(&conversation.id, "h")).await?;
    let mine_done = s.create_run(&new_run(&conversation.id, "h")).await?;
    s.set_run_status(&mine_done.id, RunStatus::Completed, None).await?;
    ensure!(db.raw("UPDATE runs SET heartbeat_at = 5 WHERE owner = 'h'").await? == 2);
    assert_eq!(s.heartbeat_runs("h").await?, 1);
    assert!(s.run(&mine.id).await?.context("mine")?.heartbeat_at.is_some_and(|t| t > 5));
    assert_eq!(s.run(&mine_done.id).await?.context("done")?.heartbeat_at, Some(5));
    assert_eq!(s.heartbeat_runs("nobody").await?, 0);
    Ok(())
}

async fn run_events(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    let run = s.create_run(&new_run(&conversation.id, "r")).await?;
    let other = s.create_run(&new_run(&conversation.id, "r")).await?;
    assert_eq!(s.last_run_event_seq(&run.id).await?, 0);
    s.append_run_events(&[]).await?;
    let batch: Vec<RunEvent> = (1..=5).map(|seq| event(&run.id, seq)).collect();
    s.append_run_events(&batch).await?;
    s.append_run_events(&[event(&other.id, 1)]).await?;
    assert_eq!(s.last_run_event_seq(&run.id).await?, 5);
    assert_eq!(s.last_run_event_seq(&other.id).await?, 1);
    assert_eq!(s.run_events_after(&run.id, 0, 100).await?, batch);
    assert_eq!(s.run_events_after(&run.id, 2, 2).await?, batch[2..4].to_vec());
    assert!(s.run_events_after(&run.id, 5, 100).await?.is_empty());

    // A batch with a duplicate is refused as a whole.
    let result = s.append_run_events(&[event(&run.id, 6), event(&run.id, 5)]).await;
    assert!(is_conflict(&result), "{result:?}");
    assert_eq!(s.last_run_event_seq(&run.id).await?, 5);
    assert!(is_not_found(&s.append_run_events(&[event("no-such-run", 1)]).await));
    Ok(())
}

async fn tool_calls(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    let run = s.create_run(&new_run(&conversation.id, "r")).await?;
    let run2 = s.create_run(&new_run(&conversation.id, "r")).await?;
    let first = s.insert_tool_call(&new_tool_call(&run.id, &conversation.id, "call-1")).await?;
    assert_eq!((first.status, first.is_error, first.result.clone()), (ToolCallStatus::PendingApproval, false, None));
    assert_eq!(s.tool_call(&first.id).await?, Some(first.clone()));
    assert!(s.tool_call("nope").await?.is_none());
    let mut running = new_tool_call(&run.id, &conversation.id, "call-2");
    running.status = ToolCallStatus::Running;
    running.context = None;
    let second = s.insert_tool_call(&running).await?;
    let third = s.insert_tool_call(&new_tool_call(&run2.id, &conversation.id, "call-3")).await?;
    let of_run: Vec<String> = s.tool_calls_for_run(&run.id).await?.into_iter().map(|c| c.id).collect();
    assert_eq!(of_run, [first.id.clone(), second.id.clone()]);
    let of_conversation: Vec<String> =
        s.tool_calls_for_conversation(&conversation.id).await?.into_iter().map(|c| c.id).collect();
    assert_eq!(of_conversation, [first.id.clone(), second.id.clone(), third.id.clone()]);
    assert!(is_not_found(&s.insert_tool_call(&new_tool_call("no-such-run", &conversation.id, "x")).await));

    s.set_tool_call_status(&first.id, ToolCallStatus::Running).await?;
    assert_eq!(s.tool_call(&first.id).await?.context("first")?.status, ToolCallStatus::Running);
    assert!(is_not_found(&s.set_tool_call_status("nope", ToolCallStatus::Running).await));

    let result = json!({"summary": "scaled shop/frontend to 5", "structured": {"replicas": 5}});
    s.finish_tool_call(&first.id, ToolCallStatus::Succeeded, &result, false, 42).await?;
    let done = s.tool_call(&first.id).await?.context("first")?;
    assert_eq!(done.status, ToolCallStatus::Succeeded);
    assert_eq!(done.result, Some(result));
    assert_eq!((done.is_error, done.duration_ms), (false, Some(42)));
    assert!(done.finished_at.is_some_and(|t| t >= done.created_at));
    s.finish_tool_call(&second.id, ToolCallStatus::Failed, &json!({"error": "forbidden"}), true, 7).await?;
    let failed = s.tool_call(&second.id).await?.context("second")?;
    assert_eq!((failed.status, failed.is_error, failed.context), (ToolCallStatus::Failed, true, None));
    assert!(is_not_found(&s.finish_tool_call("nope", ToolCallStatus::Failed, &json!(null), true, 1).await));
    Ok(())
}

async fn approvals_decided_atomically(db: Db) -> Result<()> {
    let s = &db.store;
    let mine = s.create_conversation("alice", "mine").await?;
    let theirs = s.create_conversation("bob", "theirs").await?;
    let run = s.create_run(&new_run(&mine.id, "r")).await?;
    let run_b = s.create_run(&new_run(&theirs.id, "r")).await?;
    let call = s.insert_tool_call(&new_tool_call(&run.id, &mine.id, "c1")).await?;
    let call2 = s.insert_tool_call(&new_tool_call(&run.id, &mine.id, "c2")).await?;
    let call_b = s.insert_tool_call(&new_tool_call(&run_b.id, &theirs.id, "c3")).await?;
    let first = s.insert_approval(&new_approval(&call.id, &run.id, &mine.id, "hash-1")).await?;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let second = s.insert_approval(&new_approval(&call2.id, &run.id, &mine.id, "hash-2")).await?;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let other = s.insert_approval(&new_approval(&call_b.id, &run_b.id, &theirs.id, "hash-3")).await?;
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert_eq!(s.approval(&first.id).await?, Some(first.clone()));
    assert!(s.approval("nope").await?.is_none());
    assert!(is_not_found(&s.insert_approval(&new_approval("no-such-call", &run.id, &mine.id, "h")).await));

    let ids = |list: Vec<binnacle_store::Approval>| list.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_approvals(None, None).await?), [other.id.as_str(), second.id.as_str(), first.id.as_str()]);
    assert_eq!(
        ids(s.list_approvals(Some(ApprovalStatus::Pending), Some("alice")).await?),
        [second.id.as_str(), first.id.as_str()]
    );
    assert_eq!(ids(s.list_approvals(None, Some("bob")).await?), [other.id.as_str()]);
    assert_eq!(ids(s.approvals_for_run(&run.id).await?), [first.id.as_str(), second.id.as_str()]);
    assert_eq!(ids(s.approvals_for_conversation(&theirs.id).await?), [other.id.as_str()]);

    // A stale preview hash is refused and changes nothing.
    match s.decide_approval(&first.id, ApprovalStatus::Approved, "alice", None, "stale").await {
        Err(StoreError::Conflict(msg)) => assert_eq!(msg, "the approval's preview changed; reload it and decide again"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.approval(&first.id).await?.context("first")?.status, ApprovalStatus::Pending);
    // Deciding.
    let decided =
        s.decide_approval(&first.id, ApprovalStatus::Approved, "alice", Some("looks right"), "hash-1").await?;
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert_eq!((decided.decided_by.as_deref(), decided.reason.as_deref()), (Some("alice"), Some("looks right")));
    assert!(decided.decided_at.is_some());
    assert_eq!(s.approval(&first.id).await?, Some(decided));
    // A second decision is refused, whoever makes it.
    match s.decide_approval(&first.id, ApprovalStatus::Denied, "bob", None, "hash-1").await {
        Err(StoreError::Conflict(msg)) => {
            assert_eq!(msg, format!("approval {} was already approved by alice", first.id))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(is_not_found(&s.decide_approval("nope", ApprovalStatus::Approved, "alice", None, "h").await));
    assert!(is_conflict(&s.decide_approval(&second.id, ApprovalStatus::Pending, "alice", None, "hash-2").await));
    let denied = s.decide_approval(&second.id, ApprovalStatus::Denied, "policy", None, "hash-2").await?;
    assert_eq!((denied.status, denied.reason), (ApprovalStatus::Denied, None));

    assert_eq!(ids(s.list_approvals(Some(ApprovalStatus::Pending), None).await?), [other.id.as_str()]);
    assert_eq!(ids(s.list_approvals(Some(ApprovalStatus::Approved), Some("alice")).await?), [first.id.as_str()]);
    assert!(s.list_approvals(Some(ApprovalStatus::Approved), Some("bob")).await?.is_empty());
    Ok(())
}

async fn approvals_concurrent_decisions_one_wins(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("alice", "chat").await?;
    let run = s.create_run(&new_run(&conversation.id, "r")).await?;
    let call = s.insert_tool_call(&new_tool_call(&run.id, &conversation.id, "c1")).await?;
    let approval = s.insert_approval(&new_approval(&call.id, &run.id, &conversation.id, "h")).await?;
    let stores = [s.clone(), db.replica().await?];
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = stores[i % 2].clone();
        let id = approval.id.clone();
        let decision = if i % 3 == 0 { ApprovalStatus::Denied } else { ApprovalStatus::Approved };
        tasks.push(tokio::spawn(async move {
            let who = format!("user-{i}");
            (who.clone(), decision, store.decide_approval(&id, decision, &who, None, "h").await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (who, decision, result) = task.await?;
        match result {
            Ok(decided) => {
                assert_eq!((decided.status, decided.decided_by.as_deref()), (decision, Some(who.as_str())));
                winners.push(who);
            }
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("was already"), "{msg}"),
            Err(other) => return Err(other.into()),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let stored = s.approval(&approval.id).await?.context("approval")?;
    assert_eq!(stored.decided_by.as_deref(), Some(winners[0].as_str()));
    Ok(())
}

fn audit_entry(actor: &str, i: usize) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.to_string(),
        action: "tool.call".into(),
        context: Some("prod".into()),
        tool: Some("k8s_scale".into()),
        arguments: Some(
            json!({"i": i, "ratio": 0.1 + i as f64 / 3.0, "name": "front\"end", "nested": {"z": 1, "a": [1, 2]}}),
        ),
        decision: Some("approved".into()),
        outcome: Some("succeeded".into()),
        run_id: Some(format!("run-{i}")),
    }
}

async fn audit_chain(db: Db) -> Result<()> {
    let s = &db.store;
    let empty = s.verify_audit().await?;
    assert!(empty.valid);
    assert_eq!((empty.entries, empty.first_invalid_seq, empty.head_hash), (0, None, None));

    let first = s.append_audit(&audit_entry("alice", 0)).await?;
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev_hash, "0".repeat(64));
    assert_eq!(first.hash.len(), 64);
    let second = s
        .append_audit(&NewAuditEntry { actor: "system".into(), action: "user.created".into(), ..Default::default() })
        .await?;
    assert_eq!((second.seq, second.prev_hash.as_str()), (2, first.hash.as_str()));
    assert_eq!(second.arguments, None);
    let mut last = second.clone();
    for i in 3..=12 {
        last = s.append_audit(&audit_entry("bob", i)).await?;
        assert_eq!(last.seq, i as i64);
    }
    let entries = s.audit_entries(0, 100).await?;
    assert_eq!(entries.len(), 12);
    assert_eq!(entries[0], first);
    assert_eq!(entries[1], second);
    assert_eq!(entries[11], last);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let page: Vec<i64> = s.audit_entries(4, 3).await?.into_iter().map(|e| e.seq).collect();
    assert_eq!(page, [5, 6, 7]);
    assert!(s.audit_entries(12, 10).await?.is_empty());

    let verification = s.verify_audit().await?;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(verification.entries, 12);
    assert_eq!(verification.head_hash.as_deref(), Some(last.hash.as_str()));
    Ok(())
}

async fn audit_concurrent_appends(db: Db) -> Result<()> {
    let stores = [db.store.clone(), db.replica().await?, db.replica().await?];
    let mut tasks = Vec::new();
    for (r, store) in stores.iter().enumerate() {
        for w in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    store.append_audit(&audit_entry(&format!("replica-{r}-writer-{w}"), i)).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }
    let entries = db.store.audit_entries(0, 1_000).await?;
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=120).collect::<Vec<_>>());
    let actors: BTreeSet<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors.len(), 12);
    let verification = db.store.verify_audit().await?;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(verification.entries, 120);
    assert_eq!(verification.head_hash.as_deref(), entries.last().map(|e| e.hash.as_str()));
    Ok(())
}

async fn audit_tampering_detected(db: Db) -> Result<()> {
    let s = &db.store;
    for i in 0..5 {
        s.append_audit(&audit_entry("alice", i)).await?;
    }
    assert!(s.verify_audit().await?.valid);

    // A changed field breaks that entry's hash.
    ensure!(db.raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await? == 1);
    let verification = s.verify_audit().await?;
    assert!(!verification.valid);
    assert_eq!(verification.first_invalid_seq, Some(3));
    assert_eq!(verification.entries, 5);
    assert!(verification.reason.as_deref().is_some_and(|r| r.contains("hash")), "{verification:?}");
    ensure!(db.raw("UPDATE audit_log SET actor = 'alice' WHERE seq = 3").await? == 1);
    assert!(s.verify_audit().await?.valid);

    // Changed arguments too.
    ensure!(db.raw(r#"UPDATE audit_log SET arguments = '{"i":1}' WHERE seq = 2"#).await? == 1);
    let verification = s.verify_audit().await?;
    assert_eq!((verification.valid, verification.first_invalid_seq), (false, Some(2)));

    // A removed entry is a gap (and the next entry no longer links).
    ensure!(db.raw("DELETE FROM audit_log WHERE seq = 2").await? == 1);
    let verification = s.verify_audit().await?;
    assert_eq!((verification.valid, verification.first_invalid_seq, verification.entries), (false, Some(3), 4));
    assert!(verification.reason.as_deref().is_some_and(|r| r.contains("seq")), "{verification:?}");
    // The head hash is still the last entry's, to compare with a copy kept elsewhere.
    let last = s.audit_entries(0, 10).await?.pop().context("entries")?;
    assert_eq!(verification.head_hash, Some(last.hash));
    Ok(())
}

async fn integrations_crud(db: Db) -> Result<()> {
    let s = &db.store;
    let jenkins = |name: &str, url: &str| NewIntegration {
        kind: "jenkins".into(),
        name: name.to_string(),
        url: url.to_string(),
        credentials_secret: "binnacle/jenkins-creds".into(),
    };
    let ci = s.create_integration(&jenkins("ci", "https://ci.example")).await?;
    let build = s.create_integration(&jenkins("build", "https://build.example")).await?;
    assert_eq!(ci.created_at, ci.updated_at);
    match s.create_integration(&jenkins("ci", "https://other.example")).await {
        Err(StoreError::Conflict(msg)) => assert_eq!(msg, "integration \"ci\" already exists"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let names: Vec<String> = s.list_integrations().await?.into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["build", "ci"]);
    assert_eq!(s.integration(&ci.id).await?, Some(ci.clone()));
    assert!(s.integration("nope").await?.is_none());

    tokio::time::sleep(Duration::from_millis(3)).await;
    let updated = s.update_integration(&ci.id, &jenkins("ci-prod", "https://ci2.example")).await?;
    assert_eq!(
        (updated.name.as_str(), updated.url.as_str(), updated.created_at),
        ("ci-prod", "https://ci2.example", ci.created_at)
    );
    assert!(updated.updated_at > ci.updated_at);
    assert!(is_conflict(&s.update_integration(&ci.id, &jenkins("build", "https://x.example")).await));
    assert!(is_not_found(&s.update_integration("nope", &jenkins("zzz", "https://x.example")).await));
    // Keeping its own name is no conflict.
    s.update_integration(&build.id, &jenkins("build", "https://build2.example")).await?;

    s.delete_integration(&build.id).await?;
    assert!(is_not_found(&s.delete_integration(&build.id).await));
    let names: Vec<String> = s.list_integrations().await?.into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["ci-prod"]);
    // The name is free again.
    s.create_integration(&jenkins("build", "https://build.example")).await?;
    Ok(())
}

async fn settings_race(db: Db) -> Result<()> {
    let s = &db.store;
    assert_eq!(s.setting("jwt_key").await?, None);
    assert_eq!(s.setting_or_insert("jwt_key", "first").await?, "first");
    assert_eq!(s.setting_or_insert("jwt_key", "second").await?, "first");
    assert_eq!(s.setting("jwt_key").await?.as_deref(), Some("first"));

    // Replicas starting together agree on one value.
    let stores = [s.clone(), db.replica().await?, db.replica().await?];
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = stores[i % 3].clone();
        tasks.push(tokio::spawn(async move { store.setting_or_insert("signing_key", &format!("key-{i}")).await }));
    }
    let mut values = BTreeSet::new();
    for task in tasks {
        values.insert(task.await??);
    }
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(s.setting("signing_key").await?, values.into_iter().next());
    Ok(())
}

async fn notify_and_listen(db: Db) -> Result<()> {
    let s = &db.store;
    match s.backend() {
        Backend::Sqlite => {
            s.notify("runs", "x").await?;
            assert!(s.listen(&["runs"]).await?.is_none());
        }
        Backend::Postgres => {
            let mut listener = s.listen(&["runs", "approvals"]).await?.context("a listener on PostgreSQL")?;
            let other = db.replica().await?;
            other.notify("runs", "run-1:5").await?;
            other.notify("ignored", "nobody listens").await?;
            s.notify("approvals", "{\"id\":\"a1\"}").await?;
            let first = next_notification(&mut listener).await?;
            assert_eq!((first.channel.as_str(), first.payload.as_str()), ("runs", "run-1:5"));
            let second = next_notification(&mut listener).await?;
            assert_eq!((second.channel.as_str(), second.payload.as_str()), ("approvals", "{\"id\":\"a1\"}"));
            // A long payload.
            let payload = "x".repeat(7_000);
            other.notify("runs", &payload).await?;
            assert_eq!(next_notification(&mut listener).await?.payload, payload);

            // The listener survives its connection being killed: notifications flow again once it is back.
            let killed = db
                .raw(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                )
                .await?;
            ensure!(killed == 1, "killed {killed} listener connections");
            let mut back = None;
            for i in 0..50 {
                other.notify("runs", &format!("after-{i}")).await?;
                if let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await {
                    back = Some(n);
                    break;
                }
            }
            let back = back.context("no notification after the listener's connection was killed")?;
            assert_eq!(back.channel, "runs");
            assert!(back.payload.starts_with("after-"), "{back:?}");
        }
    }
    Ok(())
}

async fn next_notification(listener: &mut binnacle_store::Listener) -> Result<binnacle_store::Notification> {
    tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .context("no notification within 10 s")?
        .context("the listener ended")
}

async fn usage_by_day(db: Db) -> Result<()> {
    let s = &db.store;
    let conversation = s.create_conversation("u1", "chat").await?;
    const DAY: i64 = 86_400_000;
    let day = |n: i64| 20_000 * DAY + n * DAY;
    // (day offset, ms into the day, prompt, completion, cost)
    let runs = [
        (0, 1_000, 10, 1, Some(0.5)),
        (0, DAY - 1, 20, 2, None),
        (1, 0, 30, 3, None),
        (3, 5, 40, 4, Some(0.25)),
        (3, 6, 50, 5, Some(0.25)),
        (-1, 0, 99, 9, Some(9.0)),
    ];
    for (offset, ms, prompt, completion, cost) in runs {
        let run = s.create_run(&new_run(&conversation.id, "r")).await?;
        s.add_run_usage(&run.id, prompt, completion, cost, None, 1).await?;
        let started = day(offset) + ms;
        ensure!(db.raw(&format!("UPDATE runs SET started_at = {started} WHERE id = '{}'", run.id)).await? == 1);
    }
    let buckets = s.usage_by_day(day(0)).await?;
    let got: Vec<(String, i64, i64, i64, Option<f64>)> =
        buckets.into_iter().map(|b| (b.day, b.runs, b.prompt_tokens, b.completion_tokens, b.cost_usd)).collect();
    assert_eq!(
        got,
        [
            ("2024-10-04".to_string(), 2, 30, 3, Some(0.5)),
            ("2024-10-05".to_string(), 1, 30, 3, None),
            ("2024-10-07".to_string(), 2, 90, 9, Some(0.5)),
        ]
    );
    assert_eq!(s.usage_by_day(day(0) + 1_001).await?.len(), 3);
    assert_eq!(s.usage_by_day(day(2)).await?.len(), 1);
    assert!(s.usage_by_day(day(4)).await?.is_empty());
    Ok(())
}

async fn corrupt_values_are_reported(db: Db) -> Result<()> {
    let s = &db.store;
    let user = s.create_user("alice", "h", Role::Admin).await?;
    ensure!(db.raw(&format!("UPDATE users SET role = 'superuser' WHERE id = '{}'", user.id)).await? == 1);
    let result = s.user(&user.id).await;
    assert!(matches!(&result, Err(StoreError::Corrupt(msg)) if msg.contains("superuser")), "{result:?}");
    let conversation = s.create_conversation("u1", "chat").await?;
    s.append_message(&conversation.id, None, "user", &json!({"ok": true})).await?;
    ensure!(db.raw("UPDATE messages SET data = '{not json'").await? == 1);
    assert!(matches!(s.messages(&conversation.id).await, Err(StoreError::Corrupt(_))));
    Ok(())
}

/// Not per backend: URLs.
#[tokio::test]
async fn urls() -> Result<()> {
    for bad in ["mysql://localhost/db", "file.db", "", "sqlite://"] {
        let result = Store::connect(bad).await;
        assert!(matches!(result, Err(StoreError::UnsupportedUrl(_))), "{bad}: {result:?}");
    }
    // An in-memory store: every query sees the same database.
    let store = Store::connect("sqlite::memory:").await?;
    assert_eq!(store.backend(), Backend::Sqlite);
    assert_eq!(store.display_url(), "sqlite::memory:");
    store.ping().await?;
    store.create_user("alice", "h", Role::Admin).await?;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.append_audit(&audit_entry("x", i)).await }));
    }
    for task in tasks {
        task.await??;
    }
    assert_eq!(store.count_users().await?, 1);
    assert!(store.verify_audit().await?.valid);
    // A file store survives a reconnect; the migrations run once.
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("binnacle.db").display());
    let store = Store::connect(&url).await?;
    store.create_user("alice", "h", Role::Admin).await?;
    drop(store);
    let store = Store::connect(&url).await?;
    assert_eq!(store.count_users().await?, 1);
    assert_eq!(store.display_url(), url);
    Ok(())
}

/// Not per backend: PostgreSQL URL display and a reconnect.
#[tokio::test]
async fn postgres_reconnect_and_display_url() -> Result<()> {
    let db = binnacle_testkit::postgres_database().await?;
    let store = Store::connect(db.url()).await?;
    store.ping().await?;
    store.create_user("alice", "h", Role::Admin).await?;
    assert_eq!(store.display_url(), db.url());
    let again = Store::connect(db.url()).await?;
    assert_eq!(again.count_users().await?, 1);
    Ok(())
}
