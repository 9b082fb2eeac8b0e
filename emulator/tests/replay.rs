//! Replay: -1, -2, a replay id, invalid ids, ids that increase with gaps, retention.

mod common;

use std::time::Duration;

use common::{Bayeux, replay_ids};
use sfstream_emulator::Emulator;

const CH: &str = "/event/Order__e";

fn invalid(id: &str) -> String {
    format!(
        "400::The replayId {{{id}}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."
    )
}

/// A client subscribed with `replay`, after `before` events were published.
async fn subscribed(emu: &Emulator, replay: Option<i64>) -> Bayeux {
    Bayeux::ready(emu.base_url(), &[(CH, replay)]).await
}

#[tokio::test]
async fn replay_ids_increase_but_are_not_contiguous() {
    let emu = common::start().await;
    let ids = emu.control().publish_generated(CH, 50).expect("publish");
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "{ids:?}");
    assert!(
        ids.windows(2).all(|w| w[1] - w[0] > 1),
        "gaps expected: {ids:?}"
    );
    let steps: std::collections::BTreeSet<i64> = ids.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.len() > 3, "steps vary: {steps:?}");
    // Channels are independent, and the same seed repeats the same ids.
    let again = common::start().await;
    assert_eq!(
        again.control().publish_generated(CH, 50).expect("publish"),
        ids
    );
}

#[tokio::test]
async fn without_replay_ext_or_with_minus_one_only_new_events_arrive() {
    let emu = common::start().await;
    let control = emu.control();
    control.publish_generated(CH, 3).expect("publish");
    for replay in [None, Some(-1)] {
        let mut b = subscribed(&emu, replay).await;
        let new = control.publish_generated(CH, 2).expect("publish");
        assert_eq!(replay_ids(&b.connect().await), new, "{replay:?}");
    }
}

#[tokio::test]
async fn minus_two_replays_everything_retained_then_new_events() {
    let emu = common::start().await;
    let control = emu.control();
    let old = control.publish_generated(CH, 4).expect("publish");
    let mut b = subscribed(&emu, Some(-2)).await;
    let new = control.publish_generated(CH, 1).expect("publish");
    let mut got = replay_ids(&b.connect().await);
    if got.len() < 5 {
        got.extend(replay_ids(&b.connect().await));
    }
    assert_eq!(got, [old, new].concat());
}

#[tokio::test]
async fn a_replay_id_resumes_after_that_event() {
    let emu = common::start().await;
    let ids = emu.control().publish_generated(CH, 6).expect("publish");
    let mut b = subscribed(&emu, Some(ids[2])).await;
    assert_eq!(replay_ids(&b.connect().await), ids[3..].to_vec());
    // The last id resumes with nothing pending.
    let mut c = subscribed(&emu, Some(ids[5])).await;
    let reply = c.connect().await;
    assert!(replay_ids(&reply).is_empty());
}

#[tokio::test]
async fn unknown_future_and_never_issued_ids_are_invalid() {
    let emu = common::start().await;
    let ids = emu.control().publish_generated(CH, 3).expect("publish");
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    for bad in [ids[0] + 1, ids[2] + 100, 0, -3] {
        let reply = b.subscribe(CH, Some(bad)).await;
        assert_eq!(reply["error"], invalid(&bad.to_string()), "{bad}");
        assert_eq!(reply["successful"], false);
    }
    // A channel with no events has no valid id at all.
    let reply = b.subscribe("/u/notifications", Some(ids[0])).await;
    assert_eq!(reply["error"], invalid(&ids[0].to_string()));
}

#[tokio::test]
async fn events_older_than_the_retention_window_are_gone() {
    let emu = common::fast()
        .retention(Duration::from_millis(200))
        .start()
        .await
        .expect("start");
    let control = emu.control();
    let old = control.publish_generated(CH, 2).expect("publish");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = control.publish_generated(CH, 1).expect("publish");
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let reply = b.subscribe(CH, Some(old[1])).await;
    assert_eq!(reply["error"], invalid(&old[1].to_string()));
    assert_eq!(b.subscribe(CH, Some(-2)).await["successful"], true);
    assert_eq!(replay_ids(&b.connect().await), fresh);
}

#[tokio::test]
async fn at_most_max_retained_events_are_kept() {
    let emu = common::fast()
        .max_retained_events(3)
        .start()
        .await
        .expect("start");
    let ids = emu.control().publish_generated(CH, 5).expect("publish");
    let mut b = subscribed(&emu, Some(-2)).await;
    assert_eq!(replay_ids(&b.connect().await), ids[2..].to_vec());
}
