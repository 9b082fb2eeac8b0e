//! `Publish`: per-event results in order, `correlation_key` rules, replay ids on success,
//! `PUBLISH` errors for oversize events and missing `CreatedDate` / `CreatedById`, `UNAVAILABLE`
//! for a request over 4 MiB, `/data/…` refused; published events reach subscribers.

mod common;

use apache_avro::types::Value;
use bytes::Bytes;
use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{
    ErrorCode, ProducerEvent, PublishRequest, ReplayPreset, SchemaRequest, TopicRequest,
};
use tonic::Code;

const T: &str = "/event/Order__e";

struct Writer {
    schema: apache_avro::Schema,
    schema_id: String,
}

impl Writer {
    async fn for_topic(client: &mut Client, emulator: &PubSubEmulator, topic: &str) -> Self {
        let info = client
            .get_topic(auth(
                emulator,
                TopicRequest {
                    topic_name: topic.into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let schema = client
            .get_schema(auth(
                emulator,
                SchemaRequest {
                    schema_id: info.schema_id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        Self {
            schema: apache_avro::Schema::parse_str(&schema.schema_json).unwrap(),
            schema_id: info.schema_id,
        }
    }

    fn datum(&self, created: i64, by: &str, order: &str) -> Vec<u8> {
        let null = || Value::Union(0, Box::new(Value::Null));
        let record = Value::Record(vec![
            ("CreatedDate".into(), Value::Long(created)),
            ("CreatedById".into(), Value::String(by.into())),
            (
                "OrderNumber__c".into(),
                Value::Union(1, Box::new(Value::String(order.into()))),
            ),
            ("Amount__c".into(), null()),
            ("Shipped__c".into(), null()),
            ("ShipDate__c".into(), null()),
        ]);
        apache_avro::to_avro_datum(&self.schema, record).unwrap()
    }

    fn event(&self, id: &str, payload: Vec<u8>) -> ProducerEvent {
        ProducerEvent {
            id: id.into(),
            schema_id: self.schema_id.clone(),
            payload: Bytes::from(payload),
            headers: vec![],
        }
    }
}

fn request(events: Vec<ProducerEvent>) -> PublishRequest {
    PublishRequest {
        topic_name: T.into(),
        events,
        auth_refresh: String::new(),
    }
}

#[tokio::test]
async fn results_come_in_event_order_with_correlation_keys() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let w = Writer::for_topic(&mut client, &emulator, T).await;
    let now = 1_750_000_000_000;
    let batch = vec![
        w.event("k-1", w.datum(now, "005A", "one")),
        w.event("", w.datum(now, "005A", "two")),
        w.event("k-3", w.datum(now, "", "blank creator")),
        w.event("", w.datum(0, "005A", "no date")),
        w.event("k-5", vec![0xff, 0xff]),
        w.event("k-6", w.datum(now, "005A", &"x".repeat(1024 * 1024))),
        w.event(&"i".repeat(37), w.datum(now, "005A", "long id")),
        ProducerEvent {
            schema_id: "unknownschemaid0000000".into(),
            ..w.event("k-8", w.datum(now, "005A", "s"))
        },
    ];
    let response = client
        .publish(auth(&emulator, request(batch)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.schema_id, w.schema_id);
    assert!(!response.rpc_id.is_empty());
    let r = &response.results;
    assert_eq!(r.len(), 8);
    assert_eq!(r[0].correlation_key, "k-1");
    assert!(r[0].error.is_none() && r[0].replay_id.len() == 8);
    assert_eq!(
        r[1].correlation_key.len(),
        36,
        "a generated UUID for a success without an id"
    );
    assert!(replay_u64(&r[1].replay_id) > replay_u64(&r[0].replay_id));
    for (i, expected_key) in [(2, "k-3"), (3, ""), (4, "k-5"), (5, "k-6"), (7, "k-8")] {
        let e = r[i]
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("event {i} fails"));
        assert_eq!(e.code, i32::from(ErrorCode::Publish), "event {i}");
        assert_eq!(r[i].correlation_key, expected_key, "event {i}");
        assert!(r[i].replay_id.is_empty());
    }
    assert!(r[2].error.as_ref().unwrap().msg.contains("CreatedById"));
    assert!(r[3].error.as_ref().unwrap().msg.contains("CreatedDate"));
    assert!(r[5].error.as_ref().unwrap().msg.contains("size"));
    assert!(r[6].error.is_some());
    // The two accepted events are delivered, with the correlation key as event id.
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Earliest, None, 5),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 2).await;
    assert_eq!(got[0].replay_id, r[0].replay_id);
    assert_eq!(got[0].event.as_ref().unwrap().id, "k-1");
    assert_eq!(got[1].event.as_ref().unwrap().id, r[1].correlation_key);
    assert_eq!(emulator.control().stats().totals.publish_failures, 6);
}

#[tokio::test]
async fn a_request_over_4_mib_is_unavailable() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let w = Writer::for_topic(&mut client, &emulator, T).await;
    let big = "y".repeat(900 * 1024);
    let events = (0..5)
        .map(|i| w.event(&format!("b{i}"), w.datum(1, "005A", &big)))
        .collect();
    let status = client
        .publish(auth(&emulator, request(events)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("reset"), "{status:?}");
    assert!(
        error_code(&status).is_none(),
        "an infrastructure error has no error-code"
    );
    assert!(emulator.control().topics().iter().all(|t| t.retained == 0));
}

#[tokio::test]
async fn change_event_topics_and_unknown_topics_are_refused() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let w = Writer::for_topic(&mut client, &emulator, T).await;
    let event = || vec![w.event("", w.datum(1, "005A", "x"))];
    let cdc = PublishRequest {
        topic_name: "/data/AccountChangeEvent".into(),
        events: event(),
        auth_refresh: String::new(),
    };
    let status = client.publish(auth(&emulator, cdc)).await.unwrap_err();
    assert_salesforce_error(&status, Code::PermissionDenied, "topic.meta.permission");
    let unknown = PublishRequest {
        topic_name: "/event/Nope__e".into(),
        events: event(),
        auth_refresh: String::new(),
    };
    let status = client.publish(auth(&emulator, unknown)).await.unwrap_err();
    assert_salesforce_error(&status, Code::NotFound, "topic.not.found");
    let status = client
        .publish(auth(&emulator, request(vec![])))
        .await
        .unwrap_err();
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "publish.event.count.invalid",
    );
}
