//! What the bridge learns about a Salesforce session: reconnects and re-fetches.
//!
//! The client exposes its session's counters through `stats()` (its events otherwise go only to
//! `tracing`), so they are sampled here, once a second, and turned into deltas. This is the one
//! place that knows how; a programmatic stream of session events would replace the sampling
//! without changing the metrics.

use sfstream_tokio::Client;

/// Counters of one client, as the bridge reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionCounters {
    /// Handshakes after the first: the session was started again.
    pub(crate) reconnects: u64,
    /// Re-subscriptions to fetch dropped events again.
    pub(crate) refetches: u64,
}

impl SessionCounters {
    /// The counters of `client` now.
    pub(crate) fn read(client: &Client) -> Self {
        let stats = client.stats();
        Self {
            reconnects: stats.handshakes.saturating_sub(1),
            refetches: stats.refetches,
        }
    }

    /// What grew since `earlier`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            reconnects: self.reconnects.saturating_sub(earlier.reconnects),
            refetches: self.refetches.saturating_sub(earlier.refetches),
        }
    }
}
