//! NATS unreachable at start and mid-run: events wait in Salesforce (nothing is committed, no
//! position moves), and the bridge resumes when the server is back: every event once, in order.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;

const CHANNELS: [&str; 1] = ["/event/Order__e"];

fn publish(
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
    let mut nats = Nats::single(version, false);
    let emulator = emulator(2, &CHANNELS).await;
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &CHANNELS,
        "3s",
    );
    let mut published = BTreeMap::new();
    publish(&emulator, 5, &mut published);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bridge = tokio::spawn(sfstream_bridge::run(parse(&text), async move {
        let _ = stopped.await;
    }));
    // NATS down at start: the bridge waits, and opens no Salesforce session meanwhile.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!bridge.is_finished(), "the bridge waits for NATS");
    assert_eq!(
        emulator.control().stats().totals.handshakes,
        0,
        "nothing read from Salesforce yet"
    );
    publish(&emulator, 5, &mut published);
    nats.nodes[0].start();
    let client = nats.client().await;
    let total = |p: &BTreeMap<String, Vec<i64>>| p.values().map(Vec::len).sum::<usize>() as u64;
    let want = total(&published);
    eventually(
        Duration::from_secs(30),
        "events stored once NATS is up",
        || {
            let client = client.clone();
            async move { stream_len(&client, "SF").await == want }
        },
    )
    .await;

    // Down mid-run: events published meanwhile wait, nothing moves.
    nats.nodes[0].kill();
    publish(&emulator, 20, &mut published);
    tokio::time::sleep(Duration::from_secs(5)).await;
    publish(&emulator, 5, &mut published);
    nats.nodes[0].start();
    let client = nats.client().await;
    let want = total(&published);
    eventually(
        Duration::from_secs(60),
        "events stored after NATS came back",
        || {
            let client = client.clone();
            async move { stream_len(&client, "SF").await == want }
        },
    )
    .await;
    stop.send(()).expect("running");
    bridge.await.expect("joined").expect("clean stop");
    let stored = read_stream(&client, "SF").await;
    assert_eq!(assert_exactly(&stored, &published), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_2_9() {
    run(Version::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_current() {
    run(Version::Current).await;
}
