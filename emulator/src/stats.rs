//! Statistics: totals and per-client delivery.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the emulator's statistics (also served as JSON by `GET /_emulator/stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// Counters over the emulator's lifetime.
    pub totals: Totals,
    /// Per client id, including clients whose sessions ended.
    pub clients: BTreeMap<String, ClientStats>,
}

/// Counters over the emulator's lifetime.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Totals {
    /// `/meta/handshake` messages received (successful or not).
    pub handshakes: u64,
    /// `/meta/connect` messages received.
    pub connects: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// Failed Bayeux replies (`successful: false`) plus HTTP error responses of `/cometd` and the
    /// token endpoint (including injected ones).
    pub errors_sent: u64,
    /// Events published (including bulk events).
    pub events_published: u64,
    /// Faults injected, queued or by chaos.
    pub faults_injected: u64,
    /// Faults injected by kind (`status_503`, `reset`, `reroute`, `cut_after_delivery`, …, the
    /// names of [`ChaosKind::name`](crate::ChaosKind::name) and the control API's fault kinds).
    #[serde(default)]
    pub faults_by_kind: BTreeMap<String, u64>,
    /// Requests that lost their load-balancer affinity (another node's `sfproxy-id`, or none):
    /// each ended its session with `403::Unknown client` and new cookies.
    #[serde(default)]
    pub sessions_rerouted: u64,
    /// Sessions alive now.
    pub active_sessions: u64,
    /// The most sessions alive at once since the start or the last
    /// [`reset_max_active_sessions`](crate::Control::reset_max_active_sessions): with one
    /// client per org, more than 1 means two subscribers ran at once (and each delivered event
    /// was counted twice against the org's allocation).
    #[serde(default)]
    pub max_active_sessions: u64,
    /// Connect responses broken after their events were taken (the broken-response faults).
    #[serde(default)]
    pub broken_responses: u64,
    /// Events taken by those broken responses: delivered as far as the server is concerned,
    /// lost to a client that does not recover them by replay.
    #[serde(default)]
    pub events_lost_in_broken_responses: u64,
}

/// What one client received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientStats {
    /// Whether the session is still alive.
    pub active: bool,
    /// Events delivered in connect replies (broken ones included).
    pub delivered: u64,
    /// Of those, events taken by broken responses.
    #[serde(default)]
    pub lost_in_broken_responses: u64,
    /// The last delivered replay id per channel.
    pub last_replay_ids: BTreeMap<String, i64>,
    /// Current subscriptions (as sent, filters included).
    pub subscriptions: Vec<String>,
}
