//! `GetTopic`: the org id as `tenant_guid`, `can_publish` false for `/data/…`, the current schema
//! id; unknown topics are `NOT_FOUND`, or `PERMISSION_DENIED` when configured.

mod common;

use common::*;
use sfstream_emulator_pubsub::proto::TopicRequest;
use sfstream_emulator_pubsub::{Field, FieldType, PubSubEmulator};
use tonic::Code;

fn req(name: &str) -> TopicRequest {
    TopicRequest {
        topic_name: name.into(),
    }
}

#[tokio::test]
async fn topics_report_tenant_permissions_and_the_current_schema() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let pe = client
        .get_topic(auth(&emulator, req("/event/Order__e")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pe.topic_name, "/event/Order__e");
    assert_eq!(pe.tenant_guid, "00DEM00000000012AA");
    assert!(pe.can_publish && pe.can_subscribe);
    assert_eq!(pe.schema_id.len(), 22);
    assert!(!pe.rpc_id.is_empty());
    let cdc = client
        .get_topic(auth(&emulator, req("/data/AccountChangeEvent")))
        .await
        .unwrap()
        .into_inner();
    assert!(!cdc.can_publish && cdc.can_subscribe);
    let new_id = emulator
        .control()
        .change_schema(
            "/event/Order__e",
            Some(&[Field::new("Extra__c", FieldType::Text)]),
            None,
        )
        .unwrap();
    let after = client
        .get_topic(auth(&emulator, req("/event/Order__e")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.schema_id, new_id);
    assert_ne!(after.schema_id, pe.schema_id);
}

#[tokio::test]
async fn unknown_topics_are_not_found() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let status = client
        .get_topic(auth(&emulator, req("/event/Nope__e")))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::NotFound, "topic.not.found");
}

#[tokio::test]
async fn unknown_topics_can_be_permission_denied() {
    let (emulator, mut client) =
        start(PubSubEmulator::builder().unknown_topic_permission_denied(true)).await;
    let status = client
        .get_topic(auth(&emulator, req("/event/Nope__e")))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::PermissionDenied, "topic.meta.permission");
}
