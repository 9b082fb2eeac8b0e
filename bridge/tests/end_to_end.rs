//! One bridge, one NATS server (2.9 and current), two orgs × two channels: events published
//! before, during and between two runs all land in the stream exactly once, in order, with the
//! documented subject, headers and body; `/metrics`, `/healthz` and `status` tell the truth.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sfstream_bridge::{Metrics, Options};
use tokio::sync::oneshot;

const CHANNELS: [&str; 2] = ["/event/Order__e", "/data/AccountChangeEvent"];

struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), sfstream_bridge::BridgeError>>,
}

fn start(text: &str, metrics: Arc<Metrics>) -> Running {
    let config = parse(text);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut options = Options::default();
    options.metrics = Some(metrics);
    let task = tokio::spawn(sfstream_bridge::run_with(config, options, async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

async fn publish(
    emulator: &sfstream_emulator::Emulator,
    n: usize,
    published: &mut BTreeMap<String, Vec<i64>>,
) {
    for id in emulator.org_ids() {
        let control = emulator.control_for(&id).expect("org");
        for ch in CHANNELS {
            let ids = control.publish_generated(ch, n).expect("publish");
            let subject = sfstream_bridge::subject::event_subject("sf", &id, ch).expect("subject");
            published.entry(subject).or_default().extend(ids);
        }
    }
}

async fn run(version: Version) {
    logs();
    let nats = Nats::single(version, true);
    let emulator = emulator(2, &CHANNELS).await;
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let port = free_port();
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &CHANNELS,
        "3s",
    )
    .replace(
        "[nats]",
        &format!("metrics_listen = \"127.0.0.1:{port}\"\n\n[nats]"),
    );
    let client = nats.client().await;
    let mut published = BTreeMap::new();
    publish(&emulator, 10, &mut published).await;

    let metrics = Arc::new(Metrics::new("r1"));
    let running = start(&text, metrics.clone());
    publish(&emulator, 20, &mut published).await;
    let total: usize = published.values().map(Vec::len).sum();
    eventually(Duration::from_secs(30), "every event stored", || {
        let client = client.clone();
        async move { stream_len(&client, "SF").await == total as u64 }
    })
    .await;

    // Operations: metrics, health, status.
    let http = reqwest::Client::new();
    let text_metrics = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body");
    assert!(text_metrics.contains("sfstream_bridge_events_total{replica=\"r1\",connection=\"org-00DEM0000000001\",org_id=\"00DEM0000000001\",channel=\"/event/Order__e\"} 30"), "{text_metrics}");
    assert!(
        text_metrics.contains(
            "sfstream_bridge_lease_owned{replica=\"r1\",connection=\"org-00DEM0000000002\"} 1"
        ),
        "{text_metrics}"
    );
    let health = http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let status = sfstream_bridge::status(&parse(&text))
        .await
        .expect("status");
    assert_eq!(status.members, vec!["r1".to_owned()]);
    assert!(
        status
            .leases
            .iter()
            .all(|l| l.owner.as_deref() == Some("r1")),
        "{status:?}"
    );
    for p in &status.positions {
        assert_eq!(p.replay_id, published[&p.subject].last().copied(), "{p:?}");
    }

    running.stop.send(()).expect("bridge running");
    running.task.await.expect("joined").expect("clean stop");
    // Handed over on stop: the leases are free.
    let status = sfstream_bridge::status(&parse(&text))
        .await
        .expect("status");
    assert!(
        status.leases.iter().all(|l| l.owner.is_none()),
        "{status:?}"
    );

    // Events published while no bridge runs are picked up from the stream's positions.
    publish(&emulator, 15, &mut published).await;
    let running = start(&text, Arc::new(Metrics::new("r1")));
    publish(&emulator, 5, &mut published).await;
    let total: usize = published.values().map(Vec::len).sum();
    eventually(
        Duration::from_secs(30),
        "every event stored after the restart",
        || {
            let client = client.clone();
            async move { stream_len(&client, "SF").await == total as u64 }
        },
    )
    .await;
    running.stop.send(()).expect("bridge running");
    running.task.await.expect("joined").expect("clean stop");

    let stored = read_stream(&client, "SF").await;
    let (lost, duplicates) = assert_exactly(&stored, &published);
    assert_eq!((lost, duplicates), (0, 0));
    // Headers and body: what `sfstream listen` prints.
    let (subject, messages) = stored.iter().next().expect("a subject");
    let first = &messages[0];
    let org = subject.split('.').nth(1).expect("org token");
    assert!(first.msg_id.starts_with(&format!("{org}:")), "{first:?}");
    assert!(
        first.msg_id.ends_with(&format!(":{}", first.replay_id)),
        "{first:?}"
    );
    assert_eq!(first.body["replayId"], serde_json::json!(first.replay_id));
    assert!(
        first.body["channel"]
            .as_str()
            .is_some_and(|c| CHANNELS.contains(&c))
    );
    assert!(
        first.body["kind"].is_string() && first.body.get("payload").is_some(),
        "{}",
        first.body
    );
    // One Salesforce session per org at a time.
    for id in emulator.org_ids() {
        let stats = emulator.control_for(&id).expect("org").stats();
        assert!(
            stats.totals.max_active_sessions <= 1,
            "{id}: {:?}",
            stats.totals
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_2_9() {
    run(Version::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_current() {
    run(Version::Current).await;
}
