//! The trait through `Arc<dyn ReplayStore>`, `Box<dyn ReplayStore>` and
//! `Arc<T>`, including a user-written store and its errors.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sfstream_store::{ConstantStore, FileStore, MemoryStore, ReplayStore, StoreError};

mod common;

/// Takes any store by value, as a runtime adapter would.
fn resume_ids(store: impl ReplayStore) -> (BTreeMap<String, i64>, Option<i64>) {
    (store.load().unwrap(), store.default_replay_id())
}

#[test]
fn arc_dyn_shares_one_store() {
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn ReplayStore> = memory.clone();
    let adapter_a = Arc::clone(&store);
    let adapter_b = Arc::clone(&store);
    adapter_a.save("/event/A", 1).unwrap();
    adapter_b.save_many(&[("/event/B".to_owned(), 2)]).unwrap();
    assert_eq!(memory.snapshot().len(), 2);
    adapter_a.remove("/event/B").unwrap();
    let (ids, default) = resume_ids(store);
    assert_eq!(ids, BTreeMap::from([("/event/A".to_owned(), 1)]));
    assert_eq!(default, None);
}

#[test]
fn box_dyn_forwards_every_method() {
    let stores: Vec<Box<dyn ReplayStore>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(ConstantStore::new(-2)),
    ];
    for store in &stores {
        store.save("/event/A", 7).unwrap();
    }
    assert_eq!(stores[0].load().unwrap()["/event/A"], 7);
    assert!(stores[1].load().unwrap().is_empty());
    let mut stores = stores.into_iter();
    assert_eq!(resume_ids(stores.next().unwrap()).1, None);
    // default_replay_id goes through the Box (and an Arc around it).
    assert_eq!(resume_ids(Arc::new(stores.next().unwrap())).1, Some(-2));
}

#[test]
fn arc_of_file_store() {
    let dir = common::TempDir::new("arc");
    let path = dir.path().join("replay.json");
    let store: Arc<dyn ReplayStore> = Arc::new(FileStore::open(&path).unwrap());
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for id in 1..=20 {
                    store.save(&format!("/event/T{t}"), id).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let expected: BTreeMap<String, i64> = (0..4).map(|t| (format!("/event/T{t}"), 20)).collect();
    assert_eq!(store.load().unwrap(), expected);
    drop(store);
    assert_eq!(FileStore::open(&path).unwrap().load().unwrap(), expected);
}

/// A user's own store, failing the way a database might.
struct FlakyDb {
    ids: Mutex<BTreeMap<String, i64>>,
}

impl ReplayStore for FlakyDb {
    fn load(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        Ok(self.ids.lock().unwrap().clone())
    }

    fn save(&self, channel: &str, replay_id: i64) -> Result<(), StoreError> {
        if channel.starts_with("/event/") {
            self.ids
                .lock()
                .unwrap()
                .insert(channel.to_owned(), replay_id);
            Ok(())
        } else {
            Err(StoreError::other(format!("no table for channel {channel}")))
        }
    }

    fn remove(&self, _channel: &str) -> Result<(), StoreError> {
        Err(StoreError::other(std::io::Error::other("connection reset")))
    }
}

#[test]
fn user_store_behind_arc_dyn() {
    let store: Arc<dyn ReplayStore> = Arc::new(FlakyDb {
        ids: Mutex::new(BTreeMap::new()),
    });
    // The default save_many saves one by one and stops at the first error.
    let err = store
        .save_many(&[
            ("/event/A".to_owned(), 1),
            ("/topic/B".to_owned(), 2),
            ("/event/C".to_owned(), 3),
        ])
        .unwrap_err();
    assert!(matches!(err, StoreError::Other(_)));
    assert_eq!(err.to_string(), "no table for channel /topic/B");
    assert_eq!(
        store.load().unwrap(),
        BTreeMap::from([("/event/A".to_owned(), 1)])
    );
    let err = store.remove("/event/A").unwrap_err();
    assert_eq!(err.to_string(), "connection reset");
    assert_eq!(store.default_replay_id(), None);
}

#[test]
fn stores_are_send_sync_static() {
    fn assert_store<T: ReplayStore>() {}
    assert_store::<MemoryStore>();
    assert_store::<FileStore>();
    assert_store::<ConstantStore>();
    assert_store::<Arc<dyn ReplayStore>>();
    assert_store::<Box<dyn ReplayStore>>();
    assert_store::<Arc<FileStore>>();
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<StoreError>();
}

#[test]
fn a_user_store_without_topic_ids_refuses_to_save_them_and_holds_none() {
    let store: Box<dyn ReplayStore> = Box::new(FlakyDb {
        ids: Mutex::new(BTreeMap::new()),
    });
    assert!(store.load_topics().unwrap().is_empty());
    let err = store.save_topic("/event/A__e", &[1]).unwrap_err();
    assert!(matches!(err, StoreError::Unsupported { .. }));
    assert!(err.to_string().contains("save_topic"), "{err}");
    let err = store
        .save_topics(&[("/event/A__e".to_owned(), vec![1])])
        .unwrap_err();
    assert!(matches!(err, StoreError::Unsupported { .. }));
    store.remove_topic("/event/A__e").unwrap();
}

#[test]
fn topic_ids_go_through_arc_and_box() {
    let inner = Arc::new(MemoryStore::new());
    let store: Box<dyn ReplayStore> = Box::new(Arc::clone(&inner));
    store.save_topic("/event/A__e", &[1, 2]).unwrap();
    store
        .save_topics(&[
            ("/event/B__e".to_owned(), vec![3]),
            ("/event/A__e".to_owned(), vec![4]),
        ])
        .unwrap();
    store.remove_topic("/event/B__e").unwrap();
    assert_eq!(
        store.load_topics().unwrap(),
        BTreeMap::from([("/event/A__e".to_owned(), vec![4])])
    );
    assert_eq!(inner.topic_snapshot()["/event/A__e"], vec![4]);
}
