//! `FileStore` file versions: today's files (version 1, integer ids only) are read unchanged and
//! stay version 1 until a Pub/Sub replay id is saved; version 2 adds them, as base64 per topic;
//! a version the store does not know, or a topic id that is not base64, is refused.

use std::collections::BTreeMap;
use std::fs;

use sfstream_store::{FileStore, ReplayStore, StoreError};

mod common;

/// A file as every earlier sfstream wrote it.
const VERSION_1: &str = r#"{
  "format": "sfstream-replay-store",
  "version": 1,
  "channels": {
    "/event/Order__e": 2112,
    "/topic/AccountUpdates": 55
  }
}
"#;

#[test]
fn a_version_1_file_is_read_unchanged_and_kept_in_version_1() {
    let dir = common::TempDir::new("v1");
    let path = dir.path().join("replay.json");
    fs::write(&path, VERSION_1).unwrap();
    let store = FileStore::open(&path).unwrap();
    assert_eq!(
        store.load().unwrap(),
        BTreeMap::from([
            ("/event/Order__e".to_owned(), 2112),
            ("/topic/AccountUpdates".to_owned(), 55)
        ])
    );
    assert!(store.load_topics().unwrap().is_empty());
    store.save("/event/Order__e", 2113).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        VERSION_1.replace("2112", "2113"),
        "still version 1, byte for byte: older sfstream versions read it"
    );
}

#[test]
fn saving_a_topic_writes_version_2_with_base64_ids() {
    let dir = common::TempDir::new("v2");
    let path = dir.path().join("replay.json");
    fs::write(&path, VERSION_1).unwrap();
    let store = FileStore::open(&path).unwrap();
    store
        .save_topic("/data/AccountChangeEvent", &8000_u64.to_be_bytes())
        .unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        r#"{
  "format": "sfstream-replay-store",
  "version": 2,
  "channels": {
    "/event/Order__e": 2112,
    "/topic/AccountUpdates": 55
  },
  "topics": {
    "/data/AccountChangeEvent": "AAAAAAAAH0A="
  }
}
"#
    );
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.load().unwrap()["/event/Order__e"], 2112);
    assert_eq!(
        store.load_topics().unwrap()["/data/AccountChangeEvent"],
        8000_u64.to_be_bytes().to_vec()
    );
    // Forgetting the last topic goes back to version 1.
    store.remove_topic("/data/AccountChangeEvent").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), VERSION_1);
}

fn corrupt(label: &str, text: &str) -> String {
    let dir = common::TempDir::new(label);
    let path = dir.path().join("replay.json");
    fs::write(&path, text).unwrap();
    match FileStore::open(&path) {
        Err(StoreError::Corrupt { detail, .. }) => {
            assert_eq!(fs::read_to_string(&path).unwrap(), text, "left untouched");
            detail
        }
        other => panic!("not refused as corrupt: {other:?}"),
    }
}

#[test]
fn unreadable_topic_ids_and_unknown_versions_are_refused() {
    let d = corrupt(
        "bad-base64",
        r#"{"format": "sfstream-replay-store", "version": 2, "channels": {}, "topics": {"/event/A__e": "not base64!"}}"#,
    );
    assert!(d.contains("/event/A__e") && d.contains("base64"), "{d}");
    let d = corrupt(
        "number",
        r#"{"format": "sfstream-replay-store", "version": 2, "channels": {}, "topics": {"/event/A__e": 12}}"#,
    );
    assert!(d.contains("base64"), "{d}");
    let d = corrupt(
        "empty-id",
        r#"{"format": "sfstream-replay-store", "version": 2, "channels": {}, "topics": {"/event/A__e": ""}}"#,
    );
    assert!(d.contains("/event/A__e"), "{d}");
    let d = corrupt(
        "topics-in-v1",
        r#"{"format": "sfstream-replay-store", "version": 1, "channels": {}, "topics": {"/event/A__e": "AQ=="}}"#,
    );
    assert!(d.contains("version 2"), "{d}");
    let d = corrupt(
        "topics-array",
        r#"{"format": "sfstream-replay-store", "version": 2, "channels": {}, "topics": []}"#,
    );
    assert!(d.contains("topics"), "{d}");
    let d = corrupt(
        "v3",
        r#"{"format": "sfstream-replay-store", "version": 3, "channels": {}}"#,
    );
    assert!(d.contains("newer sfstream"), "{d}");
}

#[test]
fn an_empty_topic_id_is_refused_when_saved() {
    let dir = common::TempDir::new("save-empty");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    let err = store.save_topic("/event/A__e", &[]).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(!path.exists(), "nothing written");
}
