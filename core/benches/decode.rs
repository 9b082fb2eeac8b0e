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
use std::time::{Instant, SystemTime};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use sfstream_core::oauth::Credentials;
use sfstream_core::{Config, RequestId, Secret, Session};

const EVENTS: usize = 1000;

fn body(connect_id: &str) -> Vec<u8> {
    let mut out = String::from("[");
    for i in 0..EVENTS {
        let filler = "x".repeat(800);
        out.push_str(&format!(
            r#"{{"data":{{"schema":"dffQ2QLzDNHqwB8_sHMxdA","payload":{{"CreatedDate":"2024-04-09T18:31:40.517Z","CreatedById":"005D0000001cSZs","Printer_Model__c":"XZO-5","Serial_Number__c":"{i:08}","Ink_Percentage__c":0.2,"Notes__c":"{filler}"}},"event":{{"EventUuid":"2ec0e371-1395-457f-9275-{i:012}","replayId":{}}}}},"channel":"/event/Low_Ink__e"}},"#,
            1000 + i as i64 * 3
        ));
    }
    out.push_str(&format!(
        r#"{{"clientId":"c1","channel":"/meta/connect","id":"{connect_id}","successful":true}}]"#
    ));
    out.into_bytes()
}

/// A connected session with a long poll in flight; returns it with the poll's id and message id.
fn connected() -> (Session, RequestId, String) {
    let now = Instant::now();
    let mut config = Config::salesforce(Credentials::AccessToken {
        access_token: Secret::new("tok"),
        instance_url: "https://na1.example.com".into(),
    });
    config.max_pending = EVENTS * 2;
    let mut s = Session::new(config, now, SystemTime::now()).unwrap();
    s.subscribe("/event/Low_Ink__e", None, now).unwrap();
    s.open(now).unwrap();
    let hs = s.poll_transmit().unwrap();
    let reply = br#"[{"channel":"/meta/handshake","successful":true,"clientId":"c1","ext":{"replay":true}}]"#;
    s.handle_response(hs.id, http::Response::new(reply.to_vec()), now);
    let poll = s.poll_transmit().unwrap();
    let sub = s.poll_transmit().unwrap();
    let sub_id =
        serde_json::from_slice::<serde_json::Value>(sub.request.body()).unwrap()[0]["id"].clone();
    let sub_reply = format!(
        r#"[{{"channel":"/meta/subscribe","successful":true,"subscription":"/event/Low_Ink__e","id":{sub_id}}}]"#
    );
    s.handle_response(sub.id, http::Response::new(sub_reply.into_bytes()), now);
    let poll_msg: serde_json::Value = serde_json::from_slice(poll.request.body()).unwrap();
    let reply = format!(
        r#"[{{"channel":"/meta/connect","successful":true,"id":{},"advice":{{"timeout":110000,"interval":0}}}}]"#,
        poll_msg[0]["id"]
    );
    s.handle_response(poll.id, http::Response::new(reply.into_bytes()), now);
    while s.poll_event().is_some() {}
    let next = s.poll_transmit().unwrap();
    let msg: serde_json::Value = serde_json::from_slice(next.request.body()).unwrap();
    (s, next.id, msg[0]["id"].as_str().unwrap().to_owned())
}

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
