//! The control queue: subscribe and unsubscribe messages waiting for the control slot.
//!
//! The rules, all kept here:
//! - Operations go out in the order they were queued, batched into one request whose body stays
//!   under [`MAX_REQUEST_BYTES`] (Salesforce refuses a larger one with a 413); an operation too
//!   large to share a batch goes alone.
//! - After a failed control request the queue waits (the backoff's delay) before the next batch.
//! - A request's operations meet one of two fates. **Retry** ([`ControlQueue::retry`]): the
//!   request failed on a session that lives on, so its operations go back to the front of the
//!   queue, in order, except a subscription the application gave up meanwhile. **Abandon**
//!   ([`abandon`]): the request belongs to a session that is gone, so its operations are never
//!   sent again: each channel waits for the next session's subscriptions, and an unsubscribe is
//!   done (the new session never had that subscription).
//!
//! The session decides when the control slot is free (one control request in flight at a time,
//! beside the long poll) and what the replies mean; this queue never looks at the session.

use std::collections::VecDeque;
use std::time::Instant;

use crate::bayeux::{self, MAX_REQUEST_BYTES, Outgoing};
use crate::config::ReplayFrom;
use crate::extension::Extensions;

/// One subscribe or unsubscribe message, before it has a message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ControlOp {
    Subscribe {
        channel: String,
        from: ReplayFrom,
    },
    /// `refetch`: part of a re-fetch after an overflow; the channel is subscribed again once the
    /// server confirms it.
    Unsubscribe {
        channel: String,
        refetch: bool,
    },
}

/// The operations of a control request, each under the id of its message.
pub(super) type SentOps = Vec<(String, ControlOp)>;

/// Bayeux message ids: `1`, `2`, … for the life of a session.
#[derive(Debug)]
pub(super) struct MessageIds {
    next: u64,
}

impl Default for MessageIds {
    fn default() -> Self {
        Self { next: 1 }
    }
}

impl MessageIds {
    pub(super) fn next_id(&mut self) -> String {
        let id = self.next.to_string();
        self.next += 1;
        id
    }
}

/// A control request's body and what it carries.
#[derive(Debug)]
pub(super) struct Batch {
    pub(super) body: Vec<u8>,
    pub(super) ops: SentOps,
}

/// Operations waiting to be sent, and until when the queue waits after a failure.
#[derive(Debug, Default)]
pub(super) struct ControlQueue {
    ops: VecDeque<ControlOp>,
    wait: Option<Instant>,
}

impl ControlQueue {
    pub(super) fn subscribe(&mut self, channel: String, from: ReplayFrom) {
        self.ops.push_back(ControlOp::Subscribe { channel, from });
    }

    pub(super) fn unsubscribe(&mut self, channel: String, refetch: bool) {
        self.ops
            .push_back(ControlOp::Unsubscribe { channel, refetch });
    }

    /// Drops a queued subscription of `channel` (the application unsubscribed before it went out).
    pub(super) fn forget_subscribe(&mut self, channel: &str) {
        self.ops
            .retain(|op| !matches!(op, ControlOp::Subscribe { channel: c, .. } if c == channel));
    }

    /// Drops every queued operation: they were meant for a session that is ending, or that a
    /// new one replaces.
    pub(super) fn clear(&mut self) {
        self.ops.clear();
    }

    /// Drops every queued operation and the wait after a failure: the session starts over.
    pub(super) fn reset(&mut self) {
        self.ops.clear();
        self.wait = None;
    }

    /// Holds the next batch back until `at` (after a failure, by the backoff's delay).
    pub(super) fn wait_until(&mut self, at: Instant) {
        self.wait = Some(at);
    }

    /// Until when the next batch is held back, if it is.
    pub(super) fn waits_until(&self) -> Option<Instant> {
        self.wait
    }

    /// A control request failed on a session that lives on: its operations go back to the front
    /// of the queue, in their order — but not a subscribe (or a re-fetch's unsubscribe) of a
    /// channel that `is_subscribed` no longer knows. A plain unsubscribe is always sent again.
    pub(super) fn retry(&mut self, ops: SentOps, is_subscribed: impl Fn(&str) -> bool) {
        for (_, op) in ops.into_iter().rev() {
            let keep = match &op {
                ControlOp::Subscribe { channel, .. } => is_subscribed(channel),
                ControlOp::Unsubscribe { channel, refetch } => !refetch || is_subscribed(channel),
            };
            if keep {
                self.ops.push_front(op);
            }
        }
    }

    /// The next batch, if any waits and the wait after a failure has passed: as many operations
    /// as fit under [`MAX_REQUEST_BYTES`], in order, each given a message id. Nothing goes out
    /// without a client id (between sessions); the wait is over all the same.
    pub(super) fn next_batch(
        &mut self,
        now: Instant,
        client_id: Option<&str>,
        uses_replay: bool,
        ids: &mut MessageIds,
        extensions: &Extensions,
    ) -> Option<Batch> {
        if self.ops.is_empty() || self.wait.is_some_and(|w| w > now) {
            return None;
        }
        self.wait = None;
        let client_id = client_id?;
        let mut texts = Vec::new();
        let mut ops = Vec::new();
        // The brackets, then each message and its separator.
        let mut size = 2;
        while let Some(op) = self.ops.front() {
            let id = ids.next_id();
            let text = extensions.outgoing(match op {
                ControlOp::Subscribe { channel, from } => {
                    let replay = uses_replay.then(|| from.wire_value());
                    Outgoing::subscribe(&id, client_id, channel, replay)
                }
                ControlOp::Unsubscribe { channel, .. } => {
                    Outgoing::unsubscribe(&id, client_id, channel)
                }
            });
            if size + text.len() + 1 > MAX_REQUEST_BYTES && !texts.is_empty() {
                break;
            }
            let Some(op) = self.ops.pop_front() else {
                break;
            };
            size += text.len() + 1;
            texts.push(text);
            ops.push((id, op));
        }
        let body = bayeux::batch(texts.iter().map(String::as_str));
        Some(Batch { body, ops })
    }
}

/// What becomes of an abandoned request's operation.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Abandoned {
    /// The channel waits for the next session, which subscribes it again.
    Waits(String),
    /// The unsubscribe is done: the next session never has the subscription.
    Unsubscribed(String),
}

/// The operations of a request whose session is gone, last first: they are never sent again.
pub(super) fn abandon(ops: SentOps) -> impl Iterator<Item = Abandoned> {
    ops.into_iter().rev().map(|(_, op)| match op {
        ControlOp::Subscribe { channel, .. }
        | ControlOp::Unsubscribe {
            channel,
            refetch: true,
        } => Abandoned::Waits(channel),
        ControlOp::Unsubscribe {
            channel,
            refetch: false,
        } => Abandoned::Unsubscribed(channel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Instant {
        crate::time::test_origin()
    }

    fn channels(batch: &Batch) -> Vec<String> {
        batch
            .ops
            .iter()
            .map(|(_, op)| match op {
                ControlOp::Subscribe { channel, .. } | ControlOp::Unsubscribe { channel, .. } => {
                    channel.clone()
                }
            })
            .collect()
    }

    #[test]
    fn batches_stay_under_the_request_limit_and_keep_the_order() {
        let now = start();
        let mut q = ControlQueue::default();
        let names: Vec<String> = (0..1000)
            .map(|i| format!("/event/A_rather_long_platform_event_name_number_{i:04}__e"))
            .collect();
        for name in &names {
            q.subscribe(name.clone(), ReplayFrom::Id(123_456_789));
        }
        let mut ids = MessageIds::default();
        let mut sent = Vec::new();
        let mut batches = 0;
        while let Some(batch) =
            q.next_batch(now, Some("client"), true, &mut ids, &Extensions::default())
        {
            assert!(
                batch.body.len() <= MAX_REQUEST_BYTES,
                "{}",
                batch.body.len()
            );
            let v: serde_json::Value = serde_json::from_slice(&batch.body).unwrap();
            assert_eq!(v.as_array().unwrap().len(), batch.ops.len());
            sent.extend(channels(&batch));
            batches += 1;
        }
        assert!(batches > 1, "1000 subscriptions need several requests");
        assert_eq!(sent, names);
    }

    #[test]
    fn a_failure_holds_the_next_batch_until_the_wait_is_over() {
        let now = start();
        let mut q = ControlQueue::default();
        let mut ids = MessageIds::default();
        q.unsubscribe("/event/A".into(), false);
        q.wait_until(now + std::time::Duration::from_secs(2));
        assert!(
            q.next_batch(now, Some("c"), true, &mut ids, &Extensions::default())
                .is_none()
        );
        assert!(q.waits_until().is_some());
        let later = now + std::time::Duration::from_secs(2);
        let batch = q
            .next_batch(later, Some("c"), true, &mut ids, &Extensions::default())
            .unwrap();
        assert_eq!(channels(&batch), ["/event/A"]);
        assert_eq!(q.waits_until(), None);
    }

    #[test]
    fn without_a_client_id_nothing_goes_out_and_nothing_is_lost() {
        let now = start();
        let mut q = ControlQueue::default();
        let mut ids = MessageIds::default();
        q.subscribe("/event/A".into(), ReplayFrom::New);
        assert!(
            q.next_batch(now, None, true, &mut ids, &Extensions::default())
                .is_none()
        );
        let batch = q
            .next_batch(now, Some("c"), true, &mut ids, &Extensions::default())
            .unwrap();
        assert_eq!(channels(&batch), ["/event/A"]);
    }

    #[test]
    fn retry_puts_what_is_still_wanted_back_in_front_in_order() {
        let now = start();
        let mut q = ControlQueue::default();
        let mut ids = MessageIds::default();
        q.subscribe("/event/A".into(), ReplayFrom::New);
        q.subscribe("/event/Gone".into(), ReplayFrom::New);
        q.unsubscribe("/event/B".into(), false);
        q.unsubscribe("/event/Gone2".into(), true);
        let batch = q
            .next_batch(now, Some("c"), true, &mut ids, &Extensions::default())
            .unwrap();
        q.subscribe("/event/Later".into(), ReplayFrom::New);
        q.retry(batch.ops, |c| !c.starts_with("/event/Gone"));
        let again = q
            .next_batch(now, Some("c"), true, &mut ids, &Extensions::default())
            .unwrap();
        assert_eq!(channels(&again), ["/event/A", "/event/B", "/event/Later"]);
        assert_eq!(
            again.ops[0].0, "5",
            "message ids are never reused: a retried operation gets a new one"
        );
    }

    #[test]
    fn abandoned_operations_are_never_sent_again() {
        let ops = vec![
            (
                "1".to_owned(),
                ControlOp::Subscribe {
                    channel: "/event/A".into(),
                    from: ReplayFrom::New,
                },
            ),
            (
                "2".to_owned(),
                ControlOp::Unsubscribe {
                    channel: "/event/B".into(),
                    refetch: false,
                },
            ),
            (
                "3".to_owned(),
                ControlOp::Unsubscribe {
                    channel: "/event/C".into(),
                    refetch: true,
                },
            ),
        ];
        let fates: Vec<Abandoned> = abandon(ops).collect();
        assert_eq!(
            fates,
            [
                Abandoned::Waits("/event/C".into()),
                Abandoned::Unsubscribed("/event/B".into()),
                Abandoned::Waits("/event/A".into()),
            ]
        );
    }

    #[test]
    fn forgetting_a_subscribe_leaves_the_rest() {
        let now = start();
        let mut q = ControlQueue::default();
        let mut ids = MessageIds::default();
        q.subscribe("/event/A".into(), ReplayFrom::New);
        q.unsubscribe("/event/A".into(), false);
        q.subscribe("/event/B".into(), ReplayFrom::New);
        q.forget_subscribe("/event/A");
        let batch = q
            .next_batch(now, Some("c"), true, &mut ids, &Extensions::default())
            .unwrap();
        assert_eq!(
            batch
                .ops
                .iter()
                .map(|(_, op)| op.clone())
                .collect::<Vec<_>>(),
            [
                ControlOp::Unsubscribe {
                    channel: "/event/A".into(),
                    refetch: false
                },
                ControlOp::Subscribe {
                    channel: "/event/B".into(),
                    from: ReplayFrom::New
                },
            ]
        );
    }
}
