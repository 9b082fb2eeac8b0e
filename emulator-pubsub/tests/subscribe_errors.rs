//! `Subscribe` request errors: topic mismatch, `CUSTOM` without an id, unknown / malformed /
//! expired ids, `num_requested` ≤ 0 — all `INVALID_ARGUMENT` with Salesforce's error codes.

mod common;

use std::time::Duration;

use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::ReplayPreset;
use tonic::Code;

const T: &str = "/event/Order__e";

async fn first_error(
    emulator: &PubSubEmulator,
    client: &mut Client,
    first: sfstream_emulator_pubsub::proto::FetchRequest,
) -> tonic::Status {
    subscribe(client, emulator, first)
        .await
        .unwrap()
        .error()
        .await
}

#[tokio::test]
async fn a_later_request_naming_another_topic_is_a_mismatch() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 1),
    )
    .await
    .unwrap();
    sub.send(fetch(T, ReplayPreset::Latest, None, 1)).await; // the same topic is fine
    sub.send(fetch(
        "/data/AccountChangeEvent",
        ReplayPreset::Latest,
        None,
        1,
    ))
    .await;
    let status = sub.error().await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.topic.mismatch",
    );
}

#[tokio::test]
async fn custom_without_an_id_fails_validation() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let status = first_error(
        &emulator,
        &mut client,
        fetch(T, ReplayPreset::Custom, None, 1),
    )
    .await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.replayid.validation.failed",
    );
}

#[tokio::test]
async fn unknown_malformed_and_expired_ids_are_corrupted() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let published = control.publish_generated(T, 3).unwrap();
    let gap = (published[1].0 + 1).to_be_bytes(); // between two ids: never handed out
    let decimal = published[1].0.to_string(); // the replay id as text, a classic client bug
    for bad in [&gap[..], decimal.as_bytes(), &[1, 2, 3][..]] {
        let status = first_error(
            &emulator,
            &mut client,
            fetch(T, ReplayPreset::Custom, Some(bad), 1),
        )
        .await;
        assert_salesforce_error(
            &status,
            Code::InvalidArgument,
            "subscription.fetch.replayid.corrupted",
        );
    }
    // Past retention: the id was valid and no longer is.
    control
        .advance_clock(Duration::from_secs(73 * 3600))
        .unwrap();
    let status = first_error(
        &emulator,
        &mut client,
        fetch(T, ReplayPreset::Custom, Some(&published[0].to_bytes()), 1),
    )
    .await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.replayid.corrupted",
    );
}

#[tokio::test]
async fn requesting_zero_or_fewer_events_is_invalid() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    for n in [0, -5] {
        let status = first_error(
            &emulator,
            &mut client,
            fetch(T, ReplayPreset::Latest, None, n),
        )
        .await;
        assert_salesforce_error(
            &status,
            Code::InvalidArgument,
            "subscription.fetch.requested.events.invalid",
        );
    }
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch(T, ReplayPreset::Latest, None, 1),
    )
    .await
    .unwrap();
    sub.send(more(0)).await;
    let status = sub.error().await;
    assert_salesforce_error(
        &status,
        Code::InvalidArgument,
        "subscription.fetch.requested.events.invalid",
    );
}

#[tokio::test]
async fn unknown_topics_are_not_found() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let status = first_error(
        &emulator,
        &mut client,
        fetch("/event/Nope__e", ReplayPreset::Latest, None, 1),
    )
    .await;
    assert_salesforce_error(&status, Code::NotFound, "topic.not.found");
}
