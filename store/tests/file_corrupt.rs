//! `FileStore`: a file that is not a readable replay store is an error that
//! names it and says what to do; it is never overwritten or ignored.

use std::fs;

use sfstream_store::{FileStore, StoreError};

mod common;

/// Writes `contents` as a store file, opens it, checks the error, and checks
/// the file is untouched. Returns the error's detail.
fn open_corrupt(label: &str, contents: &[u8]) -> String {
    let dir = common::TempDir::new(label);
    let path = dir.path().join("replay.json");
    fs::write(&path, contents).unwrap();

    let err = FileStore::open(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&*path.to_string_lossy()),
        "the message names the file: {message}"
    );
    assert!(message.contains("corrupt"), "{message}");
    assert!(message.contains("delete it"), "{message}");
    assert!(message.contains("Fix the file"), "{message}");
    assert_eq!(
        fs::read(&path).unwrap(),
        contents,
        "open must not touch a corrupt file"
    );
    // A second try fails the same way: nothing was "repaired".
    assert!(matches!(
        FileStore::open(&path),
        Err(StoreError::Corrupt { .. })
    ));
    match err {
        StoreError::Corrupt { path: p, detail } => {
            assert_eq!(p, path);
            detail
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn garbage_bytes() {
    let detail = open_corrupt("garbage", b"\x00\xff\x13garbage\x89PNG");
    assert!(detail.contains("not valid JSON"), "{detail}");
}

#[test]
fn empty_file() {
    let detail = open_corrupt("empty", b"");
    assert!(detail.contains("empty"), "{detail}");
}

#[test]
fn truncated_json() {
    let full = br#"{
  "format": "sfstream-replay-store",
  "version": 1,
  "channels": {
    "/event/Order__e": 2112
  }
}
"#;
    for cut in [1, 10, 40, full.len() - 5, full.len() - 2] {
        let detail = open_corrupt("truncated", &full[..cut]);
        assert!(detail.contains("not valid JSON"), "cut at {cut}: {detail}");
    }
}

#[test]
fn not_an_object() {
    let detail = open_corrupt("array", b"[1, 2, 3]");
    assert!(detail.contains("not a JSON object"), "{detail}");
}

#[test]
fn wrong_format_field() {
    let detail = open_corrupt(
        "format",
        br#"{"format": "something-else", "version": 1, "channels": {}}"#,
    );
    assert!(detail.contains("something-else"), "{detail}");
    assert!(detail.contains("not an sfstream replay store"), "{detail}");
}

#[test]
fn missing_format_field() {
    let detail = open_corrupt("noformat", br#"{"channels": {"/event/A": 1}}"#);
    assert!(detail.contains("no \"format\""), "{detail}");
}

#[test]
fn unsupported_version() {
    let detail = open_corrupt(
        "version",
        br#"{"format": "sfstream-replay-store", "version": 3, "channels": {}}"#,
    );
    assert!(detail.contains("version"), "{detail}");
    assert!(detail.contains("newer sfstream"), "{detail}");
}

#[test]
fn channels_not_an_object() {
    let detail = open_corrupt(
        "channels",
        br#"{"format": "sfstream-replay-store", "version": 1, "channels": [1]}"#,
    );
    assert!(detail.contains("channels"), "{detail}");
}

#[test]
fn float_id() {
    for id in ["2112.5", "2112.0", "1e3", "9007199254740993.0"] {
        let doc = format!(
            r#"{{"format": "sfstream-replay-store", "version": 1, "channels": {{"/event/A": 1, "/event/Order__e": {id}}}}}"#
        );
        let detail = open_corrupt("float", doc.as_bytes());
        assert!(detail.contains("/event/Order__e"), "{detail}");
        assert!(detail.contains("not an integer"), "{detail}");
    }
}

#[test]
fn string_id() {
    let detail = open_corrupt(
        "string",
        br#"{"format": "sfstream-replay-store", "version": 1, "channels": {"/event/Order__e": "2112"}}"#,
    );
    assert!(detail.contains("/event/Order__e"), "{detail}");
    assert!(detail.contains("not an integer"), "{detail}");
}

#[test]
fn id_out_of_i64_range() {
    let detail = open_corrupt(
        "range",
        br#"{"format": "sfstream-replay-store", "version": 1, "channels": {"/event/A": 9223372036854775808}}"#,
    );
    assert!(detail.contains("/event/A"), "{detail}");
}

#[test]
fn null_id() {
    let detail = open_corrupt(
        "null",
        br#"{"format": "sfstream-replay-store", "version": 1, "channels": {"/event/A": null}}"#,
    );
    assert!(detail.contains("not an integer"), "{detail}");
}

#[test]
fn reload_of_a_corrupted_file_keeps_the_ids_in_memory() {
    let dir = common::TempDir::new("reload");
    let path = dir.path().join("replay.json");
    let store = FileStore::open(&path).unwrap();
    sfstream_store::ReplayStore::save(&store, "/event/A", 7).unwrap();
    fs::write(&path, b"{ oops").unwrap();
    let err = store.reload().unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(
        sfstream_store::ReplayStore::load(&store).unwrap()["/event/A"],
        7
    );
}
