//! Exponential backoff with jitter, drawn from a seeded generator so runs repeat exactly.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::config::RetryPolicy;

/// The seed of a configuration that names none. The core takes randomness only as a value: the
/// runtime crates fill in a seed from the operating system before a session is made.
const UNSEEDED: u64 = 0x5f5f_7374_7265_616d;

/// Counts consecutive failures and turns them into delays.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    failures: u32,
    rng: ChaCha8Rng,
}

impl Backoff {
    pub(crate) fn new(policy: RetryPolicy, seed: Option<u64>) -> Self {
        Self {
            policy,
            failures: 0,
            rng: ChaCha8Rng::seed_from_u64(seed.unwrap_or(UNSEEDED)),
        }
    }

    /// How many failures in a row so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a success: the next failure starts from the initial delay again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub(crate) fn next_delay(&mut self, long_cap: bool) -> Duration {
        let cap = if long_cap {
            self.policy.max_for_limits
        } else {
            self.policy.max
        };
        let exp = self.policy.multiplier.powi(self.failures.min(64) as i32);
        self.failures = self.failures.saturating_add(1);
        let base = (self.policy.initial.as_secs_f64() * exp).min(cap.as_secs_f64());
        // Uniform in [base * (1 - jitter), base]: never above the cap, never zero.
        let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let delay = base * (1.0 - self.policy.jitter * unit);
        // A cap near `Duration::MAX` does not survive the trip through f64: saturate to it.
        Duration::try_from_secs_f64(delay.max(0.001)).unwrap_or(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_resets() {
        let policy = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_for_limits: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: 0.0,
        };
        let mut b = Backoff::new(policy, Some(1));
        let d: Vec<_> = (0..6).map(|_| b.next_delay(false).as_millis()).collect();
        assert_eq!(d, vec![100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay(true).as_millis(), 100);
    }

    #[test]
    fn huge_settings_saturate() {
        let policy = RetryPolicy {
            initial: Duration::MAX,
            max: Duration::MAX,
            max_for_limits: Duration::MAX,
            multiplier: f64::MAX,
            jitter: 0.0,
        };
        let mut b = Backoff::new(policy, Some(1));
        for _ in 0..70 {
            assert!(b.next_delay(false) > Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_stays_in_range_and_repeats_with_the_seed() {
        let policy = RetryPolicy::default();
        let mut a = Backoff::new(policy, Some(7));
        let mut b = Backoff::new(policy, Some(7));
        for _ in 0..20 {
            let (x, y) = (a.next_delay(false), b.next_delay(false));
            assert_eq!(x, y);
            assert!(x <= policy.max && x > Duration::ZERO);
        }
    }
}
