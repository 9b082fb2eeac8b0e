//! `FileStore`: ids round-trip exactly through a readable JSON file.

use std::collections::BTreeMap;
use std::fs;

use serde_json::Value;
use sfstream_store::{FileStore, ReplayStore, StoreError};

mod common;

/// 2^53 + 1: the first integer an f64 cannot hold.
const ABOVE_F64: i64 = 9_007_199_254_740_993;

#[test]
fn missing_file_is_an_empty_store_created_on_first_save() {
    let dir = common::TempDir::new("missing");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert!(store.load().unwrap().is_empty());
    assert!(!path.exists(), "open alone must not create the file");
    store.save("/event/Order__e", 1).unwrap();
    assert!(path.exists());
}

#[test]
fn large_ids_roundtrip_exactly() {
    let dir = common::TempDir::new("large");
    let path = dir.path().join("replay.json");
    let ids = [
        ("/event/Above53", ABOVE_F64),
        ("/event/Max", i64::MAX),
        ("/event/Min", i64::MIN),
        ("/event/New", -1),
        ("/event/All", -2),
        ("/event/Zero", 0),
    ];
    let store = FileStore::open(&path).unwrap();
    for (channel, id) in ids {
        store.save(channel, id).unwrap();
    }
    drop(store);

    let reopened = FileStore::open(&path).unwrap().load().unwrap();
    let expected: BTreeMap<String, i64> = ids.iter().map(|&(c, id)| (c.to_owned(), id)).collect();
    assert_eq!(reopened, expected);

    // The digits are in the file as written, not rounded through f64.
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("9007199254740993"), "{text}");
    assert!(text.contains("9223372036854775807"), "{text}");
    assert!(text.contains("-9223372036854775808"), "{text}");
}

#[test]
fn file_is_readable_json_of_the_documented_shape() {
    let dir = common::TempDir::new("shape");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save("/event/Order__e", 2112).unwrap();
    store.save("/topic/AccountUpdates", 55).unwrap();

    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        r#"{
  "format": "sfstream-replay-store",
  "version": 1,
  "channels": {
    "/event/Order__e": 2112,
    "/topic/AccountUpdates": 55
  }
}
"#
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["format"], "sfstream-replay-store");
    assert_eq!(value["version"], 1);
    assert_eq!(value["channels"]["/event/Order__e"], 2112);
}

#[test]
fn reopen_sees_saved_ids_and_save_many_writes_them_all() {
    let dir = common::TempDir::new("reopen");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store
        .save_many(&[
            ("/event/A".to_owned(), 1),
            ("/event/B".to_owned(), 2),
            ("/event/A".to_owned(), 3),
        ])
        .unwrap();
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(
        store.load().unwrap(),
        BTreeMap::from([("/event/A".to_owned(), 3), ("/event/B".to_owned(), 2)])
    );
    store.save("/event/B", 4).unwrap();
    drop(store);
    assert_eq!(
        FileStore::open(&path).unwrap().load().unwrap()["/event/B"],
        4
    );
}

#[test]
fn remove_forgets_a_channel_on_disk() {
    let dir = common::TempDir::new("remove");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save("/event/A", 1).unwrap();
    store.save("/event/B", 2).unwrap();
    store.remove("/event/A").unwrap();
    store.remove("/event/Unknown").unwrap();
    assert_eq!(
        store.load().unwrap(),
        BTreeMap::from([("/event/B".to_owned(), 2)])
    );
    drop(store);
    assert_eq!(
        FileStore::open(&path).unwrap().load().unwrap(),
        BTreeMap::from([("/event/B".to_owned(), 2)])
    );
}

#[test]
fn no_temporary_files_are_left_behind() {
    let dir = common::TempDir::new("tidy");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    for id in 0..20 {
        store.save("/event/A", id).unwrap();
    }
    store.remove("/event/A").unwrap();
    let names = || {
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    // The lock file lives as long as the store.
    assert_eq!(names(), [".replay.json.lock", "replay.json"]);
    drop(store);
    assert_eq!(names(), ["replay.json"]);
}

#[test]
fn stale_temporary_files_are_removed_on_open() {
    let dir = common::TempDir::new("stale");
    let path = dir.path().join("replay.json");
    FileStore::open(&path).unwrap().save("/event/A", 5).unwrap();
    let stale = dir.path().join(".replay.json.tmp-999999-0");
    fs::write(&stale, "{\"format\": \"sfstream-repl").unwrap();
    let unrelated = dir.path().join(".other.json.tmp-1-0");
    fs::write(&unrelated, "keep me").unwrap();

    let store = FileStore::open(&path).unwrap();
    assert!(
        !stale.exists(),
        "a crashed writer's temp file must be removed"
    );
    assert!(unrelated.exists(), "another store's files are left alone");
    assert_eq!(store.load().unwrap()["/event/A"], 5);
}

#[test]
fn reload_rereads_the_file() {
    let dir = common::TempDir::new("reload");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save("/event/A", 1).unwrap();
    fs::write(
        &path,
        r#"{"format": "sfstream-replay-store", "version": 1, "channels": {"/event/A": 42}}"#,
    )
    .unwrap();
    assert_eq!(store.load().unwrap()["/event/A"], 1, "load does not reread");
    assert_eq!(store.reload().unwrap()["/event/A"], 42);
    assert_eq!(store.load().unwrap()["/event/A"], 42);
}

#[test]
fn relative_path_in_the_current_directory() {
    // A bare file name means the current directory; only check that the
    // directory resolves (nothing is written, so the work tree stays clean).
    let store = FileStore::open("sfstream-store-test-never-written.json").unwrap();
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn missing_parent_directory_is_an_error_naming_the_path() {
    let dir = common::TempDir::new("noparent");
    let missing = dir.path().join("no-such-dir");
    let path = missing.join("replay.json");
    let err = FileStore::open(&path).unwrap_err();
    match &err {
        StoreError::MissingDirectory { dir: d, path: p } => {
            assert_eq!(d, &missing);
            assert_eq!(p, &path);
        }
        other => panic!("expected MissingDirectory, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&*missing.to_string_lossy()), "{message}");
    assert!(message.contains("create it"), "{message}");
    assert!(!missing.exists(), "the store never creates directories");
}

#[test]
fn parent_that_is_a_file_is_an_error() {
    let dir = common::TempDir::new("fileparent");
    let file = dir.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let err = FileStore::open(file.join("replay.json")).unwrap_err();
    assert!(
        matches!(err, StoreError::MissingDirectory { .. }),
        "{err:?}"
    );
}

#[test]
fn directory_removed_after_open_fails_with_io_error() {
    let dir = common::TempDir::new("gone");
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let path = sub.join("replay.json");
    let store = FileStore::open(&path).unwrap();
    fs::remove_dir_all(&sub).unwrap();
    let err = store.save("/event/A", 1).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("sub"), "{err}");
    // The failed save is not remembered: memory still matches the disk.
    assert!(store.load().unwrap().is_empty());
}
