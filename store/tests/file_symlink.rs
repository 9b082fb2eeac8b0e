//! `FileStore`: a store path that is a symbolic link stays one; saves replace
//! the file it points to (through a chain of links, relative or absolute).
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;

use sfstream_store::{FileStore, ReplayStore, StoreError};

mod common;

#[test]
fn saves_go_through_a_link_and_the_link_stays() {
    let dir = common::TempDir::new("link");
    let real_dir = dir.path().join("real");
    fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("ids.json");
    let link = dir.path().join("replay.json");
    // Relative, as `ln -s real/ids.json replay.json` makes it.
    symlink("real/ids.json", &link).unwrap();

    let store = FileStore::open(&link).unwrap();
    assert_eq!(store.path(), link);
    store.save("/event/A", 1).unwrap();
    store.save("/event/A", 2).unwrap();
    drop(store);

    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        std::path::Path::new("real/ids.json")
    );
    assert!(
        fs::read_to_string(&target)
            .unwrap()
            .contains("\"/event/A\": 2")
    );
    assert_eq!(
        FileStore::open(&link).unwrap().load().unwrap()["/event/A"],
        2
    );
    // Temporary files and the lock went beside the real file, and are gone.
    let names: Vec<_> = fs::read_dir(&real_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["ids.json"]);
}

#[test]
fn a_chain_of_links_to_a_missing_file_creates_the_file_at_its_end() {
    let dir = common::TempDir::new("chain");
    let target = dir.path().join("ids.json");
    let middle = dir.path().join("middle.json");
    let link = dir.path().join("replay.json");
    symlink(&target, &middle).unwrap();
    symlink(&middle, &link).unwrap();

    FileStore::open(&link).unwrap().save("/event/B", 9).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::symlink_metadata(&middle)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::symlink_metadata(&target).unwrap().file_type().is_file());
    assert_eq!(
        FileStore::open(&link).unwrap().load().unwrap()["/event/B"],
        9
    );
}

#[test]
fn a_link_and_its_target_are_one_store() {
    let dir = common::TempDir::new("link-lock");
    let target = dir.path().join("ids.json");
    let link = dir.path().join("replay.json");
    symlink(&target, &link).unwrap();
    let _held = FileStore::open(&target).unwrap();
    let err = FileStore::open(&link).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
}

#[test]
fn a_link_loop_is_an_error_not_a_hang() {
    let dir = common::TempDir::new("loop");
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    let err = FileStore::open(&a).unwrap_err();
    assert!(err.to_string().contains("symbolic links"), "{err}");
}
