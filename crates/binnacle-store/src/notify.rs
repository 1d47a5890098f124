//! Signals between engine replicas: PostgreSQL `LISTEN`/`NOTIFY`. On SQLite there is one replica, so
//! [`Store::notify`] does nothing and [`Store::listen`] returns `None`.

use crate::{Store, StoreError};

/// A signal received from another replica (or this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The channel.
    pub channel: String,
    /// The payload (≤ 7,999 bytes, a PostgreSQL limit).
    pub payload: String,
}

/// A subscription to channels. Reconnects by itself when the connection drops.
pub struct Listener {
    _private: (),
}

impl Listener {
    /// The next notification (`None` only if the listener can no longer reconnect).
    pub async fn recv(&mut self) -> Option<Notification> {
        todo!()
    }
}

impl Store {
    /// Sends `payload` on `channel` to every listening replica (including this one). No-op on SQLite.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        todo!("{channel}{payload}")
    }

    /// Listens on `channels`; `None` on SQLite.
    pub async fn listen(&self, channels: &[&str]) -> Result<Option<Listener>, StoreError> {
        todo!("{channels:?}")
    }
}
