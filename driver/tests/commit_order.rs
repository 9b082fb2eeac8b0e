//! Manual commits reach the store in the order they were made, and a commit of an earlier message
//! never moves a channel's stored id back.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sfstream_driver::{CommitPolicy, ReplayStore, StoreError};
use support::{FakeRuntime, ORDERS, builder, open_on_orders};

/// A store that records every save.
#[derive(Default, Clone)]
struct LoggingStore(Arc<Mutex<Vec<(String, i64)>>>);

impl LoggingStore {
    fn saves(&self) -> Vec<i64> {
        self.0.lock().unwrap().iter().map(|(_, id)| *id).collect()
    }
}

impl ReplayStore for LoggingStore {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(BTreeMap::new())
    }
    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        self.0.lock().unwrap().push((channel.to_owned(), replay_id));
        Ok(())
    }
    fn remove(&self, _channel: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

#[test]
fn commits_are_stored_in_order_and_never_backwards() {
    let rt = FakeRuntime::new();
    let store = LoggingStore::default();
    let builder = builder(&rt)
        .commit_policy(CommitPolicy::Manual)
        .store(store.clone());
    let (client, mut server) = open_on_orders(&rt, builder);
    for id in [10, 11, 12] {
        server.publish(ORDERS, id);
    }
    let messages: Vec<_> = (0..3)
        .map(|_| rt.run(&mut server, client.receive()).unwrap())
        .collect();
    assert!(
        store.saves().is_empty(),
        "nothing is stored before a commit"
    );

    client.commit(&messages[0]).unwrap();
    rt.settle();
    assert_eq!(store.saves(), [10]);
    client.commit(&messages[1]).unwrap();
    rt.settle();
    assert_eq!(store.saves(), [10, 11]);
    // An earlier message committed late: the stored id stays where it is.
    client.commit(&messages[0]).unwrap();
    rt.settle();
    assert_eq!(store.saves(), [10, 11]);
    client.commit(&messages[2]).unwrap();
    rt.run(&mut server, client.close()).unwrap();
    assert_eq!(store.saves(), [10, 11, 12]);
}
