//! Streaming channels: their kinds, their event logs, replay ids and the retention window.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::util::{self, Rng};

/// The kind of a streaming channel, which decides the shape of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelKind {
    /// `/topic/Name`: PushTopic events (`data.event.type`, `data.sobject`).
    PushTopic,
    /// `/u/Name`: generic streaming (`data.payload` is a string).
    Generic,
    /// `/event/Name__e` (also standard events and `__chn` channels): Platform Events.
    PlatformEvent,
    /// `/data/ChangeEvents`, `/data/ObjectChangeEvent`, `/data/Name__chn`: Change Data Capture.
    ChangeDataCapture,
}

impl ChannelKind {
    /// The kind of a channel name, or `None` when the name is not a streaming channel.
    ///
    /// Names are case-sensitive and must not contain wildcards, white space or a `?` filter.
    pub fn of(name: &str) -> Option<Self> {
        if name.is_empty()
            || name
                .chars()
                .any(|c| c.is_whitespace() || c == '*' || c == '?' || c.is_control())
            || name.ends_with('/')
        {
            return None;
        }
        let single = |rest: &str| !rest.is_empty() && !rest.contains('/');
        if let Some(rest) = name.strip_prefix("/topic/") {
            single(rest).then_some(Self::PushTopic)
        } else if let Some(rest) = name.strip_prefix("/event/") {
            single(rest).then_some(Self::PlatformEvent)
        } else if let Some(rest) = name.strip_prefix("/data/") {
            let cdc = rest == "ChangeEvents"
                || (rest.len() > "ChangeEvent".len() && rest.ends_with("ChangeEvent"))
                || (rest.len() > "__chn".len() && rest.ends_with("__chn"));
            (single(rest) && cdc).then_some(Self::ChangeDataCapture)
        } else if let Some(rest) = name.strip_prefix("/u/") {
            (!rest.is_empty() && !rest.contains("//")).then_some(Self::Generic)
        } else {
            None
        }
    }

    /// Whether event messages of this kind carry the receiving `clientId` (PushTopic, generic).
    pub(crate) fn carries_client_id(self) -> bool {
        matches!(self, Self::PushTopic | Self::Generic)
    }
}

/// One retained event.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) replay_id: i64,
    pub(crate) at: Instant,
    /// The serialised `data` object.
    pub(crate) data: Arc<str>,
}

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplayFrom {
    /// `-1`: only events published after the subscription.
    New,
    /// `-2`: every retained event, then new ones.
    All,
    /// Every retained event after this id (exclusive), then new ones.
    After(i64),
}

/// A channel and its log.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) name: Arc<str>,
    pub(crate) kind: ChannelKind,
    /// The schema id of Platform Event and CDC messages.
    pub(crate) schema: String,
    pub(crate) log: VecDeque<Stored>,
    /// The last replay id handed out (0 before the first event).
    pub(crate) last_replay_id: i64,
    /// How many events were published, for generated payloads and commit numbers.
    pub(crate) published: u64,
    /// This channel's own retention, set through the control API; `None` uses the emulator's.
    pub(crate) retention: Option<Duration>,
}

impl Channel {
    pub(crate) fn new(name: &str, kind: ChannelKind, rng: &mut Rng) -> Self {
        Self {
            name: Arc::from(name),
            kind,
            schema: util::alnum(rng, 22),
            log: VecDeque::new(),
            // Start somewhere arbitrary: clients must not assume ids start at 1.
            last_replay_id: i64::try_from(util::below(rng, 1000)).unwrap_or(0),
            published: 0,
            retention: None,
        }
    }

    /// The next replay id: larger than the last one by a random step of 2 to 17, so ids increase
    /// but are never contiguous.
    pub(crate) fn next_replay_id(&mut self, rng: &mut Rng) -> i64 {
        let step = 2 + i64::try_from(util::below(rng, 16)).unwrap_or(0);
        self.last_replay_id = self.last_replay_id.saturating_add(step);
        self.last_replay_id
    }

    /// Drops events older than the channel's retention (`retention` unless the channel has its
    /// own) and the oldest events beyond `max_events`.
    pub(crate) fn prune(&mut self, now: Instant, retention: Duration, max_events: usize) {
        let retention = self.retention.unwrap_or(retention);
        while let Some(front) = self.log.front() {
            let expired = now.saturating_duration_since(front.at) >= retention;
            if expired || self.log.len() > max_events {
                self.log.pop_front();
            } else {
                break;
            }
        }
    }

    /// Drops retained events up to and including `through` (every one with `None`), as if
    /// their retention had passed; returns how many.
    pub(crate) fn expire(&mut self, through: Option<i64>) -> usize {
        let n = through.map_or(self.log.len(), |id| {
            self.log.partition_point(|s| s.replay_id <= id)
        });
        self.log.drain(..n);
        n
    }

    /// Whether `replay_id` can start a subscription: only an id that is still retained can.
    pub(crate) fn is_retained(&self, replay_id: i64) -> bool {
        self.log
            .binary_search_by_key(&replay_id, |s| s.replay_id)
            .is_ok()
    }

    /// The retained events a subscription starting at `from` receives at once.
    pub(crate) fn backlog(&self, from: ReplayFrom) -> impl Iterator<Item = &Stored> {
        let skip = match from {
            ReplayFrom::New => self.log.len(),
            ReplayFrom::All => 0,
            ReplayFrom::After(id) => self.log.partition_point(|s| s.replay_id <= id),
        };
        self.log.iter().skip(skip)
    }
}

/// The channel part of a subscription: `/topic/X?Field='v'` subscribes to `/topic/X`.
pub(crate) fn strip_filter(subscription: &str) -> &str {
    subscription
        .split_once('?')
        .map_or(subscription, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_classified() {
        assert_eq!(
            ChannelKind::of("/topic/AccountUpdates"),
            Some(ChannelKind::PushTopic)
        );
        assert_eq!(
            ChannelKind::of("/event/Order__e"),
            Some(ChannelKind::PlatformEvent)
        );
        assert_eq!(
            ChannelKind::of("/event/BatchApexErrorEvent"),
            Some(ChannelKind::PlatformEvent)
        );
        assert_eq!(
            ChannelKind::of("/data/ChangeEvents"),
            Some(ChannelKind::ChangeDataCapture)
        );
        assert_eq!(
            ChannelKind::of("/data/Thing__ChangeEvent"),
            Some(ChannelKind::ChangeDataCapture)
        );
        assert_eq!(
            ChannelKind::of("/u/notifications/GenericStreamingChannel"),
            Some(ChannelKind::Generic)
        );
        for bad in [
            "/data/Account",
            "/topic/",
            "/topic/a/b",
            "/meta/connect",
            "/topic/*",
            "x",
        ] {
            assert_eq!(ChannelKind::of(bad), None, "{bad}");
        }
    }

    #[test]
    fn replay_ids_increase_with_gaps_and_backlog_is_exclusive() {
        let mut rng = util::rng_from_seed(1);
        let mut ch = Channel::new("/event/X__e", ChannelKind::PlatformEvent, &mut rng);
        let now = Instant::now();
        let ids: Vec<i64> = (0..20).map(|_| ch.next_replay_id(&mut rng)).collect();
        for id in &ids {
            ch.log.push_back(Stored {
                replay_id: *id,
                at: now,
                data: Arc::from("{}"),
            });
        }
        assert!(ids.windows(2).all(|w| w[1] - w[0] >= 2));
        assert_eq!(ch.backlog(ReplayFrom::After(ids[4])).count(), 15);
        assert_eq!(ch.backlog(ReplayFrom::All).count(), 20);
        assert_eq!(ch.backlog(ReplayFrom::New).count(), 0);
        assert!(ch.is_retained(ids[3]) && !ch.is_retained(ids[3] + 1));
        ch.prune(now, Duration::from_secs(60), 5);
        assert_eq!(ch.log.len(), 5);
    }
}
