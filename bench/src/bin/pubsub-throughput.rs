//! Pub/Sub throughput of sfstream's tokio client against `pubsub-bench-emulator` (preloaded
//! events, TLS): subscribe to `/event/Order__e` from the earliest event with the maximum credit
//! (100 events outstanding, the API's limit), take `--events` events, print one JSON line with
//! the same fields as the other clients of `pubsub-compare.py`.
//!
//! ```sh
//! SSL_CERT_FILE=/tmp/pubsub-bench.pem target/release/pubsub-throughput \
//!     --url https://localhost:PORT --org ORG_ID --token TOKEN --events 200000 [--decode json|none]
//! ```
//!
//! The client trusts the emulator's generated certificate through `SSL_CERT_FILE` (the trust
//! store the platform's verifier reads), as an application would; `pubsub-compare.py` sets it.
//!
//! Measured: events/s from the first event to the last; CPU time (user + system) of this process
//! from just before subscribing to the last event; peak RSS. `--decode none` takes the raw Avro
//! datum instead of decoding each event to JSON (what an application that decodes into its own
//! types on demand pays).
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, reason = "a command-line tool prints its result")]

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use sfstream_bench::{Args, context_switches, cpu_time, load_average, peak_rss};
use sfstream_tokio::pubsub::{self, Credentials, PubSubMessage, PubSubReplayFrom, Secret};

const TOPIC: &str = "/event/Order__e";

fn main() {
    if let Err(e) = run() {
        let _ = writeln!(std::io::stderr(), "pubsub-throughput: {e}");
        std::process::exit(1);
    }
}

/// What an application does at the least with an event: look at it.
fn touch(m: &PubSubMessage, decoded: bool) -> usize {
    black_box(m.replay_id());
    if decoded {
        black_box(m.payload());
        usize::from(m.payload().is_object())
    } else {
        m.raw_payload().len()
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env()?;
    args.only(&["url", "org", "token", "events", "decode", "max-pending"])?;
    let url = args.string("url").ok_or("--url is required")?;
    let org = args.string("org").ok_or("--org is required")?;
    let token = args.string("token").ok_or("--token is required")?;
    let events = args.number("events", 200_000)?;
    let max_pending =
        u32::try_from(args.number("max-pending", 100)?).map_err(|_| "--max-pending: too large")?;
    let decoded = match args.string("decode").as_deref() {
        None | Some("json") => true,
        Some("none") => false,
        Some(other) => return Err(format!("--decode {other:?}: json or none")),
    };
    let load_before = load_average();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let r = rt.block_on(async {
        let client = pubsub::builder(Credentials::AccessToken {
            access_token: Secret::new(token),
            instance_url: url.clone(),
        })
        .url(&url)
        .tenant_id(org)
        .replay(PubSubReplayFrom::Earliest)
        .max_pending(max_pending)
        .decode_json(decoded)
        .build()
        .map_err(|e| e.to_string())?;
        let cpu0 = (cpu_time(), context_switches().0);
        client.subscribe(TOPIC).await.map_err(|e| e.to_string())?;
        client.open().await.map_err(|e| e.to_string())?;
        let mut first = None;
        let mut touched = 0;
        // Time the application waited in `receive` (the client had nothing ready).
        let mut waited = Duration::ZERO;
        for _ in 0..events {
            let asked = Instant::now();
            let m = client
                .receive()
                .await
                .map_err(|e| format!("{e} (stats: {:?})", client.stats()))?;
            let now = Instant::now();
            if first.is_none() {
                first = Some(now);
            } else {
                waited += now - asked;
            }
            touched += touch(&m, decoded);
        }
        let last = Instant::now();
        let cpu = cpu_time().since(cpu0.0);
        let switches = context_switches().0 - cpu0.1;
        let stats = client.stats();
        let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
        Ok::<_, String>((
            first.unwrap_or(last),
            last,
            cpu,
            switches,
            stats,
            touched,
            waited,
        ))
    })?;
    let (first, last, cpu, switches, stats, touched, waited) = r;
    black_box(touched);
    let seconds = last.duration_since(first).as_secs_f64();
    let line = serde_json::json!({
        "client": if decoded { "sfstream-tokio" } else { "sfstream-tokio (raw)" },
        "events": events,
        "seconds": seconds,
        "events_per_sec": events as f64 / seconds,
        "cpu_seconds": cpu.total(),
        "cpu_user_seconds": cpu.user,
        "cpu_system_seconds": cpu.system,
        "cpu_us_per_event": cpu.total() * 1e6 / events as f64,
        "peak_rss_bytes": peak_rss(),
        "voluntary_context_switches": switches,
        "app_waited_seconds": waited.as_secs_f64(),
        "max_pending": max_pending,
        "stats": format!("{stats:?}"),
        "load_before": load_before,
        "load_after": load_average(),
    });
    println!("{line}");
    Ok(())
}
