//! Per-channel replay expiry through the control API: expire a channel's retained events (all,
//! or up to a replay id), or give a channel its own retention.

mod common;

use std::time::Duration;

use common::{Bayeux, control, replay_ids};
use reqwest::Method;
use serde_json::json;

const ORDER: &str = "/event/Order__e";
const TOPIC: &str = "/topic/AccountUpdates";

fn invalid(id: i64) -> String {
    format!(
        "400::The replayId {{{id}}} you provided was invalid.  Please provide a valid ID, -2 to \
         replay all events, or -1 to replay only new events."
    )
}

#[tokio::test]
async fn events_of_one_channel_expire_through_the_control_api() {
    let emu = common::start().await;
    let control_ = emu.control();
    let ids = control_.publish_generated(ORDER, 5).expect("publish");
    let topic_ids = control_.publish_generated(TOPIC, 2).expect("publish");
    assert_eq!(
        control_.expire_events(ORDER, Some(ids[2])).expect("expire"),
        3
    );

    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    for gone in [ids[1], ids[2]] {
        let r = b.subscribe(ORDER, Some(gone)).await;
        assert_eq!(r["error"], invalid(gone), "{r}");
    }
    assert_eq!(b.subscribe(ORDER, Some(ids[3])).await["successful"], true);
    assert_eq!(replay_ids(&b.connect().await), vec![ids[4]]);
    // Everything still retained: the last two on this channel, all of the other.
    assert_eq!(b.subscribe(ORDER, Some(-2)).await["successful"], true);
    assert_eq!(b.subscribe(TOPIC, Some(-2)).await["successful"], true);
    let all = replay_ids(&b.connect().await);
    assert_eq!(all, [&ids[3..], &topic_ids[..]].concat());

    // Over HTTP: without an id, every retained event of the channel expires.
    let base = emu.base_url();
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/channels/expire",
        Some(json!({"channel": TOPIC})),
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, json!({"expired": 2})));
    assert_eq!(
        b.subscribe(TOPIC, Some(topic_ids[0])).await["error"],
        invalid(topic_ids[0])
    );
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/channels/expire",
        Some(json!({"channel": "/event/Nope__e", "through_replay_id": 5})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("/event/Nope__e")),
        "{body}"
    );
}

#[tokio::test]
async fn a_channel_can_have_its_own_retention() {
    let emu = common::start().await;
    let base = emu.base_url();
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/channels/retention",
        Some(json!({"channel": ORDER, "retention_ms": 150})),
    )
    .await;
    assert_eq!(status, 200);
    let order = emu.control().publish_generated(ORDER, 2).expect("publish");
    let topic = emu.control().publish_generated(TOPIC, 2).expect("publish");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut b = Bayeux::ready(base, &[]).await;
    assert_eq!(
        b.subscribe(ORDER, Some(order[0])).await["error"],
        invalid(order[0])
    );
    assert_eq!(b.subscribe(TOPIC, Some(topic[0])).await["successful"], true);
    assert_eq!(replay_ids(&b.connect().await), vec![topic[1]]);

    // Back to the emulator's retention (24 h): new events stay.
    emu.control().set_retention(ORDER, None).expect("reset");
    let later = emu.control().publish_generated(ORDER, 2).expect("publish");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(b.subscribe(ORDER, Some(later[0])).await["successful"], true);
    assert_eq!(replay_ids(&b.connect().await), vec![later[1]]);
    assert!(emu.control().set_retention("/event/Nope__e", None).is_err());
}
