//! Decoding a `/meta/connect` response that carries 1,000 Platform Events of about 1 KB each,
//! through the whole session (parse, envelope, queue, take), against the floor:
//! `serde_json::from_slice::<serde_json::Value>` of the same bytes.
//!
//! `cargo bench -p sfstream-core --bench decode`
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark picks its start instant"
)]
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

mod fixture;
use fixture::{EVENTS, body, connected};

fn bench(c: &mut Criterion) {
    let (_, _, probe_id) = connected();
    let bytes = body(&probe_id);
    eprintln!("response: {} bytes, {} events", bytes.len(), EVENTS);
    let mut g = c.benchmark_group("connect_response_1000_events");
    g.throughput(criterion::Throughput::Elements(EVENTS as u64));
    g.bench_function("floor_serde_json_value", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap())
        });
    });
    g.bench_function("session_decode_and_take", |b| {
        b.iter_batched(
            || {
                let (s, id, msg_id) = connected();
                assert_eq!(msg_id, probe_id);
                (s, id, http::Response::new(bytes.clone()))
            },
            |(mut s, id, response)| {
                s.handle_response(id, response, Instant::now());
                let mut n = 0;
                while let Some(m) = s.poll_message() {
                    black_box(m.replay_id());
                    n += 1;
                }
                assert_eq!(n, EVENTS);
                s
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
