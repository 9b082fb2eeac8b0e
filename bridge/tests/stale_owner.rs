//! A former owner that wakes up after its connection was handed over: its late, unfenced
//! writes (the pipelined tail it had under way) land on a stream another owner writes. Copies
//! of stored events are dropped by the duplicate window; a late tail that continues the stream
//! in order is taken as the position by the next owner, which goes on from there: every event
//! stored exactly once, in order. The owners pipeline (`max_in_flight = 128`, the opt-in);
//! `a_removed_copy_is_written_again` runs with the default, every publish fenced.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};
use common::*;
use sfstream_bridge::subject;
use tokio::sync::oneshot;

const CHANNEL: &str = "/event/Order__e";

fn start(
    text: &str,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), sfstream_bridge::BridgeError>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(sfstream_bridge::run(parse(text), async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

/// A write as a former owner's pipeline sends it (the event's subject, message id and
/// headers, no fence); whether the stream took it as a duplicate.
async fn late_write(js: &jetstream::Context, org_id: &str, replay_id: i64) -> bool {
    let mut headers = HeaderMap::new();
    headers.insert(subject::CHANNEL, CHANNEL);
    headers.insert(subject::ORG_ID, org_id);
    headers.insert(subject::REPLAY_ID, replay_id.to_string().as_str());
    let message = PublishMessage::build()
        .headers(headers)
        .message_id(subject::msg_id(org_id, CHANNEL, replay_id))
        .payload(format!("{{\"late\":{replay_id}}}").into());
    let subject = subject::event_subject("sf", org_id, CHANNEL).expect("subject");
    js.send_publish(subject, message)
        .await
        .expect("sent")
        .await
        .expect("acknowledged")
        .duplicate
}

async fn run(version: Version) {
    logs();
    let nats = Nats::single(version, true);
    let emulator = emulator(1, &[CHANNEL]).await;
    let org = emulator.org_ids()[0].clone();
    let control = emulator.control_for(&org).expect("org");
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    // Late unfenced writes come from a pipelining owner, so the owners here pipeline too.
    let text = pipelined(
        &config_text(
            secrets.path(),
            &emulator,
            &nats.urls(),
            1,
            "b",
            &[CHANNEL],
            "3s",
        ),
        128,
    );
    let client = nats.client().await;
    let js = jetstream::new(client.clone());
    let subject = subject::event_subject("sf", &org, CHANNEL).expect("subject");

    // The new owner stores the first ten events, then hands over.
    let mut published: Vec<i64> = control.publish_generated(CHANNEL, 10).expect("publish");
    let (stop, task) = start(&text);
    eventually(Duration::from_secs(30), "ten events stored", || {
        let client = client.clone();
        async move { stream_len(&client, "SF").await == 10 }
    })
    .await;
    let _ = stop.send(());
    task.await.expect("joined").expect("the bridge ran");

    // Ten more events wait in Salesforce; the former owner wakes and its tail arrives: copies
    // of stored events (dropped) and the next three events (a contiguous continuation).
    let next = control.publish_generated(CHANNEL, 10).expect("publish");
    published.extend(&next);
    for &replay_id in published[4..13].iter() {
        assert_eq!(
            late_write(&js, &org, replay_id).await,
            replay_id <= published[9],
            "event {replay_id}: copies of stored events are dropped, the continuation is stored"
        );
    }
    assert_eq!(stream_len(&client, "SF").await, 13);

    // The next owner goes on after the late tail, and late copies arriving meanwhile change
    // nothing.
    let (stop, task) = start(&text);
    for &replay_id in &published[..13] {
        assert!(
            late_write(&js, &org, replay_id).await,
            "event {replay_id} stored twice"
        );
    }
    eventually(Duration::from_secs(30), "twenty events stored", || {
        let client = client.clone();
        async move { stream_len(&client, "SF").await >= 20 }
    })
    .await;
    let _ = stop.send(());
    task.await.expect("joined").expect("the bridge ran");
    let stored = read_stream(&client, "SF").await;
    let (lost, duplicates) = assert_exactly(
        &stored,
        &BTreeMap::from([(subject.clone(), published.clone())]),
    );
    assert_eq!((lost, duplicates), (0, 0));
    let late: Vec<i64> = stored[&subject]
        .iter()
        .filter(|s| s.body.get("late").is_some())
        .map(|s| s.replay_id)
        .collect();
    assert_eq!(
        late,
        published[10..13],
        "the late tail is part of the stream, in its place"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_2_9() {
    run(Version::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_current() {
    run(Version::Current).await;
}

/// A former owner put the channel back in order and removed the last copy (NATS 2.14+ only),
/// then lost its lease before writing it again: the next owner resumes before it, is told
/// "duplicate" (the window remembers the removed copy's id), finds the copy gone and writes the
/// event under an id of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_copy_is_written_again() {
    logs();
    let nats = Nats::single(Version::Current, true);
    let emulator = emulator(1, &[CHANNEL]).await;
    let org = emulator.org_ids()[0].clone();
    let control = emulator.control_for(&org).expect("org");
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "b",
        &[CHANNEL],
        "3s",
    );
    let client = nats.client().await;
    let subject = subject::event_subject("sf", &org, CHANNEL).expect("subject");

    let published: Vec<i64> = control.publish_generated(CHANNEL, 5).expect("publish");
    let (stop, task) = start(&text);
    eventually(Duration::from_secs(30), "five events stored", || {
        let client = client.clone();
        async move { stream_len(&client, "SF").await == 5 }
    })
    .await;
    let _ = stop.send(());
    task.await.expect("joined").expect("the bridge ran");
    let removed = read_stream(&client, "SF").await[&subject][4].sequence;
    let stream = jetstream::new(client.clone())
        .get_stream("SF")
        .await
        .expect("stream");
    stream.delete_message(removed).await.expect("removed");

    let (stop, task) = start(&text);
    eventually(
        Duration::from_secs(30),
        "the fifth event stored again",
        || {
            let client = client.clone();
            async move { stream_len(&client, "SF").await == 5 }
        },
    )
    .await;
    let _ = stop.send(());
    task.await.expect("joined").expect("the bridge ran");
    let stored = read_stream(&client, "SF").await;
    assert_exactly(
        &stored,
        &BTreeMap::from([(subject.clone(), published.clone())]),
    );
    assert_eq!(
        stored[&subject][4].msg_id,
        format!("{org}:{CHANNEL}:{}:{removed}", published[4])
    );
}
