//! [`Breaker`]: the shared tier's circuit breaker. After [`FAILURE_THRESHOLD`] failures in a row (errors or
//! lookups over budget) it opens: lookups skip Redis at once (the request goes on with local state). Requests
//! never probe: after a cooldown the tier's background health check ([`Breaker::probe_due`], a `PING` with a
//! generous timeout) does (half-open); success closes the breaker, failure reopens it with the cooldown doubled
//! (from [`MIN_COOLDOWN_MS`] up to [`MAX_COOLDOWN_MS`]). So a short `lookupTimeoutMs` on a busy host cannot keep
//! the breaker open by failing its probes.

use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::Clock;

/// Consecutive failures that open the breaker.
pub const FAILURE_THRESHOLD: u32 = 3;
/// First cooldown, ms.
pub const MIN_COOLDOWN_MS: i64 = 250;
/// Longest cooldown, ms.
pub const MAX_COOLDOWN_MS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until_ms: i64, cooldown_ms: i64 },
    HalfOpen { cooldown_ms: i64 },
}

/// The breaker's state as reported by `cacheStats().shared.breaker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Redis is used.
    Closed,
    /// Redis is skipped until the cooldown ends.
    Open,
    /// One probe is in flight.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half-open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        }
    }
}

/// See the module docs. Thread-safe.
#[derive(Debug)]
pub struct Breaker {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether a request's call may go to Redis now (only while closed).
    pub fn allow(&self) -> bool {
        matches!(
            *self.state.lock().unwrap_or_else(PoisonError::into_inner),
            State::Closed { .. }
        )
    }

    /// Whether the health check should probe now: an open breaker past its cooldown turns half-open (once).
    pub fn probe_due(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *s {
            State::Open {
                until_ms,
                cooldown_ms,
            } if self.clock.now_ms() >= until_ms => {
                *s = State::HalfOpen { cooldown_ms };
                true
            }
            _ => false,
        }
    }

    /// A call succeeded.
    pub fn success(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::Closed { failures: 0 };
    }

    /// A call failed; returns whether this opened the breaker.
    pub fn failure(&self) -> bool {
        let now = self.clock.now_ms();
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let open = |cooldown_ms: i64| State::Open {
            until_ms: now.saturating_add(cooldown_ms),
            cooldown_ms,
        };
        match *s {
            State::Closed { failures } if failures + 1 >= FAILURE_THRESHOLD => {
                *s = open(MIN_COOLDOWN_MS);
                true
            }
            State::Closed { failures } => {
                *s = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            State::HalfOpen { cooldown_ms } => {
                *s = open((cooldown_ms * 2).min(MAX_COOLDOWN_MS));
                true
            }
            State::Open { .. } => false,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match *self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn opens_probes_and_closes() {
        let clock = Arc::new(ManualClock::new(0));
        let b = Breaker::new(clock.clone());
        assert!(b.allow());
        assert!(!b.failure());
        assert!(!b.failure());
        assert!(b.failure(), "third failure in a row opens");
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow());
        assert!(!b.probe_due(), "cooldown running");
        clock.advance(MIN_COOLDOWN_MS);
        assert!(!b.allow(), "requests never probe");
        assert!(b.probe_due(), "one probe");
        assert!(!b.probe_due(), "only one");
        assert_eq!(b.state().as_str(), "half-open");
        assert!(b.failure(), "failed probe reopens");
        clock.advance(MIN_COOLDOWN_MS);
        assert!(!b.probe_due(), "cooldown doubled");
        clock.advance(MIN_COOLDOWN_MS);
        assert!(b.probe_due());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow());
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = Breaker::new(Arc::new(ManualClock::new(0)));
        b.failure();
        b.failure();
        b.success();
        b.failure();
        b.failure();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
