//! Pub/Sub keepalives: a keepalive's `latest_replay_id` is checkpointed only when every event
//! before it is processed, and a new stream resumes after it.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::CommitPolicy;
use sfstream_core::pubsub::ReplayId;

fn id(n: u64) -> ReplayId {
    ReplayId::from_u64(n)
}

#[test]
fn a_keepalive_with_nothing_pending_is_checkpointed_at_once() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &keepalive(40, 100));
    assert_eq!(sc.checkpoints(TOPIC), vec![id(40)]);
    assert_eq!(sc.s.committed(TOPIC), Some(&id(40)));
    assert_eq!(sc.s.position(TOPIC), Some(&id(40)));
}

#[test]
fn a_keepalive_waits_for_the_events_before_it() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3, 4], 98));
    sc.send(call, &keepalive(9, 98));
    assert!(
        sc.checkpoints(TOPIC).is_empty(),
        "events 3 and 4 are not processed"
    );
    assert_eq!(numbers(&sc.take(1)), vec![3]);
    assert_eq!(sc.checkpoints(TOPIC), vec![id(3)]);
    assert_eq!(numbers(&sc.take(1)), vec![4]);
    // Event 4 was the last before the keepalive: the keepalive's position is the newer one.
    assert_eq!(sc.checkpoints(TOPIC).last(), Some(&id(9)));
}

#[test]
fn an_event_after_the_keepalive_supersedes_it() {
    let mut sc = PubSubScenario::started(config().commit(CommitPolicy::Manual), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3], 99));
    sc.send(call, &keepalive(9, 99));
    sc.send(call, &batch([12], 98));
    let messages = sc.take(10);
    assert_eq!(numbers(&messages), vec![3, 12]);
    assert!(sc.checkpoints(TOPIC).is_empty(), "manual commit");
    // Committing the last event commits past the keepalive.
    assert!(sc.s.commit(&messages[1]).unwrap());
    sc.pump();
    assert_eq!(sc.checkpoints(TOPIC), vec![id(12)]);
    // An older commit does nothing.
    assert!(!sc.s.commit(&messages[0]).unwrap());
    sc.pump();
    assert_eq!(sc.checkpoints(TOPIC), vec![id(12)]);
}

#[test]
fn manual_commit_of_the_event_before_a_keepalive_commits_the_keepalive() {
    let mut sc = PubSubScenario::started(config().commit(CommitPolicy::Manual), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3, 4], 98));
    sc.send(call, &keepalive(9, 98));
    let messages = sc.take(10);
    sc.s.commit(&messages[0]).unwrap();
    sc.pump();
    assert_eq!(sc.checkpoints(TOPIC), vec![id(3)]);
    sc.s.commit(&messages[1]).unwrap();
    sc.pump();
    assert_eq!(sc.checkpoints(TOPIC), vec![id(3), id(9)]);
}

#[test]
fn a_new_stream_resumes_after_the_keepalive_position() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([3], 99));
    sc.send(call, &keepalive(50, 99));
    sc.end(call, 14, None);
    sc.advance(1_000);
    let next = sc.stream(TOPIC);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.replay_preset, 2, "CUSTOM");
    assert_eq!(ReplayId::new(first.replay_id), id(50));
}

#[test]
fn a_keepalive_without_a_position_changes_nothing() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    let mut k = keepalive(1, 100);
    k.latest_replay_id = bytes::Bytes::new();
    sc.send(call, &k);
    assert!(sc.checkpoints(TOPIC).is_empty());
    assert_eq!(sc.s.position(TOPIC), None);
    assert_eq!(sc.s.stats().keepalives, 1);
}
