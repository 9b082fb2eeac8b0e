//! The wall clock the emulator reads for event dates and retention, injectable so that tests can
//! move time forward (a 72 h retention purge in a millisecond test).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, in epoch milliseconds.
    fn now_ms(&self) -> u64;
}

/// The system clock plus an offset that only grows: [`advance`](Self::advance) moves it forward.
/// This is the emulator's default clock; `Control::advance_clock` drives it.
#[derive(Debug, Default)]
pub struct SystemClock {
    offset_ms: AtomicU64,
}

impl SystemClock {
    /// Moves this clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(crate::util::millis(by), Ordering::Relaxed);
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, crate::util::millis);
        system.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }
}

/// A clock that stands still until told to move: fully deterministic dates.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now_ms: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// Moves the clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now_ms
            .fetch_add(crate::util::millis(by), Ordering::Relaxed);
    }

    /// Sets the clock.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

/// What the emulator holds: its own adjustable system clock, or one the user injected.
pub(crate) enum EmulatorClock {
    System(SystemClock),
    Injected(Arc<dyn Clock>),
}

impl EmulatorClock {
    pub(crate) fn now_ms(&self) -> u64 {
        match self {
            Self::System(c) => c.now_ms(),
            Self::Injected(c) => c.now_ms(),
        }
    }

    /// Moves the built-in clock forward; an injected clock is the user's to move.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        match self {
            Self::System(c) => {
                c.advance(by);
                true
            }
            Self::Injected(_) => false,
        }
    }
}
