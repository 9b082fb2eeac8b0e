//! `sfstream bridge status`: who holds which lease, which replicas are members, and where each
//! channel stands in the stream, all read from the leaders.

use std::fmt::Write as _;

use crate::config::BridgeConfig;
use crate::jetstream::JetStreamSink;
use crate::kv::Bucket;
use crate::replica::Holder;
use crate::sink::Sink as _;

/// One lease.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseStatus {
    /// The connection.
    pub connection: String,
    /// The replica holding it; `None` when free.
    pub owner: Option<String>,
    /// The lease key's revision.
    pub revision: Option<u64>,
}

/// One channel's position.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PositionStatus {
    /// The connection.
    pub connection: String,
    /// The channel.
    pub channel: String,
    /// The subject its events go to.
    pub subject: String,
    /// The replay id of the last stored event.
    pub replay_id: Option<i64>,
    /// The stream sequence of that event.
    pub sequence: u64,
}

/// Everything `status` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Replicas with a live membership key.
    pub members: Vec<String>,
    /// Every configured connection's lease.
    pub leases: Vec<LeaseStatus>,
    /// Every configured channel's position.
    pub positions: Vec<PositionStatus>,
}

impl Status {
    /// As a table for people.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "replicas: {}",
            if self.members.is_empty() {
                "(none)".to_owned()
            } else {
                self.members.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:<32} {:>10}",
            "CONNECTION", "OWNER", "REVISION"
        );
        for l in &self.leases {
            let _ = writeln!(
                out,
                "{:<24} {:<32} {:>10}",
                l.connection,
                l.owner.as_deref().unwrap_or("(free)"),
                l.revision.map_or("-".to_owned(), |r| r.to_string())
            );
        }
        let _ = writeln!(
            out,
            "\n{:<24} {:<40} {:>14} {:>12}",
            "CONNECTION", "CHANNEL", "REPLAY ID", "SEQUENCE"
        );
        for p in &self.positions {
            let _ = writeln!(
                out,
                "{:<24} {:<40} {:>14} {:>12}",
                p.connection,
                p.channel,
                p.replay_id.map_or("-".to_owned(), |r| r.to_string()),
                p.sequence
            );
        }
        out
    }
}

/// Reads the status. Buckets that do not exist yet read as empty.
pub async fn read(config: &BridgeConfig, client: async_nats::Client) -> Result<Status, String> {
    let sink = JetStreamSink::new(client, config.stream.clone(), config.nats.ack_timeout);
    let js = sink.context().clone();
    let prefix = &config.replica.bucket_prefix;
    let ttl = config.replica.lease_ttl;
    let mut status = Status::default();
    let exists = |name: String| {
        let js = js.clone();
        async move { js.get_stream(format!("KV_{name}")).await.is_ok() }
    };
    if exists(format!("{prefix}_members")).await {
        let members = Bucket::open(&js, &format!("{prefix}_members"), ttl, 1)
            .await
            .map_err(|e| e.to_string())?;
        status.members = members
            .live_keys()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    }
    let leases = if exists(format!("{prefix}_leases")).await {
        Some(
            Bucket::open(&js, &format!("{prefix}_leases"), ttl, 1)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    for c in &config.connections {
        let entry = match &leases {
            Some(b) => b.read(&c.name).await.map_err(|e| e.to_string())?,
            None => None,
        };
        let (owner, revision) = match entry {
            Some(e) => (
                e.value
                    .and_then(|v| serde_json::from_slice::<Holder>(&v).ok())
                    .map(|h| h.replica),
                Some(e.revision),
            ),
            None => (None, None),
        };
        status.leases.push(LeaseStatus {
            connection: c.name.clone(),
            owner,
            revision,
        });
        for ch in &c.channels {
            let position = match sink.position(&c.org_id, &ch.name).await {
                Ok(p) => p,
                Err(e) if e.to_string().contains("not found") => crate::sink::Position::empty(),
                Err(e) => return Err(e.to_string()),
            };
            status.positions.push(PositionStatus {
                connection: c.name.clone(),
                channel: ch.name.clone(),
                subject: sink.subject(&c.org_id, &ch.name).unwrap_or_default(),
                replay_id: position.replay_id,
                sequence: position.fence,
            });
        }
    }
    Ok(status)
}
