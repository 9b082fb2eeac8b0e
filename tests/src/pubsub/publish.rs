//! Publishing: `Publish` and `PublishStream` return one outcome per event, in order (the replay
//! id of each event the server took, the reason for each refused, by the encoder or by the
//! server), a subscriber receives exactly the events published under those ids, and a publish
//! to a topic that does not exist fails as a whole.

use serde_json::json;
use sfstream_core::pubsub::{PublishEvent, PublishFailure};

use super::{ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, assert_nothing_more, receive_n};

/// The publishing user (the emulator wants `CreatedById` on Platform Events).
const USER: &str = "005EM00000000AAAAA";

/// The emulator refuses events whose payload is larger than this.
const MAX_EVENT_BYTES: usize = 2000;

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

/// Four events by `Publish` (one the encoder refuses, one the server refuses as too large), one
/// by `PublishStream`: each outcome in order, and the three published ones received.
pub fn pubsub_publish_results_per_event(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start_with(|b| b.max_event_bytes(MAX_EVENT_BYTES));
    let client = flavor.client(PubSubSetup::new(&emu));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let events = vec![
        order(1),
        PublishEvent::with_id(
            "not-a-number",
            json!({"OrderNumber__c": "A-x", "Amount__c": "twelve", "CreatedById": USER}),
        ),
        PublishEvent::with_id(
            "too-large",
            json!({"OrderNumber__c": "x".repeat(2 * MAX_EVENT_BYTES), "CreatedById": USER}),
        ),
        order(2),
    ];
    let outcomes = client.publish(ORDERS, events).unwrap();
    let keys: Vec<&str> = outcomes
        .iter()
        .map(|o| o.correlation_key.as_str())
        .collect();
    assert_eq!(keys, ["order-1", "not-a-number", "too-large", "order-2"]);
    assert!(
        matches!(outcomes[1].result, Err(PublishFailure::Encode(_))),
        "{}: {:?}",
        flavor.name(),
        outcomes[1]
    );
    assert!(
        matches!(
            outcomes[2].result,
            Err(PublishFailure::Refused { code: 1, .. })
        ),
        "{}: {:?}",
        flavor.name(),
        outcomes[2]
    );
    let mut published: Vec<_> = [0, 3]
        .iter()
        .map(|&i| outcomes[i].result.clone().expect("published"))
        .collect();

    let streamed = client.publish_on_stream(ORDERS, vec![order(3)]).unwrap();
    assert_eq!(streamed.len(), 1);
    published.push(streamed[0].result.clone().expect("published on the stream"));

    let received = receive_n(&*client, 3);
    let got: Vec<_> = received.iter().map(|m| m.replay_id().clone()).collect();
    assert_eq!(
        got,
        published,
        "{}: the published events, in order",
        flavor.name()
    );
    let numbers: Vec<_> = received
        .iter()
        .map(|m| m.payload()["OrderNumber__c"].clone())
        .collect();
    assert_eq!(numbers, [json!("A-1"), json!("A-2"), json!("A-3")]);
    assert_nothing_more(&*client);
    assert_eq!(emu.topic_stats(ORDERS).published, 3, "{}", flavor.name());
    assert_eq!(
        emu.control.stats().totals.publish_failures,
        1,
        "the server refused one"
    );
    let stats = client.stats();
    assert_eq!(
        (stats.events_published, stats.events_refused),
        (3, 2),
        "{}: {stats:?}",
        flavor.name()
    );
    client.close().unwrap();
}

/// A publish to a missing topic fails as a whole and names the topic; `GetTopic` describes an
/// existing one.
pub fn pubsub_publish_to_a_missing_topic_fails(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let client = flavor.client(PubSubSetup::new(&emu));
    client.open().unwrap();
    let error = client
        .publish("/event/Missing__e", vec![order(1)])
        .unwrap_err();
    assert!(
        error.to_string().contains("Missing__e"),
        "{}: {error}",
        flavor.name()
    );
    let info = client.get_topic(ORDERS).unwrap();
    assert!(
        info.can_publish && !info.schema_id.is_empty(),
        "{}: {info:?}",
        flavor.name()
    );
    client.close().unwrap();
}
