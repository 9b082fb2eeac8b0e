//! Leases and sharding: one replica, then three, then two. After each hand-over settles every
//! connection is owned exactly once and the split is even; events published all along land
//! exactly once, and no org ever has two Salesforce sessions at once (hand-overs are graceful:
//! the old owner disconnects before the new one subscribes).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use sfstream_bridge::{Metrics, Options};
use tokio::sync::oneshot;

const CHANNELS: [&str; 1] = ["/event/Order__e"];
const ORGS: u32 = 6;

struct Replica {
    metrics: Arc<Metrics>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), sfstream_bridge::BridgeError>>,
}

fn replica(text: &str) -> Replica {
    let config = parse(text);
    let metrics = Arc::new(Metrics::new(&config.replica.replica_id));
    let mut options = Options::default();
    options.metrics = Some(metrics.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(sfstream_bridge::run_with(config, options, async move {
        let _ = stopped.await;
    }));
    Replica {
        metrics,
        stop,
        task,
    }
}

/// Owners per connection, as the replicas' metrics say.
fn owners(
    replicas: &BTreeMap<&str, Replica>,
    connections: &[String],
) -> BTreeMap<String, Vec<String>> {
    connections
        .iter()
        .map(|c| {
            let owners = replicas
                .iter()
                .filter(|(_, r)| {
                    r.metrics
                        .connection_snapshot(c)
                        .is_some_and(|m| m.owned && m.state == "streaming")
                })
                .map(|(id, _)| (*id).to_owned())
                .collect();
            (c.clone(), owners)
        })
        .collect()
}

async fn settled(replicas: &BTreeMap<&str, Replica>, connections: &[String]) {
    let n = replicas.len();
    eventually(
        Duration::from_secs(40),
        "every connection owned exactly once, evenly",
        || {
            let o = owners(replicas, connections);
            let once = o.values().all(|v| v.len() == 1);
            let mut load: BTreeMap<&str, usize> = BTreeMap::new();
            for v in o.values().flatten() {
                *load.entry(v.as_str()).or_default() += 1;
            }
            let even = load.len() == n.min(connections.len())
                && load.values().max().unwrap_or(&0) - load.values().min().unwrap_or(&0) <= 1;
            async move { once && even }
        },
    )
    .await;
}

async fn run(version: Version) {
    logs();
    let nats = Nats::single(version, true);
    let emulator = emulator(ORGS, &CHANNELS).await;
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    // Pipelined publishes (the opt-in): hand-overs with writes under way are what it risks.
    let text = |id: &str| {
        pipelined(
            &config_text(
                secrets.path(),
                &emulator,
                &nats.urls(),
                1,
                id,
                &CHANNELS,
                "3s",
            ),
            128,
        )
    };
    let connections: Vec<String> = emulator
        .org_ids()
        .iter()
        .map(|id| format!("org-{id}"))
        .collect();

    // Events all along.
    let publishing = Arc::new(AtomicBool::new(true));
    let publisher = {
        let controls: Vec<_> = emulator
            .org_ids()
            .iter()
            .filter_map(|id| emulator.control_for(id))
            .collect();
        let publishing = publishing.clone();
        tokio::spawn(async move {
            let mut published: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            while publishing.load(Ordering::Relaxed) {
                for c in &controls {
                    let ids = c.publish_generated(CHANNELS[0], 2).expect("publish");
                    let subject =
                        sfstream_bridge::subject::event_subject("sf", c.org_id(), CHANNELS[0])
                            .expect("subject");
                    published.entry(subject).or_default().extend(ids);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            published
        })
    };

    let mut replicas = BTreeMap::new();
    replicas.insert("r1", replica(&text("r1")));
    settled(&replicas, &connections).await;
    replicas.insert("r2", replica(&text("r2")));
    replicas.insert("r3", replica(&text("r3")));
    settled(&replicas, &connections).await;
    let gone = replicas.remove("r2").expect("r2");
    gone.stop.send(()).expect("running");
    gone.task.await.expect("joined").expect("clean stop");
    settled(&replicas, &connections).await;

    publishing.store(false, Ordering::Relaxed);
    let published = publisher.await.expect("publisher");
    let client = nats.client().await;
    let want: u64 = published.values().map(|v| v.len() as u64).sum();
    eventually(Duration::from_secs(30), "every event stored", || {
        let client = client.clone();
        async move { stream_len(&client, "SF").await == want }
    })
    .await;
    for (_, r) in std::mem::take(&mut replicas) {
        r.stop.send(()).expect("running");
        r.task.await.expect("joined").expect("clean stop");
    }
    let stored = read_stream(&client, "SF").await;
    assert_eq!(assert_exactly(&stored, &published), (0, 0));
    for id in emulator.org_ids() {
        let totals = emulator.control_for(&id).expect("org").stats().totals;
        assert_eq!(
            totals.max_active_sessions, 1,
            "{id}: one Salesforce session at a time: {totals:?}"
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
