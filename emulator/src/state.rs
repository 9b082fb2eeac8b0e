//! The emulator's shared state and the operations both the wire and the control API use.
//!
//! One mutex guards everything. It is held only for short, non-blocking sections and never
//! across an `.await`; held long polls wait on a per-session `Notify` instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::time::Instant;

use crate::channels::{Channel, ChannelKind};
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
}

impl Shared {
    pub(crate) fn new(settings: Settings, state: State) -> Self {
        Self {
            settings,
            state: Mutex::new(state),
        }
    }

    /// Locks the state. A panic while locked cannot leave it inconsistent in a way that matters
    /// to an emulator, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the fault for a request, counting it.
    pub(crate) fn take_fault(&self, endpoint: Endpoint, has_handshake: bool) -> Option<Fault> {
        let mut st = self.lock();
        let fault = st.faults.take(endpoint, has_handshake);
        if fault.is_some() {
            st.totals.faults_injected += 1;
        }
        fault
    }

    /// Adds to `errors_sent`.
    pub(crate) fn count_errors(&self, n: u64) {
        if n > 0 {
            self.lock().totals.errors_sent += n;
        }
    }
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

    /// A fresh access token, valid until revoked.
    pub(crate) fn issue_token(&mut self, org_id: &str) -> String {
        let token = format!("{org_id}!AR{}", util::alnum(&mut self.rng, 94));
        self.tokens.insert(token.clone());
        token
    }

    /// Revokes every access token and wakes held polls so that they answer 401 at once.
    pub(crate) fn revoke_tokens(&mut self) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        for s in self.sessions.values() {
            s.notify.notify_waiters();
        }
        n
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

    /// Ends every session with a tombstone; returns how many.
    pub(crate) fn end_sessions(&mut self, tombstone: Tombstone) -> usize {
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in &ids {
            self.remove_session(id);
            self.tombstones.insert(id.clone(), tombstone);
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
    pub(crate) fn record_broken(&mut self, client_id: &str, lost: usize) {
        self.totals.faults_injected += 1;
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
