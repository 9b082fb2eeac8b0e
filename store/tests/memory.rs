//! `MemoryStore`: save, load, remove, save_many.

use std::collections::BTreeMap;

use sfstream_store::{MemoryStore, ReplayStore};

fn ids(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|&(c, id)| (c.to_owned(), id)).collect()
}

#[test]
fn new_store_is_empty() {
    let store = MemoryStore::new();
    assert!(store.load().unwrap().is_empty());
    assert!(store.snapshot().is_empty());
    assert_eq!(store.default_replay_id(), None);
}

#[test]
fn save_then_load() {
    let store = MemoryStore::new();
    store.save("/event/Order__e", 2112).unwrap();
    store.save("/topic/AccountUpdates", 55).unwrap();
    store.save("/event/Order__e", 2113).unwrap();
    assert_eq!(
        store.load().unwrap(),
        ids(&[("/event/Order__e", 2113), ("/topic/AccountUpdates", 55)])
    );
}

#[test]
fn with_ids_seeds_the_store() {
    let store = MemoryStore::with_ids([("/event/A", 1), ("/event/B", i64::MAX), ("/event/A", 3)]);
    assert_eq!(
        store.snapshot(),
        ids(&[("/event/A", 3), ("/event/B", i64::MAX)])
    );
    let owned = MemoryStore::with_ids(vec![(String::from("/event/C"), -2)]);
    assert_eq!(owned.load().unwrap(), ids(&[("/event/C", -2)]));
}

#[test]
fn remove_forgets_one_channel() {
    let store = MemoryStore::with_ids([("/event/A", 1), ("/event/B", 2)]);
    store.remove("/event/A").unwrap();
    assert_eq!(store.load().unwrap(), ids(&[("/event/B", 2)]));
    // Removing an unknown channel is not an error.
    store.remove("/event/Nope").unwrap();
    assert_eq!(store.load().unwrap(), ids(&[("/event/B", 2)]));
}

#[test]
fn save_many_applies_in_order() {
    let store = MemoryStore::with_ids([("/event/A", 1)]);
    store
        .save_many(&[
            ("/event/A".to_owned(), 10),
            ("/event/B".to_owned(), 20),
            ("/event/A".to_owned(), 11),
        ])
        .unwrap();
    assert_eq!(
        store.load().unwrap(),
        ids(&[("/event/A", 11), ("/event/B", 20)])
    );
    store.save_many(&[]).unwrap();
    assert_eq!(store.snapshot().len(), 2);
}

#[test]
fn shared_between_threads() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for id in 0..100 {
                    store.save(&format!("/event/T{t}"), id).unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let snapshot = store.snapshot();
    assert_eq!(snapshot.len(), 4);
    assert!(snapshot.values().all(|&id| id == 99));
}

#[test]
fn topic_ids_are_kept_beside_channel_ids() {
    let store = MemoryStore::with_topic_ids([("/data/AccountChangeEvent", vec![0, 0, 1])]);
    store.save("/data/AccountChangeEvent", 7).unwrap();
    store.save_topic("/event/Order__e", &[9; 10]).unwrap();
    assert_eq!(store.load().unwrap()["/data/AccountChangeEvent"], 7);
    let topics = store.load_topics().unwrap();
    assert_eq!(topics["/data/AccountChangeEvent"], vec![0, 0, 1]);
    assert_eq!(topics["/event/Order__e"], vec![9; 10]);
    store.remove_topic("/event/Order__e").unwrap();
    assert_eq!(store.topic_snapshot().len(), 1);
    assert_eq!(store.snapshot().len(), 1);
}
