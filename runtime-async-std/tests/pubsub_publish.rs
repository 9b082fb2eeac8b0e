//! Pub/Sub publishing on async-io: `Publish` and `PublishStream` return one outcome per event,
//! in order (the replay id of each event the server took, the reason for each it refused), and
//! a subscriber receives exactly the events published, under those replay ids.
#![cfg(feature = "pubsub")]

mod pubsub_common;

use pubsub_common::*;
use serde_json::json;
use sfstream_async_std::pubsub::{PublishEvent, PublishFailure};
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
fn each_event_gets_its_outcome_and_subscribers_see_them() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    smol::block_on(async {
        let client = builder(&emulator).build().unwrap();
        client.subscribe(ORDERS).await.unwrap();
        within("open", client.open()).await.unwrap();

        let mut events = vec![order(1), order(2)];
        events.push(PublishEvent::with_id(
            "bad",
            json!({"OrderNumber__c": 12, "Amount__c": "not a number", "CreatedById": USER}),
        ));
        events.push(order(3));
        let outcomes = within("the publish", client.publish(ORDERS, events))
            .await
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
        let ids: Vec<_> = [0, 1, 3]
            .iter()
            .map(|&i| outcomes[i].result.clone().expect("published"))
            .collect();
        let streamed = within(
            "the stream publish",
            client.publish_on_stream(ORDERS, vec![order(4)]),
        )
        .await
        .unwrap();
        let id4 = streamed[0].result.clone().expect("published on the stream");

        let received = receive_n(&client, 4).await;
        let got: Vec<_> = received.iter().map(|m| m.replay_id().clone()).collect();
        assert_eq!(got, [ids[0].clone(), ids[1].clone(), ids[2].clone(), id4]);
        assert_eq!(received[0].payload()["OrderNumber__c"], "A-1");
        assert_eq!(received[3].payload()["OrderNumber__c"], "A-4");
        assert_eq!(emulator.control().stats().topics[ORDERS].published, 4);
        let stats = client.stats();
        assert_eq!((stats.events_published, stats.events_refused), (4, 1));
        within("close", client.close()).await.unwrap();
    });
}
