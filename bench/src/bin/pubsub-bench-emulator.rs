//! The Pub/Sub API emulator as the Pub/Sub benchmarks run it: a separate process (so that each
//! client process's CPU time and RSS are its own), over TLS with a generated certificate (the npm
//! client speaks gRPC over TLS only, so every client gets the same transport), with events
//! preloaded on `/event/Order__e` for every client to read from the earliest one.
//!
//! ```sh
//! target/release/pubsub-bench-emulator --events 200000 --cert /tmp/pubsub-bench.pem \
//!     [--payload-bytes 0] [--max-events-per-response 100] [--port 0]
//! ```
//!
//! Prints one JSON line (`url`, `endpoint` host:port, `org_id`, `access_token`, `cert`,
//! `events`, `preload_seconds`, `pid`), then serves until its standard input closes.
//!
//! The events are Platform Events with every field of the topic set (order number, amount, a
//! boolean, a date), like an application's events; `--payload-bytes N` pads the order number to
//! N characters, for larger payloads.
#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    reason = "a command-line tool prints its address"
)]

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use sfstream_emulator_pubsub::PubSubEmulator;

/// The topic every Pub/Sub benchmark reads.
const TOPIC: &str = "/event/Order__e";

fn main() -> Result<(), String> {
    let args = sfstream_bench::Args::from_env()?;
    args.only(&[
        "events",
        "cert",
        "payload-bytes",
        "max-events-per-response",
        "port",
    ])?;
    let events = args.number("events", 200_000)?;
    let padding = args.number("payload-bytes", 0)?;
    let cert = PathBuf::from(args.string("cert").ok_or("--cert FILE.pem is required")?);
    let mut builder = PubSubEmulator::builder()
        .tls_cert_path(&cert)
        .seed(18)
        .max_events_per_response(args.number("max-events-per-response", 100)?);
    if let Some(port) = args.optional_number("port")? {
        builder = builder.port(u16::try_from(port).map_err(|_| "--port: out of range")?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let emulator = runtime
        .block_on(builder.start())
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let control = emulator.control();
    // In chunks: one `publish_many` holds the emulator's lock for its whole batch.
    let mut done = 0;
    while done < events {
        let chunk = (events - done).min(10_000);
        control
            .publish_many(TOPIC, (done..done + chunk).map(|n| order(n, padding)))
            .map_err(|e| e.to_string())?;
        done += chunk;
    }
    let port = emulator.addr().port();
    println!(
        "{}",
        json!({
            "url": emulator.url(),
            "endpoint": format!("localhost:{port}"),
            "org_id": emulator.org_id(),
            "access_token": emulator.access_token(),
            "cert": cert,
            "topic": TOPIC,
            "events": events,
            "preload_seconds": started.elapsed().as_secs_f64(),
            "pid": std::process::id(),
        })
    );
    // Serve until standard input closes (the parent exited or closed the pipe).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    runtime.block_on(emulator.shutdown());
    Ok(())
}

/// The `n`th event: every field set, the order number padded to `padding` characters.
fn order(n: usize, padding: usize) -> serde_json::Value {
    let number = format!("O-{n:08}");
    let number = if number.len() < padding {
        format!("{number}{}", "x".repeat(padding - number.len()))
    } else {
        number
    };
    json!({
        "OrderNumber__c": number,
        "Amount__c": (n % 10_000) as f64 * 1.25,
        "Shipped__c": n % 2 == 0,
        "ShipDate__c": 1_700_000_000_000_i64 + (n as i64) * 1000,
        "CreatedById": "005EM0000000001AAA",
    })
}
