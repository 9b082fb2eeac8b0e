//! `FileStore`: a store file or directory without write permission is refused
//! when the store is opened, and a file is never replaced behind the user's
//! back. Permission bits count even for root, so these tests hold as root too.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use sfstream_store::{FileStore, ReplayStore, StoreError};

mod common;

const DOC: &str =
    r#"{"format": "sfstream-replay-store", "version": 1, "channels": {"/event/A": 7}}"#;

fn chmod(path: &std::path::Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_read_only_file_is_refused_at_open_and_left_alone() {
    let dir = common::TempDir::new("ro-file");
    let path = dir.path().join("replay.json");
    fs::write(&path, DOC).unwrap();
    chmod(&path, 0o444);

    let err = FileStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(message.contains("read-only (mode 0444)"), "{message}");
    assert!(message.contains("chmod u+w"), "a fix: {message}");
    assert_eq!(fs::read_to_string(&path).unwrap(), DOC);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[test]
fn a_file_made_read_only_after_open_is_not_replaced() {
    let dir = common::TempDir::new("ro-later");
    let path = dir.path().join("replay.json");
    fs::write(&path, DOC).unwrap();
    let store = FileStore::open(&path).unwrap();
    chmod(&path, 0o400);

    let err = store.save("/event/A", 8).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(fs::read_to_string(&path).unwrap(), DOC, "not replaced");
    assert_eq!(store.load().unwrap()["/event/A"], 7, "memory matches disk");
}

#[test]
fn a_read_only_directory_is_refused_at_open() {
    let dir = common::TempDir::new("ro-dir");
    let sub = dir.path().join("ro");
    fs::create_dir(&sub).unwrap();
    chmod(&sub, 0o555);
    let path = sub.join("replay.json");

    let err = FileStore::open(&path).unwrap_err();
    chmod(&sub, 0o755);
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("directory"), "{message}");
    assert!(message.contains(&*sub.to_string_lossy()), "{message}");
    assert_eq!(fs::read_dir(&sub).unwrap().count(), 0, "nothing written");
}
