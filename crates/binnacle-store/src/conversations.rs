//! Conversations and their messages.

use crate::util::{backoff, contains_pattern, get, get_json, is_unique_violation, json_text};
use crate::{Store, StoreError, new_id, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;

/// A conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Title (generated from the first message; renamable).
    pub title: String,
    /// Created, ms.
    pub created_at: i64,
    /// Last activity, ms.
    pub updated_at: i64,
    /// Prompt tokens over all runs.
    pub prompt_tokens: i64,
    /// Completion tokens over all runs.
    pub completion_tokens: i64,
    /// Cost in USD over all runs, when prices are known.
    pub cost_usd: Option<f64>,
}

/// A message of a conversation. `data` is the engine's message (role, content, tool calls) as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Id.
    pub id: String,
    /// Conversation.
    pub conversation_id: String,
    /// The run that produced it (`None` for messages written by a person).
    pub run_id: Option<String>,
    /// Position in the conversation, from 1.
    pub seq: i64,
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// The message.
    pub data: Value,
    /// Written, ms.
    pub created_at: i64,
}

const CONVERSATION_COLUMNS: &str =
    "id, user_id, title, created_at, updated_at, prompt_tokens, completion_tokens, cost_usd";
const MESSAGE_COLUMNS: &str = "id, conversation_id, run_id, seq, role, data, created_at";

/// How often a message append that lost a race for its `seq` is retried.
const APPEND_ATTEMPTS: u32 = 10;

fn conversation_from_row(row: &AnyRow) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        title: get(row, "title")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        prompt_tokens: get(row, "prompt_tokens")?,
        completion_tokens: get(row, "completion_tokens")?,
        cost_usd: get(row, "cost_usd")?,
    })
}

fn message_from_row(row: &AnyRow) -> Result<Message, StoreError> {
    Ok(Message {
        id: get(row, "id")?,
        conversation_id: get(row, "conversation_id")?,
        run_id: get(row, "run_id")?,
        seq: get(row, "seq")?,
        role: get(row, "role")?,
        data: get_json(row, "data")?,
        created_at: get(row, "created_at")?,
    })
}

impl Store {
    /// Starts a conversation.
    pub async fn create_conversation(&self, user_id: &str, title: &str) -> Result<Conversation, StoreError> {
        let now = now_ms();
        let conversation = Conversation {
            id: new_id(),
            user_id: user_id.to_string(),
            title: title.to_string(),
            created_at: now,
            updated_at: now,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: None,
        };
        sqlx::query(
            "INSERT INTO conversations (id, user_id, title, created_at, updated_at, prompt_tokens, completion_tokens) \
             VALUES ($1, $2, $3, $4, $5, 0, 0)",
        )
        .bind(&conversation.id)
        .bind(&conversation.user_id)
        .bind(&conversation.title)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(conversation)
    }

    /// A conversation by id.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// Conversations, newest activity first: of one user (`Some`) or everyone's (`None`), whose title
    /// contains `search` (case-insensitive) when given.
    pub async fn list_conversations(
        &self,
        user_id: Option<&str>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE 1 = 1");
        let mut n = 0;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        if user_id.is_some() {
            sql.push_str(&format!(" AND user_id = {}", param()));
        }
        let pattern = search.filter(|s| !s.is_empty()).map(contains_pattern);
        if pattern.is_some() {
            sql.push_str(&format!(" AND LOWER(title) LIKE {} ESCAPE '\\'", param()));
        }
        sql.push_str(&format!(" ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}", param(), param()));
        let mut query = sqlx::query(&sql);
        if let Some(user_id) = user_id {
            query = query.bind(user_id);
        }
        if let Some(pattern) = pattern {
            query = query.bind(pattern);
        }
        let rows = query.bind(limit.max(0)).bind(offset.max(0)).fetch_all(self.pool()).await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// Renames a conversation; `NotFound` when absent.
    pub async fn rename_conversation(&self, id: &str, title: &str) -> Result<Conversation, StoreError> {
        let done = sqlx::query("UPDATE conversations SET title = $1 WHERE id = $2")
            .bind(title)
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("conversation {id}")));
        }
        self.conversation(id).await?.ok_or_else(|| StoreError::NotFound(format!("conversation {id}")))
    }

    /// Deletes a conversation with its messages, runs, run events, tool calls and approvals (the audit log
    /// keeps its entries); `NotFound` when absent.
    pub async fn delete_conversation(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for sql in [
            "DELETE FROM approvals WHERE conversation_id = $1",
            "DELETE FROM tool_calls WHERE conversation_id = $1",
            "DELETE FROM run_events WHERE run_id IN (SELECT id FROM runs WHERE conversation_id = $1)",
            "DELETE FROM runs WHERE conversation_id = $1",
            "DELETE FROM messages WHERE conversation_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM conversations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("conversation {id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Appends a message (its `seq` is the next in the conversation) and touches `updated_at`.
    pub async fn append_message(
        &self,
        conversation_id: &str,
        run_id: Option<&str>,
        role: &str,
        data: &Value,
    ) -> Result<Message, StoreError> {
        let data_text = json_text(data);
        let mut attempt = 0;
        loop {
            match self.try_append_message(conversation_id, run_id, role, data, &data_text).await {
                Err(StoreError::Database(e)) if is_unique_violation(&e) && attempt + 1 < APPEND_ATTEMPTS => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "could not append to conversation {conversation_id}: {APPEND_ATTEMPTS} concurrent appends \
                         took the next position first"
                    )));
                }
                other => return other,
            }
        }
    }

    async fn try_append_message(
        &self,
        conversation_id: &str,
        run_id: Option<&str>,
        role: &str,
        data: &Value,
        data_text: &str,
    ) -> Result<Message, StoreError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        // Touching the conversation first takes its row lock (PostgreSQL) or the write lock (SQLite), which
        // serialises appends to one conversation; the unique (conversation_id, seq) index backs it up.
        let done = sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("conversation {conversation_id}")));
        }
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM messages WHERE conversation_id = $1")
            .bind(conversation_id)
            .fetch_one(&mut *tx)
            .await?;
        let seq = get::<i64>(&row, "seq")? + 1;
        let message = Message {
            id: new_id(),
            conversation_id: conversation_id.to_string(),
            run_id: run_id.map(str::to_string),
            seq,
            role: role.to_string(),
            data: data.clone(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, run_id, seq, role, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&message.id)
        .bind(&message.conversation_id)
        .bind(&message.run_id)
        .bind(seq)
        .bind(&message.role)
        .bind(data_text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Every message of a conversation, in order.
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<Message>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY seq"))
                .bind(conversation_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Adds a run's token usage (and cost, when known) to its conversation.
    pub async fn add_conversation_usage(
        &self,
        id: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
        cost_usd: Option<f64>,
    ) -> Result<(), StoreError> {
        // Two statements rather than one with a nullable cost parameter: the Any driver sends a missing
        // f64 to PostgreSQL as a FLOAT4 NULL, and PostgreSQL keeps the first parameter types of a cached
        // statement.
        let done = match cost_usd {
            Some(cost) => {
                sqlx::query(
                    "UPDATE conversations SET prompt_tokens = prompt_tokens + $1, \
                     completion_tokens = completion_tokens + $2, cost_usd = COALESCE(cost_usd, 0) + $3 WHERE id = $4",
                )
                .bind(prompt_tokens)
                .bind(completion_tokens)
                .bind(cost)
                .bind(id)
                .execute(self.pool())
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE conversations SET prompt_tokens = prompt_tokens + $1, \
                     completion_tokens = completion_tokens + $2 WHERE id = $3",
                )
                .bind(prompt_tokens)
                .bind(completion_tokens)
                .bind(id)
                .execute(self.pool())
                .await?
            }
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("conversation {id}")));
        }
        Ok(())
    }
}
