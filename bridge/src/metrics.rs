//! Counters and gauges of one replica, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Per channel of a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelMetrics {
    /// The org id (a label).
    pub org_id: String,
    /// Events stored by this replica (duplicates acknowledged by the server included).
    pub events: u64,
    /// Of those, acknowledged as duplicates (re-sends of an event the stream had).
    pub duplicates: u64,
    /// Events delivered again by Salesforce that the stream already held (skipped).
    pub skipped: u64,
    /// The replay id of the last stored event.
    pub last_replay_id: Option<i64>,
    /// The replay id of the newest event Salesforce delivered.
    pub delivered_replay_id: Option<i64>,
    /// Events delivered but not yet stored.
    pub lag: u64,
}

/// Per connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionMetrics {
    /// Whether this replica holds the connection's lease.
    pub owned: bool,
    /// What the connection is doing: `idle`, `starting`, `streaming`, `handing_over`, `failed`.
    pub state: &'static str,
    /// Why it failed, when it did (no secrets: error texts of the client never hold them).
    pub error: Option<String>,
    /// Salesforce sessions started again (re-handshakes), over every session this replica ran.
    pub reconnects: u64,
    /// Channels fetched again by replay (after a broken long poll, or after the in-memory queue
    /// overflowed).
    pub refetches: u64,
    /// Publishes sent again after a timeout or an unavailable server.
    pub publish_retries: u64,
    /// Writes refused because another writer had moved the channel on.
    pub fenced: u64,
    /// Events stored out of order (after an earlier one was lost), removed and written again
    /// in order.
    pub reordered: u64,
    /// Times this replica took the lease.
    pub acquired: u64,
}

#[derive(Default)]
struct Inner {
    channels: BTreeMap<(String, String), ChannelMetrics>,
    connections: BTreeMap<String, ConnectionMetrics>,
    nats_connected: bool,
    nats_reconnects: u64,
    members: u64,
}

/// The replica's metrics. Shared by every task; each update takes a short lock.
#[derive(Default)]
pub struct Metrics {
    replica_id: String,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("replica_id", &self.replica_id)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics of replica `replica_id`.
    #[must_use]
    pub fn new(replica_id: &str) -> Self {
        Self {
            replica_id: replica_id.to_owned(),
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes one channel's metrics.
    pub fn channel(&self, connection: &str, channel: &str, f: impl FnOnce(&mut ChannelMetrics)) {
        let mut inner = self.lock();
        f(inner
            .channels
            .entry((connection.to_owned(), channel.to_owned()))
            .or_default());
    }

    /// Changes one connection's metrics.
    pub fn connection(&self, connection: &str, f: impl FnOnce(&mut ConnectionMetrics)) {
        let mut inner = self.lock();
        let entry = inner.connections.entry(connection.to_owned()).or_default();
        if entry.state.is_empty() {
            entry.state = "idle";
        }
        f(entry);
    }

    /// Records NATS's connection state.
    pub fn nats(&self, connected: bool, reconnected: bool) {
        let mut inner = self.lock();
        inner.nats_connected = connected;
        if reconnected {
            inner.nats_reconnects += 1;
        }
    }

    /// Records how many replicas are members.
    pub fn members(&self, n: usize) {
        self.lock().members = n as u64;
    }

    /// A copy of one connection's metrics.
    #[must_use]
    pub fn connection_snapshot(&self, connection: &str) -> Option<ConnectionMetrics> {
        self.lock().connections.get(connection).cloned()
    }

    /// A copy of one channel's metrics.
    #[must_use]
    pub fn channel_snapshot(&self, connection: &str, channel: &str) -> Option<ChannelMetrics> {
        self.lock()
            .channels
            .get(&(connection.to_owned(), channel.to_owned()))
            .cloned()
    }

    /// `Ok` when the replica works: NATS connected and no owned connection failed; otherwise
    /// the reasons.
    pub fn health(&self) -> Result<(), String> {
        let inner = self.lock();
        let mut problems = Vec::new();
        if !inner.nats_connected {
            problems.push("NATS is not connected".to_owned());
        }
        for (name, c) in &inner.connections {
            if c.owned && c.state == "failed" {
                problems.push(format!(
                    "connection {name} failed: {}",
                    c.error.as_deref().unwrap_or("unknown error")
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The Prometheus text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let replica = escape(&self.replica_id);
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP sfstream_bridge_{name} {help}");
            let _ = writeln!(out, "# TYPE sfstream_bridge_{name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "sfstream_bridge_{name}{{{labels}}} {value}");
            }
        };
        let ch_labels = |(conn, ch): &(String, String), m: &ChannelMetrics| {
            format!(
                "replica=\"{replica}\",connection=\"{}\",org_id=\"{}\",channel=\"{}\"",
                escape(conn),
                escape(&m.org_id),
                escape(ch)
            )
        };
        let ch_rows = |f: &dyn Fn(&ChannelMetrics) -> Option<String>| {
            inner
                .channels
                .iter()
                .filter_map(|(k, m)| f(m).map(|v| (ch_labels(k, m), v)))
                .collect::<Vec<_>>()
        };
        family(
            "events_total",
            "counter",
            "Events stored in JetStream by this replica.",
            ch_rows(&|m| Some(m.events.to_string())),
        );
        family(
            "duplicates_total",
            "counter",
            "Publishes JetStream acknowledged as duplicates (re-sends).",
            ch_rows(&|m| Some(m.duplicates.to_string())),
        );
        family(
            "skipped_total",
            "counter",
            "Events Salesforce delivered again that the stream already held.",
            ch_rows(&|m| Some(m.skipped.to_string())),
        );
        family(
            "last_replay_id",
            "gauge",
            "Replay id of the last event stored.",
            ch_rows(&|m| m.last_replay_id.map(|v| v.to_string())),
        );
        family(
            "delivered_replay_id",
            "gauge",
            "Replay id of the newest event Salesforce delivered.",
            ch_rows(&|m| m.delivered_replay_id.map(|v| v.to_string())),
        );
        family(
            "lag_events",
            "gauge",
            "Events delivered by Salesforce and not yet stored.",
            ch_rows(&|m| Some(m.lag.to_string())),
        );
        let conn_rows = |f: &dyn Fn(&ConnectionMetrics) -> String| {
            inner
                .connections
                .iter()
                .map(|(name, m)| {
                    (
                        format!("replica=\"{replica}\",connection=\"{}\"", escape(name)),
                        f(m),
                    )
                })
                .collect::<Vec<_>>()
        };
        family(
            "lease_owned",
            "gauge",
            "1 when this replica owns the connection's lease.",
            conn_rows(&|m| u8::from(m.owned).to_string()),
        );
        family(
            "lease_acquired_total",
            "counter",
            "Times this replica took the connection's lease.",
            conn_rows(&|m| m.acquired.to_string()),
        );
        family(
            "salesforce_reconnects_total",
            "counter",
            "Salesforce sessions started again (re-handshakes).",
            conn_rows(&|m| m.reconnects.to_string()),
        );
        family(
            "salesforce_refetches_total",
            "counter",
            "Re-subscriptions to fetch dropped events again by replay.",
            conn_rows(&|m| m.refetches.to_string()),
        );
        family(
            "publish_retries_total",
            "counter",
            "Publishes sent again after a timeout or an unavailable server.",
            conn_rows(&|m| m.publish_retries.to_string()),
        );
        family(
            "fenced_total",
            "counter",
            "Writes refused because another writer had moved the channel on.",
            conn_rows(&|m| m.fenced.to_string()),
        );
        family(
            "reordered_total",
            "counter",
            "Events stored after an earlier one was lost, removed and written again in order.",
            conn_rows(&|m| m.reordered.to_string()),
        );
        family(
            "connection_failed",
            "gauge",
            "1 when the connection is owned here and failed (see the log).",
            conn_rows(&|m| u8::from(m.owned && m.state == "failed").to_string()),
        );
        let r = format!("replica=\"{replica}\"");
        family(
            "nats_connected",
            "gauge",
            "1 while connected to NATS.",
            vec![(r.clone(), u8::from(inner.nats_connected).to_string())],
        );
        family(
            "nats_reconnects_total",
            "counter",
            "Connections to NATS re-established.",
            vec![(r.clone(), inner.nats_reconnects.to_string())],
        );
        family(
            "members",
            "gauge",
            "Replicas this replica sees.",
            vec![(r, inner.members.to_string())],
        );
        out
    }
}

/// Escapes a label value.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_labels_and_values() {
        let m = Metrics::new("r\"1");
        m.channel("acme", "/event/A__e", |c| {
            c.org_id = "00D000000000001".into();
            c.events = 3;
            c.last_replay_id = Some(42);
        });
        m.connection("acme", |c| c.owned = true);
        let text = m.render();
        assert!(text.contains(
            "sfstream_bridge_events_total{replica=\"r\\\"1\",connection=\"acme\",org_id=\"00D000000000001\",channel=\"/event/A__e\"} 3"
        ), "{text}");
        assert!(text.contains("sfstream_bridge_last_replay_id{"), "{text}");
        assert!(
            text.contains("sfstream_bridge_lease_owned{replica=\"r\\\"1\",connection=\"acme\"} 1")
        );
        assert!(m.health().is_err(), "NATS not connected yet");
        m.nats(true, false);
        assert!(m.health().is_ok());
    }
}
