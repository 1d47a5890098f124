//! The simulated cluster's clock: wall time, optionally sped up, that tests can also move forward by hand.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;
use std::time::Instant;

/// A clock shared by the API server and the simulated controllers.
#[derive(Debug)]
pub struct Clock {
    start_wall: Instant,
    start_virtual: Timestamp,
    speed: f64,
    offset: Mutex<SignedDuration>,
}

impl Clock {
    /// A clock that follows wall time from now, `speed` times faster (1.0 = real time).
    pub fn new(speed: f64) -> Self {
        Self {
            start_wall: Instant::now(),
            start_virtual: Timestamp::now(),
            speed: if speed.is_finite() && speed > 0.0 { speed } else { 1.0 },
            offset: Mutex::new(SignedDuration::ZERO),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        let elapsed = self.start_wall.elapsed().as_secs_f64() * self.speed;
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let virtual_elapsed = SignedDuration::from_secs_f64(elapsed) + offset;
        self.start_virtual.checked_add(virtual_elapsed).unwrap_or(self.start_virtual)
    }

    /// Moves simulated time forward by `d` (controllers notice at their next pass).
    pub fn advance(&self, d: std::time::Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO);
    }

    /// How long in wall time it takes for `d` of simulated time to pass.
    pub fn wall_duration(&self, d: SignedDuration) -> std::time::Duration {
        let secs = (d.as_secs_f64() / self.speed).max(0.0);
        std::time::Duration::from_secs_f64(secs)
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}
