//! Conversations and their messages.

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

impl Store {
    /// Starts a conversation.
    pub async fn create_conversation(&self, user_id: &str, title: &str) -> Result<Conversation, StoreError> {
        todo!("{user_id}{title}")
    }

    /// A conversation by id.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        todo!("{id}")
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
        todo!("{user_id:?}{search:?}{limit}{offset}")
    }

    /// Renames a conversation; `NotFound` when absent.
    pub async fn rename_conversation(&self, id: &str, title: &str) -> Result<Conversation, StoreError> {
        todo!("{id}{title}")
    }

    /// Deletes a conversation with its messages, runs, run events, tool calls and approvals (the audit log
    /// keeps its entries); `NotFound` when absent.
    pub async fn delete_conversation(&self, id: &str) -> Result<(), StoreError> {
        todo!("{id}")
    }

    /// Appends a message (its `seq` is the next in the conversation) and touches `updated_at`.
    pub async fn append_message(
        &self,
        conversation_id: &str,
        run_id: Option<&str>,
        role: &str,
        data: &Value,
    ) -> Result<Message, StoreError> {
        todo!("{conversation_id}{run_id:?}{role}{data}")
    }

    /// Every message of a conversation, in order.
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<Message>, StoreError> {
        todo!("{conversation_id}")
    }

    /// Adds a run's token usage (and cost, when known) to its conversation.
    pub async fn add_conversation_usage(
        &self,
        id: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
        cost_usd: Option<f64>,
    ) -> Result<(), StoreError> {
        todo!("{id}{prompt_tokens}{completion_tokens}{cost_usd:?}")
    }
}
