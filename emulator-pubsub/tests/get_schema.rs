//! `GetSchema`: the exact schema JSON for every schema id ever used on a topic; a schema change
//! gives a new id and keeps the old one valid; ids are 22 base64url characters.

mod common;

use common::*;
use sfstream_emulator_pubsub::proto::{ReplayPreset, SchemaRequest, TopicRequest};
use sfstream_emulator_pubsub::{Field, FieldType, PubSubEmulator};
use tonic::Code;

#[tokio::test]
async fn old_and_new_schema_ids_both_resolve_and_events_keep_theirs() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let topic = |c: &mut Client| {
        let r = auth(
            &emulator,
            TopicRequest {
                topic_name: "/event/Order__e".into(),
            },
        );
        let mut c = c.clone();
        async move { c.get_topic(r).await.unwrap().into_inner() }
    };
    let old = topic(&mut client).await.schema_id;
    let first = control
        .publish(
            "/event/Order__e",
            serde_json::json!({"OrderNumber__c": "A"}),
        )
        .unwrap();
    let new = control
        .change_schema(
            "/event/Order__e",
            Some(&[Field::new("Note__c", FieldType::Text)]),
            None,
        )
        .unwrap();
    control
        .publish("/event/Order__e", serde_json::json!({"Note__c": "B"}))
        .unwrap();
    for id in [&old, &new] {
        assert_eq!(id.len(), 22);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}"
        );
        let info = client
            .get_schema(auth(
                &emulator,
                SchemaRequest {
                    schema_id: id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&info.schema_id, id);
        let schema = apache_avro::Schema::parse_str(&info.schema_json).unwrap();
        let json: serde_json::Value = serde_json::from_str(&info.schema_json).unwrap();
        assert_eq!(json["namespace"], "com.sforce.eventbus");
        assert_eq!(json["name"], "Order__e");
        let has = |name: &str| {
            json["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == name)
        };
        assert_eq!(has("OrderNumber__c"), id == &old);
        assert_eq!(has("Note__c"), id == &new);
        drop(schema);
    }
    // The stream carries each event with the schema id it was written with.
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch("/event/Order__e", ReplayPreset::Earliest, None, 2),
    )
    .await
    .unwrap();
    let got = events(&mut sub, 2).await;
    assert_eq!(replay_u64(&got[0].replay_id), first.0);
    assert_eq!(got[0].event.as_ref().unwrap().schema_id, old);
    assert_eq!(got[1].event.as_ref().unwrap().schema_id, new);
}

#[tokio::test]
async fn unknown_and_blank_schema_ids_fail() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let status = client
        .get_schema(auth(
            &emulator,
            SchemaRequest {
                schema_id: "a01VpgrsZNJdn-7KStJcxQ".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::NotFound, "schema.meta.permission");
    let status = client
        .get_schema(auth(&emulator, SchemaRequest::default()))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::InvalidArgument, "schema.validation.failed");
}
