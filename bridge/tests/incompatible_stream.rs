//! A stream that exists with settings the bridge cannot work with is refused with a clear
//! error, and left exactly as it was (never a shrunk duplicate window on a live stream).

mod common;

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use common::*;

async fn refused(version: Version, existing: stream::Config, expect: &str) {
    logs();
    let nats = Nats::single(version, true);
    let client = nats.client().await;
    let js = jetstream::new(client.clone());
    js.create_stream(existing.clone())
        .await
        .expect("stream created");
    let emulator = emulator(1, &["/event/Order__e"]).await;
    let secrets = tempfile::tempdir().expect("dir");
    write_secrets(secrets.path());
    let text = config_text(
        secrets.path(),
        &emulator,
        &nats.urls(),
        1,
        "r1",
        &["/event/Order__e"],
        "3s",
    );
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        sfstream_bridge::run(parse(&text), std::future::pending()),
    )
    .await
    .expect("the bridge gives up at once");
    let e = result.expect_err("the stream must be refused");
    assert!(matches!(e, sfstream_bridge::BridgeError::Setup(_)), "{e:?}");
    assert!(e.to_string().contains(expect), "{e}");
    let mut s = js.get_stream("SF").await.expect("still there");
    let info = s.info().await.expect("info");
    assert_eq!(
        info.config.duplicate_window, existing.duplicate_window,
        "unchanged"
    );
    assert_eq!(info.config.retention, existing.retention, "unchanged");
    assert_eq!(
        emulator.control().stats().totals.handshakes,
        0,
        "no Salesforce session started"
    );
}

fn base() -> stream::Config {
    stream::Config {
        name: "SF".into(),
        subjects: vec!["sf.>".into()],
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_duplicate_window_is_refused_not_changed() {
    for v in Version::BOTH {
        let existing = stream::Config {
            duplicate_window: Duration::from_secs(5),
            max_age: Duration::from_secs(3600),
            ..base()
        };
        refused(v, existing, "duplicate window").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queue_retention_is_refused() {
    for v in Version::BOTH {
        let existing = stream::Config {
            retention: stream::RetentionPolicy::WorkQueue,
            ..base()
        };
        refused(v, existing, "limits retention").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_that_do_not_cover_the_prefix_are_refused() {
    let existing = stream::Config {
        subjects: vec!["sf.other.*".into()],
        ..base()
    };
    refused(Version::Current, existing, "do not cover").await;
}
