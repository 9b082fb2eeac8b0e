//! Bayeux client sessions: cookies they were given, subscriptions and the event queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::bayeux::{Part, Reconnect};
use crate::channels::ChannelKind;
use crate::events;

/// An event waiting in a client's queue.
#[derive(Debug)]
pub(crate) enum Queued {
    /// One event; its message is assembled at delivery.
    Event {
        channel: Arc<str>,
        kind: ChannelKind,
        replay_id: i64,
        data: Arc<str>,
    },
    /// A pre-serialised batch of events from bulk mode.
    Batch {
        channel: Arc<str>,
        bytes: Bytes,
        count: usize,
        last_replay_id: i64,
    },
}

impl Queued {
    fn count(&self) -> usize {
        match self {
            Self::Event { .. } => 1,
            Self::Batch { count, .. } => *count,
        }
    }

    pub(crate) fn channel(&self) -> &str {
        match self {
            Self::Event { channel, .. } | Self::Batch { channel, .. } => channel,
        }
    }
}

/// What a session was ended with, remembered so that its next request gets the right answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tombstone {
    /// The `reconnect` advice of the `403::Unknown client` replies its requests get.
    pub(crate) reconnect: Reconnect,
    /// A server-pushed `/meta/disconnect` not yet delivered, with the error of the connect reply
    /// that comes with it (`403::Unknown client` or `401::Authentication invalid`).
    pub(crate) pushed_disconnect: Option<&'static str>,
}

impl Tombstone {
    /// A session dropped with this advice.
    pub(crate) fn dropped(reconnect: Reconnect) -> Self {
        Self {
            reconnect,
            pushed_disconnect: None,
        }
    }

    /// A session ended by a pushed `/meta/disconnect` whose connect reply carries `error`.
    pub(crate) fn pushed(error: &'static str) -> Self {
        Self {
            reconnect: Reconnect::None,
            pushed_disconnect: Some(error),
        }
    }
}

/// One handshaken client.
#[derive(Debug)]
pub(crate) struct Session {
    /// The `BAYEUX_BROWSER` cookie value given at handshake.
    pub(crate) browser_id: String,
    /// The `sfproxy-id` cookie value given at handshake (without quotes).
    pub(crate) proxy_id: String,
    /// Whether the first `/meta/connect` was answered (it carries the advice).
    pub(crate) connected: bool,
    /// Subscribed channel (without filter) → the subscription as sent.
    pub(crate) subscriptions: BTreeMap<String, String>,
    pub(crate) queue: VecDeque<Queued>,
    /// Woken when events arrive or the session's fate changes.
    pub(crate) notify: Arc<Notify>,
    /// Incremented by every connect; a held connect whose number is stale returns at once.
    pub(crate) poll_generation: u64,
    /// When the session expires if no connect arrives; `None` while a connect is held.
    pub(crate) expires_at: Option<Instant>,
    /// The access token of the session's last admitted request: revoking it ends the session.
    pub(crate) token: Option<String>,
}

impl Session {
    pub(crate) fn new(
        browser_id: String,
        proxy_id: String,
        expires_at: Instant,
        token: Option<String>,
    ) -> Self {
        Self {
            token,
            browser_id,
            proxy_id,
            connected: false,
            subscriptions: BTreeMap::new(),
            queue: VecDeque::new(),
            notify: Arc::new(Notify::new()),
            poll_generation: 0,
            expires_at: Some(expires_at),
        }
    }

    /// Whether the reconnect deadline has passed.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Takes up to `max` queued events (at least one item when any is queued) as response parts,
    /// and reports what was delivered: the count and the last replay id per channel.
    pub(crate) fn take_batch(
        &mut self,
        client_id: &str,
        max: usize,
    ) -> (Vec<Part>, usize, BTreeMap<Arc<str>, i64>) {
        let mut parts = Vec::new();
        let mut delivered = 0usize;
        let mut last: BTreeMap<Arc<str>, i64> = BTreeMap::new();
        while let Some(front) = self.queue.front() {
            if delivered > 0 && delivered + front.count() > max {
                break;
            }
            let Some(item) = self.queue.pop_front() else {
                break;
            };
            delivered += item.count();
            match item {
                Queued::Event {
                    channel,
                    kind,
                    replay_id,
                    data,
                } => {
                    parts.push(Part::Raw(events::message(kind, &channel, &data, client_id)));
                    last.insert(channel, replay_id);
                }
                Queued::Batch {
                    channel,
                    bytes,
                    last_replay_id,
                    ..
                } => {
                    parts.push(Part::Joined(bytes));
                    last.insert(channel, last_replay_id);
                }
            }
        }
        (parts, delivered, last)
    }

    /// Forgets queued, undelivered events of `channel` (after an unsubscribe or a resubscribe).
    pub(crate) fn purge(&mut self, channel: &str) {
        self.queue.retain(|q| q.channel() != channel);
    }
}
