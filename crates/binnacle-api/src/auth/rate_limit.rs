//! Login rate limiting: failed attempts per username and per client address in a sliding window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failed logins.
#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    /// At most `max_failures` failed attempts per key within `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self { window, max_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds to wait)` when any of `keys` is over the limit.
    pub fn check(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.first()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest)).as_secs().max(1);
                    wait = Some(wait.map_or(left, |w: u64| w.max(left)));
                }
            }
        }
        if map.len() > 10_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        wait
    }

    /// Records a failure for each key.
    pub fn fail(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            map.entry(key.clone()).or_default().push(now);
        }
    }

    /// Forgets the failures of a key (after a successful login).
    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_max_failures() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = vec!["user:alice".to_string(), "ip:127.0.0.1".to_string()];
        for _ in 0..3 {
            assert_eq!(l.check(&keys), None);
            l.fail(&keys);
        }
        assert!(l.check(&keys).is_some_and(|s| s > 0 && s <= 60));
        assert!(l.check(&["user:bob".to_string()]).is_none());
        l.clear("user:alice");
        assert!(l.check(&["user:alice".to_string()]).is_none());
        assert!(l.check(&["ip:127.0.0.1".to_string()]).is_some());
    }
}
