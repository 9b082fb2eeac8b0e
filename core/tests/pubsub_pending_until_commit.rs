//! `pending_until_commit` under the manual commit policy: an event the application took counts
//! against `max_pending` until it is committed, so that what is requested, in the session, and
//! taken but not committed never adds up to more than the credit window. Commits make room,
//! taking does not. Off (the default), taking makes room as before.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::CommitPolicy;
use sfstream_core::pubsub::{PubSubConfig, PubSubEvent, PubSubMessage, ReplayId};

fn strict(max_pending: u32) -> PubSubConfig {
    config()
        .commit(CommitPolicy::Manual)
        .pending_until_commit(true)
        .max_pending(max_pending)
}

/// Every event requested on the topic's streams so far.
fn requested(sc: &PubSubScenario) -> u64 {
    sc.calls
        .values()
        .flat_map(|c| {
            if c.kind == sfstream_core::pubsub::CallKind::Subscribe {
                c.fetch_requests()
            } else {
                Vec::new()
            }
        })
        .map(|r| u64::try_from(r.num_requested).unwrap())
        .sum()
}

/// An application that takes a batch, "writes" it for a few rounds while the server goes on,
/// then commits it: the most that was ever requested and not yet committed.
fn batching_app(config: PubSubConfig, batch: usize, window: u32) -> (Vec<u64>, u64) {
    let mut sc = PubSubScenario::started(config, &[TOPIC]);
    let mut server = ModelServer::new(600, window);
    server.per_response = 7;
    let mut seen = Vec::new();
    let mut writing: Vec<PubSubMessage> = Vec::new();
    let mut committed = 0_u64;
    let mut worst = 0_u64;
    for round in 0..20_000 {
        server.serve(&mut sc, TOPIC);
        sc.serve_schemas();
        worst = worst.max(requested(&sc) - committed);
        if writing.is_empty() {
            writing = sc.take(batch);
        } else if round % 3 == 0 {
            // Written: commit the batch, in order.
            for m in writing.drain(..) {
                sc.s.commit(&m).expect("subscribed");
                committed += 1;
                seen.push(numbers(std::slice::from_ref(&m))[0]);
            }
            sc.pump();
            sc.drive_if_due();
        }
        if seen.len() == 600 {
            break;
        }
    }
    (seen, worst)
}

#[test]
fn requested_and_not_committed_never_exceeds_the_window() {
    for (max_pending, batch) in [(5, 5), (5, 3), (20, 64), (100, 256), (250, 40), (1, 1)] {
        let window = max_pending.min(100);
        let (seen, worst) = batching_app(strict(max_pending), batch, window);
        assert_eq!(
            seen,
            (1..=600).collect::<Vec<_>>(),
            "max_pending {max_pending}, batch {batch}: every event, in order"
        );
        assert!(
            worst <= u64::from(window),
            "max_pending {max_pending}, batch {batch}: {worst} requested and not committed, \
             over the window {window}"
        );
        assert_eq!(
            worst,
            u64::from(window),
            "the window is used in full (max_pending {max_pending}, batch {batch})"
        );
    }
}

#[test]
fn without_the_setting_taken_events_make_room_as_before() {
    // The same application without the setting: taking makes room, so a batch being written
    // comes on top of the window. This is what the setting is for (and the default is kept).
    let (seen, worst) = batching_app(config().commit(CommitPolicy::Manual).max_pending(5), 5, 5);
    assert_eq!(seen, (1..=600).collect::<Vec<_>>());
    assert!(worst > 5, "{worst}");
    assert!(!config().pending_until_commit, "off by default");
}

#[test]
fn taking_holds_the_room_and_committing_gives_it_back() {
    let mut sc = PubSubScenario::started(strict(12), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=12, 0));
    let taken = sc.take(12);
    assert_eq!(numbers(&taken), (1..=12).collect::<Vec<_>>());
    assert_eq!(sc.s.buffered(TOPIC), Some(0));
    assert_eq!(sc.s.uncommitted(TOPIC), Some(12));
    assert_eq!(
        sc.call(call).fetch_requests().len(),
        1,
        "taking asks for nothing more"
    );
    // Committing the third event releases the first three: room for 3 (at least 12 / 4).
    assert!(sc.s.commit(&taken[2]).unwrap());
    sc.pump();
    assert_eq!(sc.s.uncommitted(TOPIC), Some(9));
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].num_requested, 3);
    // An older event than the committed one: nothing moves, nothing is released twice.
    assert!(!sc.s.commit(&taken[1]).unwrap());
    sc.pump();
    assert_eq!(sc.call(call).fetch_requests().len(), 2);
    // The last one commits the rest.
    assert!(sc.s.commit(&taken[11]).unwrap());
    sc.pump();
    assert_eq!(sc.s.uncommitted(TOPIC), Some(0));
    let requests = sc.call(call).fetch_requests();
    assert_eq!(requests[2].num_requested, 9);
    assert_eq!(sc.s.outstanding(TOPIC), Some(12));
    assert_eq!(sc.s.committed(TOPIC), Some(&ReplayId::from_u64(12)));
}

#[test]
fn under_the_automatic_policy_the_setting_changes_nothing() {
    let mut sc =
        PubSubScenario::started(config().pending_until_commit(true).max_pending(8), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=8, 0));
    assert_eq!(sc.take(8).len(), 8);
    assert_eq!(sc.s.uncommitted(TOPIC), Some(0));
    // Taking committed them: room as they were taken (in quarters of the window).
    assert_eq!(requested(&sc), 16);
    assert_eq!(sc.s.outstanding(TOPIC), Some(8));
}

#[test]
fn a_resumed_stream_asks_only_for_what_is_not_held() {
    let mut sc = PubSubScenario::started(strict(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=6, 4));
    let taken = sc.take(6);
    assert_eq!(taken.len(), 6);
    // The stream fails; the 6 taken events are still held by the application.
    sc.end(call, 14, None);
    sc.advance(1_000);
    let next = sc.stream(TOPIC);
    assert_ne!(next, call);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.num_requested, 4, "10 less the 6 held");
    assert_eq!(ReplayId::new(first.replay_id), ReplayId::from_u64(6));
    assert!(sc.s.commit(&taken[5]).unwrap());
    sc.pump();
    let requests = sc.call(next).fetch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].num_requested, 6);
}

#[test]
fn a_window_held_uncommitted_lets_the_stream_go_and_a_commit_opens_it_again() {
    let mut sc = PubSubScenario::started(strict(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=10, 0));
    let taken = sc.take(10);
    assert_eq!(taken.len(), 10);
    // Owed nothing and no room: no small request keeps it; the server ends it.
    sc.advance(60_000);
    assert_eq!(sc.call(call).fetch_requests().len(), 1);
    sc.end(call, 0, None);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::IdleClosed { topic } if topic == TOPIC))
    );
    sc.advance(600_000);
    assert!(sc.try_stream(TOPIC).is_none(), "nothing committed: no room");
    assert_eq!(sc.s.poll_timeout(), None);
    // A commit makes room: the stream opens again after the last event, for that room.
    assert!(sc.s.commit(&taken[3]).unwrap());
    sc.pump();
    assert!(sc.s.wants_drive());
    sc.drive_if_due();
    let next = sc.stream(TOPIC);
    let first = sc.call(next).first_fetch();
    assert_eq!(first.replay_preset, 2);
    assert_eq!(ReplayId::new(first.replay_id), ReplayId::from_u64(10));
    assert_eq!(first.num_requested, 4);
}
