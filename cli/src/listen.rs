//! `sfstream listen`: subscribe, print every event as a JSON line, commit after printing.
//!
//! The order that makes a `kill -9` safe: a batch of messages is taken from the client, written
//! to stdout and flushed, and only then committed (manual commit policy); the driver hands
//! commits to the store. So the store never holds a replay id whose line the OS did not get, and
//! the next run resumes after the last stored id: nothing is skipped, and at most the events
//! printed after the last store write are printed again.

use std::time::Duration;

use sfstream_tokio::{
    Batch, Client, CommitPolicy, FileStore, ReplayStore as _, core::Error as CoreError,
};
use tokio::time::Instant;

use crate::args::{Api, ListenArgs};
use crate::auth;
use crate::batch_output::{Stop, write_batch};
use crate::diagnosis;
use crate::exit::{Exit, Failure};
use crate::output::{self, StdoutWriter};
use crate::replay_origin::ReplayOrigins;
use crate::session_status::SessionStatus;
use crate::signals::Signals;

/// At startup, how long the server may stay unreachable before the run fails (exit 5), unless
/// `--give-up-after` says otherwise.
pub(crate) const STARTUP_LIMIT: Duration = Duration::from_secs(30);
/// The most messages printed and committed together.
pub(crate) const MAX_BATCH: usize = 256;
/// How long a graceful stop may take, from the signal (or deadline) to the exit.
pub(crate) const CLOSE_LIMIT: Duration = Duration::from_secs(10);
/// How long a stop waits for a write already under way (part of [`CLOSE_LIMIT`]): a reader that
/// keeps reading takes a batch in far less, so its lines are committed; a stalled one is left.
pub(crate) const WRITE_GRACE: Duration = Duration::from_millis(500);

/// How a run stopped, and when the stop was asked for (the close bound counts from then).
#[derive(Debug, Clone, Copy)]
struct Stopped {
    why: Stop,
    at: Instant,
}

/// Runs `sfstream listen` until it stops (`Ok`) or fails.
pub(crate) async fn run(args: ListenArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let mut signals = Signals::new()?;
    if args.api == Api::Pubsub {
        return crate::pubsub_listen::run(args, started, signals).await;
    }
    let replay = args
        .replay
        .streaming()
        .map_err(|e| Failure::config(format!("--replay: {e}")))?;
    for channel in &args.channels {
        check_channel(channel)?;
    }
    let resolved = auth::resolve(&args.auth)?;
    for warning in &resolved.warnings {
        tracing::warn!("{warning}");
    }
    if !resolved.ignored.is_empty() {
        tracing::info!(
            "using the {} flow; not used by it: {}",
            flow_words(resolved.credentials.flow_name()),
            resolved.ignored.join(", ")
        );
    }
    let server = resolved.server.clone();
    let flow = resolved.credentials.flow_name();
    let mut builder = sfstream_tokio::builder(resolved.credentials)
        .replay(replay)
        .replay_fallback(args.fallback)
        .commit_policy(CommitPolicy::Manual)
        .max_pending(usize::try_from(args.max_pending).unwrap_or(usize::MAX))
        .connection_timeout(Some(args.give_up_after.unwrap_or(STARTUP_LIMIT)));
    if let Some(v) = &args.api_version {
        builder = builder.api_version(v.trim());
    }
    let mut origins = ReplayOrigins::new(replay, args.store.clone());
    if let Some(path) = &args.store {
        // Opening checks the file and its directory are writable and takes the store's lock,
        // so every store problem shows now, before the first event is printed.
        let store = FileStore::open(path).map_err(|e| Failure::config(format!("--store: {e}")))?;
        origins.stored = store.load().unwrap_or_default();
        builder = builder.store(store);
    }
    let client = builder.build().map_err(|e| {
        let f = Failure::from_client(&e, &server);
        match &e {
            sfstream_tokio::Error::Stream(CoreError::Config(m)) if m.contains("API version") => {
                Failure::config(format!("--api-version: {m}"))
            }
            _ => f,
        }
    })?;
    // Status lines come from the client's session events from here on.
    crate::logging::session_events_printed();
    let status = SessionStatus::start(client.session_events());
    let run = Run {
        args,
        started,
        server,
        flow,
        origins,
    };
    let result = listen(&client, &status, run, &mut signals).await;
    // Every status line before the run's last word.
    status.stop().await;
    result
}

/// What a run knows once its client is built.
struct Run {
    args: ListenArgs,
    started: Instant,
    server: String,
    flow: &'static str,
    origins: ReplayOrigins,
}

/// Subscribes, opens and prints until a stop or a failure, then closes.
async fn listen(
    client: &Client,
    status: &SessionStatus,
    run: Run,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let Run {
        args,
        started,
        server,
        flow,
        origins,
    } = run;
    for channel in &args.channels {
        client
            .subscribe(channel)
            .await
            .map_err(|e| Failure::from_client(&e, &server))?;
    }

    tracing::info!("connecting to {server} ({} flow)", flow_words(flow));
    let deadline = args.duration.map(|d| started + d);
    let opened = tokio::select! {
        biased;
        signal = signals.next() => {
            tracing::info!("{signal} received while connecting; stopping");
            return Ok(());
        }
        () = sleep_until(deadline) => {
            tracing::info!("--duration reached while connecting; stopping");
            return Ok(());
        }
        (mistake, url) = diagnosis::first_mistake() => {
            // Retrying cannot help: the settings are wrong.
            let at = if url.is_empty() { server.clone() } else { url };
            return Err(Failure::config(format!("{at}: {}", mistake.explanation())));
        }
        r = client.open() => r,
    };
    if let Err(e) = opened {
        let failure = origins
            .explain(&e)
            .unwrap_or_else(|| Failure::from_client(&e, &server));
        if failure.exit == Exit::Subscription {
            // The client is open with the other channels: say goodbye properly.
            close(client, signals, Instant::now() + CLOSE_LIMIT).await?;
        }
        return Err(failure);
    }
    status.flush().await;
    tracing::info!("listening on {}", args.channels.join(", "));

    let mut printed: u64 = 0;
    let writer = StdoutWriter::start()
        .map_err(|e| Failure::other(format!("cannot start the stdout writer: {e}")))?;
    let result = stream(client, &args, signals, deadline, &mut printed, &writer)
        .await
        .map_err(|e| match e {
            StreamError::Client(e) => origins
                .explain(&e)
                .unwrap_or_else(|| Failure::from_client(&e, &server)),
            StreamError::Failure(f) => f,
        });
    let close_by = result
        .as_ref()
        .map_or_else(|_| Instant::now(), |stopped| stopped.at)
        + CLOSE_LIMIT;
    match &result {
        Ok(stopped) => {
            let why = match stopped.why {
                Stop::Count => "--count reached".to_owned(),
                Stop::Duration => "--duration reached".to_owned(),
                Stop::Signal(s) => format!("{s} received"),
                Stop::StdoutClosed => "stdout closed".to_owned(),
            };
            tracing::info!("{why}; disconnecting after {printed} events");
        }
        Err(f) => tracing::debug!(exit = f.exit as u8, "stopping after {printed} events"),
    }
    let closed = close(client, signals, close_by).await;
    result?;
    closed
}

/// Prints events until a stop condition or a failure (a client error, or a failure of its own).
async fn stream(
    client: &Client,
    args: &ListenArgs,
    signals: &mut Signals,
    deadline: Option<Instant>,
    printed: &mut u64,
    writer: &StdoutWriter,
) -> Result<Stopped, StreamError> {
    let stopped = |why| {
        Ok(Stopped {
            why,
            at: Instant::now(),
        })
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let remaining = args
            .count
            .map_or(MAX_BATCH as u64, |c| c - *printed)
            .min(MAX_BATCH as u64) as usize;
        let received = tokio::select! {
            biased;
            signal = signals.next() => return stopped(Stop::Signal(signal)),
            () = sleep_until(deadline) => return stopped(Stop::Duration),
            r = client.receive_batch(remaining) => r,
        };
        let batch = match received {
            Ok(batch) => batch,
            Err(e) if e.is_connection_lost() && args.give_up_after.is_none() => {
                // Reported by the driver as a warning; the client keeps trying.
                continue;
            }
            Err(e) => return Err(StreamError::Client(e)),
        };
        buf.clear();
        for m in &batch {
            output::push_line(&mut buf, m);
        }
        let count = batch.len();
        let stop = write_batch(writer, &mut buf, count, signals, deadline, || {
            commit(client, &batch);
            *printed += count as u64;
        })
        .await
        .map_err(StreamError::Failure)?;
        if let Some((why, at)) = stop {
            return Ok(Stopped { why, at });
        }
        if args.count.is_some_and(|c| *printed >= c) {
            return stopped(Stop::Count);
        }
    }
}

/// Why `stream` failed.
enum StreamError {
    /// The client reported an error (classified by the caller, who knows the replay origins).
    Client(sfstream_tokio::Error),
    /// Printing failed.
    Failure(Failure),
}

/// Commits the batch: for each channel, its last message in it (and so the ones before).
fn commit(client: &Client, batch: &Batch) {
    if let Err(e) = client.commit(batch) {
        tracing::debug!(error = %e, "commit skipped");
    }
}

/// Closes the client (a `/meta/disconnect`, then the store is flushed). A second signal, or a
/// close still unfinished at `deadline`, exits without waiting.
async fn close(client: &Client, signals: &mut Signals, deadline: Instant) -> Result<(), Failure> {
    tokio::select! {
        r = client.close() => r.map_err(|e| Failure::from_client(&e, "the server")),
        signal = signals.next() => Err(Failure::other(format!(
            "{signal} received again: exited without waiting for the disconnect \
             (the store keeps the last saved ids; a few events may be printed again next time)"
        ))),
        () = tokio::time::sleep_until(deadline) => Err(Failure::other(
            "the disconnect did not finish in time; exited anyway",
        )),
    }
}

pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The checks the core makes, made before anything starts so that the message is immediate.
fn check_channel(channel: &str) -> Result<(), Failure> {
    if !channel.starts_with('/') || channel.len() < 2 {
        let hint = match channel {
            "new" | "all" | "true" | "false" => {
                " (a value for --fallback or --sandbox is written with '=', e.g. --fallback=new)"
            }
            _ => "",
        };
        return Err(Failure::config(format!(
            "channel {channel:?} must start with '/', e.g. /event/Order__e, /topic/AccountUpdates, \
             /data/ChangeEvents or /u/notifications{hint}"
        )));
    }
    if channel.starts_with("/meta/") || channel.chars().any(char::is_control) {
        return Err(Failure::config(format!(
            "{channel:?} is not an event channel"
        )));
    }
    if channel.len() > 1024 {
        return Err(Failure::config("a channel name is longer than 1024 bytes"));
    }
    Ok(())
}

pub(crate) fn flow_words(flow: &str) -> &str {
    match flow {
        "access_token" => "access token",
        "jwt_bearer" => "JWT bearer",
        "refresh_token" => "refresh token",
        "client_credentials" => "client credentials",
        other => other,
    }
}
