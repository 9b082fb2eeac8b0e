//! A position Salesforce no longer has (older than its retention): the channel's fallback
//! applies ("all": the retained events after it are bridged, none twice), or, with "none", the
//! connection fails visibly (metrics, health) and nothing is written.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sfstream_bridge::{Metrics, Options};

const CH: &str = "/event/Order__e";

async fn run_until(text: &str, metrics: Arc<Metrics>, done: impl AsyncFn() -> bool) {
    let mut options = Options::default();
    options.metrics = Some(metrics);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sfstream_bridge::run_with(
        parse(text),
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(()).expect("running");
    task.await.expect("joined").expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_applies_per_channel() {
    logs();
    let nats = Nats::single(Version::Current, true);
    let emulator = emulator(1, &[CH]).await;
    let control = emulator.control();
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let all = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &[CH],
        "3s",
    );
    let client = nats.client().await;
    let mut published = control.publish_generated(CH, 5).expect("publish");
    run_until(&all, Arc::new(Metrics::new("r1")), async || {
        stream_len(&client, "SF").await == 5
    })
    .await;

    // While no bridge runs, the stored position leaves Salesforce's retention.
    control.expire_events(CH, None).expect("expired");
    let none = all.replace("start = \"all\"", "start = \"all\"\nfallback = \"none\"");
    let metrics = Arc::new(Metrics::new("r1"));
    let failed = metrics.clone();
    let connection = format!("org-{}", control.org_id());
    run_until(&none, metrics, async || {
        // Failed, and unhealthy while it owns the connection.
        failed
            .connection_snapshot(&connection)
            .is_some_and(|m| m.state == "failed")
            && failed.health().is_err()
    })
    .await;
    let m = failed.connection_snapshot(&connection).expect("metrics");
    assert!(
        m.error.as_deref().is_some_and(|e| e.contains("fallback")),
        "{m:?}"
    );
    assert_eq!(stream_len(&client, "SF").await, 5, "nothing written");

    // With "all", the retained events after the position are bridged.
    published.extend(control.publish_generated(CH, 7).expect("publish"));
    run_until(&all, Arc::new(Metrics::new("r1")), async || {
        stream_len(&client, "SF").await == 12
    })
    .await;
    let stored = read_stream(&client, "SF").await;
    let subject =
        sfstream_bridge::subject::event_subject("sf", control.org_id(), CH).expect("subject");
    let published = [(subject, published)].into_iter().collect();
    assert_eq!(assert_exactly(&stored, &published), (0, 0));
}
