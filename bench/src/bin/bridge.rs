//! The bridge's throughput and latency into JetStream, with the bridge and the emulator in this
//! process and NATS servers started by the harness of the bridge's tests.
//!
//! ```sh
//! ./scripts/install-nats.sh
//! cargo run --release --manifest-path bench/Cargo.toml --bin bridge -- [--events 100000] [--orgs 4] [--seconds 20] \
//!     [--nats current|debian] [--max-in-flight N]
//! ```
//!
//! `--nats debian` runs Debian's nats-server 2.9 instead of the pinned current release;
//! `--max-in-flight` sets `nats.max_in_flight` (default 1: every publish fenced, one per round
//! trip; 128 for the opt-in pipelining).
//!
//! - **Throughput**: `--events` events retained in the emulator before the bridge starts (every
//!   channel from "all"), over `--orgs` orgs × 2 channels; the time from start until the stream
//!   holds them all gives events/s, with stream replicas 1 (one server) and 3 (three servers).
//! - **Latency**: events published at a steady 10,000/s for `--seconds`; an ordered consumer
//!   on the stream takes each one's `createdDate` (set when the emulator published it) from the
//!   time it sees the event stored: p50 and p99, replicas 1 and 3.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

#[path = "../../../bridge/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::push;
use common::{Nats, Version, config_text, emulator, free_port, parse, stream_len, write_secrets};
use futures_util::StreamExt as _;

const CHANNELS: [&str; 2] = ["/event/Order__e", "/data/AccountChangeEvent"];

struct Args {
    events: usize,
    orgs: u32,
    seconds: u64,
    version: Version,
    max_in_flight: Option<u64>,
}

fn args() -> Result<Args, String> {
    let mut a = Args { events: 100_000, orgs: 4, seconds: 20, version: Version::Current, max_in_flight: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--nats" {
            a.version = match it.next().as_deref() {
                Some("debian") => Version::Debian,
                Some("current") => Version::Current,
                other => return Err(format!("--nats takes debian or current, not {other:?}")),
            };
            continue;
        }
        let v: u64 = it.next().and_then(|v| v.parse().ok()).ok_or(format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--events" => a.events = usize::try_from(v).map_err(|e| e.to_string())?,
            "--orgs" => a.orgs = u32::try_from(v).map_err(|e| e.to_string())?,
            "--seconds" => a.seconds = v,
            "--max-in-flight" => a.max_in_flight = Some(v),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn one(replicas: usize, a: &Args) -> Result<(), String> {
    let nats = if replicas == 1 { Nats::single(a.version, true) } else { Nats::cluster(a.version) };
    let emu = emulator(a.orgs, &CHANNELS).await;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    write_secrets(dir.path());
    let mut text = config_text(dir.path(), &emu, &nats.urls(), replicas, "bench", &CHANNELS, "15s");
    text = text.replace("[nats]", &format!("metrics_listen = \"127.0.0.1:{}\"\n\n[nats]", free_port()));
    if let Some(n) = a.max_in_flight {
        text = text.replace("[nats]\n", &format!("[nats]\nmax_in_flight = {n}\n"));
    }
    let controls: Vec<_> = emu.org_ids().iter().filter_map(|id| emu.control_for(id)).collect();
    let per = a.events / (controls.len() * CHANNELS.len());
    for c in &controls {
        for ch in CHANNELS {
            c.publish_generated(ch, per).map_err(|e| e.to_string())?;
        }
    }
    let total = (per * controls.len() * CHANNELS.len()) as u64;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let bridge = tokio::spawn(sfstream_bridge::run(parse(&text), async move {
        let _ = stopped.await;
    }));
    let client = nats.client().await;
    while stream_len(&client, "SF").await < total {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    println!(
        "{:?}, replicas {replicas}: {total} events ({} orgs × 2 channels) stored in {:.2} s: {:.0} events/s (including start-up)",
        a.version,
        controls.len(),
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );

    // Latency at a steady 10,000 events/s.
    let js = async_nats::jetstream::new(client.clone());
    let stream = js.get_stream("SF").await.map_err(|e| e.to_string())?;
    let consumer = stream
        .create_consumer(push::OrderedConfig {
            deliver_subject: client.new_inbox(),
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::New,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    // A little under the target, so that rounding never leaves the reader waiting.
    let want = 10_000 * a.seconds as usize - 200;
    let reader = tokio::spawn(async move {
        let mut lat = Vec::with_capacity(want);
        while lat.len() < want {
            let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(30), messages.next()).await else {
                break;
            };
            let body: serde_json::Value = serde_json::from_slice(&m.payload).unwrap_or_default();
            let created = body["createdDate"].as_str().and_then(|d| humantime::parse_rfc3339(d).ok());
            if let Some(c) = created {
                let c = c.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
                lat.push(now_ms().saturating_sub(c));
            }
        }
        lat
    });
    // 100 events every 10 ms, spread over the channels (a channel's share carried over).
    let tick = Duration::from_millis(10);
    let share = 100.0 / (controls.len() * CHANNELS.len()) as f64;
    let mut owed = vec![0.0f64; controls.len() * CHANNELS.len()];
    let mut sent = 0usize;
    let mut next = Instant::now();
    for _ in 0..(a.seconds * 100) {
        let mut i = 0;
        for c in &controls {
            for ch in CHANNELS {
                owed[i] += share;
                let n = owed[i].floor();
                owed[i] -= n;
                if n >= 1.0 {
                    c.publish_generated(ch, n as usize).map_err(|e| e.to_string())?;
                    sent += n as usize;
                }
                i += 1;
            }
        }
        next += tick;
        tokio::time::sleep_until(next.into()).await;
    }
    let mut lat = reader.await.map_err(|e| e.to_string())?;
    lat.sort_unstable();
    println!(
        "replicas {replicas}: steady {} events/s for {} s: publish-to-stream latency p50 {} ms, p99 {} ms ({} events measured)",
        sent as u64 / a.seconds.max(1),
        a.seconds,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.len()
    );
    let _ = stop.send(());
    let _ = bridge.await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let a = args()?;
    for replicas in [1, 3] {
        one(replicas, &a).await?;
    }
    Ok(())
}
