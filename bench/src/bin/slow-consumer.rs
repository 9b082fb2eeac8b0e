//! Memory under a slow consumer: 1 million events offered to a client, with the library's
//! **default settings**, whose application takes them more slowly than they could arrive. While
//! more than `max_pending` (100) messages wait, the client holds back its next long poll, so the
//! events wait on the server: memory stays flat, nothing is dropped, nothing is fetched twice.
//! Only a stall longer than `max_poll_delay` (25 s) makes it poll while behind, and only if the
//! waiting messages would then pass `max_pending_bytes` (16 MiB) does it set events aside and
//! re-fetch them by replay.
//!
//! ```sh
//! target/release/slow-consumer --runtime tokio --events 1000000 --sleep-every 100 --sleep-ms 1
//! # a 60 s stall half-way, with a small memory bound so that the stall overflows it:
//! target/release/slow-consumer --runtime tokio --stall-at 500000 --stall-ms 60000 \
//!     --max-pending-bytes 2000000
//! ```
//!
//! Starts `bench-emulator` (a separate process, retaining every event for replay), subscribes,
//! publishes `--events` retained events with generated payloads in one go, then takes them one
//! at a time, sleeping `--sleep-ms` after every `--sleep-every` messages (and `--stall-ms` once
//! after `--stall-at` messages), until all arrived or `--max-seconds` passed. `--max-pending`,
//! `--max-pending-bytes` and `--max-poll-delay-ms` override the defaults. The emulator holds an
//! idle long poll for `--long-poll-timeout-ms` (Salesforce: 110 s). A thread samples this
//! process's RSS every `--sample-ms`. Prints one JSON line: the RSS samples (MB), their
//! maximum, the peak RSS (VmHWM), the events received in order without gaps or duplicates, the
//! client's hold, drop and re-fetch counters, and the re-fetches counted before the stall.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, reason = "a command-line tool prints its result")]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sfstream_bench::{
    Args, CHANNEL, EmulatorProcess, credentials, current_rss, load_average, peak_rss,
};
use sfstream_driver::Message;
use sfstream_driver::core::Stats;

/// One way to take messages one at a time, whatever the runtime.
trait Receiver {
    fn receive(&mut self) -> Result<Message, String>;
    fn stats(&self) -> Stats;
}

struct TokioReceiver {
    rt: tokio::runtime::Runtime,
    client: sfstream_tokio::Client,
}

impl Receiver for TokioReceiver {
    fn receive(&mut self) -> Result<Message, String> {
        self.rt
            .block_on(self.client.receive())
            .map_err(|e| e.to_string())
    }
    fn stats(&self) -> Stats {
        self.client.stats()
    }
}

struct BlockingReceiver(sfstream_blocking::Client);

impl Receiver for BlockingReceiver {
    fn receive(&mut self) -> Result<Message, String> {
        self.0.receive().map_err(|e| e.to_string())
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
}

struct AsyncStdReceiver(sfstream_async_std::Client);

impl Receiver for AsyncStdReceiver {
    fn receive(&mut self) -> Result<Message, String> {
        futures_lite::future::block_on(self.0.receive()).map_err(|e| e.to_string())
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
}

/// Settings that override the library's defaults.
#[derive(Clone, Copy, Default)]
struct Settings {
    max_pending: Option<usize>,
    max_pending_bytes: Option<usize>,
    max_poll_delay: Option<Duration>,
}

impl Settings {
    fn apply<R: sfstream_driver::Runtime>(
        self,
        mut b: sfstream_driver::ClientBuilder<R>,
    ) -> sfstream_driver::ClientBuilder<R> {
        if let Some(v) = self.max_pending {
            b = b.max_pending(v);
        }
        if let Some(v) = self.max_pending_bytes {
            b = b.max_pending_bytes(v);
        }
        if let Some(v) = self.max_poll_delay {
            b = b.max_poll_delay(v);
        }
        b
    }

    fn apply_blocking(
        self,
        mut b: sfstream_blocking::ClientBuilder,
    ) -> sfstream_blocking::ClientBuilder {
        if let Some(v) = self.max_pending {
            b = b.max_pending(v);
        }
        if let Some(v) = self.max_pending_bytes {
            b = b.max_pending_bytes(v);
        }
        if let Some(v) = self.max_poll_delay {
            b = b.max_poll_delay(v);
        }
        b
    }
}

fn open(runtime: &str, base_url: &str, settings: Settings) -> Result<Box<dyn Receiver>, String> {
    let e = |e: sfstream_driver::Error| e.to_string();
    Ok(match runtime {
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let client = rt.block_on(async {
                let client = settings
                    .apply(sfstream_tokio::builder(credentials(base_url)))
                    .build()?;
                client.subscribe(CHANNEL).await?;
                client.open().await?;
                Ok::<_, sfstream_driver::Error>(client)
            });
            Box::new(TokioReceiver {
                client: client.map_err(e)?,
                rt,
            })
        }
        "blocking" => {
            let client = settings
                .apply_blocking(sfstream_blocking::builder(credentials(base_url)))
                .build()
                .map_err(e)?;
            client.subscribe(CHANNEL).map_err(e)?;
            client.open().map_err(e)?;
            Box::new(BlockingReceiver(client))
        }
        "async-std" => {
            let client = futures_lite::future::block_on(async {
                let client = settings
                    .apply(sfstream_async_std::builder(credentials(base_url)))
                    .build()?;
                client.subscribe(CHANNEL).await?;
                client.open().await?;
                Ok::<_, sfstream_driver::Error>(client)
            })
            .map_err(e)?;
            Box::new(AsyncStdReceiver(client))
        }
        other => {
            return Err(format!(
                "unknown runtime {other:?}: tokio, blocking or async-std"
            ));
        }
    })
}

fn main() {
    if let Err(e) = run() {
        let _ = writeln!(std::io::stderr(), "slow-consumer: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env()?;
    args.only(&[
        "runtime",
        "events",
        "max-pending",
        "max-pending-bytes",
        "max-poll-delay-ms",
        "stall-at",
        "stall-ms",
        "sleep-every",
        "sleep-ms",
        "sample-ms",
        "batch",
        "max-seconds",
        "long-poll-timeout-ms",
    ])?;
    let runtime = args.string("runtime").unwrap_or_else(|| "tokio".into());
    let events = args.number("events", 1_000_000)?;
    let settings = Settings {
        max_pending: args.optional_number("max-pending")?,
        max_pending_bytes: args.optional_number("max-pending-bytes")?,
        max_poll_delay: args
            .optional_number("max-poll-delay-ms")?
            .map(|ms| Duration::from_millis(ms as u64)),
    };
    let stall_at = args.optional_number("stall-at")?;
    let stall = Duration::from_millis(args.number("stall-ms", 0)? as u64);
    let sleep_every = args.number("sleep-every", 100)?.max(1);
    let sleep = Duration::from_millis(args.number("sleep-ms", 1)? as u64);
    let sample = Duration::from_millis(args.number("sample-ms", 500)? as u64);
    let batch = args.number("batch", 1000)?;
    let max_seconds = Duration::from_secs(args.number("max-seconds", 300)? as u64);
    let long_poll = args.number("long-poll-timeout-ms", 110_000)?;
    let load_before = load_average();
    let emulator = EmulatorProcess::start(&[
        "--max-batch".into(),
        batch.to_string(),
        "--max-retained-events".into(),
        (events + 1000).to_string(),
        "--long-poll-timeout-ms".into(),
        long_poll.to_string(),
    ])?;
    let mut client = open(&runtime, &emulator.base_url, settings)?;

    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                samples.push(current_rss());
                std::thread::sleep(sample);
            }
            samples
        })
    };

    let started = Instant::now();
    // Published in chunks, so that this harness never holds more than the ids themselves
    // (8 bytes each) to check the order of what arrives.
    let mut ids: Vec<i64> = Vec::with_capacity(events);
    while ids.len() < events {
        let n = (events - ids.len()).min(10_000);
        let reply = sfstream_bench::post_json(
            &emulator.base_url,
            "/_emulator/publish",
            &serde_json::json!({ "channel": CHANNEL, "count": n }),
        )?;
        let before = ids.len();
        ids.extend(
            reply["replay_ids"]
                .as_array()
                .ok_or("no replay_ids")?
                .iter()
                .filter_map(serde_json::Value::as_i64),
        );
        if ids.len() != before + n {
            return Err(format!(
                "published {} events, expected {n}",
                ids.len() - before
            ));
        }
    }
    let rss_after_publish = current_rss();
    let published = started.elapsed();
    let mut in_order = 0usize;
    let mut unexpected = 0usize;
    let mut before_stall: Option<Stats> = None;
    for i in 0..events {
        if started.elapsed() > max_seconds {
            break;
        }
        let m = client.receive()?;
        match m.replay_id() {
            Some(id) if ids.get(in_order) == Some(&id) => in_order += 1,
            _ => unexpected += 1,
        }
        if (i + 1) % sleep_every == 0 {
            std::thread::sleep(sleep);
        }
        if stall_at == Some(i + 1) {
            before_stall = Some(client.stats());
            std::thread::sleep(stall);
        }
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().map_err(|_| "the sampler panicked")?;
    let stats = client.stats();
    let mb = |b: u64| (b as f64 / 1e5).round() / 10.0;
    let defaults = sfstream_driver::core::Config::bayeux("http://127.0.0.1");
    let line = serde_json::json!({
        "client": format!("sfstream-{runtime}"),
        "events_offered": events,
        "received": in_order + unexpected,
        "received_in_order": in_order,
        "unexpected": unexpected,
        "max_pending": settings.max_pending.unwrap_or(defaults.max_pending),
        "max_pending_bytes": settings.max_pending_bytes.unwrap_or(defaults.max_pending_bytes),
        "max_poll_delay_ms": settings.max_poll_delay.unwrap_or(defaults.max_poll_delay).as_millis() as u64,
        "stall_at": stall_at,
        "stall_ms": stall.as_millis() as u64,
        "seconds": elapsed.as_secs_f64(),
        "publish_seconds": published.as_secs_f64(),
        "events_per_sec": (in_order + unexpected) as f64 / elapsed.as_secs_f64(),
        "long_poll_timeout_ms": long_poll,
        "rss_samples_mb": samples.iter().map(|b| mb(*b)).collect::<Vec<_>>(),
        "rss_max_mb": mb(samples.iter().copied().max().unwrap_or(0)),
        "rss_last_mb": mb(samples.last().copied().unwrap_or(0)),
        "peak_rss_mb": mb(peak_rss()),
        "rss_after_publish_mb": mb(rss_after_publish),
        "harness_ids_mb": mb((ids.capacity() * 8) as u64),
        "dropped_for_refetch": stats.dropped_for_refetch,
        "refetches": stats.refetches,
        "refetches_before_stall": before_stall.as_ref().map(|s| s.refetches),
        "polls_held_back": stats.polls_held_back,
        "polls_past_delay_limit": stats.polls_past_delay_limit,
        "polls_past_delay_limit_before_stall": before_stall.as_ref().map(|s| s.polls_past_delay_limit),
        "connects": stats.connects,
        "connects_early": stats.connects_early,
        "load_before": load_before,
        "load_after": load_average(),
    });
    println!("{line}");
    drop(client);
    drop(emulator);
    Ok(())
}
