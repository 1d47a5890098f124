//! Signals between engine replicas: PostgreSQL `LISTEN`/`NOTIFY`. On SQLite there is one replica, so
//! [`Store::notify`] does nothing and [`Store::listen`] returns `None`.

use crate::{Backend, Store, StoreError};
use sqlx::postgres::PgListener;
use std::time::Duration;

/// A signal received from another replica (or this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The channel.
    pub channel: String,
    /// The payload (≤ 7,999 bytes, a PostgreSQL limit).
    pub payload: String,
}

/// A subscription to channels. Reconnects by itself when the connection drops (notifications sent while
/// it is disconnected are lost: after a gap, re-read what matters from the store).
pub struct Listener {
    /// The database URL, to reconnect.
    url: String,
    /// The channels listened on.
    channels: Vec<String>,
    /// The connection; `None` after an error, until the next reconnect.
    inner: Option<PgListener>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("channels", &self.channels)
            .field("connected", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

/// The longest pause between reconnection attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

impl Listener {
    async fn connect(url: &str, channels: &[String]) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen_all(channels.iter().map(String::as_str)).await?;
        Ok(listener)
    }

    /// The next notification (`None` only if the listener can no longer reconnect).
    pub async fn recv(&mut self) -> Option<Notification> {
        let mut delay = Duration::from_millis(100);
        loop {
            let listener = match self.inner.as_mut() {
                Some(listener) => listener,
                None => match Listener::connect(&self.url, &self.channels).await {
                    Ok(listener) => self.inner.insert(listener),
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?delay, "could not reconnect the database listener");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                        continue;
                    }
                },
            };
            match listener.recv().await {
                Ok(n) => {
                    return Some(Notification { channel: n.channel().to_string(), payload: n.payload().to_string() });
                }
                Err(error) => {
                    // PgListener reconnects by itself on the usual disconnects; on anything else start afresh.
                    tracing::warn!(%error, retry_in = ?delay, "the database listener failed; reconnecting");
                    self.inner = None;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                }
            }
        }
    }
}

impl Store {
    /// Sends `payload` on `channel` to every listening replica (including this one). No-op on SQLite.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(self.pool()).await?;
        }
        Ok(())
    }

    /// Listens on `channels`; `None` on SQLite.
    pub async fn listen(&self, channels: &[&str]) -> Result<Option<Listener>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let inner = Listener::connect(self.url(), &channels).await?;
        Ok(Some(Listener { url: self.url().to_string(), channels, inner: Some(inner) }))
    }
}
