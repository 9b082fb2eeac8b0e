//! Statistics: totals, per-topic counters and faults fired.

use std::collections::BTreeMap;

use serde::Serialize;

/// A snapshot of the emulator's statistics (also served by `GET /_emulator/stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Counters over the emulator's lifetime, and streams open now.
    pub totals: Totals,
    /// Per topic.
    pub topics: BTreeMap<String, TopicStats>,
    /// Calls received per method (`Subscribe`, `GetTopic` …).
    pub calls: BTreeMap<String, u64>,
    /// Faults fired per fault name (queued and chaos).
    pub faults: BTreeMap<String, u64>,
}

/// Counters over the emulator's lifetime.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Events delivered in `FetchResponse`s and `ManagedFetchResponse`s (including events cut
    /// by [`Fault::CutAfterDelivery`](crate::Fault::CutAfterDelivery)).
    pub delivered: u64,
    /// Credits requested (`num_requested` summed, before the cap of 100 outstanding).
    pub credits_requested: u64,
    /// Empty keepalive responses sent.
    pub keepalives: u64,
    /// Events accepted by `Publish`, `PublishStream` or the control API.
    pub published: u64,
    /// Events refused by `Publish` / `PublishStream` (per-event `PUBLISH` errors).
    pub publish_failures: u64,
    /// Calls ended with a non-OK status.
    pub errors_sent: u64,
    /// Subscription streams ended by the idle rule.
    pub idle_closes: u64,
    /// Faults fired.
    pub faults_fired: u64,
    /// `Subscribe` streams open now.
    pub subscribe_streams_open: u64,
    /// `ManagedSubscribe` streams open now.
    pub managed_streams_open: u64,
    /// `PublishStream` streams open now.
    pub publish_streams_open: u64,
}

/// One topic's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TopicStats {
    /// Events published to it.
    pub published: u64,
    /// Events delivered from it.
    pub delivered: u64,
    /// Credits requested on its streams.
    pub credits_requested: u64,
    /// The most events one stream on it was owed at once, counting credits asked for beyond
    /// the cap of 100 outstanding (a client that keeps to the cap never makes it exceed 100).
    pub most_owed: u64,
    /// Subscription streams open on it now.
    pub streams_open: u64,
    /// Events retained now.
    pub retained: u64,
}
