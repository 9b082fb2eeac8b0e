//! Batches on the runtimes' own clients against the emulator: the blocking client's
//! `receive_batch_timeout` and `batches` iterator, the tokio client's `batches` stream; a
//! committed batch puts its last replay id in the store, and `batches` ends once the client is
//! closed.
mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sfstream_tokio::{CommitPolicy, MemoryStore, ReplayStore};
use support::{Emu, Exec, ORDERS, PREISSUED_TOKEN};

#[test]
fn blocking_batches_commit_their_last_replay_id() {
    let emu = Emu::start(|b| b);
    let store = Arc::new(MemoryStore::new());
    let client = sfstream_blocking::access_token_client(PREISSUED_TOKEN, emu.base_url.clone())
        .commit_policy(CommitPolicy::Manual)
        .shared_store(store.clone())
        .build()
        .unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    assert!(
        client
            .receive_batch_timeout(10, Duration::from_millis(200))
            .is_none(),
        "nothing published: nothing to take"
    );
    let ids = emu.control.publish_generated(ORDERS, 5).unwrap();
    let mut got = Vec::new();
    while got.len() < ids.len() {
        let batch = client
            .receive_batch_timeout(3, Duration::from_secs(20))
            .expect("events within 20 s")
            .unwrap();
        assert!((1..=3).contains(&batch.len()), "{}", batch.len());
        got.extend(batch.iter().filter_map(|m| m.replay_id()));
        client.commit(&batch).unwrap();
    }
    assert_eq!(got, ids);
    client.close().unwrap();
    assert_eq!(store.load().unwrap().get(ORDERS), ids.last());
    assert!(client.batches(10).next().is_none(), "closed and drained");
}

#[test]
fn tokio_batches_stream_until_closed() {
    let emu = Emu::start(|b| b);
    let exec = Exec::tokio();
    let _guard = exec.enter();
    let store = Arc::new(MemoryStore::new());
    let client = sfstream_tokio::access_token_client(PREISSUED_TOKEN, emu.base_url.clone())
        .commit_policy(CommitPolicy::Manual)
        .shared_store(store.clone())
        .build()
        .unwrap();
    let ids = exec.block_on(async {
        client.subscribe(ORDERS).await.unwrap();
        client.open().await.unwrap();
        let ids = emu.control.publish_generated(ORDERS, 4).unwrap();
        let mut batches = client.batches(100);
        let mut got = Vec::new();
        while got.len() < ids.len() {
            let batch = tokio::time::timeout(Duration::from_secs(20), batches.next())
                .await
                .expect("events within 20 s")
                .expect("the stream goes on while open")
                .unwrap();
            got.extend(batch.iter().filter_map(|m| m.replay_id()));
            client.commit(&batch).unwrap();
        }
        assert_eq!(got, ids);
        client.close().await.unwrap();
        assert!(batches.next().await.is_none(), "closed and drained");
        ids
    });
    assert_eq!(store.load().unwrap().get(ORDERS), ids.last());
}
