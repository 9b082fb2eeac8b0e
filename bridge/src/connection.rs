//! One org, owned by this replica: a Salesforce client subscribed to the org's channels, one
//! publisher per channel writing to the sink in order, and a replay id committed to the client
//! only once the sink acknowledged the event.
//!
//! ```text
//!  positions (sink leader) ─▶ subscribe_from(each channel) ─▶ open
//!  receive ─▶ channel queue ─▶ first write fenced, awaited ─▶ then up to max_in_flight
//!             writes under way, unfenced (same Nats-Msg-Id on every attempt)
//!             ─▶ acks in order ─▶ commit(message) in order
//!   a write fails or an ack is odd: wait for every write under way, read what the stream
//!   holds after the last in-order ack, commit its in-order part, remove copies stored after
//!   a lost write (NATS 2.14+; older: keep them, the lost one follows), write the rest again
//!   fenced one by one, then pipeline again
//!   fenced write refused: re-read the position; ours? go on : stop
//!  stop (graceful): close the client, publish what it had received, end
//!  stop (now) or lease expired: close the client, publish nothing more, end
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use sfstream_tokio::{
    Client, CommitPolicy, Message, ReplayFallback, ReplayFrom, SessionEvent, SessionEvents,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{ChannelConfig, ConnectionConfig, Start};
use crate::event_json;
use crate::metrics::Metrics;
use crate::session_stats::SessionCounters;
use crate::sink::{Ack, Position, Record, Sink, SinkError};

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
    /// Writes of one channel under way at once (1: every write fenced).
    pub(crate) max_in_flight: usize,
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
        // Before open, so that no reconnect or re-fetch goes uncounted.
        let events = client.session_events();
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
        self.stream(client, events, positions, stop).await
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
        mut events: SessionEvents,
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
                max_in_flight: self.max_in_flight.max(1),
            };
            let position = positions
                .get(&ch.name)
                .copied()
                .unwrap_or(Position::empty());
            publishers.spawn(publisher.run(rx, position));
        }
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
                Some(event) = events.recv() => {
                    if let SessionEvent::Lagged { missed } = event {
                        tracing::warn!(connection = %self.name(), missed,
                            "session events missed: the reconnect and re-fetch counts may be short");
                    }
                    let grown = SessionCounters::of(&event);
                    if !grown.is_zero() {
                        self.metrics.connection(self.name(), |m| {
                            m.reconnects += grown.reconnects;
                            m.refetches += grown.refetches;
                        });
                    }
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
                        } else if e.is_fatal() {
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
    max_in_flight: usize,
}

/// A message and the record made of it.
type Item = (Message, Record);

/// An item to write again after a failure, fenced; `Some(sequence)`: stored already (out of
/// order, kept where it is), only to be committed in its turn.
type Redo = (Item, Option<u64>);

/// A write under way.
struct InFlight {
    item: Item,
    ack: Result<Ack, SinkError>,
}

impl<S: Sink> Publisher<S> {
    /// Writes the channel until the queue closes.
    ///
    /// The first write is fenced with the position read at the start and awaited: a former
    /// owner that wrote since makes it fail, so this owner never pipelines on a stale view.
    /// Then writes go out unfenced, up to `max_in_flight` at once, each with its event's
    /// message id; acknowledgements are taken in order and a message is committed only once it
    /// and every earlier one are stored. Anything unexpected (a failure, a duplicate, a
    /// sequence that does not grow) stops the pipeline until [`Self::recover`] has put the
    /// channel in order; what it could not confirm is written again fenced, one at a time.
    async fn run(self, mut queue: mpsc::Receiver<Message>, position: Position) -> Ended {
        let mut fence = position.fence;
        // The newest replay id stored or under way.
        let mut last = position.replay_id;
        self.metrics
            .channel(&self.connection, &self.channel.name, |m| {
                m.org_id = self.org_id.to_string();
                if m.last_replay_id.is_none() {
                    m.last_replay_id = last;
                }
            });
        let mut fence_next = true;
        let mut again: VecDeque<Redo> = VecDeque::new();
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut open = true;
        // A send failed at once: nothing more goes out until the window is settled.
        let mut halted = false;
        // The sink's connection the writes under way went out on.
        let mut window_epoch = None;
        loop {
            if in_flight.is_empty() && (fence_next || !again.is_empty() || self.max_in_flight == 1)
            {
                let (item, stored_at) = match again.pop_front() {
                    Some(redo) => (Some(redo.0), redo.1),
                    None => (
                        self.next(&mut queue, &mut last, &mut open, true).await,
                        None,
                    ),
                };
                let Some((message, record)) = item else {
                    return Ended::Stopped;
                };
                if stored_at.is_some() {
                    // Kept where it was stored (out of order): its turn to be committed.
                    self.stored(&message, record.replay_id, false);
                    continue;
                }
                match self.store(&record, &mut fence).await {
                    Ok(duplicate) => self.stored(&message, record.replay_id, duplicate),
                    Err(end) => return end,
                }
                fence_next = false;
                continue;
            }
            while open && !halted && in_flight.len() < self.max_in_flight {
                let wait = in_flight.is_empty();
                let Some(item) = self.next(&mut queue, &mut last, &mut open, wait).await else {
                    break;
                };
                match self.launch(item, &mut in_flight, &mut window_epoch).await {
                    Ok(sent) => halted = !sent,
                    Err(end) => return end,
                }
            }
            let Some(InFlight { item, ack }) = in_flight.pop_front() else {
                if open {
                    continue;
                }
                return Ended::Stopped;
            };
            // The oldest acknowledgement; what arrives meanwhile goes out at once.
            let outcome = match ack {
                Err(e) => Err(e),
                Ok(mut ack) => loop {
                    if !open || halted || in_flight.len() + 1 >= self.max_in_flight {
                        break ack.await;
                    }
                    tokio::select! {
                        biased;
                        r = &mut ack => break r,
                        m = queue.recv() => {
                            let Some(m) = m else {
                                open = false;
                                continue;
                            };
                            if let Some(item) = self.take(m, &mut last) {
                                match self.launch(item, &mut in_flight, &mut window_epoch).await {
                                    Ok(sent) => halted = !sent,
                                    Err(end) => return end,
                                }
                            }
                        }
                    }
                },
            };
            match outcome {
                Ok(stored) if !stored.duplicate && stored.fence > fence => {
                    fence = stored.fence;
                    self.stored(&item.0, item.1.replay_id, false);
                }
                outcome => {
                    if let Err(e) = &outcome {
                        self.metrics
                            .connection(&self.connection, |m| m.publish_retries += 1);
                        tracing::warn!(connection = %self.connection, channel = %self.channel.name,
                            replay_id = item.1.replay_id, error = %e,
                            "publish not acknowledged; checking what the stream holds");
                    }
                    let mut sent = vec![item];
                    for f in in_flight.drain(..) {
                        if let Ok(ack) = f.ack {
                            let _ = ack.await;
                        }
                        sent.push(f.item);
                    }
                    halted = false;
                    // The next write names the fence the stream's leader confirmed.
                    fence_next = true;
                    match self.recover(sent, &mut fence).await {
                        Ok(rest) => again = rest,
                        Err(end) => return end,
                    }
                }
            }
        }
    }

    /// The next message of the queue to write, as a record; deliveries at or below `last`
    /// (the stream holds them) and events without a replay id are committed and passed over.
    /// `wait`: wait for one; otherwise only take one that is there. `None` when there is none
    /// (`open` turns false once the queue is closed and empty).
    async fn next(
        &self,
        queue: &mut mpsc::Receiver<Message>,
        last: &mut Option<i64>,
        open: &mut bool,
        wait: bool,
    ) -> Option<Item> {
        loop {
            let message = if wait {
                queue.recv().await
            } else {
                match queue.try_recv() {
                    Ok(m) => Some(m),
                    Err(mpsc::error::TryRecvError::Empty) => return None,
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            };
            let Some(message) = message else {
                *open = false;
                return None;
            };
            if let Some(item) = self.take(message, last) {
                return Some(item);
            }
        }
    }

    /// The record to write for `message`; `None` for deliveries at or below `last` (the stream
    /// holds them, or they are under way) and events without a replay id, which are committed
    /// and passed over.
    fn take(&self, message: Message, last: &mut Option<i64>) -> Option<Item> {
        let Some(replay_id) = message.replay_id() else {
            tracing::error!(connection = %self.connection, channel = %self.channel.name,
                "an event without a replay id cannot be bridged exactly once; skipped");
            self.done(&message, |_| {});
            return None;
        };
        if last.is_some_and(|l| replay_id <= l) {
            // Delivered again (a fallback to "all", a replay after a re-handshake).
            self.done(&message, |m| m.skipped += 1);
            return None;
        }
        *last = Some(replay_id);
        let json = event_json::event_json(&message);
        let mut body = Vec::with_capacity(message.raw_json().len() + 128);
        event_json::write_json(&mut body, &json);
        let record = Record {
            org_id: self.org_id.clone(),
            channel: Arc::from(self.channel.name.as_str()),
            replay_id,
            kind: message.kind().as_str(),
            created_date: json.created_date().map(str::to_owned),
            body: Bytes::from(body),
            replaces: None,
        };
        Some((message, record))
    }

    /// Sends `item` unfenced and puts it at the end of `in_flight`; `Ok(false)` when the send
    /// failed at once (the failure waits in `in_flight` for its turn).
    async fn launch(
        &self,
        item: Item,
        in_flight: &mut VecDeque<InFlight>,
        window_epoch: &mut Option<u64>,
    ) -> Result<bool, Ended> {
        if !self.lease.valid() {
            return Err(Ended::LeaseExpired);
        }
        let epoch = self.sink.epoch();
        if in_flight.is_empty() {
            *window_epoch = epoch;
        }
        let ack = if epoch.is_some() && epoch == *window_epoch {
            self.sink.send(&item.1, None).await
        } else {
            Err(SinkError::Unavailable(
                "the connection to NATS was lost while writes were under way".into(),
            ))
        };
        let sent = ack.is_ok();
        in_flight.push_back(InFlight { item, ack });
        Ok(sent)
    }

    /// After a failed or unexpected acknowledgement: every write of `sent` (in the order they
    /// went out) is settled. Reads what the stream holds after `fence` and commits the part that
    /// continues the channel in order. Copies stored after an earlier write was lost (a
    /// connection or a stream leader lost between two writes) are removed, to be written again
    /// in order; where the sink cannot remove safely they stay, out of order but once, and the
    /// lost ones follow them. Returns what must be written (or committed) next, in order.
    async fn recover(&self, sent: Vec<Item>, fence: &mut u64) -> Result<VecDeque<Redo>, Ended> {
        let limit = sent.len() + 1;
        let stored = self
            .retry(|| {
                self.sink
                    .stored_after(&self.org_id, &self.channel.name, *fence, limit)
            })
            .await?;
        let in_order = stored
            .iter()
            .zip(&sent)
            .take_while(|(p, (_, r))| p.replay_id == Some(r.replay_id))
            .count();
        let mut sent = sent.into_iter();
        for p in &stored[..in_order] {
            let Some((message, record)) = sent.next() else {
                break;
            };
            *fence = p.fence;
            self.stored(&message, record.replay_id, false);
        }
        let mut rest: VecDeque<Redo> = sent.map(|item| (item, None)).collect();
        let out_of_order = &stored[in_order..];
        if let Some(p) = out_of_order.iter().find(|p| {
            !rest
                .iter()
                .any(|((_, r), _)| Some(r.replay_id) == p.replay_id)
        }) {
            self.metrics.connection(&self.connection, |m| m.fenced += 1);
            tracing::warn!(connection = %self.connection, channel = %self.channel.name,
                after = *fence, found = p.fence, replay_id = ?p.replay_id,
                "another writer moved the channel on; stopping to re-read positions");
            return Err(Ended::Fenced(self.channel.name.clone()));
        }
        let removes = self.sink.removes();
        for p in out_of_order {
            let Some(((_, record), stored_at)) = rest
                .iter_mut()
                .find(|((_, r), _)| Some(r.replay_id) == p.replay_id)
            else {
                continue;
            };
            self.metrics
                .connection(&self.connection, |m| m.reordered += 1);
            if removes {
                self.retry(|| self.sink.remove(p.fence)).await?;
                record.replaces = Some(p.fence);
                tracing::warn!(connection = %self.connection, channel = %self.channel.name,
                    replay_id = record.replay_id, sequence = p.fence,
                    "an event was stored after an earlier one was lost; removed it, writing both again in order");
            } else {
                *stored_at = Some(p.fence);
                *fence = (*fence).max(p.fence);
                tracing::warn!(connection = %self.connection, channel = %self.channel.name,
                    replay_id = record.replay_id, sequence = p.fence,
                    "an event was stored after an earlier one was lost; the server cannot remove \
                     it safely (NATS before 2.14), so the lost one is written after it: out of \
                     order, nothing lost or duplicated");
            }
        }
        Ok(rest)
    }

    /// Whether the sink holds `record` at `fence` (a duplicate's acknowledgement names the
    /// first copy, which may have been removed since).
    async fn holds(&self, record: &Record, fence: u64) -> Result<bool, Ended> {
        let found = self
            .retry(|| {
                self.sink
                    .stored_after(&record.org_id, &record.channel, fence.saturating_sub(1), 1)
            })
            .await?;
        Ok(found
            .first()
            .is_some_and(|p| p.fence == fence && p.replay_id == Some(record.replay_id)))
    }

    /// Runs a sink operation until it answers, while the lease holds.
    async fn retry<T, F: std::future::Future<Output = Result<T, SinkError>>>(
        &self,
        mut op: impl FnMut() -> F,
    ) -> Result<T, Ended> {
        let mut delay = Duration::from_millis(50);
        loop {
            if !self.lease.valid() {
                return Err(Ended::LeaseExpired);
            }
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(Ended::Failed(e.to_string())),
            }
        }
    }

    /// Commits a stored message and counts it.
    fn stored(&self, message: &Message, replay_id: i64, duplicate: bool) {
        self.done(message, |m| {
            m.events += 1;
            m.duplicates += u64::from(duplicate);
            m.last_replay_id = Some(replay_id);
        });
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
        let mut record = std::borrow::Cow::Borrowed(record);
        loop {
            if !self.lease.valid() {
                return Err(Ended::LeaseExpired);
            }
            match self.sink.publish(&record, *fence).await {
                Ok(stored) if stored.duplicate && !self.holds(&record, stored.fence).await? => {
                    // The copy the duplicate window remembers was removed (a channel put back
                    // in order, perhaps by a former owner): write it under an id of its own.
                    tracing::info!(connection = %self.connection, channel = %record.channel,
                        replay_id = record.replay_id, sequence = stored.fence,
                        "the stored copy of this event was removed; writing it again");
                    record.to_mut().replaces = Some(stored.fence);
                }
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
                    let position = self
                        .retry(|| self.sink.position(&record.org_id, &record.channel))
                        .await?;
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
