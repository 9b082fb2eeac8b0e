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

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::{Method, Request, Response, Uri};

use crate::backoff::Backoff;
use crate::bayeux::{self, Advice, Incoming, Outgoing, Reconnect, meta};
use crate::channels::{Admission, Channels, Fallback, Status};
use crate::config::{CommitPolicy, Config, Endpoint, ReplayFrom};
use crate::cookie::CookieJar;
use crate::error::{self, BayeuxError, Error, ErrorClass, ServerError};
use crate::event::{DecodeProblem, Message};
use crate::oauth::{self, AuthError, Token};
use crate::received::{Arrived, Body, Item, Received};
use crate::time::later;
use crate::transmit::{RequestId, RequestKind, Transmit, TransportError};
use crate::{DisconnectReason, Event, RefetchReason, Stats};
use control::{Abandoned, ControlOp, ControlQueue, MessageIds, SentOps};
use early::Arrival;
use outage::Outage;
use queue::Queue;
use resume::StoredIds;

mod backpressure;
mod control;
mod debug;
mod early;
mod outage;
mod queue;
mod refetch;
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
    stats: Stats,
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
            stats: Stats::default(),
        })
    }

    // ----- commands -------------------------------------------------------------------------

    /// Starts the session: a token request (Salesforce) or a handshake (plain Bayeux).
    pub fn open(&mut self, now: Instant) -> Result<(), Error> {
        self.tick(now);
        match self.phase {
            Phase::Idle => {}
            Phase::Closed => return Err(Error::Closed),
            _ => {
                return Err(Error::InvalidOperation(
                    "the session is already open".into(),
                ));
            }
        }
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
            return Err(Error::InvalidOperation(format!(
                "already subscribed to {channel}"
            )));
        }
        let explicit = from.is_some();
        let from = self.resume.start(channel, from, self.config.replay);
        resume::check_start(from)?;
        if self.phase == Phase::Idle {
            self.resume.note(channel, explicit);
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
            return Err(Error::InvalidOperation(format!(
                "not subscribed to {channel}"
            )));
        };
        self.control.forget_subscribe(channel);
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
    /// the channel are processed. Under the automatic policy this is allowed too (it is then
    /// redundant).
    pub fn commit(&mut self, channel: &str, replay_id: i64) -> Result<(), Error> {
        self.channels.commit(channel, replay_id).ok_or_else(|| {
            Error::InvalidOperation(format!("cannot commit on {channel}: not subscribed"))
        })
    }

    /// Commits a delivered message (see [`Session::commit`]).
    pub fn commit_message(&mut self, message: &Message) -> Result<(), Error> {
        match message.replay_id() {
            Some(id) => self.commit(message.channel(), id),
            None => Err(Error::InvalidOperation(format!(
                "the message on {} has no replay id to commit",
                message.channel()
            ))),
        }
    }

    /// Closes the session: abandons the long poll and sends `/meta/disconnect`. The session is
    /// closed when [`Event::Disconnected`] comes out.
    pub fn close(&mut self, now: Instant) {
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
                let body = bayeux::batch([Outgoing::disconnect(&id, &client_id).as_str()]);
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
            self.handle_transport_error(id, TransportError::Timeout, now);
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
        self.transmits.pop_front()
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

    /// Counters since the session was created.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
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

    fn check_usable(&self) -> Result<(), Error> {
        match self.phase {
            Phase::Closed | Phase::Disconnecting => Err(Error::Closed),
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
        if let Some(for_) = self
            .outage
            .report(now, self.config.connection_timeout, waiting)
        {
            self.events
                .push_back(Event::Error(Error::ConnectionLost { for_ }));
        }
    }

    fn message_id(&mut self) -> String {
        self.message_ids.next_id()
    }

    fn request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    fn start_auth(&mut self, now: Instant) {
        let Endpoint::Salesforce { credentials, .. } = &self.config.endpoint else {
            self.start_handshake(now);
            return;
        };
        let request = credentials.token_request(self.wall(now));
        match request {
            Ok(Some(request)) => {
                self.phase = Phase::Authenticating;
                self.stats.token_requests += 1;
                let id = self.request_id();
                let deadline = later(now, self.config.request_timeout);
                let request = self.with_cookies(request, now);
                self.in_flight.insert(
                    id,
                    InFlight::new(RequestKind::Token, now, deadline, Vec::new()),
                );
                self.transmits.push_back(Transmit {
                    id,
                    kind: RequestKind::Token,
                    request,
                    deadline,
                });
            }
            Ok(None) => {
                // A ready token that the server refused: nothing can make a new one.
                self.fatal(Error::Auth(AuthError::TokenRefused {
                    detail: "it cannot be renewed: give a new \
                             token, or credentials that can fetch one (refresh token, JWT, \
                             password, client credentials)"
                        .into(),
                }));
            }
            Err(e) => self.fatal(Error::Auth(e)),
        }
    }

    fn on_token(&mut self, status: http::StatusCode, body: &[u8], due: Instant, now: Instant) {
        match oauth::parse_token_response(status, body) {
            Ok(token) => self.use_token(token, now),
            Err(e) => {
                // Only load and rate limits are worth retrying; a refusal or a page that is
                // not a token endpoint needs the user to fix the configuration.
                if e.is_transient() {
                    // A token endpoint that cannot serve is an outage like any other.
                    self.unreachable(due.min(now));
                    self.wait_then(
                        Step::Authenticate,
                        Error::Auth(e),
                        ErrorClass::Transient,
                        now,
                    );
                } else {
                    self.fatal(Error::Auth(e));
                }
            }
        }
    }

    fn use_token(&mut self, token: Token, now: Instant) {
        let Endpoint::Salesforce { api_version, .. } = &self.config.endpoint else {
            return;
        };
        if let Err(e) = oauth::check_url_scheme(&token.instance_url) {
            self.fatal(Error::Config(format!(
                "instance URL from the token response: {e}"
            )));
            return;
        }
        let url = format!(
            "{}/cometd/{}",
            token.instance_url.trim_end_matches('/'),
            api_version
        );
        match url.parse::<Uri>() {
            Ok(uri) => self.endpoint_url = Some(uri),
            Err(e) => {
                self.fatal(Error::Config(format!(
                    "instance URL {:?}: {e}",
                    token.instance_url
                )));
                return;
            }
        }
        self.events.push_back(Event::Authenticated {
            instance_url: token.instance_url.clone(),
            org_id: token.org_id().map(str::to_owned),
        });
        self.token = Some(token);
        self.start_handshake(now);
    }

    fn start_handshake(&mut self, now: Instant) {
        self.abandon_all();
        // A new Bayeux session starts with a clean jar: stale load-balancer affinity cookies
        // would route the handshake to the server that just lost the session.
        self.cookies.clear();
        self.client_id = None;
        self.connected_once = false;
        self.phase = Phase::Handshaking;
        self.stats.handshakes += 1;
        let id = self.message_id();
        let body = bayeux::batch([Outgoing::handshake(&id, self.config.uses_replay()).as_str()]);
        let deadline = later(now, self.config.request_timeout);
        self.send_cometd(RequestKind::Handshake, body, now, deadline, Vec::new());
    }

    fn send_cometd(
        &mut self,
        kind: RequestKind,
        body: Vec<u8>,
        due: Instant,
        deadline: Instant,
        ops: SentOps,
    ) -> Option<RequestId> {
        let Some(url) = self.endpoint_url.clone() else {
            self.fatal(Error::Config("no endpoint URL".into()));
            return None;
        };
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            builder = builder.header(AUTHORIZATION, token.authorization_header());
        }
        let request = match builder.body(body) {
            Ok(r) => r,
            Err(e) => {
                self.fatal(Error::Config(format!("cannot build a request: {e}")));
                return None;
            }
        };
        let request = self.with_cookies(request, self.last_now);
        let id = self.request_id();
        self.in_flight
            .insert(id, InFlight::new(kind, due, deadline, ops));
        self.transmits.push_back(Transmit {
            id,
            kind,
            request,
            deadline,
        });
        Some(id)
    }

    fn with_cookies(&self, mut request: Request<Vec<u8>>, now: Instant) -> Request<Vec<u8>> {
        if let Some(v) = self.cookies.header_for(request.uri(), self.wall(now)) {
            request.headers_mut().insert(COOKIE, v);
        }
        request
    }

    fn request_url(&self, kind: RequestKind) -> Option<Uri> {
        match kind {
            RequestKind::Token => match &self.config.endpoint {
                Endpoint::Salesforce { credentials, .. } => {
                    credentials.login().and_then(|l| l.token_url().parse().ok())
                }
                Endpoint::Bayeux { .. } => None,
            },
            _ => self.endpoint_url.clone(),
        }
    }

    /// Abandons every request in flight: their outcomes will be ignored.
    fn abandon_all(&mut self) {
        let ids: Vec<RequestId> = self.in_flight.keys().copied().collect();
        for id in ids {
            if let Some(req) = self.in_flight.remove(&id) {
                self.cancels.push_back(id);
                self.abandon_control(req.ops);
            }
        }
        self.held.clear();
        self.long_poll = LongPoll::Idle;
        self.poll_held = false;
    }

    /// The control operations of an abandoned request are never sent again (see
    /// [`control::abandon`]).
    fn abandon_control(&mut self, ops: SentOps) {
        for fate in control::abandon(ops) {
            match fate {
                Abandoned::Waits(channel) => self.channels.wait(&channel),
                Abandoned::Unsubscribed(channel) => {
                    self.events.push_back(Event::Unsubscribed { channel });
                }
            }
        }
    }

    /// Queues the subscription of `channel` on a new session, from its resume point.
    fn queue_subscribe(&mut self, channel: &str) {
        let uses_replay = self.config.uses_replay();
        let Some(resume) = self.channels.start_subscribe(channel, uses_replay) else {
            return;
        };
        if resume.drop_queued {
            self.messages.drop_channel(channel);
        }
        self.control.subscribe(channel.to_owned(), resume.from);
    }

    /// Sends what is due: the long poll, a batch of control messages, refetches.
    fn drive(&mut self, now: Instant) {
        self.needs_drive = false;
        if self.phase != Phase::Connected {
            return;
        }
        if !self.behind() {
            for channel in self.channels.start_refetches() {
                self.control.unsubscribe(channel, true);
            }
        }
        if let LongPoll::Scheduled {
            at,
            immediate,
            early,
        } = self.long_poll
        {
            if at <= now && !self.hold_poll(now, early) {
                if let Some(client_id) = self.client_id.clone() {
                    let id = self.message_id();
                    let body =
                        bayeux::batch([Outgoing::connect(&id, &client_id, immediate).as_str()]);
                    let hold = if immediate {
                        Duration::ZERO
                    } else {
                        self.advice
                            .timeout_ms
                            .map_or(DEFAULT_LONG_POLL, Duration::from_millis)
                    };
                    let due = later(now, hold);
                    let deadline = later(due, self.config.long_poll_margin);
                    self.stats.connects += 1;
                    if early {
                        self.stats.connects_early += 1;
                    }
                    if let Some(id) =
                        self.send_cometd(RequestKind::Connect, body, due, deadline, Vec::new())
                    {
                        self.long_poll = LongPoll::InFlight(id);
                    }
                }
            }
        }
        self.send_control(now);
    }

    /// Sends the next batch of control messages, if the control slot is free (one control
    /// request at a time, beside the long poll).
    fn send_control(&mut self, now: Instant) {
        if self
            .in_flight
            .values()
            .any(|r| r.kind != RequestKind::Connect)
        {
            return;
        }
        let Some(batch) = self.control.next_batch(
            now,
            self.client_id.as_deref(),
            self.config.uses_replay(),
            &mut self.message_ids,
        ) else {
            return;
        };
        let deadline = later(now, self.config.request_timeout);
        self.send_cometd(RequestKind::Control, batch.body, now, deadline, batch.ops);
    }

    fn on_cometd(
        &mut self,
        req: InFlight,
        status: http::StatusCode,
        items: Result<Vec<Item>, String>,
        now: Instant,
    ) {
        let kind = req.kind;
        let items = match items {
            Ok(items) => items,
            Err(detail) => {
                if status.is_success() {
                    // A successful answer that does not read may have held events.
                    let err = Error::Protocol {
                        request: kind,
                        detail,
                    };
                    self.failed_after_reaching(req, err, now);
                    return;
                }
                let err = Error::HttpStatus {
                    request: kind,
                    status: status.as_u16(),
                };
                if refetch::from_gateway(status) {
                    self.failed_after_reaching(req, err, now);
                } else {
                    self.request_failed(req, err, http_class(status), now);
                }
                return;
            }
        };
        // Events first, whatever the replies say: they are never lost to an error path.
        let mut server_disconnect = false;
        let mut reply = None;
        let mut control_replies = Vec::new();
        let queued_before = self.messages.len();
        for item in items {
            let m = match item {
                Item::Event { message, problem } => {
                    self.accept_event(message, problem);
                    continue;
                }
                Item::Unreadable(e) => {
                    self.events.push_back(Event::Error(Error::Protocol {
                        request: kind,
                        detail: format!("a message could not be read: {e}"),
                    }));
                    continue;
                }
                Item::Meta(m) => m,
            };
            match (&*m.channel, kind) {
                (meta::DISCONNECT, _) if m.successful.is_none() && m.id.is_none() => {
                    server_disconnect = true
                }
                (meta::HANDSHAKE, RequestKind::Handshake)
                | (meta::CONNECT, RequestKind::Connect)
                    if reply.is_none() =>
                {
                    reply = Some(m);
                }
                (meta::SUBSCRIBE | meta::UNSUBSCRIBE, RequestKind::Control) => {
                    control_replies.push(m)
                }
                _ => {}
            }
        }
        if kind == RequestKind::Connect {
            self.last_batch = self.messages.len().saturating_sub(queued_before);
        }
        match kind {
            RequestKind::Handshake => self.on_handshake(req, reply, status, now),
            RequestKind::Connect => self.on_connect(req, reply, status, server_disconnect, now),
            RequestKind::Control => {
                self.on_control(req, control_replies, status, now);
                if server_disconnect {
                    self.session_lost(server_disconnect_error(), now);
                }
            }
            _ => {}
        }
    }

    fn on_handshake(
        &mut self,
        req: InFlight,
        reply: Option<Incoming<'_>>,
        status: http::StatusCode,
        now: Instant,
    ) {
        let Some(reply) = reply else {
            let (err, class) = no_reply(RequestKind::Handshake, status);
            self.request_failed(req, err, class, now);
            return;
        };
        if let Some(advice) = reply.advice {
            self.merge_advice(advice);
        }
        if reply.successful != Some(true) {
            let err = server_error(&reply);
            let class = err.class;
            self.request_failed(req, Error::Server(err), class, now);
            return;
        }
        let Some(client_id) = reply.client_id.clone() else {
            self.request_failed(
                req,
                Error::Protocol {
                    request: RequestKind::Handshake,
                    detail: "successful handshake without a clientId".into(),
                },
                ErrorClass::Transient,
                now,
            );
            return;
        };
        if self.config.uses_replay() && !reply.ext.as_ref().is_some_and(|e| e.replay) {
            self.events.push_back(Event::Error(Error::Protocol {
                request: RequestKind::Handshake,
                detail:
                    "the server did not advertise the replay extension; replay ids may be ignored"
                        .into(),
            }));
        }
        self.client_id = Some(client_id.clone());
        self.phase = Phase::Connected;
        self.last_poll_reply = Some(now);
        self.long_poll = LongPoll::Scheduled {
            at: now,
            immediate: true,
            early: false,
        };
        self.events.push_back(Event::Handshaken { client_id });
        let names: Vec<String> = self.channels.names().map(str::to_owned).collect();
        self.control.clear();
        for name in names {
            self.queue_subscribe(&name);
        }
    }

    fn on_connect(
        &mut self,
        req: InFlight,
        reply: Option<Incoming<'_>>,
        status: http::StatusCode,
        server_disconnect: bool,
        now: Instant,
    ) {
        // A long poll whose successor went out early leaves the long poll alone.
        let early = req.arrival == Arrival::Early;
        if !early {
            self.long_poll = LongPoll::Idle;
        }
        if server_disconnect {
            self.session_lost(server_disconnect_error(), now);
            return;
        }
        let Some(reply) = reply else {
            let (err, class) = no_reply(RequestKind::Connect, status);
            self.request_failed(req, err, class, now);
            return;
        };
        if let Some(advice) = reply.advice {
            self.merge_advice(advice);
        }
        self.last_poll_reply = Some(req.arrived_at.unwrap_or(now));
        if reply.successful == Some(true) {
            self.backoff.reset();
            self.reachable();
            if !self.connected_once {
                self.connected_once = true;
                self.events.push_back(Event::Connected);
            }
            if !early {
                let interval = Duration::from_millis(self.advice.interval_ms.unwrap_or(0));
                self.long_poll = LongPoll::Scheduled {
                    at: later(now, interval),
                    immediate: false,
                    early: false,
                };
            }
            return;
        }
        let err = server_error(&reply);
        let mut class = err.class;
        let advice = reply.advice.and_then(|a| a.reconnect);
        if matches!(class, ErrorClass::Transient | ErrorClass::Unknown) {
            match advice {
                Some(Reconnect::Handshake) => class = ErrorClass::SessionLost,
                Some(Reconnect::None)
                    if !self.config.uses_replay() && class == ErrorClass::Unknown =>
                {
                    // A plain Bayeux server that says "do not retry" means it.
                    self.finish(DisconnectReason::ServerClosed(Error::Server(err)));
                    return;
                }
                _ => {}
            }
        }
        self.request_failed(req, Error::Server(err), class, now);
    }

    fn on_control(
        &mut self,
        req: InFlight,
        replies: Vec<Incoming<'_>>,
        status: http::StatusCode,
        now: Instant,
    ) {
        let mut by_id: BTreeMap<String, Incoming<'_>> = BTreeMap::new();
        for r in replies {
            if let Some(id) = r.id.clone() {
                by_id.insert(id, r);
            }
        }
        let mut unanswered = Vec::new();
        let mut session_lost = None;
        let mut auth = None;
        let mut retry = None;
        for (msg_id, op) in req.ops {
            let Some(reply) = by_id.remove(&msg_id) else {
                unanswered.push((msg_id, op));
                continue;
            };
            let ok = reply.successful == Some(true);
            match op {
                ControlOp::Unsubscribe { channel, refetch } => {
                    if refetch {
                        // Events of the old subscription may still come (the server queued them
                        // before it took the unsubscribe); the replay gate tells them from the
                        // replay, so the channel is subscribed again at once.
                        self.resubscribe_after_refetch(channel);
                    } else {
                        if !ok {
                            let err = server_error(&reply);
                            if err.class == ErrorClass::SessionLost {
                                session_lost = Some(err.clone());
                            }
                            self.events.push_back(Event::Error(Error::Server(err)));
                        }
                        self.events.push_back(Event::Unsubscribed { channel });
                    }
                }
                ControlOp::Subscribe { channel, from } => {
                    if !self.channels.contains(&channel) {
                        continue; // unsubscribed meanwhile
                    }
                    if ok {
                        self.channels.confirm(&channel);
                        self.events.push_back(Event::Subscribed {
                            channel,
                            replay_from: from,
                        });
                        continue;
                    }
                    let err = server_error(&reply);
                    match err.class {
                        ErrorClass::SessionLost => session_lost = Some(err),
                        ErrorClass::Auth => auth = Some(err),
                        ErrorClass::InvalidReplayId => self.on_invalid_replay(channel, from, err),
                        ErrorClass::Permission | ErrorClass::Channel | ErrorClass::Config => {
                            self.channels.remove(&channel);
                            self.events.push_back(Event::SubscribeFailed {
                                channel,
                                error: Error::Server(err),
                            });
                        }
                        _ => {
                            let long = err.class == ErrorClass::Limit;
                            self.channels.retry_subscribe(&channel);
                            self.control.subscribe(channel, from);
                            retry = Some((err, long));
                        }
                    }
                }
            }
        }
        if let Some(err) = session_lost {
            self.session_lost(Error::Server(err), now);
            return;
        }
        if let Some(err) = auth {
            self.request_failed(
                InFlight::new(RequestKind::Control, now, now, unanswered),
                Error::Server(err),
                ErrorClass::Auth,
                now,
            );
            return;
        }
        if !unanswered.is_empty() {
            let (err, class) = no_reply(RequestKind::Control, status);
            self.request_failed(
                InFlight::new(RequestKind::Control, now, now, unanswered),
                err,
                class,
                now,
            );
            return;
        }
        if let Some((err, long)) = retry {
            let delay = self.backoff.next_delay(long);
            self.control.wait_until(later(now, delay));
            self.events.push_back(Event::Reconnecting {
                after: delay,
                reason: Error::Server(err),
            });
        }
    }

    fn on_invalid_replay(&mut self, channel: String, from: ReplayFrom, err: ServerError) {
        let rejected = error::invalid_replay_id(&err.error).or(match from {
            ReplayFrom::Id(id) => Some(id),
            _ => None,
        });
        match self
            .channels
            .fall_back(&channel, self.config.replay_fallback)
        {
            Fallback::Unknown => {}
            Fallback::Applied(to) => {
                self.events.push_back(Event::ReplayFallback {
                    channel: channel.clone(),
                    rejected,
                    using: to,
                    error: Error::Server(err),
                });
                self.control.subscribe(channel, to);
            }
            Fallback::Failed => {
                self.events.push_back(Event::SubscribeFailed {
                    channel,
                    error: Error::Server(err),
                });
            }
        }
    }

    fn accept_event(&mut self, msg: Message, problem: Option<DecodeProblem>) {
        let uses_replay = self.config.uses_replay();
        // A message for a channel we never asked for (or that was unsubscribed) still reaches
        // the application: nothing the server delivered is dropped silently.
        // An empty queue takes any event, so that every event fits eventually.
        let full = !self.messages.is_empty()
            && self.messages.bytes().saturating_add(queue::size_of(&msg))
                > self.config.max_pending_bytes;
        match self
            .channels
            .admit(msg.channel(), msg.replay_id(), full, uses_replay)
        {
            Admission::Accept => {}
            Admission::SetAside => {
                self.stats.dropped_for_refetch += 1;
                return;
            }
            Admission::Stale => {
                self.stats.dropped_stale += 1;
                return;
            }
        }
        let problem = msg.missing_replay_id(uses_replay, problem);
        if let Some(problem) = problem {
            let channel_name = msg.channel();
            let detail = match problem {
                DecodeProblem::BadReplayId => format!(
                    "an event on {channel_name} has a replayId that is not an integer; delivered without one, it cannot be committed"
                ),
                DecodeProblem::BadData(d) => format!("an event on {channel_name}: {d}"),
            };
            self.events.push_back(Event::Error(Error::Protocol {
                request: RequestKind::Connect,
                detail,
            }));
        }
        self.stats.messages_received += 1;
        self.messages.push(msg);
    }

    /// Subscribes an overflowed channel again, from the last event its queue accepted; events
    /// above the first dropped one are stale until the replay starts.
    fn resubscribe_after_refetch(&mut self, channel: String) {
        let Some(refetch) = self.channels.resubscribe_after_refetch(&channel) else {
            return;
        };
        let (from, dropped) = (refetch.from, refetch.dropped);
        self.stats.refetches += 1;
        tracing::debug!(%channel, ?from, dropped, "re-fetching events set aside for memory");
        self.events.push_back(Event::Refetch {
            channel: channel.clone(),
            from,
            reason: RefetchReason::MemoryBound { dropped },
        });
        self.control.subscribe(channel, from);
    }

    fn merge_advice(&mut self, advice: Advice) {
        if advice.timeout_ms.is_some() {
            self.advice.timeout_ms = advice.timeout_ms;
        }
        if advice.interval_ms.is_some() {
            self.advice.interval_ms = advice.interval_ms;
        }
        if advice.reconnect.is_some() {
            self.advice.reconnect = advice.reconnect;
        }
        if advice.max_interval_ms.is_some() {
            self.advice.max_interval_ms = advice.max_interval_ms;
        }
    }

    /// Decides what follows a failed request, by the class of its error.
    fn request_failed(&mut self, req: InFlight, err: Error, class: ErrorClass, now: Instant) {
        let kind = req.kind;
        // Any failure counts toward the connection timeout until a long poll succeeds again:
        // a server that answers every request with an error is as unusable as one that is down.
        // The outage began when the failed attempt was due an answer, not when it failed.
        self.unreachable(req.due.min(now));
        match class {
            ErrorClass::Config => {
                self.fatal(err);
                return;
            }
            ErrorClass::Permission | ErrorClass::Channel if kind != RequestKind::Control => {
                self.fatal(err);
                return;
            }
            _ => {}
        }
        match (kind, class) {
            (RequestKind::Disconnect, _) => self.finish(DisconnectReason::Closed),
            (RequestKind::Token, _) => self.wait_then(Step::Authenticate, err, class, now),
            (_, ErrorClass::SessionLost) => self.session_lost(err, now),
            (_, ErrorClass::Auth) => {
                let can_refresh = match &self.config.endpoint {
                    Endpoint::Salesforce { credentials, .. } => credentials.can_refresh(),
                    Endpoint::Bayeux { .. } => false,
                };
                if can_refresh {
                    self.stats.reauthentications += 1;
                    self.wait_then(Step::Authenticate, err, class, now);
                } else if self.config.uses_replay() {
                    let said = match &err {
                        Error::Server(e) => {
                            e.error.raw().to_owned()
                                + &e.failure_reason
                                    .as_ref()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                        }
                        other => other.to_string(),
                    };
                    self.fatal(Error::Auth(AuthError::TokenRefused {
                        detail: format!(
                            "the server refused it ({said}) and it cannot be renewed: \
                             give a new token, or credentials that can fetch one (refresh token, \
                             JWT, password, client credentials)"
                        ),
                    }));
                } else {
                    self.wait_then(Step::Handshake, err, class, now);
                }
            }
            (RequestKind::Handshake, _) => self.wait_then(Step::Handshake, err, class, now),
            (RequestKind::Connect, _) if req.arrival == Arrival::Early => {
                // Its successor went out when it arrived: that is the retry.
                self.events.push_back(Event::Reconnecting {
                    after: Duration::ZERO,
                    reason: err,
                });
            }
            (RequestKind::Connect, _) => {
                let delay = self.backoff.next_delay(class == ErrorClass::Limit);
                self.long_poll = LongPoll::Scheduled {
                    at: later(now, delay),
                    immediate: false,
                    early: false,
                };
                self.events.push_back(Event::Reconnecting {
                    after: delay,
                    reason: err,
                });
            }
            (RequestKind::Control, _) => {
                let channels = &self.channels;
                self.control
                    .retry(req.ops, |channel| channels.contains(channel));
                let delay = self.backoff.next_delay(class == ErrorClass::Limit);
                self.control.wait_until(later(now, delay));
                self.events.push_back(Event::Reconnecting {
                    after: delay,
                    reason: err,
                });
            }
        }
    }

    /// The Bayeux session is gone: handshake again (at once the first time, then with backoff)
    /// and resubscribe everything, whatever the advice said.
    fn session_lost(&mut self, err: Error, now: Instant) {
        self.stats.sessions_lost += 1;
        self.wait_then(Step::Handshake, err, ErrorClass::SessionLost, now);
    }

    fn wait_then(&mut self, then: Step, err: Error, class: ErrorClass, now: Instant) {
        self.abandon_all();
        self.client_id = None;
        self.channels.wait_all();
        self.control.reset();
        // The first session loss or token refusal is answered at once; repeats back off, so
        // that a server that keeps refusing never sees a tight loop.
        let delay = match class {
            ErrorClass::SessionLost | ErrorClass::Auth if self.backoff.failures() == 0 => {
                self.backoff.next_delay(false);
                Duration::ZERO
            }
            _ => self.backoff.next_delay(class == ErrorClass::Limit),
        };
        self.phase = Phase::Waiting {
            until: later(now, delay),
            then,
        };
        self.events.push_back(Event::Reconnecting {
            after: delay,
            reason: err,
        });
        if delay.is_zero() {
            match then {
                Step::Authenticate => self.start_auth(now),
                Step::Handshake => self.start_handshake(now),
            }
        }
    }

    fn fatal(&mut self, err: Error) {
        self.finish(DisconnectReason::Failed(err));
    }

    fn finish(&mut self, reason: DisconnectReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.abandon_all();
        self.control.clear();
        self.phase = Phase::Closed;
        self.client_id = None;
        self.cookies.clear();
        self.events.push_back(Event::Disconnected(reason));
    }
}

fn http_class(status: http::StatusCode) -> ErrorClass {
    match status.as_u16() {
        401 | 403 => ErrorClass::Auth,
        413 => ErrorClass::ClientBug,
        404 => ErrorClass::Config,
        _ => ErrorClass::Transient,
    }
}

/// The error and class of a response that holds no reply to the request sent.
fn no_reply(kind: RequestKind, status: http::StatusCode) -> (Error, ErrorClass) {
    if status.is_success() {
        let detail = "the response holds no reply to the request".into();
        (
            Error::Protocol {
                request: kind,
                detail,
            },
            ErrorClass::Transient,
        )
    } else {
        let err = Error::HttpStatus {
            request: kind,
            status: status.as_u16(),
        };
        (err, http_class(status))
    }
}

fn server_error(reply: &Incoming<'_>) -> ServerError {
    let error = BayeuxError::parse(
        reply
            .error
            .as_deref()
            .unwrap_or("unsuccessful reply without an error"),
    );
    let failure_reason = reply
        .ext
        .as_ref()
        .and_then(|e| e.failure_reason.as_deref())
        .map(BayeuxError::parse);
    let class = error::classify(&error, failure_reason.as_ref());
    ServerError {
        channel: reply.channel.to_string(),
        subscription: reply.subscription.clone(),
        error,
        failure_reason,
        class,
    }
}

fn server_disconnect_error() -> Error {
    Error::Server(ServerError {
        channel: meta::DISCONNECT.to_owned(),
        subscription: None,
        error: BayeuxError::parse("the server ended the session with /meta/disconnect"),
        failure_reason: None,
        class: ErrorClass::SessionLost,
    })
}
