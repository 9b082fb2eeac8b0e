//! End-to-end throughput of one sfstream client against the emulator's bulk mode.
//!
//! ```sh
//! target/release/throughput --runtime tokio --events 300000 --payload-bytes 500 --batch 1000
//! ```
//!
//! Starts `bench-emulator` as a separate process (so that this process's CPU time and RSS are
//! the client's own), opens one client subscribed to `/event/Order__e`, publishes `--events`
//! events in bulk once the subscription is confirmed, receives them all, and prints one JSON
//! line: events/s from the first to the last event received, CPU time (user + system) of this
//! process per event over the same span, peak RSS, and the load average before and after.
//!
//! With `--emulator URL` it uses a running emulator instead, prints `READY` once subscribed and
//! leaves publishing to whoever started it (`compare.py` runs every client that way).
//!
//! The client runs with the library's **default settings** unless `--max-pending N` is given.
//! Bulk events are not retained for replay, so the run also shows that a consumer that keeps up
//! never needs a re-fetch: while more than `max_pending` messages wait the client holds back its
//! next long poll instead of dropping anything, and only a memory bound (16 MiB by default) or a
//! stall past `max_poll_delay` (25 s) could lead to a re-fetch — which would stop this run with
//! an invalid-replay-id error. The result line counts re-fetches and held polls.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, reason = "a command-line tool prints its result")]

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use sfstream_bench::{
    Args, CHANNEL, CpuTime, EmulatorProcess, context_switches, cpu_time, credentials, load_average,
    peak_rss,
};
use sfstream_driver::Message;
use sfstream_driver::core::Stats;

/// What one run does.
struct Plan {
    events: usize,
    payload_bytes: usize,
    /// `None`: the library's default.
    max_pending: Option<usize>,
    base_url: String,
    /// Publishing is someone else's job: print READY and wait.
    external: bool,
}

impl Plan {
    /// The `max_pending` the client runs with.
    fn effective_max_pending(&self) -> usize {
        self.max_pending.unwrap_or_else(|| {
            sfstream_driver::core::Config::bayeux("http://127.0.0.1").max_pending
        })
    }
}

/// What one run measured.
struct Received {
    first: Instant,
    last: Instant,
    cpu: CpuTime,
    /// Voluntary context switches over the run, all threads.
    switches: u64,
    count: usize,
    bytes: usize,
    stats: Stats,
    /// The most messages seen waiting in the client (sampled every 1,000 taken).
    backlog: usize,
    /// The client's `max_pending`.
    max_pending: usize,
}

/// The subscription is confirmed: publish (or let the orchestrator publish). Returns the CPU
/// time at that moment.
fn ready(plan: &Plan) -> Result<(CpuTime, u64), String> {
    let cpu = (cpu_time(), context_switches().0);
    if plan.external {
        let mut out = std::io::stdout();
        writeln!(out, "READY").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    } else {
        sfstream_bench::publish_bulk(&plan.base_url, CHANNEL, plan.events, plan.payload_bytes)?;
    }
    Ok(cpu)
}

/// The error of a run that stopped early, with what explains it most of the time.
fn failed(e: &sfstream_driver::Error, stats: &Stats) -> String {
    let mut text = format!(
        "{e} (received {}, dropped for re-fetch {}, re-fetches {}, sessions lost {})",
        stats.messages_received, stats.dropped_for_refetch, stats.refetches, stats.sessions_lost
    );
    if stats.dropped_for_refetch > 0 {
        text.push_str(
            "; the waiting messages passed the memory bound (or the application stalled past the \
             poll delay) and bulk events cannot be re-fetched by replay",
        );
    }
    text
}

/// Counts one message; what an application does at the least: look at it.
fn touch(m: &Message) -> usize {
    black_box(m.replay_id());
    m.raw_json().len()
}

/// The bookkeeping of a run from the first message on: when, how much, the backlog seen.
struct Tally {
    cpu0: (CpuTime, u64),
    first: Option<Instant>,
    count: usize,
    bytes: usize,
    backlog: usize,
}

impl Tally {
    fn new(cpu0: (CpuTime, u64)) -> Self {
        Self {
            cpu0,
            first: None,
            count: 0,
            bytes: 0,
            backlog: 0,
        }
    }

    /// Counts one message; `pending` is asked every 1,000 messages.
    fn took(&mut self, m: &Message, pending: impl FnOnce() -> usize) {
        self.first.get_or_insert_with(Instant::now);
        self.bytes += touch(m);
        self.count += 1;
        if self.count.is_multiple_of(1000) {
            self.backlog = self.backlog.max(pending());
        }
    }

    fn finish(self, stats: Stats, max_pending: usize) -> Received {
        let last = Instant::now();
        Received {
            first: self.first.unwrap_or(last),
            last,
            cpu: cpu_time().since(self.cpu0.0),
            switches: context_switches().0 - self.cpu0.1,
            count: self.count,
            bytes: self.bytes,
            stats,
            backlog: self.backlog,
            max_pending,
        }
    }
}

/// One async client's run, whatever its runtime: subscribe, open, let the events be published,
/// take them all.
async fn run_async<R: sfstream_driver::Runtime>(
    client: &sfstream_driver::Client<R>,
    plan: &Plan,
    ready: impl FnOnce() -> Result<(CpuTime, u64), String>,
) -> Result<Received, String> {
    client.subscribe(CHANNEL).await.map_err(|e| e.to_string())?;
    client.open().await.map_err(|e| e.to_string())?;
    let mut tally = Tally::new(ready()?);
    while tally.count < plan.events {
        let m = client
            .receive()
            .await
            .map_err(|e| failed(&e, &client.stats()))?;
        tally.took(&m, || client.pending());
    }
    Ok(tally.finish(client.stats(), plan.effective_max_pending()))
}

fn run_tokio(plan: &Plan) -> Result<Received, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = with_plan(sfstream_tokio::builder(credentials(&plan.base_url)), plan)
            .build()
            .map_err(|e| e.to_string())?;
        let received = run_async(&client, plan, || {
            tokio::task::block_in_place(|| ready(plan))
        })
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
        received
    })
}

fn run_blocking(plan: &Plan) -> Result<Received, String> {
    let mut builder = sfstream_blocking::builder(credentials(&plan.base_url));
    if let Some(max) = plan.max_pending {
        builder = builder.max_pending(max);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    client.subscribe(CHANNEL).map_err(|e| e.to_string())?;
    client.open().map_err(|e| e.to_string())?;
    let mut tally = Tally::new(ready(plan)?);
    while tally.count < plan.events {
        let m = client.receive().map_err(|e| failed(&e, &client.stats()))?;
        tally.took(&m, || client.pending());
    }
    let received = tally.finish(client.stats(), plan.effective_max_pending());
    let _ = client.close();
    Ok(received)
}

/// async-std's client under a plain `block_on` (its tasks run on async-global-executor).
fn run_async_std(plan: &Plan) -> Result<Received, String> {
    futures_lite::future::block_on(async {
        let client = with_plan(
            sfstream_async_std::builder(credentials(&plan.base_url)),
            plan,
        )
        .build()
        .map_err(|e| e.to_string())?;
        let received = run_async(&client, plan, || ready(plan)).await;
        let _ = client.close().await;
        received
    })
}

/// The builder with the plan's settings; the library's defaults otherwise.
fn with_plan<R: sfstream_driver::Runtime>(
    builder: sfstream_driver::ClientBuilder<R>,
    plan: &Plan,
) -> sfstream_driver::ClientBuilder<R> {
    match plan.max_pending {
        Some(max) => builder.max_pending(max),
        None => builder,
    }
}

fn main() {
    if let Err(e) = run() {
        let _ = writeln!(std::io::stderr(), "throughput: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env()?;
    args.only(&[
        "runtime",
        "events",
        "payload-bytes",
        "batch",
        "max-pending",
        "emulator",
    ])?;
    let runtime = args.string("runtime").unwrap_or_else(|| "tokio".into());
    let batch = args.number("batch", 1000)?;
    let load_before = load_average();
    let (emulator, base_url) = match args.string("emulator") {
        Some(url) => (None, url),
        None => {
            let e = EmulatorProcess::start(&["--max-batch".into(), batch.to_string()])?;
            let url = e.base_url.clone();
            (Some(e), url)
        }
    };
    let plan = Plan {
        events: args.number("events", 300_000)?,
        payload_bytes: args.number("payload-bytes", 500)?,
        max_pending: args.optional_number("max-pending")?,
        external: emulator.is_none(),
        base_url,
    };
    let r = match runtime.as_str() {
        "tokio" => run_tokio(&plan)?,
        "blocking" => run_blocking(&plan)?,
        "async-std" => run_async_std(&plan)?,
        other => {
            return Err(format!(
                "unknown runtime {other:?}: tokio, blocking or async-std"
            ));
        }
    };
    let seconds = r.last.duration_since(r.first).as_secs_f64();
    let cpu_seconds = r.cpu.total();
    let line = serde_json::json!({
        "client": format!("sfstream-{runtime}"),
        "events": r.count,
        "seconds": seconds,
        "events_per_sec": r.count as f64 / seconds,
        "cpu_seconds": cpu_seconds,
        "cpu_user_seconds": r.cpu.user,
        "cpu_system_seconds": r.cpu.system,
        "cpu_us_per_event": cpu_seconds * 1e6 / r.count as f64,
        "peak_rss_bytes": peak_rss(),
        "context_switches_per_batch": r.switches as f64 * batch as f64 / r.count as f64,
        "bytes_per_event": r.bytes / r.count.max(1),
        "payload_bytes": plan.payload_bytes,
        "batch": batch,
        "max_pending": r.max_pending,
        "max_backlog_sampled": r.backlog,
        "connects": r.stats.connects,
        "connects_early": r.stats.connects_early,
        "dropped_for_refetch": r.stats.dropped_for_refetch,
        "refetches": r.stats.refetches,
        "polls_held_back": r.stats.polls_held_back,
        "polls_past_delay_limit": r.stats.polls_past_delay_limit,
        "load_before": load_before,
        "load_after": load_average(),
    });
    println!("{line}");
    drop(emulator);
    Ok(())
}
