//! Pub/Sub on tokio over loopback h2c: events published to the emulator are received once each,
//! in order, decoded (a change event's field lists as names), and committed to the store as
//! byte replay ids.

mod pubsub_common;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::pubsub::{MemoryStore, ReplayStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_once_each_in_order_and_are_stored() {
    let emulator = start(PubSubEmulator::builder()).await;
    let store = std::sync::Arc::new(MemoryStore::new());
    let client = builder(&emulator).store(store.clone()).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();

    let published = emulator.control().publish_generated(ORDERS, 250).unwrap();
    let received = receive_n(&client, 250).await;
    let got: Vec<Vec<u8>> = received
        .iter()
        .map(|m| m.replay_id().as_bytes().to_vec())
        .collect();
    let want: Vec<Vec<u8>> = published.iter().map(|id| id.to_bytes().to_vec()).collect();
    assert_eq!(got, want, "every event once, in the order published");
    for m in &received {
        assert_eq!(m.topic(), ORDERS);
        assert!(m.decode_error().is_none(), "{:?}", m.decode_error());
        assert!(m.payload().is_object(), "decoded: {}", m.payload());
    }
    assert!(client.try_receive().is_none(), "nothing more");

    within("close", client.close()).await.unwrap();
    let stored = store.load_topics().unwrap();
    assert_eq!(
        stored.get(ORDERS).map(Vec::as_slice),
        Some(&published[249].to_bytes()[..]),
        "the last event's replay id is stored"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_events_field_lists_are_names() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ACCOUNTS).await.unwrap();
    within("open", client.open()).await.unwrap();
    emulator
        .control()
        .publish(
            ACCOUNTS,
            serde_json::json!({
                "ChangeEventHeader": {"changeType": "UPDATE"},
                "Name": "Acme",
                "Phone": null,
                "BillingAddress": {"City": "Paris", "Street": null},
            }),
        )
        .unwrap();
    let event = within("the change event", client.receive()).await.unwrap();
    let header = &event.payload()["ChangeEventHeader"];
    let names = |list: &str| -> Vec<String> {
        let mut names: Vec<String> = serde_json::from_value(header[list].clone())
            .unwrap_or_else(|e| panic!("{list} is a list of names ({e}): {header}"));
        names.sort();
        names
    };
    assert_eq!(
        names("changedFields"),
        [
            "BillingAddress.City",
            "BillingAddress.Street",
            "Name",
            "Phone"
        ]
    );
    assert_eq!(names("nulledFields"), ["BillingAddress.Street", "Phone"]);
    assert_eq!(event.payload()["Name"], "Acme");
    within("close", client.close()).await.unwrap();
    emulator.shutdown().await;
}
