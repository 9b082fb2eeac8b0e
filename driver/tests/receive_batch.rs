//! `receive_batch` takes what waits, up to its bound, after waiting for the first message; a
//! batch (or a prefix of one) commits its last message; `batches` ends once the client is closed
//! and drained.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use sfstream_driver::{CommitPolicy, Error, ReplayStore, StoreError};
use support::{FakeRuntime, ORDERS, builder, open_on_orders};

/// A store that records every save.
#[derive(Default, Clone)]
struct LoggingStore(Arc<Mutex<Vec<i64>>>);

impl ReplayStore for LoggingStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(BTreeMap::new())
    }
    fn save(&self, _channel: &str, replay_id: i64) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(replay_id);
        Ok(())
    }
    fn remove(&self, _channel: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

fn ids(batch: &[sfstream_driver::Message]) -> Vec<i64> {
    batch.iter().filter_map(|m| m.replay_id()).collect()
}

#[test]
fn a_batch_takes_what_waits_up_to_its_bound() {
    let rt = FakeRuntime::new();
    let (client, mut server) = open_on_orders(&rt, builder(&rt));
    for id in 10..15 {
        server.publish(ORDERS, id);
    }
    let first = rt.run(&mut server, client.receive_batch(3)).unwrap();
    assert_eq!(ids(&first), [10, 11, 12]);
    let rest = rt.run(&mut server, client.receive_batch(100)).unwrap();
    assert_eq!(
        ids(&rest),
        [13, 14],
        "what waited, without waiting for more"
    );
    assert!(client.try_receive_batch(100).is_none(), "nothing waits");
    server.publish(ORDERS, 15);
    let zero = rt.run(&mut server, client.receive_batch(0)).unwrap();
    assert_eq!(ids(&zero), [15], "a bound of 0 counts as 1");
}

#[test]
fn a_batch_or_a_prefix_commits_its_last_message() {
    let rt = FakeRuntime::new();
    let store = LoggingStore::default();
    let builder = builder(&rt)
        .commit_policy(CommitPolicy::Manual)
        .store(store.clone());
    let (client, mut server) = open_on_orders(&rt, builder);
    for id in [20, 21, 22, 23] {
        server.publish(ORDERS, id);
    }
    let batch = rt.run(&mut server, client.receive_batch(10)).unwrap();
    assert_eq!(batch.len(), 4);
    rt.settle();
    assert!(store.0.lock().unwrap().is_empty(), "taken is not committed");
    client.commit(&batch[..=1]).unwrap();
    rt.settle();
    assert_eq!(*store.0.lock().unwrap(), [21]);
    client.commit(&batch).unwrap();
    rt.run(&mut server, client.close()).unwrap();
    assert_eq!(*store.0.lock().unwrap(), [21, 23]);
}

#[test]
fn batches_end_once_the_client_is_closed_and_drained() {
    let rt = FakeRuntime::new();
    let (client, mut server) = open_on_orders(&rt, builder(&rt));
    for id in [30, 31] {
        server.publish(ORDERS, id);
    }
    // Let the events arrive before the close.
    let first = rt.run(&mut server, client.receive_batch(1)).unwrap();
    assert_eq!(ids(&first), [30]);
    rt.settle_with(&mut server);
    rt.run(&mut server, client.close()).unwrap();
    let mut batches = client.batches(10);
    let rest = rt.run(&mut server, batches.next()).unwrap().unwrap();
    assert_eq!(
        ids(&rest),
        [31],
        "received before the close: still delivered"
    );
    assert!(rt.run(&mut server, batches.next()).is_none());
    assert!(matches!(
        rt.run(&mut server, client.receive_batch(10)),
        Err(Error::Closed)
    ));
}
