//! A store that cannot be written is refused at startup (exit 2, naming the file), before any
//! event is printed: a read-only store file is never silently replaced, and a read-only
//! directory is not discovered only after the first event. The permission bits count even for
//! root, so this holds in CI too.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use common::{Emu, EmuCli, assert_clean_failure, run, scratch_dir};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_read_only_store_file_is_refused_and_left_alone() {
    let emu = Emu::start();
    emu.publish(ORDERS, 3);
    let dir = scratch_dir("ro-store");
    let store = dir.join("replay.json");
    let doc =
        format!(r#"{{"format":"sfstream-replay-store","version":1,"channels":{{"{ORDERS}":-2}}}}"#);
    fs::write(&store, &doc).expect("write");
    fs::set_permissions(&store, fs::Permissions::from_mode(0o444)).expect("chmod");

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("--store"), "{err}");
    assert!(err.contains(&*store.to_string_lossy()), "{err}");
    assert!(err.contains("read-only"), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed");
    assert_eq!(
        fs::read_to_string(&store).expect("read"),
        doc,
        "not replaced"
    );
    assert!(
        !err.contains("connecting to"),
        "refused before connecting: {err}"
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_read_only_directory_is_refused_before_the_first_event() {
    let emu = Emu::start();
    emu.publish(ORDERS, 3);
    let dir = scratch_dir("ro-dir");
    let sub = dir.join("ro");
    fs::create_dir(&sub).expect("mkdir");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o555)).expect("chmod");
    let store = sub.join("replay.json");

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--store"])
            .arg(&store)
            .arg(ORDERS),
        LIMIT,
    );
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).expect("chmod back");
    let err = assert_clean_failure(&out, 2);
    assert!(err.contains("directory"), "{err}");
    assert!(err.contains(&*sub.to_string_lossy()), "{err}");
    assert!(
        out.stdout.is_empty(),
        "no event printed: {}",
        common::text(&out.stdout)
    );
    assert!(!store.exists());
    let _ = fs::remove_dir_all(dir);
}
