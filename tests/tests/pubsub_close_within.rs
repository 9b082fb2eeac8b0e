//! Pub/Sub `close_within(bound)` on tokio: on time it is `close` (the committed replay id is
//! stored); when the bound passes first (a store whose writes take seconds) it returns by the
//! bound with an error of kind `CloseTimedOut` naming the committed replay id not yet stored and
//! the events not taken, the client is closed for the application, and the write still lands
//! afterwards.

mod pubsub_common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::ErrorKind;
use sfstream_tokio::pubsub::{CommitPolicy, Error, MemoryStore, PubSubClient, ReplayStore};
use sfstream_tokio::store::StoreError;

const SLOW_WRITE: Duration = Duration::from_secs(2);
const BOUND: Duration = Duration::from_millis(300);

/// A memory store whose topic writes take [`SLOW_WRITE`].
struct SlowStore(Arc<MemoryStore>);

impl ReplayStore for SlowStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        self.0.load()
    }
    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        self.0.save(channel, replay_id)
    }
    fn remove(&self, channel: &str) -> Result<(), StoreError> {
        self.0.remove(channel)
    }
    fn load_topics(&self) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
        self.0.load_topics()
    }
    fn save_topic(&self, topic: &str, replay_id: &[u8]) -> Result<(), StoreError> {
        std::thread::sleep(SLOW_WRITE);
        self.0.save_topic(topic, replay_id)
    }
    fn save_topics(&self, checkpoints: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        std::thread::sleep(SLOW_WRITE);
        self.0.save_topics(checkpoints)
    }
    fn remove_topic(&self, topic: &str) -> Result<(), StoreError> {
        self.0.remove_topic(topic)
    }
}

/// An open client on `store` that received three events and committed the first two: the
/// second's replay id, and the client (one event taken and not committed, none waiting).
async fn committed_two(
    emulator: &PubSubEmulator,
    store: Arc<dyn ReplayStore>,
) -> (PubSubClient, Vec<u8>) {
    let client = builder(emulator)
        .shared_store(store)
        .commit(CommitPolicy::Manual)
        .build()
        .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open", client.open()).await.unwrap();
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let events = receive_n(&client, 3).await;
    client.commit(&events[1]).unwrap();
    (client, events[1].replay_id().as_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_time_it_is_close() {
    let emulator = start(PubSubEmulator::builder()).await;
    let store = Arc::new(MemoryStore::new());
    let (client, id) = committed_two(&emulator, store.clone()).await;
    within("close_within", client.close_within(Duration::from_secs(5)))
        .await
        .expect("closed in time");
    assert!(client.is_closed());
    assert_eq!(store.load_topics().unwrap().get(ORDERS), Some(&id));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_it_returns_and_says_what_was_not_stored() {
    let emulator = start(PubSubEmulator::builder()).await;
    let memory = Arc::new(MemoryStore::new());
    let (client, id) = committed_two(&emulator, Arc::new(SlowStore(memory.clone()))).await;
    let started = Instant::now();
    let result = client.close_within(BOUND).await;
    let took = started.elapsed();
    assert!(
        took < BOUND + Duration::from_millis(700),
        "returned at the bound, not after the write: {took:?}"
    );
    let error = result.expect_err("the bound passed");
    assert_eq!(error.kind(), ErrorKind::CloseTimedOut);
    assert!(error.is_fatal());
    let Error::CloseTimedOut(report) = &error else {
        panic!("a close report: {error:?}");
    };
    assert_eq!(report.bound, BOUND);
    assert_eq!(
        report.unsaved.get(ORDERS).map(|r| r.as_bytes().to_vec()),
        Some(id.clone()),
        "{error}"
    );
    assert_eq!(report.pending, 0, "every event was taken");
    assert!(error.to_string().contains(ORDERS), "{error}");
    assert!(client.is_closed());
    assert!(matches!(client.try_receive(), Some(Err(e)) if e.is_closed()));
    within("the write in the background", async {
        while memory.load_topics().unwrap().get(ORDERS) != Some(&id) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    emulator.shutdown().await;
}
