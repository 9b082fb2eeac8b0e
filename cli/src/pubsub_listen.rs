//! `sfstream listen --api pubsub`: the Pub/Sub API's topics as JSON lines, with `listen`'s
//! settings, stop conditions, exit codes and store.
//!
//! The same order as for the Streaming API makes a `kill -9` safe: events are taken from the
//! client, written to stdout and flushed, and only then committed (manual commit policy), so
//! the store never holds a replay id whose line the OS did not get.

use serde::Serialize;
use sfstream_tokio::pubsub::{CommitPolicy, FileStore, PubSubClient, PubSubMessage};
use tokio::time::Instant;

use crate::args::ListenArgs;
use crate::batch_output::{Stop, write_batch};
use crate::exit::Failure;
use crate::listen::{CLOSE_LIMIT, MAX_BATCH, STARTUP_LIMIT, sleep_until};
use crate::output::StdoutWriter;
use crate::pubsub_common::{self, Endpoint};
use crate::signals::Signals;

/// One event as a line: `listen`'s keys, the replay id in base64 and the schema id.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    channel: &'a str,
    replay_id: String,
    kind: &'static str,
    schema_id: &'a str,
    event_uuid: &'a str,
    payload: &'a serde_json::Value,
}

/// Appends the line of `message` (with its newline) to `buf`.
fn push_line(buf: &mut Vec<u8>, m: &PubSubMessage) {
    let line = Line {
        channel: m.topic(),
        replay_id: m.replay_id().to_base64(),
        kind: m.kind().as_str(),
        schema_id: m.schema_id(),
        event_uuid: m.event_id(),
        payload: m.payload(),
    };
    // Serializing borrowed strings and a JSON value cannot fail.
    let _ = serde_json::to_writer(&mut *buf, &line);
    buf.push(b'\n');
}

/// Runs `sfstream listen --api pubsub` until it stops (`Ok`) or fails.
pub(crate) async fn run(
    args: ListenArgs,
    started: Instant,
    mut signals: Signals,
) -> Result<(), Failure> {
    let from = args
        .replay
        .pubsub()
        .map_err(|e| Failure::config(format!("--replay: {e}")))?;
    for topic in &args.channels {
        check_topic(topic)?;
    }
    if args.api_version.is_some() {
        tracing::warn!("--api-version is for the Streaming API; the Pub/Sub API ignores it");
    }
    let (mut builder, at) = pubsub_common::builder(&args.auth, &args.pubsub)?;
    builder = builder
        .replay(from)
        .replay_fallback(args.fallback)
        .commit(CommitPolicy::Manual)
        // Events taken and not yet printed count too: `--max-pending` bounds what is requested
        // and not printed, whatever stdout's reader does.
        .pending_until_commit(true)
        .max_pending(u32::try_from(args.max_pending).unwrap_or(u32::MAX));
    if let Some(path) = &args.store {
        // Every store problem shows now, before the first event is printed.
        let store = FileStore::open(path).map_err(|e| Failure::config(format!("--store: {e}")))?;
        builder = builder.store(store);
    }
    let client = pubsub_common::build(builder, &at)?;
    for topic in &args.channels {
        client
            .subscribe(topic)
            .await
            .map_err(|e| pubsub_common::failure(&e, &at))?;
    }
    let status = pubsub_common::print_status(&client);
    tracing::info!("connecting to {}", at.url);
    let deadline = args.duration.map(|d| started + d);
    let startup = args.give_up_after.unwrap_or(STARTUP_LIMIT);
    let opened = tokio::select! {
        biased;
        signal = signals.next() => {
            tracing::info!("{signal} received while connecting; stopping");
            return finish(&client, &at, &mut signals, Instant::now(), status, Ok(())).await;
        }
        () = sleep_until(deadline) => {
            tracing::info!("--duration reached while connecting; stopping");
            return finish(&client, &at, &mut signals, Instant::now(), status, Ok(())).await;
        }
        r = tokio::time::timeout(startup, client.open()) => r,
    };
    let opened = match opened {
        Ok(r) => r.map_err(|e| pubsub_common::failure(&e, &at)),
        Err(_) => Err(Failure::new(
            crate::exit::Exit::Unreachable,
            format!(
                "could not open the subscriptions at {} within {:.0}s. Check the Pub/Sub \
                 endpoint (SF_PUBSUB_URL or --pubsub-url), the login URL and the network; \
                 --give-up-after sets how long to keep trying",
                at.url,
                startup.as_secs_f64()
            ),
        )),
    };
    if let Err(f) = opened {
        return finish(&client, &at, &mut signals, Instant::now(), status, Err(f)).await;
    }
    tracing::info!("listening on {}", args.channels.join(", "));
    let writer = StdoutWriter::start()
        .map_err(|e| Failure::other(format!("cannot start the stdout writer: {e}")))?;
    let mut printed = 0;
    let result = stream(
        &client,
        &args,
        &mut signals,
        deadline,
        &mut printed,
        &writer,
    )
    .await;
    let stopped_at = match &result {
        Ok((stop, at)) => {
            let why = match stop {
                Stop::Count => "--count reached".to_owned(),
                Stop::Duration => "--duration reached".to_owned(),
                Stop::Signal(s) => format!("{s} received"),
                Stop::StdoutClosed => "stdout closed".to_owned(),
            };
            tracing::info!("{why}; disconnecting after {printed} events");
            *at
        }
        Err(_) => Instant::now(),
    };
    let result = result.map(|_| ()).map_err(|e| match e {
        StreamError::Client(e) => pubsub_common::failure(&e, &at),
        StreamError::Failure(f) => f,
    });
    finish(&client, &at, &mut signals, stopped_at, status, result).await
}

/// Closes the client (every checkpoint stored), prints the last status lines, and returns
/// `result` (or the close's failure when the run itself did not fail).
async fn finish(
    client: &PubSubClient,
    at: &Endpoint,
    signals: &mut Signals,
    stopped_at: Instant,
    status: tokio::task::JoinHandle<()>,
    result: Result<(), Failure>,
) -> Result<(), Failure> {
    let closed = tokio::select! {
        r = client.close() => r.map_err(|e| pubsub_common::failure(&e, at)),
        signal = signals.next() => Err(Failure::other(format!(
            "{signal} received again: exited without waiting for the close (the store keeps \
             the last saved ids; a few events may be printed again next time)"
        ))),
        () = tokio::time::sleep_until(stopped_at + CLOSE_LIMIT) => Err(Failure::other(
            "the close did not finish in time; exited anyway",
        )),
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), status).await;
    result?;
    closed
}

/// Why `stream` failed.
enum StreamError {
    /// The client reported an error.
    Client(sfstream_tokio::pubsub::Error),
    /// Printing failed.
    Failure(Failure),
}

/// Prints events until a stop condition or a failure.
async fn stream(
    client: &PubSubClient,
    args: &ListenArgs,
    signals: &mut Signals,
    deadline: Option<Instant>,
    printed: &mut u64,
    writer: &StdoutWriter,
) -> Result<(Stop, Instant), StreamError> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let room = args
            .count
            .map_or(MAX_BATCH as u64, |c| c - *printed)
            .min(MAX_BATCH as u64) as usize;
        let first = tokio::select! {
            biased;
            signal = signals.next() => return Ok((Stop::Signal(signal), Instant::now())),
            () = sleep_until(deadline) => return Ok((Stop::Duration, Instant::now())),
            r = client.receive() => r.map_err(StreamError::Client)?,
        };
        // What else waits, without waiting; an error after them is reported once they are out.
        let mut batch = vec![first];
        let mut after = None;
        while batch.len() < room {
            match client.try_receive() {
                Some(Ok(m)) => batch.push(m),
                Some(Err(e)) => {
                    after = Some(e);
                    break;
                }
                None => break,
            }
        }
        buf.clear();
        for m in &batch {
            push_line(&mut buf, m);
        }
        let count = batch.len();
        let stop = write_batch(writer, &mut buf, count, signals, deadline, || {
            commit(client, &batch);
            *printed += count as u64;
        })
        .await
        .map_err(StreamError::Failure)?;
        if let Some((why, at)) = stop {
            return Ok((why, at));
        }
        if let Some(e) = after {
            return Err(StreamError::Client(e));
        }
        if args.count.is_some_and(|c| *printed >= c) {
            return Ok((Stop::Count, Instant::now()));
        }
    }
}

/// Commits the printed events: each topic's position moves to its last one.
fn commit(client: &PubSubClient, batch: &[PubSubMessage]) {
    for m in batch {
        if let Err(e) = client.commit(m) {
            tracing::debug!(error = %e, "commit skipped");
        }
    }
}

/// The checks made before anything starts, so that the message is immediate.
fn check_topic(topic: &str) -> Result<(), Failure> {
    let ok = ["/event/", "/data/"]
        .iter()
        .any(|p| topic.len() > p.len() && topic.starts_with(p))
        && !topic.chars().any(|c| c.is_control() || c.is_whitespace())
        && topic.len() <= 1024;
    if ok {
        Ok(())
    } else {
        Err(Failure::config(format!(
            "{topic:?} is not a Pub/Sub topic: use /event/NAME__e (a Platform Event) or \
             /data/NAMEChangeEvent, /data/ChangeEvents (Change Data Capture)"
        )))
    }
}
