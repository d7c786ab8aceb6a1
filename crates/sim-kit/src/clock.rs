//! The simulators' clock: real time shifted by an offset, or frozen, under test control.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A clock a test can freeze, set and advance. Clones share one time.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    offset: Duration,
    frozen_at: Option<DateTime<Utc>>,
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        let state = self.inner.lock().expect("clock lock");
        state.frozen_at.unwrap_or_else(|| Utc::now() + state.offset)
    }

    /// Milliseconds since the epoch, as HubSpot and the webhook timestamps count them.
    pub fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Whether time stands still (see [`SimClock::freeze`]).
    pub fn is_frozen(&self) -> bool {
        self.inner.lock().expect("clock lock").frozen_at.is_some()
    }

    /// Stops time at its current value until [`SimClock::resume`].
    pub fn freeze(&self) {
        let now = self.now();
        self.inner.lock().expect("clock lock").frozen_at = Some(now);
    }

    /// Lets time run again from wherever it stands.
    pub fn resume(&self) {
        let mut state = self.inner.lock().expect("clock lock");
        if let Some(frozen) = state.frozen_at.take() {
            state.offset = frozen - Utc::now();
        }
    }

    /// Moves time forward (or back, with a negative duration); frozen time stays frozen.
    pub fn advance(&self, by: Duration) {
        let mut state = self.inner.lock().expect("clock lock");
        match &mut state.frozen_at {
            Some(frozen) => *frozen += by,
            None => state.offset += by,
        }
    }

    /// Sets the time; frozen time stays frozen at the new value.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut state = self.inner.lock().expect("clock lock");
        match &mut state.frozen_at {
            Some(frozen) => *frozen = at,
            None => state.offset = at - Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let clock = SimClock::default();
        clock.freeze();
        let t0 = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), t0 + Duration::seconds(90));
    }

    #[test]
    fn an_advanced_running_clock_keeps_running_ahead() {
        let clock = SimClock::default();
        clock.advance(Duration::hours(1));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > Duration::minutes(59) && ahead <= Duration::hours(1));
    }
}
