//! One org, owned by this replica: a Salesforce client subscribed to the org's channels, one
//! publisher per channel writing to the sink in order, and a replay id committed to the client
//! only once the sink acknowledged the event.
//!
//! ```text
//!  positions (sink leader) ─▶ subscribe_from(each channel) ─▶ open
//!  receive ─▶ channel queue ─▶ publish(record, fence) ─▶ ack ─▶ commit(message)
//!                                   │ unavailable: same record again, backing off
//!                                   │ fenced: re-read the position; ours? go on : stop
//!  stop (graceful): close the client, publish what it had received, end
//!  stop (now) or lease expired: close the client, publish nothing more, end
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use sfstream_tokio::{Client, CommitPolicy, Message, ReplayFallback, ReplayFrom};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{ChannelConfig, ConnectionConfig, Start};
use crate::event_json;
use crate::metrics::Metrics;
use crate::session_stats::SessionCounters;
use crate::sink::{Position, Record, Sink, SinkError};

/// How a connection is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep going.
    No,
    /// Hand over: close the client, store what it had received, end.
    Graceful,
    /// End at once: store nothing more (the lease is gone or going).
    Now,
}

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Asked to stop; everything received was stored.
    Stopped,
    /// Another writer moved a channel on: re-read positions (and check the lease) first.
    Fenced(String),
    /// The lease could not be renewed in time: nothing more may be written.
    LeaseExpired,
    /// Something that retrying now will not fix (credentials, a channel); the message says what.
    Failed(String),
}

/// Until when this replica may write for a connection: the last renewal's send time plus the
/// lease time, minus a margin (the server expires keys late, never early).
#[derive(Clone, Debug)]
pub(crate) struct LeaseClock(Arc<Mutex<Instant>>);

impl LeaseClock {
    pub(crate) fn new(valid_until: Instant) -> Self {
        Self(Arc::new(Mutex::new(valid_until)))
    }

    pub(crate) fn extend(&self, valid_until: Instant) {
        let mut v = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *v = (*v).max(valid_until);
    }

    pub(crate) fn expire(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    pub(crate) fn valid(&self) -> bool {
        Instant::now() < *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Everything a connection needs.
pub(crate) struct Connection<S: Sink> {
    pub(crate) config: Arc<ConnectionConfig>,
    pub(crate) sink: S,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) lease: LeaseClock,
    /// Overrides the client's connection timeout (tests).
    pub(crate) connection_timeout: Duration,
}

/// Closes the client when the connection ends in any way, so that no Salesforce session
/// outlives its owner (a second session of the org would double the delivery allocation).
struct CloseOnDrop(Client);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if !self.0.is_closed() {
            let client = self.0.clone();
            tokio::spawn(async move {
                let _ = client.close().await;
            });
        }
    }
}

fn start_of(start: Start) -> ReplayFrom {
    match start {
        Start::New => ReplayFrom::New,
        Start::All => ReplayFrom::All,
        Start::After(id) => ReplayFrom::Id(id),
    }
}

fn fallback_of(f: ReplayFallback) -> ReplayFrom {
    match f {
        ReplayFallback::New => ReplayFrom::New,
        _ => ReplayFrom::All,
    }
}

/// The channel a subscription error is about, if it is a rejected replay id.
fn rejected_replay(e: &sfstream_tokio::Error) -> Option<String> {
    match e {
        sfstream_tokio::Error::Stream(sfstream_tokio::core::Error::Server(s))
            if s.class == sfstream_tokio::core::ErrorClass::InvalidReplayId =>
        {
            s.subscription.clone()
        }
        _ => None,
    }
}

impl<S: Sink> Connection<S> {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn wait_or_stop(stop: &mut watch::Receiver<Stop>, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => false,
            _ = stop.wait_for(|s| *s != Stop::No) => true,
        }
    }

    /// Reads every channel's position from the sink, retrying while it is unavailable.
    async fn positions(
        &self,
        stop: &mut watch::Receiver<Stop>,
    ) -> Result<BTreeMap<String, Position>, Ended> {
        let mut out = BTreeMap::new();
        for ch in &self.config.channels {
            let mut logged = false;
            let position = loop {
                if !self.lease.valid() {
                    return Err(Ended::LeaseExpired);
                }
                match self.sink.position(&self.config.org_id, &ch.name).await {
                    Ok(p) => break p,
                    Err(e) if e.is_retryable() => {
                        if !logged {
                            tracing::warn!(connection = %self.name(), channel = %ch.name, error = %e,
                                "cannot read the position yet; retrying");
                            logged = true;
                        }
                        if Self::wait_or_stop(stop, Duration::from_millis(500)).await {
                            return Err(Ended::Stopped);
                        }
                    }
                    Err(e) => return Err(Ended::Failed(e.to_string())),
                }
            };
            out.insert(ch.name.clone(), position);
        }
        Ok(out)
    }

    fn build_client(&self) -> Result<Client, Ended> {
        let mut builder = sfstream_tokio::builder(self.config.credentials.clone())
            .commit_policy(CommitPolicy::Manual)
            .replay_fallback(None)
            .max_pending(self.config.max_pending)
            .connection_timeout(Some(self.connection_timeout));
        if let Some(v) = &self.config.api_version {
            builder = builder.api_version(v.clone());
        }
        builder.build().map_err(|e| Ended::Failed(e.to_string()))
    }

    /// Runs the connection until `stop` asks or something ends it.
    pub(crate) async fn run(self, mut stop: watch::Receiver<Stop>) -> Ended {
        let name = self.config.name.clone();
        self.metrics.connection(&name, |m| {
            m.state = "starting";
            m.error = None;
        });
        let ended = self.run_inner(&mut stop).await;
        self.metrics.connection(&name, |m| match &ended {
            Ended::Failed(e) => {
                m.state = "failed";
                m.error = Some(e.clone());
            }
            _ => m.state = "idle",
        });
        for ch in &self.config.channels {
            self.metrics.channel(&name, &ch.name, |m| m.lag = 0);
        }
        ended
    }

    async fn run_inner(&self, stop: &mut watch::Receiver<Stop>) -> Ended {
        let positions = match self.positions(stop).await {
            Ok(p) => p,
            Err(e) => return e,
        };
        let client = match self.build_client() {
            Ok(c) => c,
            Err(e) => return e,
        };
        let _guard = CloseOnDrop(client.clone());
        for ch in &self.config.channels {
            let position = positions
                .get(&ch.name)
                .copied()
                .unwrap_or(Position::empty());
            let from = position
                .replay_id
                .map_or(start_of(ch.start), ReplayFrom::Id);
            tracing::info!(connection = %self.name(), org_id = %self.config.org_id, channel = %ch.name,
                from = from.wire_value(), sequence = position.fence, "resuming channel");
            if let Err(e) = client.subscribe_from(&ch.name, Some(from)).await {
                return Ended::Failed(e.to_string());
            }
        }
        let opened = tokio::select! {
            r = client.open() => Some(r),
            _ = stop.wait_for(|s| *s != Stop::No) => None,
        };
        match opened {
            None => {
                let _ = client.close().await;
                return Ended::Stopped;
            }
            Some(Ok(())) => {}
            Some(Err(e)) if e.is_connection_lost() => {
                tracing::warn!(connection = %self.name(), error = %e,
                    "Salesforce is not reachable yet; the client keeps trying");
            }
            Some(Err(e)) => {
                if let Some(channel) = rejected_replay(&e) {
                    if let Err(e) = self.apply_fallback(&client, &channel).await {
                        return e;
                    }
                } else {
                    let _ = client.close().await;
                    return Ended::Failed(e.to_string());
                }
            }
        }
        self.metrics
            .connection(self.name(), |m| m.state = "streaming");
        tracing::info!(connection = %self.name(), org_id = %self.config.org_id, "streaming");
        self.stream(client, positions, stop).await
    }

    async fn apply_fallback(&self, client: &Client, channel: &str) -> Result<(), Ended> {
        let Some(ch) = self.config.channels.iter().find(|c| c.name == channel) else {
            return Ok(());
        };
        let Some(fallback) = ch.fallback else {
            return Err(Ended::Failed(format!(
                "Salesforce no longer has the stored position of {channel} (older than its \
                 retention) and the channel's fallback is \"none\"; set fallback = \"all\" or \"new\""
            )));
        };
        tracing::warn!(connection = %self.name(), channel, fallback = ?fallback,
            "Salesforce rejected the stored position (older than its retention); applying the fallback");
        client
            .subscribe_from(channel, Some(fallback_of(fallback)))
            .await
            .map_err(|e| Ended::Failed(e.to_string()))
    }

    async fn stream(
        &self,
        client: Client,
        positions: BTreeMap<String, Position>,
        stop: &mut watch::Receiver<Stop>,
    ) -> Ended {
        let mut queues = BTreeMap::new();
        let mut publishers = JoinSet::new();
        for ch in &self.config.channels {
            let (tx, rx) = mpsc::channel::<Message>(256);
            queues.insert(ch.name.clone(), tx);
            let publisher = Publisher {
                connection: self.config.name.clone(),
                org_id: Arc::from(self.config.org_id.as_str()),
                channel: Arc::new(ch.clone()),
                sink: self.sink.clone(),
                metrics: self.metrics.clone(),
                lease: self.lease.clone(),
                client: client.clone(),
            };
            let position = positions
                .get(&ch.name)
                .copied()
                .unwrap_or(Position::empty());
            publishers.spawn(publisher.run(rx, position));
        }
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        let mut counters = SessionCounters::default();
        let mut graceful = false;
        let early_end = loop {
            tokio::select! {
                biased;
                _ = stop.changed() => {
                    match *stop.borrow() {
                        Stop::No => continue,
                        Stop::Graceful => { graceful = true; break None; }
                        Stop::Now => break Some(Ended::Stopped),
                    }
                }
                Some(ended) = publishers.join_next() => {
                    break Some(ended.unwrap_or_else(|e| Ended::Failed(format!("a publisher failed: {e}"))));
                }
                _ = ticker.tick() => {
                    let now = SessionCounters::read(&client);
                    let grown = now.since(counters);
                    counters = now;
                    self.metrics.connection(self.name(), |m| {
                        m.reconnects += grown.reconnects;
                        m.refetches += grown.refetches;
                    });
                }
                received = client.receive() => match received {
                    Ok(message) => {
                        if let Some(end) = self.route(&queues, message, &mut publishers, stop).await {
                            break Some(end);
                        }
                    }
                    Err(e) if e.is_closed() => break Some(Ended::Failed("the Salesforce client closed".into())),
                    Err(e) if e.is_connection_lost() => {
                        tracing::warn!(connection = %self.name(), error = %e, "Salesforce unreachable; the client keeps trying");
                    }
                    Err(e) => {
                        if let Some(channel) = rejected_replay(&e) {
                            if let Err(end) = self.apply_fallback(&client, &channel).await {
                                break Some(end);
                            }
                        } else if e.is_auth() {
                            break Some(Ended::Failed(e.to_string()));
                        } else {
                            tracing::warn!(connection = %self.name(), error = %e, "Salesforce session error");
                        }
                    }
                },
            }
        };
        if let Some(end) = early_end {
            let _ = client.close().await;
            publishers.abort_all();
            return end;
        }
        debug_assert!(graceful);
        self.metrics
            .connection(self.name(), |m| m.state = "handing_over");
        // Graceful: no more events from Salesforce; store what was received, then end.
        let _ = client.close().await;
        while let Some(Ok(message)) = client.try_receive() {
            if let Some(end) = self.route(&queues, message, &mut publishers, stop).await {
                publishers.abort_all();
                return end;
            }
        }
        drop(queues);
        let mut result = Ended::Stopped;
        loop {
            tokio::select! {
                joined = publishers.join_next() => {
                    let Some(joined) = joined else { break };
                    let ended = joined
                        .unwrap_or_else(|e| Ended::Failed(format!("a publisher failed: {e}")));
                    if ended != Ended::Stopped && result == Ended::Stopped {
                        result = ended;
                    }
                }
                // The hand-over ran out of time: write nothing more.
                _ = stop.wait_for(|s| *s == Stop::Now) => {
                    publishers.abort_all();
                    return Ended::Stopped;
                }
            }
        }
        result
    }

    /// Hands a message to its channel's publisher, unless the connection ends meanwhile.
    async fn route(
        &self,
        queues: &BTreeMap<String, mpsc::Sender<Message>>,
        message: Message,
        publishers: &mut JoinSet<Ended>,
        stop: &mut watch::Receiver<Stop>,
    ) -> Option<Ended> {
        let Some(queue) = queues.get(message.channel()) else {
            tracing::warn!(connection = %self.name(), channel = message.channel(), "event of a channel not configured; ignored");
            return None;
        };
        self.metrics.channel(self.name(), message.channel(), |m| {
            m.org_id.clone_from(&self.config.org_id);
            m.lag += 1;
            if message.replay_id().is_some() {
                m.delivered_replay_id = message.replay_id();
            }
        });
        tokio::select! {
            sent = queue.send(message) => {
                if sent.is_err() {
                    return Some(Ended::Failed("a publisher ended".into()));
                }
                None
            }
            Some(ended) = publishers.join_next() => {
                Some(ended.unwrap_or_else(|e| Ended::Failed(format!("a publisher failed: {e}"))))
            }
            _ = stop.wait_for(|s| *s == Stop::Now) => Some(Ended::Stopped),
        }
    }
}

/// Writes one channel, in order.
struct Publisher<S: Sink> {
    connection: String,
    org_id: Arc<str>,
    channel: Arc<ChannelConfig>,
    sink: S,
    metrics: Arc<Metrics>,
    lease: LeaseClock,
    client: Client,
}

impl<S: Sink> Publisher<S> {
    async fn run(self, mut queue: mpsc::Receiver<Message>, position: Position) -> Ended {
        let name: Arc<str> = Arc::from(self.channel.name.as_str());
        let mut fence = position.fence;
        let mut last = position.replay_id;
        self.metrics.channel(&self.connection, &name, |m| {
            m.org_id = self.org_id.to_string();
            if m.last_replay_id.is_none() {
                m.last_replay_id = last;
            }
        });
        while let Some(message) = queue.recv().await {
            let Some(replay_id) = message.replay_id() else {
                tracing::error!(connection = %self.connection, channel = %name,
                    "an event without a replay id cannot be bridged exactly once; skipped");
                self.done(&message, |_| {});
                continue;
            };
            if last.is_some_and(|l| replay_id <= l) {
                // Delivered again (a fallback to "all", a replay after a re-handshake): the
                // stream holds it already.
                self.done(&message, |m| m.skipped += 1);
                continue;
            }
            let json = event_json::event_json(&message);
            let mut body = Vec::with_capacity(message.raw_json().len() + 128);
            event_json::write_json(&mut body, &json);
            let record = Record {
                org_id: self.org_id.clone(),
                channel: name.clone(),
                replay_id,
                kind: message.kind().as_str(),
                created_date: json.created_date().map(str::to_owned),
                body: Bytes::from(body),
            };
            match self.store(&record, &mut fence).await {
                Ok(duplicate) => {
                    last = Some(replay_id);
                    self.done(&message, |m| {
                        m.events += 1;
                        m.duplicates += u64::from(duplicate);
                        m.last_replay_id = Some(replay_id);
                    });
                }
                Err(end) => return end,
            }
        }
        Ended::Stopped
    }

    /// Commits `message` to the client (its position is in the sink) and counts it.
    fn done(&self, message: &Message, f: impl FnOnce(&mut crate::metrics::ChannelMetrics)) {
        // After a graceful close the client may refuse commits; the sink holds the position.
        let _ = self.client.commit(message);
        self.metrics
            .channel(&self.connection, &self.channel.name, |m| {
                m.lag = m.lag.saturating_sub(1);
                f(m);
            });
    }

    /// Stores one record, sending it again (same identity, same fence) until the sink answers.
    /// `Ok(duplicate)` once stored.
    async fn store(&self, record: &Record, fence: &mut u64) -> Result<bool, Ended> {
        let mut delay = Duration::from_millis(50);
        let mut failing_since: Option<Instant> = None;
        let mut last_log = Instant::now() - Duration::from_secs(60);
        loop {
            if !self.lease.valid() {
                return Err(Ended::LeaseExpired);
            }
            match self.sink.publish(record, *fence).await {
                Ok(stored) => {
                    if let Some(since) = failing_since {
                        self.metrics.connection(&self.connection, |m| {
                            m.state = "streaming";
                            m.error = None;
                        });
                        tracing::info!(connection = %self.connection, channel = %record.channel,
                            after = ?since.elapsed(), "publishing again");
                    }
                    *fence = stored.fence;
                    return Ok(stored.duplicate);
                }
                Err(SinkError::Fenced { subject, expected }) => {
                    // A timed-out publish of ours may have been stored after all: then the
                    // channel's last message is this very event.
                    let position = loop {
                        if !self.lease.valid() {
                            return Err(Ended::LeaseExpired);
                        }
                        match self.sink.position(&record.org_id, &record.channel).await {
                            Ok(p) => break p,
                            Err(e) if e.is_retryable() => tokio::time::sleep(delay).await,
                            Err(e) => return Err(Ended::Failed(e.to_string())),
                        }
                    };
                    if position.replay_id == Some(record.replay_id) {
                        *fence = position.fence;
                        return Ok(true);
                    }
                    self.metrics.connection(&self.connection, |m| m.fenced += 1);
                    tracing::warn!(connection = %self.connection, subject, expected,
                        found = position.fence, "another writer moved the channel on; stopping to re-read positions");
                    return Err(Ended::Fenced(subject));
                }
                Err(SinkError::Config(e)) => return Err(Ended::Failed(e)),
                Err(e) => {
                    let rejected = matches!(e, SinkError::Rejected(_));
                    self.metrics.connection(&self.connection, |m| {
                        m.publish_retries += 1;
                        if rejected {
                            m.state = "failed";
                            m.error = Some(e.to_string());
                        }
                    });
                    failing_since.get_or_insert_with(Instant::now);
                    if last_log.elapsed() >= Duration::from_secs(5) {
                        last_log = Instant::now();
                        if rejected {
                            tracing::error!(connection = %self.connection, channel = %record.channel, error = %e, "event refused; it waits");
                        } else {
                            tracing::warn!(connection = %self.connection, channel = %record.channel,
                                replay_id = record.replay_id, error = %e, "publish not acknowledged; sending it again");
                        }
                    }
                    let wait = if rejected {
                        Duration::from_secs(10)
                    } else {
                        delay
                    };
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}
