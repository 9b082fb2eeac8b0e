//! What the application gets from a Pub/Sub event: topic, replay id, schema id, event id, the
//! payload decoded to JSON (exact 64-bit longs, change-event field lists as names), or decoded
//! straight into its own type.
mod pubsub_common;

use pubsub_common::*;
use serde::Deserialize;
use serde_json::json;
use sfstream_core::EventKind;
use sfstream_core::pubsub::avro::Schema;
use sfstream_core::pubsub::proto::{ConsumerEvent, FetchResponse, ProducerEvent};
use sfstream_core::pubsub::{PubSubEvent, ReplayId};

const CDC_TOPIC: &str = "/data/AccountChangeEvent";

#[test]
fn a_message_carries_where_it_is_and_what_it_says() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([9], 99));
    let m = sc.take(1).pop().unwrap();
    assert_eq!(m.topic(), TOPIC);
    assert_eq!(m.kind(), EventKind::PlatformEvent);
    assert_eq!(m.replay_id(), &ReplayId::from_u64(9));
    assert_eq!(m.schema_id(), SCHEMA_ID);
    assert_eq!(m.event_id(), "uuid-9");
    assert_eq!(m.payload(), &decoded(9));
    assert!(m.decode_error().is_none());

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Order<'a> {
        created_by_id: &'a str,
        #[serde(rename = "N")]
        n: i64,
    }
    let order: Order<'_> = m.decode().unwrap();
    assert_eq!(
        order,
        Order {
            created_by_id: "005x",
            n: 9
        }
    );
    #[derive(Deserialize)]
    struct Owned {
        #[serde(rename = "N")]
        n: i64,
    }
    assert_eq!(m.payload_as::<Owned>().unwrap().n, 9);
    let shown = format!("{m:?}");
    assert!(shown.contains("uuid-9"), "{shown}");
}

#[test]
fn change_events_list_their_fields_by_name() {
    let schema_json = include_str!("data/pubsub/account_change_event.avsc");
    let schema = Schema::parse(schema_json).unwrap();
    let value = json!({
        "ChangeEventHeader": {
            "entityName": "Account", "recordIds": ["001x"], "changeType": "UPDATE",
            "changeOrigin": "", "transactionKey": "t1", "sequenceNumber": 1,
            "commitTimestamp": 1_700_000_000_000_i64, "commitNumber": 9_007_199_254_740_993_i64,
            "commitUser": "005x", "nulledFields": [], "diffFields": [],
            "changedFields": ["0x650004E0"]
        },
        "Phone": "555"
    });
    let datum = schema.encode_json(&value).unwrap();
    let mut sc = PubSubScenario::new(config());
    sc.schemas.insert("acct".into(), schema_json.into());
    sc.s.subscribe(CDC_TOPIC, None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let call = sc.stream(CDC_TOPIC);
    sc.accept(call);
    let response = FetchResponse {
        events: vec![ConsumerEvent {
            event: Some(ProducerEvent {
                id: "e1".into(),
                schema_id: "acct".into(),
                payload: datum.into(),
                headers: vec![],
            }),
            replay_id: ReplayId::from_u64(1).to_bytes(),
        }],
        pending_num_requested: 99,
        ..FetchResponse::default()
    };
    sc.send(call, &response);
    let m = sc.take(1).pop().unwrap();
    assert_eq!(m.kind(), EventKind::ChangeDataCapture);
    let header = &m.payload()["ChangeEventHeader"];
    assert_eq!(
        header["changedFields"],
        json!([
            "ShippingAddress",
            "Phone",
            "Fax",
            "Sic",
            "Jigsaw",
            "CleanStatus",
            "Tradestyle",
            "NaicsCode"
        ])
    );
    assert_eq!(
        header["commitNumber"],
        json!(9_007_199_254_740_993_i64),
        "exact, not through f64"
    );
    assert_eq!(m.payload()["Phone"], "555");
    // The raw path gives the bitmap, and the message turns it into names.
    assert_eq!(m.field_names(&["0x20"]).unwrap(), ["ShippingAddress"]);
}

#[test]
fn json_decoding_can_be_left_to_the_application() {
    let mut sc = PubSubScenario::started(config().decode_json(false), &[TOPIC]);
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([3], 99));
    let m = sc.take(1).pop().unwrap();
    assert!(m.payload().is_null());
    assert!(m.decode_error().is_none());
    #[derive(Deserialize)]
    struct N {
        #[serde(rename = "N")]
        n: i64,
    }
    assert_eq!(m.decode::<N>().unwrap().n, 3);
}

#[test]
fn a_payload_that_does_not_decode_is_delivered_raw_and_reported() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    let mut bad = event(4);
    if let Some(e) = bad.event.as_mut() {
        e.payload = bytes::Bytes::from_static(&[0x02, 0xff]);
    }
    let response = FetchResponse {
        events: vec![bad, event(5)],
        pending_num_requested: 98,
        ..FetchResponse::default()
    };
    sc.send(a, &response);
    let messages = sc.take(10);
    assert_eq!(numbers(&messages), vec![4, 5]);
    assert!(messages[0].payload().is_null());
    assert!(messages[0].decode_error().is_some());
    assert_eq!(messages[1].payload(), &decoded(5));
    let reported = sc.events.iter().any(|e| {
        matches!(e, PubSubEvent::Error(err) if err.to_string().contains("could not be decoded"))
    });
    assert!(reported);
}

#[test]
fn an_event_without_content_or_replay_id_is_delivered_with_the_problem() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    let response = FetchResponse {
        events: vec![
            ConsumerEvent {
                event: None,
                replay_id: ReplayId::from_u64(1).to_bytes(),
            },
            ConsumerEvent {
                replay_id: bytes::Bytes::new(),
                ..event(2)
            },
            event(3),
        ],
        pending_num_requested: 97,
        ..FetchResponse::default()
    };
    sc.send(a, &response);
    sc.serve_schemas();
    let messages = sc.take(10);
    assert_eq!(messages.len(), 3);
    assert!(
        messages[0]
            .decode_error()
            .unwrap()
            .contains("without its content")
    );
    assert!(
        messages[1]
            .decode_error()
            .unwrap()
            .contains("without a replay id")
    );
    assert_eq!(messages[2].payload(), &decoded(3));
    assert_eq!(sc.s.position(TOPIC), Some(&ReplayId::from_u64(3)));
}

#[test]
fn events_are_read_from_chunks_cut_anywhere() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    let mut wire = Vec::new();
    for n in 1..=5 {
        wire.extend_from_slice(
            &sfstream_core::pubsub::frame::encode_message(&batch([n], 100 - n as i32)).unwrap(),
        );
    }
    for chunk in wire.chunks(3) {
        sc.data(a, chunk);
    }
    assert_eq!(numbers(&sc.take(10)), vec![1, 2, 3, 4, 5]);
}
