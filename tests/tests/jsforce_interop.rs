//! Interoperability of the emulator with jsforce, a widely used Salesforce client that nobody
//! here wrote: what works against the emulator must work for clients other than ours.
//!
//! Each test starts the emulator, then `node tests/interop/jsforce/client.js` (jsforce from npm,
//! pinned by its `package-lock.json`), which logs in with jsforce's OAuth 2 password flow,
//! subscribes, and prints what it receives as JSON lines. The tests publish through the control
//! API and check what jsforce got: events on the four channel kinds in order, a resumption by
//! replay after a restart, and a dropped session survived without a lost event.
//!
//! Needs Node.js and `npm ci --prefix tests/interop/jsforce` (the test command runs it). Without
//! them the tests fail and say so; they never skip.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use sfstream_emulator::DropAdvice;
use sfstream_tests::Emu;
use sfstream_tests::interop::{CHANNELS, LineClient, publish_round};

/// `node client.js LOGIN_URL MODE CHANNEL[=REPLAY_ID]…`; the channels resume after the last id
/// of `last` when given.
fn jsforce(emu: &Emu, mode: &str, last: Option<&BTreeMap<String, Vec<i64>>>) -> LineClient {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/jsforce");
    assert!(
        dir.join("node_modules/jsforce/package.json").is_file(),
        "jsforce is not installed: run `npm ci --prefix tests/interop/jsforce` first (the test \
         command does); this test never skips"
    );
    let mut args = vec![
        "client.js".to_owned(),
        emu.base_url.clone(),
        mode.to_owned(),
    ];
    args.extend(CHANNELS.iter().map(|ch| {
        match last.and_then(|m| m.get(*ch)).and_then(|ids| ids.last()) {
            Some(id) => format!("{ch}={id}"),
            None => (*ch).to_owned(),
        }
    }));
    LineClient::start(
        "jsforce",
        &dir,
        "node",
        &args,
        "Node.js is needed for this test",
    )
}

#[test]
fn jsforce_receives_events_on_the_four_channel_kinds_in_order() {
    let emu = Emu::start();
    let js = jsforce(&emu, "topic", None);
    let seen = js.subscribed(&CHANNELS);
    let login = seen
        .iter()
        .find(|l| l["event"] == "login")
        .expect("a login line");
    assert_eq!(login["instanceUrl"], emu.base_url.as_str(), "{login}");
    let published = publish_round(&emu, 5);
    assert_eq!(js.messages(20), published, "every event, in order, once");
    js.no_more_messages(Duration::from_millis(500));
    js.stop();
}

#[test]
fn jsforce_resumes_by_replay_after_a_restart_and_survives_a_dropped_session() {
    let emu = Emu::start();
    let first = jsforce(&emu, "replay", None);
    first.subscribed(&CHANNELS);
    let before = publish_round(&emu, 2);
    let got = first.messages(8);
    assert_eq!(got, before);
    first.stop();

    // Published while no client runs: the restarted client replays them from its last ids.
    let missed = publish_round(&emu, 3);
    let second = jsforce(&emu, "replay", Some(&got));
    second.subscribed(&CHANNELS);
    assert_eq!(second.messages(12), missed);
    second.no_more_messages(Duration::from_millis(500));

    // The sessions are dropped (`403::Unknown client`, reconnect: handshake); events published
    // before jsforce has subscribed again arrive through its replay extension.
    let handshakes = emu.control.stats().totals.handshakes;
    assert!(emu.control.drop_sessions(DropAdvice::Handshake) >= CHANNELS.len());
    let during = publish_round(&emu, 2);
    assert_eq!(second.messages(8), during);
    assert!(
        emu.control.stats().totals.handshakes >= handshakes + CHANNELS.len() as u64,
        "jsforce handshook again"
    );
    let after = publish_round(&emu, 1);
    assert_eq!(second.messages(4), after);
    second.no_more_messages(Duration::from_millis(300));
    second.stop();
}
