//! `PublishStream`: one response per request, in order; the first request fixes the topic
//! (a different one later is `INVALID_ARGUMENT`); an idle stream is swept; an oversize request
//! ends the stream `UNAVAILABLE`.

mod common;

use std::time::{Duration, Instant};

use apache_avro::types::Value;
use bytes::Bytes;
use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{ProducerEvent, PublishRequest, SchemaRequest, TopicRequest};
use tonic::Code;

const T: &str = "/event/Order__e";

async fn event_maker(
    client: &mut Client,
    emulator: &PubSubEmulator,
) -> impl Fn(&str, usize) -> ProducerEvent + use<> {
    let info = client
        .get_topic(auth(
            emulator,
            TopicRequest {
                topic_name: T.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let json = client
        .get_schema(auth(
            emulator,
            SchemaRequest {
                schema_id: info.schema_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .schema_json;
    let schema = apache_avro::Schema::parse_str(&json).unwrap();
    move |id: &str, size: usize| {
        let null = || Value::Union(0, Box::new(Value::Null));
        let record = Value::Record(vec![
            ("CreatedDate".into(), Value::Long(1_750_000_000_000)),
            ("CreatedById".into(), Value::String("005A".into())),
            (
                "OrderNumber__c".into(),
                Value::Union(1, Box::new(Value::String("z".repeat(size)))),
            ),
            ("Amount__c".into(), null()),
            ("Shipped__c".into(), null()),
            ("ShipDate__c".into(), null()),
        ]);
        ProducerEvent {
            id: id.into(),
            schema_id: info.schema_id.clone(),
            payload: Bytes::from(apache_avro::to_avro_datum(&schema, record).unwrap()),
            headers: vec![],
        }
    }
}

fn req(topic: &str, events: Vec<ProducerEvent>) -> PublishRequest {
    PublishRequest {
        topic_name: topic.into(),
        events,
        auth_refresh: String::new(),
    }
}

#[tokio::test]
async fn pipelined_requests_get_responses_in_order() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let make = event_maker(&mut client, &emulator).await;
    let mut stream = publish_stream(&mut client, &emulator).await.unwrap();
    stream.send(req(T, vec![make("a", 1), make("b", 1)])).await;
    stream.send(req("", vec![make("c", 1)])).await; // later requests may leave the topic out
    stream.send(req(T, vec![make("d", 1)])).await;
    let mut keys = Vec::new();
    for _ in 0..3 {
        let r = stream.message().await;
        assert!(
            r.results
                .iter()
                .all(|x| x.error.is_none() && x.replay_id.len() == 8)
        );
        keys.extend(r.results.into_iter().map(|x| x.correlation_key));
    }
    assert_eq!(keys, ["a", "b", "c", "d"]);
    assert_eq!(emulator.control().stats().totals.publish_streams_open, 1);
    stream
        .send(req("/event/Other__e", vec![make("e", 1)]))
        .await;
    let status = stream.error().await;
    assert_salesforce_error(&status, Code::InvalidArgument, "publish.topic.mismatch");
}

#[tokio::test]
async fn an_idle_stream_is_swept() {
    let idle = Duration::from_millis(300);
    let (emulator, mut client) = start(
        PubSubEmulator::builder()
            .publish_idle_timeout(idle)
            .keepalive(Duration::from_secs(30)),
    )
    .await;
    let make = event_maker(&mut client, &emulator).await;
    let mut stream = publish_stream(&mut client, &emulator).await.unwrap();
    stream.send(req(T, vec![make("a", 1)])).await;
    stream.message().await;
    let since = Instant::now();
    let status = stream.error().await;
    assert!(since.elapsed() >= idle - Duration::from_millis(50));
    assert_salesforce_error(&status, Code::Unavailable, "publish.stream.sweeper.timeout");
}

#[tokio::test]
async fn an_oversize_request_ends_the_stream_unavailable() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let make = event_maker(&mut client, &emulator).await;
    let mut stream = publish_stream(&mut client, &emulator).await.unwrap();
    stream
        .send(req(
            T,
            (0..5).map(|i| make(&i.to_string(), 900 * 1024)).collect(),
        ))
        .await;
    let status = stream.error().await;
    assert_eq!(status.code(), Code::Unavailable);
    assert!(error_code(&status).is_none());
}
