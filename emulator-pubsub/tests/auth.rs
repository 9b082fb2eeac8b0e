//! Authentication: `accesstoken`, `instanceurl` and `tenantid` on every call; a bad token is
//! `UNAUTHENTICATED` with `…service.auth.error`, blank headers `…service.auth.headers.invalid`;
//! the check is pluggable; tokens expire between calls while open streams keep running.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use sfstream_emulator_pubsub::proto::{ReplayPreset, TopicRequest};
use sfstream_emulator_pubsub::{AuthOutcome, Fault, PubSubEmulator};
use tonic::Code;

fn topic() -> TopicRequest {
    TopicRequest {
        topic_name: "/event/Order__e".into(),
    }
}

#[tokio::test]
async fn a_bad_token_or_tenant_is_unauthenticated_with_salesforce_trailers() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let url = emulator.url().to_owned();
    let org = emulator.org_id().to_owned();
    for (token, tenant) in [
        ("wrong", org.as_str()),
        (emulator.access_token(), "00DXX0000000001AAA"),
    ] {
        let status = client
            .get_topic(with_credentials(topic(), token, &url, tenant))
            .await
            .unwrap_err();
        assert_salesforce_error(&status, Code::Unauthenticated, "service.auth.error");
        assert!(
            !status.message().contains("wrong"),
            "no token in errors: {status:?}"
        );
    }
    // The 15-character org id is accepted as well as the 18-character one.
    let org15: String = org.chars().take(15).collect();
    let ok = client
        .get_topic(with_credentials(
            topic(),
            emulator.access_token(),
            &url,
            &org15,
        ))
        .await
        .unwrap();
    assert_eq!(ok.into_inner().tenant_guid, org);
    // Every error carries a fresh rpc id.
    let a = client
        .get_topic(with_credentials(topic(), "x", &url, &org))
        .await
        .unwrap_err();
    let b = client
        .get_topic(with_credentials(topic(), "x", &url, &org))
        .await
        .unwrap_err();
    assert_ne!(rpc_id(&a), rpc_id(&b));
}

#[tokio::test]
async fn blank_or_missing_headers_are_headers_invalid() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let status = client
        .get_topic(with_credentials(
            topic(),
            emulator.access_token(),
            "  ",
            emulator.org_id(),
        ))
        .await
        .unwrap_err();
    assert_salesforce_error(
        &status,
        Code::Unauthenticated,
        "service.auth.headers.invalid",
    );
    let status = client
        .get_topic(tonic::Request::new(topic()))
        .await
        .unwrap_err();
    assert_salesforce_error(
        &status,
        Code::Unauthenticated,
        "service.auth.headers.invalid",
    );
}

#[tokio::test]
async fn a_pluggable_check_sees_all_three_values() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let emulator = PubSubEmulator::builder()
        .token_check(move |token: &str, url: &str, tenant: &str| {
            record
                .lock()
                .unwrap()
                .push((token.to_owned(), url.to_owned(), tenant.to_owned()));
            if token == "from-oauth" {
                AuthOutcome::Ok
            } else {
                AuthOutcome::Unauthenticated
            }
        })
        .start()
        .await
        .unwrap();
    let mut client = client(&emulator).await;
    client
        .get_topic(with_credentials(
            topic(),
            "from-oauth",
            "https://x.my.salesforce.com",
            "00Dabc",
        ))
        .await
        .unwrap();
    let status = client
        .get_topic(with_credentials(
            topic(),
            emulator.access_token(),
            emulator.url(),
            emulator.org_id(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        (
            "from-oauth".into(),
            "https://x.my.salesforce.com".into(),
            "00Dabc".into()
        )
    );
    assert_eq!(seen.len(), 2);
    assert_eq!(
        emulator.control().issue_token(),
        None,
        "no built-in tokens with a custom check"
    );
}

#[tokio::test]
async fn tokens_expire_between_calls_and_open_streams_keep_running() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let control = emulator.control();
    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch("/event/Order__e", ReplayPreset::Latest, None, 5),
    )
    .await
    .unwrap();
    assert_eq!(control.expire_tokens(), Some(1));
    let status = client
        .get_topic(auth(&emulator, topic()))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::Unauthenticated, "service.auth.error");
    // The open stream still delivers.
    control
        .publish("/event/Order__e", serde_json::json!({}))
        .unwrap();
    assert_eq!(events(&mut sub, 1).await.len(), 1);
    // A new token works for new calls.
    let token = control.issue_token().unwrap();
    let url = emulator.url().to_owned();
    client
        .get_topic(with_credentials(topic(), &token, &url, emulator.org_id()))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_token_expired_fault_fails_the_next_call_only() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    emulator.control().fail_next(1, Fault::TokenExpired);
    let status = client
        .get_topic(auth(&emulator, topic()))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::Unauthenticated, "service.auth.error");
    client.get_topic(auth(&emulator, topic())).await.unwrap();
    assert_eq!(
        emulator.control().stats().faults.get("token_expired"),
        Some(&1)
    );
}
