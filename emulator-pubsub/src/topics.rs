//! One topic's retained events and replay positions.
//!
//! Replay ids are positions in the topic: 8-byte big-endian integers that grow by a seeded step
//! of 2–17, so they increase strictly and have gaps. A position is valid for `CUSTOM` replay and
//! commits when it is a retained event's id or the topic's tip (the newest id handed out, which
//! keepalives report). Retention drops events past their age; a reset (an org migration)
//! renumbers everything, so every id handed out before it is unknown afterwards.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use crate::avro_json::ParsedSchema;
use crate::schema::TopicKind;
use crate::util::{self, Rng};

/// One retained event.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub(crate) replay: u64,
    pub(crate) id: String,
    pub(crate) schema_id: String,
    pub(crate) payload: Bytes,
    pub(crate) published_ms: u64,
}

/// The current schema of a topic.
#[derive(Clone, Debug)]
pub(crate) struct CurrentSchema {
    pub(crate) id: String,
    pub(crate) parsed: Arc<ParsedSchema>,
}

#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) kind: TopicKind,
    /// `None` for `/data/ChangeEvents`, which carries its members' schemas.
    pub(crate) schema: Option<CurrentSchema>,
    pub(crate) events: VecDeque<Arc<StoredEvent>>,
    /// The newest position handed out (an event id, or the start position of an empty topic).
    pub(crate) tip: u64,
    /// Bumped by a reset; open streams of an older epoch end.
    pub(crate) epoch: u64,
}

fn step(rng: &mut Rng) -> u64 {
    2 + util::below(rng, 16)
}

impl Topic {
    pub(crate) fn new(kind: TopicKind, schema: Option<CurrentSchema>, rng: &mut Rng) -> Self {
        Self {
            kind,
            schema,
            events: VecDeque::new(),
            tip: 1000 + util::below(rng, 1_000_000),
            epoch: 0,
        }
    }

    /// Appends an event and returns its replay id.
    pub(crate) fn append(
        &mut self,
        id: String,
        schema_id: String,
        payload: Bytes,
        now_ms: u64,
        rng: &mut Rng,
    ) -> u64 {
        self.tip += step(rng);
        self.events.push_back(Arc::new(StoredEvent {
            replay: self.tip,
            id,
            schema_id,
            payload,
            published_ms: now_ms,
        }));
        self.tip
    }

    /// Drops events older than `retention_ms`; returns how many.
    pub(crate) fn purge(&mut self, now_ms: u64, retention_ms: u64) -> usize {
        let before = self.events.len();
        while self
            .events
            .front()
            .is_some_and(|e| e.published_ms.saturating_add(retention_ms) <= now_ms)
        {
            self.events.pop_front();
        }
        before - self.events.len()
    }

    /// Whether `replay` is a position a client may resume after.
    pub(crate) fn is_position(&self, replay: u64) -> bool {
        replay == self.tip
            || self
                .events
                .binary_search_by_key(&replay, |e| e.replay)
                .is_ok()
    }

    fn first_after(&self, cursor: Option<u64>) -> usize {
        match cursor {
            None => 0,
            Some(c) => self.events.partition_point(|e| e.replay <= c),
        }
    }

    /// Up to `max` events after `cursor` (all retained ones for `None`), at most `max_bytes` of
    /// payload unless the first alone is larger.
    pub(crate) fn batch_after(
        &self,
        cursor: Option<u64>,
        max: usize,
        max_bytes: usize,
    ) -> Vec<Arc<StoredEvent>> {
        let mut bytes = 0usize;
        let mut out = Vec::new();
        for e in self.events.iter().skip(self.first_after(cursor)).take(max) {
            bytes += e.payload.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(Arc::clone(e));
        }
        out
    }

    pub(crate) fn has_after(&self, cursor: Option<u64>) -> bool {
        self.first_after(cursor) < self.events.len()
    }

    /// The position `events` retained events before `cursor` (for duplicate delivery).
    pub(crate) fn back_from(&self, cursor: u64, events: u32) -> Option<u64> {
        let i = self.first_after(Some(cursor));
        let back = usize::try_from(events).unwrap_or(usize::MAX);
        i.checked_sub(back + 1)
            .and_then(|j| self.events.get(j))
            .map(|e| e.replay)
    }

    /// An org migration: every event gets a new id from a new base, old ids become unknown.
    pub(crate) fn reset(&mut self, rng: &mut Rng) {
        self.epoch += 1;
        let mut next = self.tip + (1 << 32) + util::below(rng, 1 << 20);
        let events = std::mem::take(&mut self.events);
        for e in events {
            next += step(rng);
            self.events.push_back(Arc::new(StoredEvent {
                replay: next,
                id: e.id.clone(),
                schema_id: e.schema_id.clone(),
                payload: e.payload.clone(),
                published_ms: e.published_ms,
            }));
        }
        self.tip = next + step(rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic_with(n: usize) -> (Topic, Vec<u64>) {
        let mut rng = util::rng_from_seed(3);
        let mut t = Topic::new(TopicKind::PlatformEvent, None, &mut rng);
        let ids = (0..n)
            .map(|i| {
                t.append(
                    format!("e{i}"),
                    "s".into(),
                    Bytes::new(),
                    i as u64 * 10,
                    &mut rng,
                )
            })
            .collect();
        (t, ids)
    }

    #[test]
    fn ids_increase_with_gaps_and_positions_are_exact() {
        let (t, ids) = topic_with(50);
        assert!(ids.windows(2).all(|w| w[1] >= w[0] + 2));
        assert!(ids.iter().all(|&id| t.is_position(id)));
        assert!(!t.is_position(ids[3] + 1));
        assert_eq!(t.tip, ids[49]);
    }

    #[test]
    fn purge_and_reset_invalidate_positions() {
        let (mut t, ids) = topic_with(10);
        assert_eq!(t.purge(100, 50), 6);
        assert!(!t.is_position(ids[0]));
        assert!(t.is_position(ids[6]));
        t.reset(&mut util::rng_from_seed(1));
        assert!(ids.iter().all(|&id| !t.is_position(id)));
        assert_eq!(t.events.len(), 4);
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let (t, ids) = topic_with(10);
        assert_eq!(t.batch_after(Some(ids[2]), 3, usize::MAX)[0].replay, ids[3]);
        assert_eq!(t.batch_after(None, 100, usize::MAX).len(), 10);
        assert_eq!(t.batch_after(Some(ids[9]), 100, usize::MAX).len(), 0);
        assert_eq!(t.back_from(ids[5], 2), Some(ids[3]));
    }
}
