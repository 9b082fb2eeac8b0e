//! Delivery: events published while the client listens arrive once each, in order, decoded (a
//! change event's field lists as names), and the last one's replay id is stored.

use std::sync::Arc;

use sfstream_store::{MemoryStore, ReplayStore};

use super::{
    ACCOUNTS, ORDERS, PubSubEmu, PubSubFlavor, PubSubSetup, assert_nothing_more, ids, receive_n,
};

/// 250 events: once each, in order, decoded, and the last one stored on close.
pub fn pubsub_events_arrive_in_order_and_are_stored(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let store = Arc::new(MemoryStore::new());
    let client = flavor.client(PubSubSetup::new(&emu).store(store.clone()));
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();

    let published = emu.publish(ORDERS, 250);
    let received = receive_n(&*client, 250);
    assert_eq!(
        ids(&received),
        published,
        "{}: once each, in order",
        flavor.name()
    );
    for m in &received {
        assert_eq!(m.topic(), ORDERS);
        assert!(m.decode_error().is_none(), "{:?}", m.decode_error());
        assert!(m.payload().is_object(), "decoded: {}", m.payload());
    }
    assert_nothing_more(&*client);
    client.close().unwrap();
    assert_eq!(
        store.load_topics().unwrap().get(ORDERS),
        published.last(),
        "{}: the last event's replay id is stored",
        flavor.name()
    );
}

/// An `UPDATE` change event's `changedFields` and `nulledFields` bitmaps arrive as field names,
/// compound fields as `Parent.Child`.
pub fn pubsub_change_event_field_lists_are_names(flavor: &impl PubSubFlavor) {
    let emu = PubSubEmu::start();
    let client = flavor.client(PubSubSetup::new(&emu));
    client.subscribe(ACCOUNTS).unwrap();
    client.open().unwrap();
    emu.control
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
    let event = receive_n(&*client, 1).remove(0);
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
        ],
        "{}",
        flavor.name()
    );
    assert_eq!(names("nulledFields"), ["BillingAddress.Street", "Phone"]);
    assert_eq!(event.payload()["Name"], "Acme");
    client.close().unwrap();
}
