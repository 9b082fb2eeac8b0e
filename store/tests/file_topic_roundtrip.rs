//! `FileStore`: Pub/Sub replay ids round-trip exactly, whatever their bytes and length, beside
//! the Streaming API's integer ids.

use std::collections::BTreeMap;

use sfstream_store::{FileStore, ReplayStore};

mod common;

#[test]
fn any_bytes_roundtrip_exactly() {
    let dir = common::TempDir::new("topic-bytes");
    let path = dir.path().join("replay.json");
    let ids: Vec<(String, Vec<u8>)> = vec![
        ("/event/Eight__e".into(), 8000_u64.to_be_bytes().to_vec()),
        ("/event/Ten__e".into(), vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 2]),
        ("/event/One__e".into(), vec![0]),
        ("/event/High__e".into(), vec![0xff; 17]),
        ("/data/ChangeEvents".into(), (0..=255).collect()),
    ];
    let store = FileStore::open(&path).unwrap();
    for (topic, id) in &ids {
        store.save_topic(topic, id).unwrap();
    }
    store.save("/event/Order__e", -2).unwrap();
    drop(store);
    let store = FileStore::open(&path).unwrap();
    let expected: BTreeMap<String, Vec<u8>> = ids.into_iter().collect();
    assert_eq!(store.load_topics().unwrap(), expected);
    assert_eq!(store.load().unwrap()["/event/Order__e"], -2);
}

#[test]
fn save_topics_writes_them_all_and_the_last_one_wins() {
    let dir = common::TempDir::new("topic-many");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store
        .save_topics(&[
            ("/event/A__e".into(), vec![1]),
            ("/event/B__e".into(), vec![2]),
            ("/event/A__e".into(), vec![3]),
        ])
        .unwrap();
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(
        store.load_topics().unwrap(),
        BTreeMap::from([
            ("/event/A__e".into(), vec![3]),
            ("/event/B__e".into(), vec![2])
        ])
    );
}

#[test]
fn channels_and_topics_of_the_same_name_are_kept_apart() {
    let dir = common::TempDir::new("topic-apart");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save("/event/Order__e", 5).unwrap();
    store.save_topic("/event/Order__e", &[9, 9]).unwrap();
    store.remove("/event/Order__e").unwrap();
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert!(store.load().unwrap().is_empty());
    assert_eq!(store.load_topics().unwrap()["/event/Order__e"], vec![9, 9]);
    assert_eq!(store.reload().unwrap(), BTreeMap::new());
    assert_eq!(store.load_topics().unwrap()["/event/Order__e"], vec![9, 9]);
}

#[cfg(unix)]
#[test]
fn a_save_that_changes_nothing_writes_nothing() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = common::TempDir::new("topic-same");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save_topic("/event/A__e", &[1, 2]).unwrap();
    // Every write replaces the file with a new one: a new inode.
    let inode = std::fs::metadata(&path).unwrap().ino();
    store.save_topic("/event/A__e", &[1, 2]).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
    store.save_topic("/event/A__e", &[1, 3]).unwrap();
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode);
}
