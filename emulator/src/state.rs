//! The emulator's shared state and the operations both the wire and the control API use.
//!
//! One mutex guards everything. It is held only for short, non-blocking sections and never
//! across an `.await`; held long polls wait on a per-session `Notify` instead.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::time::Instant;

use crate::bayeux::{AUTH_INVALID, Reconnect, UNKNOWN_CLIENT};
use crate::broken::Broken;
use crate::channels::{Channel, ChannelKind};
use crate::chaos::{Drawn, RequestShape, SessionFault};
use crate::config::Settings;
use crate::error::Error;
use crate::events::{self, EventContext};
use crate::faults::{Endpoint, Fault, Faults};
use crate::session::{Queued, Session, Tombstone};
use crate::stats::{ClientStats, Stats, Totals};
use crate::util::{self, Rng};

/// Settings plus the locked state.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    state: Mutex<State>,
    /// The Bayeux messages received, newest last, while a test observes them: at most the
    /// capacity in `observing` (0: not observing; nothing is kept or locked).
    observed: Mutex<VecDeque<Value>>,
    observing: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(settings: Settings, state: State) -> Self {
        Self {
            settings,
            state: Mutex::new(state),
            observed: Mutex::new(VecDeque::new()),
            observing: AtomicUsize::new(0),
        }
    }

    /// Keeps the last `capacity` Bayeux messages received from now on (0: stops, forgets).
    pub(crate) fn observe(&self, capacity: usize) {
        self.observing.store(capacity, Ordering::Relaxed);
        let mut kept = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        while kept.len() > capacity {
            kept.pop_front();
        }
    }

    /// Notes a received message, if observing.
    pub(crate) fn note_received(&self, message: &Value) {
        let capacity = self.observing.load(Ordering::Relaxed);
        if capacity == 0 {
            return;
        }
        let mut kept = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= capacity {
            kept.pop_front();
        }
        kept.push_back(message.clone());
    }

    /// The messages observed, oldest first.
    pub(crate) fn observed(&self) -> Vec<Value> {
        let kept = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().cloned().collect()
    }

    /// Locks the state. A panic while locked cannot leave it inconsistent in a way that matters
    /// to an emulator, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the fault for a request to `endpoint`, counting it. Session-level chaos is applied
    /// to the requesting session here (the request is then processed normally and meets the
    /// consequences); a broken response drawn by chaos is returned armed and counted only if a
    /// connect of the request delivers events.
    pub(crate) fn take_fault(&self, endpoint: Endpoint, request: &RequestInfo<'_>) -> Injection {
        let mut st = self.lock();
        let Some((name, drawn)) = st.faults.take(endpoint, &request.shape) else {
            return Injection::None;
        };
        if let Drawn::Broken(broken) = drawn {
            return Injection::Broken(broken);
        }
        st.count_fault(name);
        match drawn {
            Drawn::Request(fault) => Injection::Request(fault),
            Drawn::Session(fault) => {
                if let Some(client_id) = request.client_id {
                    st.apply_session_fault(&self.settings, fault, client_id, request.token);
                }
                Injection::None
            }
            Drawn::Broken(broken) => Injection::Broken(broken),
        }
    }

    /// Adds to `errors_sent`.
    pub(crate) fn count_errors(&self, n: u64) {
        if n > 0 {
            self.lock().totals.errors_sent += n;
        }
    }
}

/// What a request looks like to fault injection.
#[derive(Debug, Default)]
pub(crate) struct RequestInfo<'a> {
    pub(crate) shape: RequestShape,
    /// The client id of the request's first message that names a live session.
    pub(crate) client_id: Option<&'a str>,
    pub(crate) token: Option<&'a str>,
}

/// What a request gets from fault injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injection {
    None,
    /// A request-level fault.
    Request(Fault),
    /// A broken response if a connect of the request delivers events.
    Broken(Broken),
}

/// Everything that changes while the emulator runs.
pub(crate) struct State {
    pub(crate) rng: Rng,
    /// Valid access tokens.
    pub(crate) tokens: HashSet<String>,
    pub(crate) sessions: HashMap<String, Session>,
    /// Sessions ended by the control API, with the answer their next request gets.
    pub(crate) tombstones: HashMap<String, Tombstone>,
    pub(crate) channels: BTreeMap<String, Channel>,
    pub(crate) faults: Faults,
    pub(crate) totals: Totals,
    pub(crate) clients: BTreeMap<String, ClientStats>,
}

impl State {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: util::rng_from_seed(seed),
            tokens: HashSet::new(),
            sessions: HashMap::new(),
            tombstones: HashMap::new(),
            channels: BTreeMap::new(),
            faults: Faults::default(),
            totals: Totals::default(),
            clients: BTreeMap::new(),
        }
    }

    /// Counts a session about to start in the high-water mark of live sessions.
    pub(crate) fn note_new_session(&mut self) {
        let live = self.sessions.len() as u64 + 1;
        self.totals.max_active_sessions = self.totals.max_active_sessions.max(live);
    }

    /// Starts the high-water mark of live sessions again from the sessions live now.
    pub(crate) fn reset_max_active_sessions(&mut self, settings: &Settings) -> u64 {
        self.sweep(settings, Instant::now());
        let live = self.sessions.len() as u64;
        self.totals.max_active_sessions = live;
        live
    }

    /// A fresh access token, valid until revoked.
    pub(crate) fn issue_token(&mut self, org_id: &str) -> String {
        let token = format!("{org_id}!AR{}", util::alnum(&mut self.rng, 94));
        self.tokens.insert(token.clone());
        token
    }

    /// Revokes every access token and wakes held polls so that they answer 401 at once. With
    /// `end_sessions`, every session ends too (its next request with a new token gets
    /// `403::Unknown client`).
    pub(crate) fn revoke_tokens(&mut self, end_sessions: bool) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        if end_sessions {
            self.end_sessions(Tombstone::dropped(Reconnect::Handshake));
        }
        for s in self.sessions.values() {
            s.notify.notify_waiters();
        }
        n
    }

    /// Revokes one access token; with `end_sessions`, the sessions whose last request used it
    /// end too.
    pub(crate) fn revoke_token(&mut self, token: &str, end_sessions: bool) {
        self.tokens.remove(token);
        let users: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.token.as_deref() == Some(token))
            .map(|(id, _)| id.clone())
            .collect();
        for id in users {
            if end_sessions {
                self.end_session(&id, Tombstone::dropped(Reconnect::Handshake));
            } else if let Some(s) = self.sessions.get(&id) {
                s.notify.notify_waiters();
            }
        }
    }

    /// Gives every live session new affinity, as when the load balancer's routing cookie no
    /// longer leads to the node that holds it: the next request of each gets
    /// `403::Unknown client` and new cookies, and the session is gone. Returns how many.
    pub(crate) fn reroute_sessions(&mut self) -> usize {
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in &ids {
            self.reroute_session(id);
        }
        ids.len()
    }

    fn reroute_session(&mut self, client_id: &str) {
        let proxy_id = util::hex(&mut self.rng, 16);
        if let Some(s) = self.sessions.get_mut(client_id) {
            s.proxy_id = proxy_id;
        }
    }

    /// Applies a chaos session fault to `client_id`'s session.
    fn apply_session_fault(
        &mut self,
        settings: &Settings,
        fault: SessionFault,
        client_id: &str,
        token: Option<&str>,
    ) {
        let ends = settings.revoked_token_ends_sessions;
        match fault {
            SessionFault::RevokeToken => {
                if let Some(t) = token {
                    self.revoke_token(t, ends);
                }
            }
            SessionFault::DropHandshake => {
                self.end_session(client_id, Tombstone::dropped(Reconnect::Handshake));
            }
            SessionFault::DropNone => {
                self.end_session(client_id, Tombstone::dropped(Reconnect::None));
            }
            SessionFault::PushDisconnectUnknownClient => {
                self.end_session(client_id, Tombstone::pushed(UNKNOWN_CLIENT));
            }
            SessionFault::PushDisconnectAuthenticationInvalid => {
                if let Some(t) = token {
                    self.revoke_token(t, ends);
                }
                self.end_session(client_id, Tombstone::pushed(AUTH_INVALID));
            }
            SessionFault::Reroute => self.reroute_session(client_id),
        }
    }

    /// Counts one injected fault under `name`.
    pub(crate) fn count_fault(&mut self, name: String) {
        self.totals.faults_injected += 1;
        *self.totals.faults_by_kind.entry(name).or_default() += 1;
    }

    /// The live session `client_id`; a session past its reconnect deadline is removed here, so
    /// the deadline holds exactly even between sweeps.
    pub(crate) fn live_session(&mut self, client_id: &str, now: Instant) -> Option<&mut Session> {
        if self.sessions.get(client_id).is_some_and(|s| s.expired(now)) {
            self.remove_session(client_id);
        }
        self.sessions.get_mut(client_id)
    }

    /// Removes a session and wakes its held poll.
    pub(crate) fn remove_session(&mut self, client_id: &str) -> Option<Session> {
        let session = self.sessions.remove(client_id)?;
        session.notify.notify_waiters();
        if let Some(c) = self.clients.get_mut(client_id) {
            c.active = false;
        }
        Some(session)
    }

    /// Ends one session with a tombstone (replacing an earlier one); false if it was not live.
    pub(crate) fn end_session(&mut self, client_id: &str, tombstone: Tombstone) -> bool {
        let live = self.remove_session(client_id).is_some();
        if live || self.tombstones.contains_key(client_id) {
            self.tombstones.insert(client_id.to_owned(), tombstone);
        }
        live
    }

    /// Ends every session with a tombstone; returns how many.
    pub(crate) fn end_sessions(&mut self, tombstone: Tombstone) -> usize {
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in &ids {
            self.end_session(id, tombstone);
        }
        ids.len()
    }

    /// Removes expired sessions and prunes channel logs.
    pub(crate) fn sweep(&mut self, settings: &Settings, now: Instant) {
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expired(now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_session(&id);
        }
        for ch in self.channels.values_mut() {
            ch.prune(now, settings.retention, settings.max_retained_events);
        }
    }

    /// Creates a channel (idempotent).
    pub(crate) fn create_channel(&mut self, name: &str) -> Result<ChannelKind, Error> {
        if let Some(ch) = self.channels.get(name) {
            return Ok(ch.kind);
        }
        let kind = ChannelKind::of(name).ok_or_else(|| Error::InvalidChannel(name.to_owned()))?;
        let channel = Channel::new(name, kind, &mut self.rng);
        self.channels.insert(name.to_owned(), channel);
        Ok(kind)
    }

    /// Makes sure a channel exists, creating it if the settings allow; `Ok(false)` when the
    /// channel does not exist.
    pub(crate) fn ensure_channel(&mut self, settings: &Settings, name: &str) -> bool {
        self.channels.contains_key(name)
            || (settings.auto_create_channels && self.create_channel(name).is_ok())
    }

    fn existing_channel(&mut self, settings: &Settings, name: &str) -> Result<(), Error> {
        if self.ensure_channel(settings, name) {
            Ok(())
        } else if ChannelKind::of(name).is_none() {
            Err(Error::InvalidChannel(name.to_owned()))
        } else {
            Err(Error::UnknownChannel(name.to_owned()))
        }
    }

    /// Publishes one event (a `None` payload is generated) and queues it for subscribers.
    pub(crate) fn publish(
        &mut self,
        settings: &Settings,
        name: &str,
        payload: Option<Value>,
    ) -> Result<i64, Error> {
        self.existing_channel(settings, name)?;
        let now = Instant::now();
        let Self {
            channels,
            rng,
            sessions,
            totals,
            ..
        } = self;
        let Some(channel) = channels.get_mut(name) else {
            return Err(Error::UnknownChannel(name.to_owned()));
        };
        channel.prune(now, settings.retention, settings.max_retained_events);
        let replay_id = channel.next_replay_id(rng);
        channel.published += 1;
        let ctx = EventContext {
            replay_id,
            now_ms: util::now_millis(),
            seq: channel.published,
            user_id: &settings.user_id,
        };
        let data: Arc<str> = Arc::from(events::build_data(channel, &ctx, payload, rng));
        channel.log.push_back(crate::channels::Stored {
            replay_id,
            at: now,
            data: Arc::clone(&data),
        });
        channel.prune(now, settings.retention, settings.max_retained_events);
        for session in sessions.values_mut() {
            if session.subscriptions.contains_key(name) {
                session.queue.push_back(Queued::Event {
                    channel: Arc::clone(&channel.name),
                    kind: channel.kind,
                    replay_id,
                    data: Arc::clone(&data),
                });
                session.notify.notify_waiters();
            }
        }
        totals.events_published += 1;
        Ok(replay_id)
    }

    /// Public check used by bulk publishing.
    pub(crate) fn require_channel(&mut self, settings: &Settings, name: &str) -> Result<(), Error> {
        self.existing_channel(settings, name)
    }

    /// Records a delivery to `client_id`.
    pub(crate) fn record_delivery(
        &mut self,
        client_id: &str,
        delivered: usize,
        last: BTreeMap<Arc<str>, i64>,
    ) {
        if delivered == 0 {
            return;
        }
        let entry = self.clients.entry(client_id.to_owned()).or_default();
        entry.delivered += delivered as u64;
        for (channel, id) in last {
            entry.last_replay_ids.insert(channel.to_string(), id);
        }
    }

    /// Records a broken response that took `lost` events from `client_id`.
    pub(crate) fn record_broken(&mut self, client_id: &str, lost: usize, broken: Broken) {
        self.count_fault(broken.name().to_owned());
        self.totals.broken_responses += 1;
        self.totals.events_lost_in_broken_responses += lost as u64;
        self.clients
            .entry(client_id.to_owned())
            .or_default()
            .lost_in_broken_responses += lost as u64;
    }

    /// A statistics snapshot.
    pub(crate) fn stats(&self) -> Stats {
        let mut clients = self.clients.clone();
        for (id, c) in &mut clients {
            match self.sessions.get(id) {
                Some(s) => {
                    c.active = true;
                    c.subscriptions = s.subscriptions.values().cloned().collect();
                }
                None => {
                    c.active = false;
                    c.subscriptions.clear();
                }
            }
        }
        let mut totals = self.totals.clone();
        totals.active_sessions = self.sessions.len() as u64;
        Stats { totals, clients }
    }
}
