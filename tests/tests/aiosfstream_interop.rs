//! Interoperability of the emulator with aiosfstream (Python, on aiohttp), whose cookie jar
//! ignores cookies from IP hosts: against an emulator that advertised `http://127.0.0.1:PORT`
//! it never returned `BAYEUX_BROWSER` and could not stream at all. The emulator advertises
//! `http://localhost:PORT`.
//!
//! The test runs `tests/interop/aiosfstream/client.py` with the virtual environment the test
//! command creates (`python3 -m venv tests/interop/aiosfstream/.venv`, then
//! `pip install -r tests/interop/aiosfstream/requirements.txt`, every package pinned). Without
//! it the test fails and says so; it never skips.

use std::path::PathBuf;
use std::time::Duration;

use sfstream_emulator::DropAdvice;
use sfstream_tests::Emu;
use sfstream_tests::interop::{CHANNELS, LineClient, publish_round};

#[test]
fn aiosfstream_streams_the_four_channel_kinds_and_survives_a_dropped_session() {
    let emu = Emu::start();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/aiosfstream");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "aiosfstream is not installed: run `python3 -m venv tests/interop/aiosfstream/.venv && \
         tests/interop/aiosfstream/.venv/bin/pip install -r \
         tests/interop/aiosfstream/requirements.txt` first (the test command does); this test \
         never skips"
    );
    let mut args = vec!["client.py".to_owned(), emu.base_url.clone()];
    args.extend(CHANNELS.iter().map(|c| (*c).to_owned()));
    let client = LineClient::start(
        "aiosfstream",
        &dir,
        &python.to_string_lossy(),
        &args,
        "create the virtual environment as described above",
    );
    client.subscribed(&CHANNELS);
    let published = publish_round(&emu, 3);
    assert_eq!(
        client.messages(12),
        published,
        "every event, in order, once"
    );

    // A dropped session: aiosfstream handshakes again and resubscribes from the replay ids it
    // recorded, so events published meanwhile arrive.
    let handshakes = emu.control.stats().totals.handshakes;
    assert_eq!(emu.control.drop_sessions(DropAdvice::Handshake), 1);
    let during = publish_round(&emu, 2);
    assert_eq!(client.messages(8), during);
    assert!(emu.control.stats().totals.handshakes > handshakes);
    client.no_more_messages(Duration::from_millis(500));
    client.stop();
}
