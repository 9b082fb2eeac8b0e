//! An event larger than the NATS server's `max_payload` (1 MiB by default): a clear error
//! naming the event, the size and the setting, in the log, the metrics and `/healthz`; the event
//! waits (nothing after it on its channel is written), and the events before it are stored.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sfstream_bridge::{Metrics, Options};

const CH: &str = "/event/Order__e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_max_payload_is_a_clear_error_and_waits() {
    logs();
    let nats = Nats::single(Version::Current, true);
    let emulator = emulator(1, &[CH]).await;
    let control = emulator.control();
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &[CH],
        "3s",
    );
    control.publish_generated(CH, 3).expect("publish");
    let big = control
        .publish(CH, serde_json::json!({ "Blob__c": "x".repeat(1_100_000) }))
        .expect("publish");
    control.publish_generated(CH, 2).expect("publish");

    let metrics = Arc::new(Metrics::new("r1"));
    let mut options = Options::default();
    options.metrics = Some(metrics.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sfstream_bridge::run_with(
        parse(&text),
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    let connection = format!("org-{}", control.org_id());
    let client = nats.client().await;
    eventually(
        Duration::from_secs(30),
        "the oversized event reported",
        || {
            let m = metrics.connection_snapshot(&connection);
            let health = metrics.health();
            async move {
                m.is_some_and(|m| {
                    m.state == "failed" && m.error.is_some_and(|e| e.contains("max_payload"))
                }) && health.is_err_and(|h| h.contains(&big.to_string()))
            }
        },
    )
    .await;
    assert_eq!(
        stream_len(&client, "SF").await,
        3,
        "the events before it, nothing after it"
    );
    stop.send(()).expect("running");
    // The event waits for a larger max_payload: the stop does not wait for it forever.
    let _ = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("stops");
}
