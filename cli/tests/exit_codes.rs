//! The documented exit codes for a refused authentication (3) and a failed subscription (4).

mod common;

use std::time::Duration;

use common::{Emu, EmuCli, assert_clean_failure, run};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_wrong_password_exits_3_with_the_usual_causes() {
    let emu = Emu::start();
    let out = run(
        emu.listen()
            .env("SF_PASSWORD", "not-the-password")
            .arg("/event/Order__e"),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 3);
    assert!(err.contains("authentication refused"), "{err}");
    assert!(err.contains("security token"), "a hint:\n{err}");
    assert!(!err.contains("not-the-password"), "{err}");
}

#[test]
fn a_refused_access_token_exits_3() {
    let emu = Emu::start();
    let out = run(
        common::sfstream()
            .env("SF_ACCESS_TOKEN", "a-token-the-server-never-issued")
            .env("SF_INSTANCE_URL", &emu.base_url)
            .args(["listen", "/event/Order__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 3);
    assert!(!err.contains("a-token-the-server-never-issued"), "{err}");
}

#[test]
fn an_unknown_channel_exits_4_and_names_it() {
    let emu = Emu::start();
    let out = run(
        emu.listen().args(["/event/Order__e", "/event/No_Such__e"]),
        LIMIT,
    );
    let err = assert_clean_failure(&out, 4);
    assert!(err.contains("/event/No_Such__e"), "{err}");
    assert!(err.contains("doesn't exist"), "{err}");
}
