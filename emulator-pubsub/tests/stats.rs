//! Statistics: deliveries and credits per topic, streams open, calls per method, faults fired.

mod common;

use std::time::Duration;

use common::*;
use sfstream_emulator_pubsub::proto::{ReplayPreset, TopicRequest};
use sfstream_emulator_pubsub::{Fault, PubSubEmulator};

#[tokio::test]
async fn counters_follow_the_traffic() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    control.publish_generated("/event/Order__e", 4).unwrap();
    control
        .publish("/data/AccountChangeEvent", serde_json::json!({"Name": "A"}))
        .unwrap();
    let mut a = subscribe(
        &mut client,
        &emulator,
        fetch("/event/Order__e", ReplayPreset::Earliest, None, 3),
    )
    .await
    .unwrap();
    let mut b = subscribe(
        &mut client,
        &emulator,
        fetch("/data/ChangeEvents", ReplayPreset::Earliest, None, 7),
    )
    .await
    .unwrap();
    events(&mut a, 3).await;
    events(&mut b, 1).await;
    control.fail_next(1, Fault::TokenExpired);
    assert!(
        client
            .get_topic(auth(
                &emulator,
                TopicRequest {
                    topic_name: "/event/Order__e".into()
                }
            ))
            .await
            .is_err()
    );
    let s = control.stats();
    assert_eq!(s.totals.subscribe_streams_open, 2);
    assert_eq!(s.totals.delivered, 4);
    assert_eq!(s.totals.credits_requested, 10);
    assert_eq!(
        s.totals.published, 5,
        "the fan-in copy is not a second publish"
    );
    let order = &s.topics["/event/Order__e"];
    assert_eq!(
        (
            order.published,
            order.delivered,
            order.credits_requested,
            order.streams_open,
            order.retained
        ),
        (4, 3, 3, 1, 4)
    );
    let all = &s.topics["/data/ChangeEvents"];
    assert_eq!(
        (all.published, all.delivered, all.credits_requested),
        (1, 1, 7)
    );
    assert_eq!(s.calls["Subscribe"], 2);
    assert_eq!(s.calls["GetTopic"], 1);
    assert_eq!(s.faults["token_expired"], 1);
    assert_eq!(s.totals.faults_fired, 1);
    assert_eq!(s.totals.errors_sent, 1);
    drop(a);
    drop(b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = control.stats();
    assert_eq!(s.totals.subscribe_streams_open, 0);
    assert_eq!(s.topics["/event/Order__e"].streams_open, 0);
}
