//! `--store` through a symbolic link keeps the link (the file it points to is updated), and a
//! new store file is created readable by its owner only (0600).
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::time::Duration;

use common::{Emu, EmuCli, read_store, run, scratch_dir, text};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_linked_store_stays_a_link_and_a_new_file_is_0600() {
    let emu = Emu::start();
    let ids = emu.publish(ORDERS, 3);
    let dir = scratch_dir("link");
    let state = dir.join("state");
    fs::create_dir(&state).expect("mkdir");
    let target = state.join("ids.json");
    let link = dir.join("replay.json");
    symlink(&target, &link).expect("symlink");

    let out = run(
        emu.listen()
            .args(["--replay", "all", "--count", "3", "--store"])
            .arg(&link)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "the link was replaced by a plain file"
    );
    assert_eq!(read_store(&target)[ORDERS], ids[2]);
    assert_eq!(
        fs::metadata(&target).expect("target").permissions().mode() & 0o777,
        0o600
    );
    // A second run resumes through the link after the stored id.
    let more = emu.publish(ORDERS, 3);
    check_resume(&emu, &link, &target, &more, dir);
}

fn check_resume(
    emu: &Emu,
    link: &std::path::Path,
    target: &std::path::Path,
    more: &[i64],
    dir: std::path::PathBuf,
) {
    let out = run(
        emu.listen()
            .args(["--count", "3", "--store"])
            .arg(link)
            .arg(ORDERS),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: Vec<i64> = common::keys(&common::json_lines(&out.stdout))
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert_eq!(got, more, "resumed through the link");
    assert!(
        fs::symlink_metadata(link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(read_store(target)[ORDERS], more[2]);
    let _ = fs::remove_dir_all(dir);
}
