//! Recording on every runtime: a real session against the emulator, written to a file, plays
//! through the core's transcript player with the same messages, and holds no secret of the run.

use std::time::Instant;

use serde_json::Value;
use sfstream_core::transcript::{REDACTED, Transcript};
use sfstream_emulator::DropAdvice;

use crate::cases::{ORDERS, ids, open_with, receive_all};
use crate::{Emu, Flavor, Setup, scratch_dir};

/// Subscribe, events, a lost Bayeux session (a new handshake), a revoked token (a new token),
/// more events, close: recorded, then played.
pub fn recorded_session_plays_with_the_same_messages(f: &dyn Flavor) {
    let emu = Emu::start();
    let path = scratch_dir("recording").join("session.json");
    let mut setup = Setup::new(&emu);
    setup.record = Some(path.clone());
    let client = open_with(f, setup, &[ORDERS]);
    let mut live = Vec::new();
    let first = emu.publish(ORDERS, 3);
    live.extend(receive_all(f, &*client, &ids(ORDERS, &first)));
    emu.control.drop_sessions(DropAdvice::Handshake);
    let second = emu.publish(ORDERS, 2);
    live.extend(receive_all(f, &*client, &ids(ORDERS, &second)));
    emu.control.revoke_tokens();
    let third = emu.publish(ORDERS, 2);
    live.extend(receive_all(f, &*client, &ids(ORDERS, &third)));
    client
        .close()
        .unwrap_or_else(|e| panic!("[{}] close: {e}", f.name()));
    let stats = client.stats();
    assert!(stats.handshakes >= 2, "[{}] {stats:?}", f.name());
    assert!(stats.reauthentications >= 1, "[{}] {stats:?}", f.name());

    let text = std::fs::read_to_string(&path).expect("the transcript file");
    let transcript =
        Transcript::from_json(&text).unwrap_or_else(|e| panic!("[{}] {e}: {text}", f.name()));
    let played = transcript
        .play(Instant::now())
        .unwrap_or_else(|e| panic!("[{}] the recording does not play: {e}", f.name()));
    // The same messages: channel, replay id and JSON (the recording writes each body as JSON
    // again, which may order an object's keys differently).
    let shown = |m: &[sfstream_core::Message]| -> Vec<(String, Option<i64>, Value)> {
        m.iter()
            .map(|m| {
                let json = serde_json::from_str(m.raw_json()).expect("a message's JSON");
                (m.channel().to_owned(), m.replay_id(), json)
            })
            .collect()
    };
    assert_eq!(shown(&played.messages), shown(&live), "[{}]", f.name());

    // No secret of the run: the credentials, and no string the emulator accepts as a token.
    // (The client's password is the password with the security token appended.)
    let c = emu.control.credentials();
    let password = format!("{}{}", c.password, c.security_token);
    for secret in [&c.client_secret, &password] {
        assert!(
            !text.contains(secret.as_str()),
            "[{}] a secret in {text}",
            f.name()
        );
    }
    let mut strings = Vec::new();
    collect_strings(&serde_json::from_str(&text).expect("JSON"), &mut strings);
    for s in &strings {
        assert!(
            !emu.control.accepts_token(s),
            "[{}] a token the emulator accepts is in the recording",
            f.name()
        );
        assert!(!s.starts_with("Bearer "), "[{}] {s}", f.name());
    }
    assert!(text.contains(REDACTED));
    let cookies = strings
        .iter()
        .filter(|s| s.starts_with("BAYEUX_BROWSER=") || s.starts_with("sfdc-stream="))
        .count();
    assert!(
        cookies > 0,
        "[{}] the recording keeps the cookies' names",
        f.name()
    );
    for s in strings.iter().filter(|s| s.starts_with("BAYEUX_BROWSER=")) {
        assert!(
            s.starts_with(&format!("BAYEUX_BROWSER={REDACTED}")),
            "[{}] {s}",
            f.name()
        );
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(o) => {
            for (k, v) in o {
                out.push(k.clone());
                collect_strings(v, out);
            }
        }
        _ => {}
    }
}
