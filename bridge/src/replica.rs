//! One bridge replica: membership, leases, and the connections it owns.
//!
//! Every tick the replica renews its membership, reads the member list (from the bucket's
//! leader), computes the even split ([`crate::assignment`]) and moves towards its share:
//!
//! - a connection it owns but should not: graceful hand-over (close the Salesforce client, store
//!   what was received, then delete the lease, so the next owner starts at once);
//! - a connection it should own: take the lease if it is free (absent, expired, or deleted);
//!   otherwise wait for the owner to hand it over or for the lease to expire;
//! - every owned lease is renewed by compare-and-set on its revision; a renewal that finds
//!   another revision means someone else took it: the connection stops at once. A renewal that
//!   cannot reach NATS leaves the lease's local deadline as it was: once it passes, the
//!   connection stops writing (another replica may own it by then).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::assignment;
use crate::config::{BridgeConfig, ConnectionConfig};
use crate::connection::{Connection, Ended, LeaseClock, Stop};
use crate::kv::{Bucket, KvError};
use crate::metrics::Metrics;
use crate::sink::Sink;

/// The value of a lease or membership key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The replica.
    pub(crate) replica: String,
    /// When it took the key (milliseconds since the epoch, for `status`).
    pub(crate) since_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A lease this replica holds, and the connection running under it.
struct Owned {
    revision: u64,
    clock: LeaseClock,
    renewed_at: Instant,
    stop: watch::Sender<Stop>,
    task: Option<JoinHandle<Ended>>,
    /// When the connection should be started again after it ended.
    restart_at: Option<Instant>,
    releasing: bool,
}

/// The buckets a replica coordinates through.
#[derive(Clone)]
pub(crate) struct Buckets {
    pub(crate) leases: Bucket,
    pub(crate) members: Bucket,
}

/// One replica's state.
pub(crate) struct Replica<S: Sink> {
    pub(crate) config: Arc<BridgeConfig>,
    pub(crate) sink: S,
    pub(crate) buckets: Buckets,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) connection_timeout: Duration,
    owned: BTreeMap<String, Owned>,
    member_revision: Option<u64>,
    member_renewed_at: Option<Instant>,
    members: Vec<String>,
    logged_wait: BTreeMap<String, String>,
}

impl<S: Sink> Replica<S> {
    pub(crate) fn new(
        config: Arc<BridgeConfig>,
        sink: S,
        buckets: Buckets,
        metrics: Arc<Metrics>,
        connection_timeout: Duration,
    ) -> Self {
        for c in &config.connections {
            metrics.connection(&c.name, |_| {});
        }
        Self {
            config,
            sink,
            buckets,
            metrics,
            connection_timeout,
            owned: BTreeMap::new(),
            member_revision: None,
            member_renewed_at: None,
            members: Vec::new(),
            logged_wait: BTreeMap::new(),
        }
    }

    fn id(&self) -> &str {
        &self.config.replica.replica_id
    }

    fn ttl(&self) -> Duration {
        self.config.replica.lease_ttl
    }

    /// How long before the server could expire a lease the replica stops writing under it.
    fn margin(&self) -> Duration {
        (self.ttl() / 5).max(Duration::from_millis(300))
    }

    fn holder(&self) -> Bytes {
        Bytes::from(
            serde_json::to_vec(&Holder {
                replica: self.id().to_owned(),
                since_ms: now_ms(),
            })
            .unwrap_or_default(),
        )
    }

    /// The time between ticks.
    pub(crate) fn tick(&self) -> Duration {
        (self.config.replica.renew_every() / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// One round: membership, renewals, hand-overs, takeovers.
    pub(crate) async fn step(&mut self) {
        self.heartbeat().await;
        self.reap().await;
        self.renew().await;
        let Some(members) = self.read_members().await else {
            return;
        };
        let names: Vec<String> = self
            .config
            .connections
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let plan = assignment::assign(&names, &members);
        let connections: Vec<Arc<ConnectionConfig>> = self
            .config
            .connections
            .iter()
            .cloned()
            .map(Arc::new)
            .collect();
        for conn in connections {
            let mine = plan.get(&conn.name).is_some_and(|owner| owner == self.id());
            let owned = self.owned.contains_key(&conn.name);
            if owned && !mine {
                self.release(&conn.name, plan.get(&conn.name).cloned())
                    .await;
            } else if !owned && mine {
                self.acquire(conn).await;
            }
        }
    }

    async fn heartbeat(&mut self) {
        let due = self
            .member_renewed_at
            .is_none_or(|at| at.elapsed() >= self.config.replica.renew_every());
        if !due {
            return;
        }
        let key = self.id().to_owned();
        let value = self.holder();
        let result = match self.member_revision {
            Some(rev) => self.buckets.members.update(&key, value.clone(), rev).await,
            None => self.buckets.members.create(&key, value.clone()).await,
        };
        let result = match result {
            // Our key expired meanwhile, or an earlier write of ours landed without an answer.
            Err(KvError::Conflict) => match self.buckets.members.read(&key).await {
                Ok(Some(e)) => self.buckets.members.update(&key, value, e.revision).await,
                Ok(None) => self.buckets.members.create(&key, value).await,
                Err(e) => Err(e),
            },
            other => other,
        };
        match result {
            Ok(rev) => {
                if self.member_revision.is_none() {
                    tracing::info!(replica = %self.id(), "joined the bridge replicas");
                }
                self.member_revision = Some(rev);
                self.member_renewed_at = Some(Instant::now());
            }
            Err(e) => {
                tracing::warn!(replica = %self.id(), error = %e, "cannot renew membership");
            }
        }
    }

    async fn read_members(&mut self) -> Option<Vec<String>> {
        match self.buckets.members.live_keys().await {
            Ok(list) => {
                let mut members: Vec<String> = list.into_iter().map(|(k, _)| k).collect();
                // Until our own key is visible, count ourselves in.
                if self.member_revision.is_some() && !members.iter().any(|m| m == self.id()) {
                    members.push(self.id().to_owned());
                    members.sort();
                }
                if members != self.members {
                    tracing::info!(replica = %self.id(), members = ?members, "replicas changed");
                    self.members.clone_from(&members);
                    self.metrics.members(members.len());
                }
                Some(members)
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the member list");
                None
            }
        }
    }

    /// Starts the connection under a lease just taken.
    fn start(&mut self, conn: Arc<ConnectionConfig>, revision: u64, sent_at: Instant) {
        let clock = LeaseClock::new(sent_at + self.ttl() - self.margin());
        let (stop, stop_rx) = watch::channel(Stop::No);
        let task = tokio::spawn(
            Connection {
                config: conn.clone(),
                sink: self.sink.clone(),
                metrics: self.metrics.clone(),
                lease: clock.clone(),
                connection_timeout: self.connection_timeout,
                max_in_flight: self.config.nats.max_in_flight,
            }
            .run(stop_rx),
        );
        self.owned.insert(
            conn.name.clone(),
            Owned {
                revision,
                clock,
                renewed_at: sent_at,
                stop,
                task: Some(task),
                restart_at: None,
                releasing: false,
            },
        );
    }

    async fn acquire(&mut self, conn: Arc<ConnectionConfig>) {
        let sent_at = Instant::now();
        match self.buckets.leases.create(&conn.name, self.holder()).await {
            Ok(revision) => {
                self.logged_wait.remove(&conn.name);
                tracing::info!(replica = %self.id(), connection = %conn.name, revision, "lease taken");
                self.metrics.connection(&conn.name, |m| {
                    m.owned = true;
                    m.acquired += 1;
                });
                self.start(conn, revision, sent_at);
            }
            Err(KvError::Conflict) => {
                let holder = match self.buckets.leases.read(&conn.name).await {
                    Ok(Some(e)) => e
                        .value
                        .and_then(|v| serde_json::from_slice::<Holder>(&v).ok())
                        .map(|h| h.replica),
                    _ => None,
                };
                let holder = holder.unwrap_or_else(|| "another replica".into());
                if holder == self.id() {
                    // An earlier create of ours landed without an answer: wait for it to
                    // expire rather than guess its revision.
                    tracing::debug!(connection = %conn.name, "an unanswered lease write of ours; waiting for its expiry");
                } else if self.logged_wait.get(&conn.name) != Some(&holder) {
                    tracing::info!(replica = %self.id(), connection = %conn.name, holder = %holder,
                        "waiting for the lease (hand-over or expiry)");
                    self.logged_wait.insert(conn.name.clone(), holder);
                }
            }
            Err(e) => tracing::debug!(connection = %conn.name, error = %e, "cannot take the lease"),
        }
    }

    /// Renews every owned lease that is due.
    async fn renew(&mut self) {
        let due_after = self.config.replica.renew_every();
        let names: Vec<String> = self.owned.keys().cloned().collect();
        for name in names {
            let Some(owned) = self.owned.get(&name) else {
                continue;
            };
            if owned.renewed_at.elapsed() < due_after {
                continue;
            }
            let revision = owned.revision;
            let sent_at = Instant::now();
            match self
                .buckets
                .leases
                .update(&name, self.holder(), revision)
                .await
            {
                Ok(rev) => {
                    let valid = sent_at + self.ttl() - self.margin();
                    if let Some(o) = self.owned.get_mut(&name) {
                        o.revision = rev;
                        o.renewed_at = sent_at;
                        o.clock.extend(valid);
                    }
                }
                Err(KvError::Conflict) => {
                    tracing::warn!(replica = %self.id(), connection = %name,
                        "the lease was taken over (this replica could not renew it in time); stopping the connection");
                    self.lost(&name).await;
                }
                Err(e) => {
                    let expired = !owned.clock.valid();
                    tracing::warn!(replica = %self.id(), connection = %name, error = %e,
                        "cannot renew the lease");
                    if expired {
                        tracing::warn!(replica = %self.id(), connection = %name,
                            "lease expired locally; stopping the connection");
                        self.lost(&name).await;
                    }
                }
            }
        }
    }

    /// Stops a connection whose lease is gone, writing nothing more.
    async fn lost(&mut self, name: &str) {
        if let Some(mut owned) = self.owned.remove(name) {
            owned.clock.expire();
            let _ = owned.stop.send(Stop::Now);
            if let Some(task) = owned.task.take() {
                let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
            }
        }
        self.metrics.connection(name, |m| m.owned = false);
    }

    /// Connections that ended on their own: restart (re-reading positions) or give up the lease.
    async fn reap(&mut self) {
        let names: Vec<String> = self.owned.keys().cloned().collect();
        for name in names {
            let Some(owned) = self.owned.get_mut(&name) else {
                continue;
            };
            if let Some(at) = owned.restart_at {
                if Instant::now() >= at && owned.clock.valid() {
                    owned.restart_at = None;
                    let revision = owned.revision;
                    let renewed_at = owned.renewed_at;
                    let clock = owned.clock.clone();
                    if let Some(conn) = self.config.connections.iter().find(|c| c.name == name) {
                        let conn = Arc::new(conn.clone());
                        self.start(conn, revision, renewed_at);
                        if let Some(o) = self.owned.get_mut(&name) {
                            o.clock = clock;
                        }
                    }
                }
                continue;
            }
            let finished = owned.task.as_ref().is_some_and(JoinHandle::is_finished);
            if !finished || owned.releasing {
                continue;
            }
            let ended = match owned.task.take() {
                Some(task) => task.await.unwrap_or_else(|e| Ended::Failed(e.to_string())),
                None => continue,
            };
            match ended {
                Ended::LeaseExpired => {
                    tracing::warn!(connection = %name, "lease expired while writing; the connection stopped");
                    self.owned.remove(&name);
                    self.metrics.connection(&name, |m| m.owned = false);
                }
                Ended::Fenced(subject) => {
                    tracing::warn!(connection = %name, subject, "fenced; re-reading positions");
                    owned.restart_at = Some(Instant::now() + Duration::from_millis(200));
                }
                Ended::Failed(e) => {
                    tracing::error!(connection = %name, error = %e, "connection failed; retrying in 10 s");
                    owned.restart_at = Some(Instant::now() + Duration::from_secs(10));
                }
                Ended::Stopped => {
                    owned.restart_at = Some(Instant::now() + Duration::from_secs(1));
                }
            }
        }
    }

    /// Graceful hand-over: the connection closes its client and stores what it received, then
    /// the lease is deleted so that the next owner starts at once.
    async fn release(&mut self, name: &str, to: Option<String>) {
        let ttl = self.ttl();
        let id = self.id().to_owned();
        let Some(owned) = self.owned.get_mut(name) else {
            return;
        };
        if !owned.releasing {
            owned.releasing = true;
            tracing::info!(replica = %id, connection = %name, to = ?to, "handing over");
            let _ = owned.stop.send(Stop::Graceful);
        }
        let deadline = owned.renewed_at + ttl;
        let done = owned.task.as_ref().is_none_or(JoinHandle::is_finished);
        if !done && Instant::now() < deadline {
            // Renewals go on while the connection finishes; look again next tick.
            return;
        }
        if let Some(mut owned) = self.owned.remove(name) {
            if let Some(task) = owned.task.take() {
                if !task.is_finished() {
                    // Out of time: nothing more may be written under this lease.
                    owned.clock.expire();
                    let _ = owned.stop.send(Stop::Now);
                }
                let ended = tokio::time::timeout(Duration::from_secs(5), task).await;
                tracing::info!(connection = %name, ended = ?ended, "connection stopped for hand-over");
            }
            match self.buckets.leases.delete(name, owned.revision).await {
                Ok(_) => tracing::info!(replica = %self.id(), connection = %name, "lease released"),
                Err(e) => tracing::warn!(replica = %self.id(), connection = %name, error = %e,
                    "cannot release the lease; it expires by itself"),
            }
        }
        self.metrics.connection(name, |m| m.owned = false);
    }

    /// Hands every connection over and leaves the member list.
    pub(crate) async fn shutdown(&mut self) {
        let names: Vec<String> = self.owned.keys().cloned().collect();
        for name in &names {
            if let Some(o) = self.owned.get_mut(name) {
                o.releasing = true;
                let _ = o.stop.send(Stop::Graceful);
            }
        }
        let deadline = Instant::now() + self.ttl();
        while Instant::now() < deadline
            && self
                .owned
                .values()
                .any(|o| o.task.as_ref().is_some_and(|t| !t.is_finished()))
        {
            self.renew().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for name in names {
            self.release(&name, None).await;
        }
        if let Some(rev) = self.member_revision.take() {
            let _ = self.buckets.members.delete(self.id(), rev).await;
        }
        tracing::info!(replica = %self.id(), "left the bridge replicas");
    }
}
