//! The Salesforce streaming session: one deterministic state machine.
//!
//! ```text
//!  Idle ──open──▶ Authenticating ──token──▶ Handshaking ──clientId──▶ Connected ◀─┐
//!                     ▲    │ rejected            │ denied                │ long poll, │
//!                     │    ▼                     ▼                       │ subscribes │
//!                     │  Closed ◀── fatal ── Waiting{until, then} ◀──────┘ ───────────┘
//!                     └──────── Auth class ──────┘      ▲ SessionLost / Transient / Limit
//!  Connected ──close──▶ Disconnecting ──▶ Closed
//! ```
//!
//! Requests in flight: the long poll and one other (token, handshake, subscribe/unsubscribe
//! batch, or disconnect), plus a long poll whose response has arrived and is being decoded while
//! its successor is out (see `early.rs`). Responses are matched by [`RequestId`]; a response
//! to a request the session has abandoned (after a new handshake, say) is ignored.
//!
//! The session keeps the phase, the long poll and the dispatch of replies; sub-states own their
//! data and their rules, and never call back into it:
//!
//! | sub-state | owns |
//! |---|---|
//! | [`Channels`] (`crate::channels`) | subscriptions, replay positions, checkpoints, admission of events, overflow, re-fetch, the replay gate, the replay-id fallback |
//! | [`ControlQueue`] (`control.rs`) | subscribe/unsubscribe messages waiting, batches under 32,768 bytes, the wait after a failure, *retry* vs *abandon* |
//! | [`Outage`] (`outage.rs`) | when an outage began, when it passes the connection timeout, reported once |
//! | [`Queue`] (`queue.rs`) | the messages waiting for the application, and their bytes |
//!
//! The session's own rules are spread over files by concern, all `impl Session`: this file
//! (commands, inputs, outputs), `phases.rs` (authenticating, handshaking, waiting, closing; what
//! follows a failure), `replies.rs` (what each reply means), `drive.rs` (what goes out when),
//! `backpressure.rs` (holding the long poll back), `early.rs` (the next long poll sent when a
//! response arrives), `refetch.rs` (a long poll that broke after reaching the server),
//! `requests.rs` (building requests).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use http::{Response, Uri};

use crate::backoff::Backoff;
use crate::bayeux::{self, Advice, Outgoing};
use crate::channels::{Channels, Status};
use crate::config::{CommitPolicy, Config, Endpoint, ReplayFrom};
use crate::cookie::CookieJar;
use crate::error::{Error, ErrorClass};
use crate::message::{Committable, Message};
use crate::oauth::Token;
use crate::received::{Arrived, Body, Received};
use crate::time::later;
use crate::transmit::{RequestId, RequestKind, Transmit, TransportError};
use crate::{ChannelStats, DisconnectReason, Event, Stats};
use control::{ControlQueue, MessageIds, SentOps};
use early::Arrival;
use outage::Outage;
use queue::Queue;
use resume::StoredIds;

mod backpressure;
mod control;
mod debug;
mod drive;
mod early;
mod outage;
mod phases;
mod queue;
mod recording;
mod refetch;
mod replies;
mod requests;
mod resume;

/// The long-poll timeout Salesforce advises; used until the server says otherwise.
const DEFAULT_LONG_POLL: Duration = Duration::from_secs(110);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Authenticate,
    Handshake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Authenticating,
    Handshaking,
    Waiting { until: Instant, then: Step },
    Connected,
    Disconnecting,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LongPoll {
    Idle,
    /// `early`: scheduled when the previous poll's response arrived, before it was decoded.
    Scheduled {
        at: Instant,
        immediate: bool,
        early: bool,
    },
    InFlight(RequestId),
}

#[derive(Debug)]
struct InFlight {
    kind: RequestKind,
    /// When an answer was due at the earliest: when it was sent, or for a long poll when the
    /// server's hold ends. A failure means the server has been out of reach since then.
    due: Instant,
    deadline: Instant,
    /// The control operations of a control request, by message id.
    ops: SentOps,
    /// What its arrival (before decoding) told: see [`Session::handle_arrived`].
    arrival: Arrival,
    /// When its response arrived, if the adapter reported it.
    arrived_at: Option<Instant>,
}

impl InFlight {
    fn new(kind: RequestKind, due: Instant, deadline: Instant, ops: SentOps) -> Self {
        Self {
            kind,
            due,
            deadline,
            ops,
            arrival: Arrival::Pending,
            arrived_at: None,
        }
    }
}

/// A Salesforce (or plain Bayeux) streaming session. See the [crate docs](crate) for the run loop.
///
/// `Debug` is a summary of where the session stands, safe to log: no token, no request body.
pub struct Session {
    config: Config,
    phase: Phase,
    token: Option<Token>,
    endpoint_url: Option<Uri>,
    client_id: Option<String>,
    connected_once: bool,
    cookies: CookieJar,
    wall_anchor: (Instant, SystemTime),
    last_now: Instant,
    next_request: u64,
    message_ids: MessageIds,
    backoff: Backoff,
    advice: Advice,
    in_flight: BTreeMap<RequestId, InFlight>,
    long_poll: LongPoll,
    control: ControlQueue,
    channels: Channels,
    messages: Queue,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    cancels: VecDeque<RequestId>,
    outage: Outage,
    needs_drive: bool,
    /// When the last long-poll reply arrived: the next poll is due within 40 s of it.
    last_poll_reply: Option<Instant>,
    /// The next long poll is held back until the application catches up (or the limit passes).
    poll_held: bool,
    /// How many messages the last long-poll response queued.
    last_batch: usize,
    /// Long-poll responses that arrived while an earlier one, whose successor went out early,
    /// was still being read: handled after it, so events keep their order.
    held: Vec<Received>,
    /// The replay ids a store kept: where channels without an explicit start resume.
    resume: StoredIds,
    /// The points a re-fetch started from after a response over `max_response_bytes`: the
    /// same failure again from them ends the session (fetching again cannot get past it).
    oversized_from: Option<Vec<(String, ReplayFrom)>>,
    stats: Stats,
    /// The failure the session ended with, for the errors of later commands.
    ended_by: Option<Error>,
    /// Set by [`Session::record`]: the transcript being recorded.
    recorder: Option<Box<crate::transcript::recorder::Recorder>>,
}

impl Session {
    /// Creates a session. `now` is the monotonic time, `wall_clock` the current wall-clock time
    /// (JWT expiry and cookie expiry need it; later wall-clock times are derived from `now`).
    pub fn new(config: Config, now: Instant, wall_clock: SystemTime) -> Result<Self, Error> {
        config.validate()?;
        let backoff = Backoff::new(config.retry, config.seed);
        let endpoint_url = match &config.endpoint {
            Endpoint::Bayeux { url } => Some(
                url.parse::<Uri>()
                    .map_err(|e| Error::Config(format!("Bayeux endpoint URL {url:?}: {e}")))?,
            ),
            Endpoint::Salesforce { .. } => None,
        };
        Ok(Self {
            config,
            phase: Phase::Idle,
            token: None,
            endpoint_url,
            client_id: None,
            connected_once: false,
            cookies: CookieJar::new(),
            wall_anchor: (now, wall_clock),
            last_now: now,
            next_request: 1,
            message_ids: MessageIds::default(),
            backoff,
            advice: Advice::default(),
            in_flight: BTreeMap::new(),
            long_poll: LongPoll::Idle,
            control: ControlQueue::default(),
            channels: Channels::default(),
            messages: Queue::default(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            cancels: VecDeque::new(),
            outage: Outage::default(),
            needs_drive: false,
            last_poll_reply: None,
            poll_held: false,
            last_batch: 0,
            held: Vec::new(),
            resume: StoredIds::default(),
            oversized_from: None,
            stats: Stats::default(),
            ended_by: None,
            recorder: None,
        })
    }

    // ----- commands -------------------------------------------------------------------------

    /// Starts the session: a token request (Salesforce) or a handshake (plain Bayeux).
    pub fn open(&mut self, now: Instant) -> Result<(), Error> {
        self.tick(now);
        match self.phase {
            Phase::Idle => {}
            Phase::Closed => return Err(self.closed()),
            _ => {
                return Err(Error::InvalidOperation(
                    "the session is already open".into(),
                ));
            }
        }
        self.record_open(now);
        match &self.config.endpoint {
            Endpoint::Salesforce { credentials, .. } => match credentials.ready_token() {
                Some(token) => self.use_token(token, now),
                None => self.start_auth(now),
            },
            Endpoint::Bayeux { .. } => self.start_handshake(now),
        }
        self.drive(now);
        Ok(())
    }

    /// Subscribes to a channel. `from` overrides where the replay starts; `None` resumes after
    /// the channel's stored id (see [`Session::resume_from_store`]) or uses the configured
    /// default. Allowed before [`Session::open`]: the
    /// subscription is sent once the session is connected, and sent again after every new
    /// handshake.
    pub fn subscribe(
        &mut self,
        channel: &str,
        from: Option<ReplayFrom>,
        now: Instant,
    ) -> Result<(), Error> {
        self.tick(now);
        self.check_usable()?;
        bayeux::check_channel(channel).map_err(Error::InvalidOperation)?;
        if self.channels.contains(channel) {
            return Err(Error::AlreadySubscribed {
                channel: channel.to_owned(),
            });
        }
        let explicit = from.is_some();
        let asked = from;
        let from = self.resume.start(channel, from, self.config.replay);
        resume::check_start(from)?;
        if self.phase == Phase::Idle {
            self.resume.note(channel, explicit);
            if let Some(r) = self.recorder() {
                r.subscribed_before_open(channel, asked);
            }
        } else if let Some(r) = self.recorder() {
            let mut step = serde_json::json!({"channel": channel});
            if let Some(asked) = asked {
                step["replay"] = serde_json::json!(asked.wire_value());
            }
            r.command(Some(now), serde_json::json!({"subscribe": step}));
        }
        self.channels.add(channel, from);
        if self.phase == Phase::Connected {
            self.queue_subscribe(channel);
        }
        self.drive(now);
        Ok(())
    }

    /// Unsubscribes from a channel. Messages of the channel already waiting stay deliverable.
    pub fn unsubscribe(&mut self, channel: &str, now: Instant) -> Result<(), Error> {
        self.tick(now);
        self.check_usable()?;
        let Some(status) = self.channels.remove(channel) else {
            return Err(Error::NotSubscribed {
                channel: channel.to_owned(),
            });
        };
        self.control.forget_subscribe(channel);
        let idle = self.phase == Phase::Idle;
        if let Some(r) = self.recorder() {
            if idle {
                r.unsubscribed_before_open(channel);
            } else {
                r.command(Some(now), serde_json::json!({"unsubscribe": channel}));
            }
        }
        if self.phase == Phase::Connected && status != Status::Waiting {
            self.control.unsubscribe(channel.to_owned(), false);
        } else {
            self.events.push_back(Event::Unsubscribed {
                channel: channel.to_owned(),
            });
        }
        self.drive(now);
        Ok(())
    }

    /// Commits a replay id under [`CommitPolicy::Manual`]: the event and everything before it on
    /// the channel are processed. Under the automatic policy, which commits each message as
    /// [`Session::poll_message`] hands it out, this is [`Error::AutomaticCommit`] and commits
    /// nothing.
    pub fn commit(&mut self, channel: &str, replay_id: i64) -> Result<(), Error> {
        if self.config.commit == CommitPolicy::Automatic {
            return Err(Error::AutomaticCommit);
        }
        self.channels
            .commit(channel, replay_id)
            .ok_or_else(|| Error::NotSubscribed {
                channel: channel.to_owned(),
            })?;
        if let Some(r) = self.recorder() {
            let step = serde_json::json!({"commit": {"channel": channel, "replay_id": replay_id}});
            r.command(None, step);
        }
        Ok(())
    }

    /// Commits a delivered message (see [`Session::commit`]).
    pub fn commit_message(&mut self, message: &Message) -> Result<(), Error> {
        self.commit_processed(message)
    }

    /// Commits processed messages: a [`Message`], a [`Batch`](crate::Batch) or a slice of
    /// messages; for each channel among them, its last message there and every earlier one (see
    /// [`Session::commit`]). A channel that cannot be committed does not stop the others; the
    /// first error is returned. Under the automatic policy it is [`Error::AutomaticCommit`],
    /// whatever the messages.
    pub fn commit_processed(
        &mut self,
        processed: &(impl Committable + ?Sized),
    ) -> Result<(), Error> {
        if self.config.commit == CommitPolicy::Automatic {
            return Err(Error::AutomaticCommit);
        }
        let mut first_error = None;
        for (channel, id) in processed.replay_positions()? {
            if let Err(e) = self.commit(channel, id) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Closes the session: abandons the long poll and sends `/meta/disconnect`. The session is
    /// closed when [`Event::Disconnected`] comes out.
    pub fn close(&mut self, now: Instant) {
        if let Some(r) = self.recorder() {
            r.command(Some(now), serde_json::json!({"close": null}));
        }
        self.tick(now);
        match self.phase {
            Phase::Closed | Phase::Disconnecting => return,
            _ => {}
        }
        self.abandon_all();
        self.control.clear();
        match self.client_id.clone() {
            Some(client_id) if self.phase == Phase::Connected => {
                self.phase = Phase::Disconnecting;
                let id = self.message_id();
                let text = self
                    .config
                    .extensions
                    .outgoing(Outgoing::disconnect(&id, &client_id));
                let body = bayeux::batch([text.as_str()]);
                let deadline = later(now, self.config.request_timeout.min(Duration::from_secs(5)));
                self.send_cometd(RequestKind::Disconnect, body, now, deadline, Vec::new());
            }
            _ => self.finish(DisconnectReason::Closed),
        }
    }

    // ----- inputs ---------------------------------------------------------------------------

    /// Feeds the response to a request: the whole response path in one call (see
    /// [`Session::handle_arrived`] for the path in steps).
    pub fn handle_response(&mut self, id: RequestId, response: Response<Vec<u8>>, now: Instant) {
        let known = self.in_flight.get(&id).map(|r| r.kind);
        if let Some(r) = self.recorder() {
            r.response("reply", id, known, &response, now);
        }
        let Some(kind) = self.in_flight.get(&id).map(|r| r.kind) else {
            self.tick(now);
            tracing::trace!(%id, "response to an abandoned request ignored");
            return;
        };
        self.handle_received(Arrived::new(id, kind, response).decode(), now);
    }

    /// Gives the session a response decoded from the [`Arrived`] token
    /// [`Session::handle_arrived`] returned. Same as [`Session::handle_response`] otherwise.
    /// Responses may come in any order: a long poll's response handed over before that of the
    /// earlier poll it followed (sent early) is kept and handled right after it, so events keep
    /// their order.
    pub fn handle_received(&mut self, received: Received, now: Instant) {
        if let Some(r) = self.recorder() {
            r.handed_over(&received, now);
        }
        self.tick(now);
        self.hand_over(VecDeque::from([received]), now);
    }

    /// Handles responses in turn. One that answers a long poll sent early waits (is held) until
    /// the poll before it is handled; handling a poll whose successor went out early releases
    /// the responses held behind it, which are handled next.
    fn hand_over(&mut self, mut queue: VecDeque<Received>, now: Instant) {
        while let Some(received) = queue.pop_front() {
            if self.waits_for_earlier(received.id) {
                self.held.push(received);
                continue;
            }
            let Some(req) = self.in_flight.remove(&received.id) else {
                tracing::trace!(id = %received.id, "response to an abandoned request ignored");
                continue;
            };
            let early = req.arrival == Arrival::Early;
            self.apply_received(req, received, now);
            self.drive(now);
            if early {
                self.send_peeked(now);
                for released in self.held.drain(..).rev() {
                    queue.push_front(released);
                }
            }
        }
    }

    fn apply_received(&mut self, req: InFlight, received: Received, now: Instant) {
        if let (false, Some(url)) = (req.arrival.cookies_stored(), self.request_url(req.kind)) {
            let wall = self.wall(now);
            self.cookies
                .store_from_response(&url, &received.head.headers, wall);
        }
        let redirect = crate::redirect::refused(req.kind, &received.head, &self.config.endpoint);
        if let Some(refused) = redirect {
            self.request_failed(req, refused, ErrorClass::Config, now);
            return;
        }
        if received.body_len() > self.config.max_response_bytes {
            let request = req.kind;
            let err = Error::Transport {
                request,
                error: TransportError::BodyTooLarge {
                    limit: self.config.max_response_bytes,
                },
            };
            // A body was there, and a long poll's may have held events.
            self.failed_after_reaching(req, err, now);
            return;
        }
        let status = received.head.status;
        // The body was read for the kind of this very request (the session named it).
        match received.body {
            Body::Token(body) => self.on_token(status, &body, req.due, now),
            Body::Unread(_) => self.finish(DisconnectReason::Closed),
            Body::Bayeux { items, .. } => self.on_cometd(req, status, items, now),
        }
    }

    /// Reports that a request got no response.
    pub fn handle_transport_error(&mut self, id: RequestId, error: TransportError, now: Instant) {
        let known = self.in_flight.contains_key(&id);
        if let Some(r) = self.recorder() {
            r.failed(id, known, &error, now);
        }
        self.transport_error(id, error, now);
    }

    /// A request failed: reported by the adapter, or past its deadline.
    fn transport_error(&mut self, id: RequestId, error: TransportError, now: Instant) {
        self.tick(now);
        let Some(req) = self.in_flight.remove(&id) else {
            return;
        };
        let early = req.arrival == Arrival::Early;
        let reached = error.may_have_reached_server();
        let err = Error::Transport {
            request: req.kind,
            error,
        };
        let kind = req.kind;
        if kind == RequestKind::Disconnect {
            self.finish(DisconnectReason::Closed);
        } else if reached {
            self.failed_after_reaching(req, err, now);
        } else {
            self.request_failed(req, err, ErrorClass::Transient, now);
        }
        self.drive(now);
        if early {
            self.early_done(now);
        }
    }

    /// Advances time: expires requests past their deadline, starts what was waiting. Calls at
    /// any time are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(r) = self.recorder() {
            r.timeout(now);
        }
        self.tick(now);
        let expired: Vec<RequestId> = self
            .in_flight
            .iter()
            // A response that has arrived is in the adapter's hands: no deadline applies.
            .filter(|(id, r)| {
                r.deadline <= now && r.arrival == Arrival::Pending && !self.is_held(**id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.cancels.push_back(id);
            self.transport_error(id, TransportError::Timeout, now);
        }
        if let Phase::Waiting { until, then } = self.phase {
            if until <= now {
                match then {
                    Step::Authenticate => self.start_auth(now),
                    Step::Handshake => self.start_handshake(now),
                }
            }
        }
        self.check_outage(now);
        self.drive(now);
    }

    // ----- outputs --------------------------------------------------------------------------

    /// The next request to send. Drain it after every input and command.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmits.pop_front()?;
        if let Some(r) = self.recorder() {
            r.sent(&t);
        }
        Some(t)
    }

    /// A request the session no longer wants: the adapter should abort it. Its outcome, if one
    /// still arrives, is ignored.
    #[must_use]
    pub fn poll_cancel(&mut self) -> Option<RequestId> {
        self.cancels.pop_front()
    }

    /// The next event. Drain it after every input and command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let (channel, replay_id) = self.channels.next_checkpoint()?;
        Some(Event::Checkpoint { channel, replay_id })
    }

    /// The next delivered message, when the application is ready for it. Under the automatic
    /// commit policy taking a message commits it. Taking messages makes room: channels that
    /// overflowed are fetched again (the next [`Session::poll_timeout`] asks for a call to
    /// [`Session::handle_timeout`] to send that).
    #[must_use]
    pub fn poll_message(&mut self) -> Option<Message> {
        let msg = self.messages.pop()?;
        if let Some(r) = self.recorder.as_deref_mut() {
            r.message(&msg);
        }
        if let Some(id) = msg.replay_id() {
            let commit = self.config.commit == CommitPolicy::Automatic;
            self.channels.delivered(msg.channel(), id, commit);
        }
        self.stats.messages_delivered += 1;
        self.made_room();
        Some(msg)
    }

    /// Whether the session has work for [`Session::handle_timeout`] right now (after
    /// [`Session::poll_message`] made room, say). Cheaper than comparing [`Session::poll_timeout`]
    /// with the clock, for adapters that take many messages.
    #[must_use]
    pub fn wants_drive(&self) -> bool {
        self.needs_drive
    }

    /// Whether checkpoints wait to be taken with [`Session::poll_event`].
    #[must_use]
    pub fn has_checkpoints(&self) -> bool {
        self.channels.has_checkpoints()
    }

    /// How many messages wait for the application.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.messages.len()
    }

    /// The memory the waiting messages take, in bytes, as counted against
    /// [`Config::max_pending_bytes`] (their JSON plus a fixed overhead each).
    #[must_use]
    pub fn pending_bytes(&self) -> usize {
        self.messages.bytes()
    }

    /// When [`Session::handle_timeout`] should be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.needs_drive {
            return Some(self.last_now);
        }
        let mut t: Option<Instant> = None;
        let mut consider = |i: Instant| t = Some(t.map_or(i, |t| t.min(i)));
        for r in self.in_flight.values() {
            consider(r.deadline);
        }
        if let Phase::Waiting { until, .. } = self.phase {
            consider(until);
        }
        if let LongPoll::Scheduled { at, early, .. } = self.long_poll {
            consider(self.poll_due(at, early));
        }
        if let Some(w) = self.control.waits_until() {
            consider(w);
        }
        if let Some(at) = self.outage_report_due() {
            consider(at);
        }
        t
    }

    // ----- queries --------------------------------------------------------------------------

    /// The channels the server has confirmed.
    #[must_use]
    pub fn subscriptions(&self) -> Vec<&str> {
        self.channels.confirmed().collect()
    }

    /// Every channel the application subscribed to, confirmed or not.
    #[must_use]
    pub fn channels(&self) -> Vec<&str> {
        self.channels.names().collect()
    }

    /// The last committed replay id of a channel.
    #[must_use]
    pub fn committed(&self, channel: &str) -> Option<i64> {
        self.channels.committed(channel)
    }

    /// The Bayeux client id of the current session, if handshaken.
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Whether the session has ended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the long-poll loop is running on a live Bayeux session.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected && self.connected_once
    }

    /// Counters since the session was created, and each channel's replay positions now.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        stats.channels = self
            .channels
            .positions()
            .map(|(name, accepted, committed)| {
                let ch = ChannelStats {
                    accepted,
                    committed,
                };
                (name.to_owned(), ch)
            })
            .collect();
        stats
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- the machine ----------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    fn wall(&self, now: Instant) -> SystemTime {
        self.wall_anchor.1 + now.saturating_duration_since(self.wall_anchor.0)
    }

    /// The error of a command given to a closed session: closed by the application, or ended
    /// by the failure it reported.
    fn closed(&self) -> Error {
        Error::Closed {
            cause: self.ended_by.clone().map(Box::new),
        }
    }

    fn check_usable(&self) -> Result<(), Error> {
        match self.phase {
            Phase::Closed | Phase::Disconnecting => Err(self.closed()),
            _ => Ok(()),
        }
    }

    /// A long poll succeeded: the stream works again.
    fn reachable(&mut self) {
        if self.outage.ended() {
            self.events.push_back(Event::ConnectionRestored);
        }
    }

    /// A request due an answer at `due` failed: the server has been out of reach since then.
    fn unreachable(&mut self, due: Instant) {
        self.outage.failed(due);
    }

    /// The earliest due time of a request that blocks the stream (token, handshake, long poll)
    /// and still has no answer.
    fn waiting_since(&self) -> Option<Instant> {
        self.in_flight
            .iter()
            .filter(|(id, r)| {
                !matches!(r.kind, RequestKind::Control | RequestKind::Disconnect)
                    && r.arrival == Arrival::Pending
                    && !self.is_held(**id)
            })
            .map(|(_, r)| r.due)
            .min()
    }

    /// When the outage under way must be reported (see [`Outage`]).
    fn outage_report_due(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        let waiting = self.waiting_since();
        self.outage
            .report_due(self.config.connection_timeout, waiting)
    }

    /// Reports an outage that has lasted the connection timeout (once per outage).
    fn check_outage(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        let waiting = self.waiting_since();
        if let Some(outage) = self
            .outage
            .report(now, self.config.connection_timeout, waiting)
        {
            self.events
                .push_back(Event::Error(Error::ConnectionLost { outage }));
        }
    }
}
