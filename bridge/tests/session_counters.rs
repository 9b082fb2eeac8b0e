//! The bridge counts a Salesforce session started again (a reconnect) and a channel fetched again
//! after a broken long poll from the client's session events, and every event still lands once.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sfstream_bridge::{Metrics, Options};
use sfstream_emulator::{DropAdvice, Fault};

const CHANNEL: &str = "/event/Order__e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_refetches_come_from_session_events() {
    logs();
    let nats = Nats::single(Version::Debian, true);
    let emulator = emulator(1, &[CHANNEL]).await;
    let org = emulator.org_ids().into_iter().next().expect("an org");
    let control = emulator.control_for(&org).expect("org");
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &[CHANNEL],
        "3s",
    );
    let client = nats.client().await;
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
    let subject = sfstream_bridge::subject::event_subject("sf", &org, CHANNEL).expect("subject");
    let mut published: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let stored_all = async |published: &BTreeMap<String, Vec<i64>>, what: &str| {
        let total: usize = published.values().map(Vec::len).sum();
        eventually(Duration::from_secs(30), what, || {
            let client = client.clone();
            async move { stream_len(&client, "SF").await == total as u64 }
        })
        .await;
    };
    let connection = format!("org-{org}");
    let counters = || {
        let m = metrics
            .connection_snapshot(&connection)
            .expect("the connection's metrics");
        (m.reconnects, m.refetches)
    };

    published
        .entry(subject.clone())
        .or_default()
        .extend(control.publish_generated(CHANNEL, 5).expect("publish"));
    stored_all(&published, "the first events stored").await;
    assert_eq!(counters(), (0, 0), "a healthy session counts nothing");

    assert_eq!(control.drop_sessions(DropAdvice::Handshake), 1);
    published
        .entry(subject.clone())
        .or_default()
        .extend(control.publish_generated(CHANNEL, 5).expect("publish"));
    stored_all(&published, "the events after the dropped session stored").await;
    eventually(Duration::from_secs(10), "the reconnect counted", || {
        let c = counters();
        async move { c == (1, 0) }
    })
    .await;

    control.fail_next(1, Fault::CutAfterDelivery);
    published
        .entry(subject.clone())
        .or_default()
        .extend(control.publish_generated(CHANNEL, 5).expect("publish"));
    stored_all(&published, "the events after the broken long poll stored").await;
    eventually(
        Duration::from_secs(10),
        "the re-fetch (on a new session) counted",
        || {
            let c = counters();
            async move { c == (2, 1) }
        },
    )
    .await;

    stop.send(()).expect("bridge running");
    task.await.expect("joined").expect("clean stop");
    let stored = read_stream(&client, "SF").await;
    assert_eq!(assert_exactly(&stored, &published), (0, 0));
}
