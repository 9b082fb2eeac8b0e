//! Instant arithmetic that never overflows. Durations come from settings (a user may give
//! `Duration::MAX` to mean "never") and from the server's advice, so a sum can exceed what an
//! `Instant` holds; such a sum saturates to a point far enough away to mean "never".

use std::time::{Duration, Instant};

/// The furthest ahead any instant is put: a century is "never" for a streaming session, and
/// every platform's clock and timers can still represent it.
pub(crate) const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `at + d`, or the furthest representable point within [`NEVER`] of `at`.
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    let d = d.min(NEVER);
    at.checked_add(d)
        .or_else(|| at.checked_add(d / 1000))
        .unwrap_or(at)
}

/// An arbitrary origin for the core's unit tests, which need an `Instant` to count from: only
/// differences from it matter. The one clock read in `core/src`, and only in tests.
#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "a test-only origin; the session never reads the clock"
)]
pub(crate) fn test_origin() -> Instant {
    Instant::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_instead_of_overflowing() {
        let now = test_origin();
        assert_eq!(
            later(now, Duration::from_secs(3)),
            now + Duration::from_secs(3)
        );
        assert_eq!(later(now, Duration::MAX), now + NEVER);
        assert!(later(now, Duration::MAX) > now);
    }
}
