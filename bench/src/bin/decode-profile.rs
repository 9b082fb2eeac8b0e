//! The core decode benchmark as a plain program, for instruction counts under callgrind (which
//! stay repeatable on a loaded machine, unlike wall-clock time):
//!
//! ```sh
//! valgrind --tool=callgrind --toggle-collect='*measured_*' \
//!     target/release/decode-profile session 5
//! ```
//!
//! `floor` parses the response into a `serde_json::Value` `N` times; `session` feeds it to `N`
//! connected sessions and takes every message. Only the `measured_*` functions do the work
//! counted, so the setup (building sessions, cloning the body) is left out by `--toggle-collect`.
#![allow(clippy::print_stdout, reason = "a command-line tool prints its result")]

use std::hint::black_box;
use std::time::Instant;

use sfstream_core::{RequestId, Session};

#[path = "../../../core/benches/fixture/mod.rs"]
#[allow(
    dead_code,
    reason = "the fixture is shared with the criterion benchmark"
)]
mod fixture;

#[inline(never)]
fn measured_floor(bytes: &[u8]) -> usize {
    let v = serde_json::from_slice::<serde_json::Value>(black_box(bytes)).expect("valid JSON");
    black_box(&v);
    v.as_array().map_or(0, Vec::len)
}

#[inline(never)]
fn measured_session(mut s: Session, id: RequestId, body: Vec<u8>, now: Instant) -> usize {
    s.handle_response(id, http::Response::new(body), now);
    let mut n = 0;
    while let Some(m) = s.poll_message() {
        black_box(m.replay_id());
        n += 1;
    }
    n
}

#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark picks its start instant"
)]
fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "session".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let (_, _, probe_id) = fixture::connected();
    let bytes = fixture::body(&probe_id);
    let started = Instant::now();
    let mut events = 0;
    match mode.as_str() {
        "floor" => {
            for _ in 0..n {
                events += measured_floor(&bytes) - 1;
            }
        }
        "session" => {
            let inputs: Vec<_> = (0..n)
                .map(|_| {
                    let (s, id, _) = fixture::connected();
                    (s, id, bytes.clone())
                })
                .collect();
            let now = Instant::now();
            for (s, id, body) in inputs {
                events += measured_session(s, id, body, now);
            }
        }
        other => {
            eprintln!("unknown mode {other:?}: floor or session");
            std::process::exit(2);
        }
    }
    println!(
        "{mode}: {n} responses of {} bytes, {events} events, {:.3} s",
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
}
