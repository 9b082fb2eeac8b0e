//! A replay id the server does not have: exit 4 with a message that says what happened (the
//! server has no such event: too new or too old) and where the id came from (`--replay` or the
//! store file), with the fix for that origin.

mod common;

use std::time::Duration;

use common::{Emu, EmuCli, assert_clean_failure, run, scratch_dir};

const ORDERS: &str = "/event/Order__e";
const LIMIT: Duration = Duration::from_secs(20);
/// Far beyond anything the emulator has issued.
const FUTURE_ID: i64 = 999_999_999;

fn says_both_possibilities(err: &str) {
    assert!(
        err.contains("has no event with replay id 999999999"),
        "{err}"
    );
    assert!(err.contains("newer than any event"), "{err}");
    assert!(err.contains("older than the server keeps"), "{err}");
}

#[test]
fn an_id_from_the_flag_is_named_as_such() {
    let emu = Emu::start();
    emu.publish(ORDERS, 2);
    let out = run(
        emu.listen()
            .args(["--replay", &FUTURE_ID.to_string(), ORDERS]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 4);
    says_both_possibilities(&err);
    assert!(err.contains("the id given with --replay"), "{err}");
    assert!(err.contains("--replay all"), "the fix for a flag: {err}");
    assert!(!err.contains("store"), "no store is involved: {err}");
}

#[test]
fn an_id_from_the_store_names_the_store_file() {
    let emu = Emu::start();
    emu.publish(ORDERS, 2);
    let dir = scratch_dir("rejected");
    let store = dir.join("replay.json");
    std::fs::write(
        &store,
        format!(
            r#"{{"format":"sfstream-replay-store","version":1,"channels":{{"{ORDERS}":{FUTURE_ID}}}}}"#
        ),
    )
    .expect("write the store");
    let out = run(emu.listen().arg("--store").arg(&store).arg(ORDERS), LIMIT);
    let err = assert_clean_failure(&out, 4);
    says_both_possibilities(&err);
    assert!(
        err.contains(&format!("the id stored for it in `{}`", store.display())),
        "{err}"
    );
    assert!(err.contains("--fallback"), "the fix for a stored id: {err}");
    assert!(!err.contains("given with --replay"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
