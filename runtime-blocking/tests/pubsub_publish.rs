//! Pub/Sub publishing on the blocking runtime: `Publish` and `PublishStream` return one outcome
//! per event, in order (the replay id of each event the server took, the reason for each it
//! refused), `GetTopic` answers, and a subscriber receives exactly the events published.

mod pubsub_common;

use pubsub_common::*;
use serde_json::json;
use sfstream_blocking::pubsub::{PublishEvent, PublishFailure};
use sfstream_emulator_pubsub::PubSubEmulator;

/// The publishing user: a ready access token does not name it (a token response would).
const USER: &str = "005EM00000000AAAAA";

fn order(n: u32) -> PublishEvent {
    PublishEvent::with_id(
        format!("order-{n}"),
        json!({
            "OrderNumber__c": format!("A-{n}"),
            "Amount__c": f64::from(n),
            "Shipped__c": false,
            "CreatedById": USER,
        }),
    )
}

#[test]
fn each_event_gets_its_outcome_and_a_subscriber_sees_them() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let topic = client.get_topic(ORDERS).unwrap();
    assert!(topic.can_publish, "{topic:?}");
    assert!(!topic.schema_id.is_empty(), "{topic:?}");

    let bad = PublishEvent::with_id(
        "bad",
        json!({"OrderNumber__c": 12, "Amount__c": "not a number", "CreatedById": USER}),
    );
    let outcomes = client
        .publish(ORDERS, vec![order(1), order(2), bad, order(3)])
        .unwrap();
    let keys: Vec<&str> = outcomes
        .iter()
        .map(|o| o.correlation_key.as_str())
        .collect();
    assert_eq!(keys, ["order-1", "order-2", "bad", "order-3"]);
    assert!(
        matches!(outcomes[2].result, Err(PublishFailure::Encode(_))),
        "{:?}",
        outcomes[2]
    );
    let mut ids: Vec<_> = [0, 1, 3]
        .iter()
        .map(|&i| outcomes[i].result.clone().expect("published"))
        .collect();

    let streamed = client
        .publish_on_stream(ORDERS, vec![order(4), order(5)])
        .unwrap();
    assert_eq!(streamed.len(), 2);
    ids.extend(
        streamed
            .iter()
            .map(|o| o.result.clone().expect("published on the stream")),
    );

    let received = receive_n(&client, 5);
    let got: Vec<_> = received.iter().map(|m| m.replay_id().clone()).collect();
    assert_eq!(got, ids, "the events published, under their replay ids");
    let numbers: Vec<_> = received
        .iter()
        .map(|m| m.payload()["OrderNumber__c"].clone())
        .collect();
    assert_eq!(numbers, ["A-1", "A-2", "A-3", "A-4", "A-5"]);
    assert_eq!(emulator.control().stats().topics[ORDERS].published, 5);
    let stats = client.stats();
    assert_eq!((stats.events_published, stats.events_refused), (5, 1));
    client.close().unwrap();
}

#[test]
fn publishing_to_a_missing_topic_fails_as_a_whole() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    let client = builder(&emulator).build().unwrap();
    client.open().unwrap();
    let failed = client.publish("/event/Missing__e", vec![order(1)]);
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(emulator.control().stats().totals.published, 0);
    client.close().unwrap();
}
