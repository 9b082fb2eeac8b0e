//! The Pub/Sub client's errors have the Streaming API's kinds, against the emulator: a missing
//! topic is a channel-level error naming the topic, a refused token is fatal authentication and
//! the client then answers "closed by a failure" with that cause, a user's close is
//! "closed by the user".

mod pubsub_common;

use pubsub_common::{builder, start, within};
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::ErrorKind;
use sfstream_tokio::pubsub::{Credentials, Secret};

const MISSING: &str = "/event/Missing__e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_a_channel_error_naming_it_and_not_fatal() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator).build().unwrap();
    client.subscribe(MISSING).await.unwrap();
    let error = match within("open", client.open()).await {
        Err(error) => error,
        Ok(()) => within("the topic's failure", client.receive())
            .await
            .unwrap_err(),
    };
    assert!(
        matches!(error.kind(), ErrorKind::Channel | ErrorKind::Permission),
        "{:?}: {error}",
        error.kind()
    );
    assert_eq!(error.topic(), Some(MISSING), "{error}");
    assert!(!error.is_fatal() && !error.is_retryable(), "{error}");
    assert!(!client.is_closed(), "the other topics go on");
    within("close", client.close()).await.unwrap();
    let closed = client.subscribe("/event/Order__e").await.unwrap_err();
    assert_eq!(closed.kind(), ErrorKind::ClosedByUser, "{closed}");
    assert!(closed.is_fatal() && closed.closed_cause().is_none());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_fatal_and_the_client_then_says_why_it_closed() {
    let emulator = start(PubSubEmulator::builder()).await;
    let client = builder(&emulator)
        .configure(|mut config| {
            config.credentials = Credentials::AccessToken {
                access_token: Secret::new("not-a-token-the-emulator-knows"),
                instance_url: emulator.url().to_owned(),
            };
            config
        })
        .build()
        .unwrap();
    client.subscribe("/event/Order__e").await.unwrap();
    let error = match within("open", client.open()).await {
        Err(error) => error,
        Ok(()) => within("the failure", client.receive()).await.unwrap_err(),
    };
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
    assert!(error.is_fatal() && !error.is_retryable(), "{error}");
    assert!(!error.to_string().contains("not-a-token"), "{error}");
    let after = within("a call after the failure", client.receive())
        .await
        .unwrap_err();
    assert_eq!(after.kind(), ErrorKind::ClosedByFailure, "{after}");
    let cause = after.closed_cause().expect("the failure that closed it");
    assert_eq!(cause.kind(), ErrorKind::Authentication, "{cause}");
    emulator.shutdown().await;
}
