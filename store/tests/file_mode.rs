//! `FileStore`: a new store file is readable and writable by its owner only
//! (0600), whatever the umask; an existing file keeps the mode it was given.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use sfstream_store::{FileStore, ReplayStore};

mod common;

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_store_file_is_created_0600() {
    let dir = common::TempDir::new("mode-new");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    store.save("/event/A", 1).unwrap();
    assert_eq!(mode(&path), 0o600);
    store.save("/event/A", 2).unwrap();
    assert_eq!(mode(&path), 0o600, "every replacement keeps it");
}

#[test]
fn an_existing_file_keeps_its_mode() {
    let dir = common::TempDir::new("mode-kept");
    let path = dir.path().join("replay.json");
    FileStore::open(&path).unwrap().save("/event/A", 1).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let store = FileStore::open(&path).unwrap();
    store.save("/event/A", 2).unwrap();
    assert_eq!(mode(&path), 0o640);
    assert_eq!(store.load().unwrap()["/event/A"], 2);
}
