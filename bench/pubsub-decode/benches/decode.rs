//! Pub/Sub payload decoding, per event: sfstream's Avro decoder (to JSON; straight into a serde
//! type) against a plain `apache-avro` decode of the same datum (to its value; on to JSON).
//!
//! `cargo bench` in this directory; `cargo clean` afterwards (the target directory is large).
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use sfstream_bench_pubsub_decode::{
    AccountChange, OrderEvent, apache_avro_json, apache_avro_value, cases, check, sfstream_json,
};

fn decode(c: &mut Criterion) {
    let cases = cases();
    check(&cases);
    for case in &cases {
        let mut group = c.benchmark_group(case.name);
        group.throughput(Throughput::Bytes(case.datum.len() as u64));
        group.bench_function("sfstream_to_json", |b| {
            b.iter(|| sfstream_json(black_box(case)))
        });
        if case.name == "platform_event" {
            group.bench_function("sfstream_to_struct", |b| {
                b.iter(|| {
                    case.schema
                        .decode::<OrderEvent<'_>>(black_box(&case.datum))
                        .unwrap()
                })
            });
        } else {
            group.bench_function("sfstream_to_struct", |b| {
                b.iter(|| {
                    case.schema
                        .decode::<AccountChange<'_>>(black_box(&case.datum))
                        .unwrap()
                })
            });
        }
        group.bench_function("sfstream_validate_only", |b| {
            b.iter(|| {
                case.schema
                    .decode::<IgnoredAny>(black_box(&case.datum))
                    .unwrap()
            })
        });
        group.bench_function("apache_avro_value", |b| {
            b.iter(|| apache_avro_value(black_box(case)))
        });
        group.bench_function("apache_avro_to_json", |b| {
            b.iter(|| apache_avro_json(black_box(case)))
        });
        group.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
