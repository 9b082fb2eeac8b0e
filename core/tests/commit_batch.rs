//! Committing processed messages together: a batch, or a prefix of it, commits for each channel
//! its last message there (and so every earlier one of that channel); channels it does not hold
//! stay where they were.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{Batch, CommitPolicy, Committable, RequestKind};

const A: &str = "/event/A__e";
const B: &str = "/event/B__e";

/// A session under the manual policy on `A` and `B`, with these events delivered and taken.
fn taken(events: &[(&str, i64)]) -> (Scenario, Batch) {
    let mut config = token_config();
    config.commit = CommitPolicy::Manual;
    let mut sc = Scenario::connected(config, &[A, B]);
    let poll = sc.next(RequestKind::Connect);
    let mut body: Vec<_> = events.iter().map(|(c, id)| event_msg(c, *id)).collect();
    body.push(connect_ok());
    sc.reply(&poll, json!(body));
    let batch = Batch::from(sc.messages());
    assert_eq!(batch.len(), events.len());
    (sc, batch)
}

#[test]
fn a_prefix_commits_each_channel_up_to_its_last_message_in_it() {
    let (mut sc, batch) = taken(&[(A, 1), (B, 10), (A, 2), (B, 11), (A, 3)]);
    assert_eq!(sc.s.committed(A), None, "manual: taking is not committing");
    sc.s.commit_processed(&batch[..=2]).unwrap();
    assert_eq!((sc.s.committed(A), sc.s.committed(B)), (Some(2), Some(10)));
    sc.s.commit_processed(&batch).unwrap();
    assert_eq!((sc.s.committed(A), sc.s.committed(B)), (Some(3), Some(11)));
}

#[test]
fn positions_are_per_channel_in_order_of_appearance() {
    let (_sc, batch) = taken(&[(B, 10), (A, 1), (B, 12), (A, 2)]);
    assert_eq!(batch.replay_positions().unwrap(), vec![(B, 12), (A, 2)]);
    assert_eq!(
        batch[..2].replay_positions().unwrap(),
        vec![(B, 10), (A, 1)]
    );
    assert_eq!(batch[0].replay_positions().unwrap(), vec![(B, 10)]);
    let empty: &[sfstream_core::Message] = &[];
    assert!(empty.replay_positions().unwrap().is_empty());
}

#[test]
fn a_channel_no_longer_subscribed_does_not_stop_the_others() {
    let (mut sc, batch) = taken(&[(A, 1), (B, 10)]);
    sc.s.unsubscribe(A, sc.now).unwrap();
    let _poll = sc.next(RequestKind::Connect);
    let unsub = sc.next(RequestKind::Control);
    sc.reply_ok(&unsub);
    let e = sc.s.commit_processed(&batch).unwrap_err();
    assert!(e.to_string().contains(A), "{e}");
    assert_eq!(sc.s.committed(B), Some(10));
}

#[test]
fn under_the_automatic_policy_even_an_empty_batch_says_so() {
    let mut sc = Scenario::connected(token_config(), &[A]);
    let e = sc.s.commit_processed(&Batch::default()).unwrap_err();
    assert!(matches!(e, sfstream_core::Error::AutomaticCommit), "{e:?}");
}
