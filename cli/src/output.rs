//! Events as JSON lines on stdout.
//!
//! Lines are written in batches through one locked stdout and flushed before the caller commits
//! their replay ids, so the store never holds an id whose line the OS did not get. The writes
//! happen on a thread of their own ([`StdoutWriter`]), so a reader that stops reading cannot
//! keep the client from reacting to a signal.

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sfstream_tokio::{EventKind, Message};
use tokio::sync::oneshot;

/// The JSON object printed for one event, keys in this order:
/// `{"channel","replayId","kind","createdDate","eventUuid","eventType","payload"}`.
///
/// `createdDate` is RFC 3339 for every kind (Change Data Capture: the commit timestamp).
/// `payload` is the event's content, byte for byte as the server sent it: `data.sobject` for
/// PushTopic, `data.payload` for Platform Events, Change Data Capture and generic events, `data`
/// for plain Bayeux messages. `eventType` is the PushTopic `data.event.type` (`created`,
/// `updated`, …), else null.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line<'a> {
    channel: &'a str,
    replay_id: Option<i64>,
    kind: &'static str,
    created_date: Option<String>,
    event_uuid: Option<&'a str>,
    event_type: Option<&'a str>,
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    sobject: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// The line of one message.
pub(crate) fn line(message: &Message) -> Line<'_> {
    let data = serde_json::from_str::<Envelope<'_>>(message.raw_json())
        .ok()
        .and_then(|e| e.data);
    let payload = match message.kind() {
        EventKind::Bayeux => data,
        kind => data
            .and_then(|d| serde_json::from_str::<Data<'_>>(d.get()).ok())
            .and_then(|d| match kind {
                EventKind::PushTopic => d.sobject,
                _ => d.payload,
            }),
    };
    Line {
        channel: message.channel(),
        replay_id: message.replay_id(),
        kind: message.kind().as_str(),
        created_date: message.created_date().map(iso_date),
        event_uuid: message.event_uuid(),
        event_type: message.pushtopic_event_type(),
        payload,
    }
}

/// Change Data Capture events carry their commit time as epoch milliseconds; print it like the
/// other kinds' dates (RFC 3339, UTC).
fn iso_date(date: String) -> String {
    match date.parse::<u64>() {
        Ok(ms) => {
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
        }
        Err(_) => date,
    }
}

/// Appends the line of `message` (with its newline) to `buf`.
pub(crate) fn push_line(buf: &mut Vec<u8>, message: &Message) {
    // Serialising a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, &line(message));
    buf.push(b'\n');
}

/// A batch to write, and where to say how it went (handing the buffer back for reuse).
type Job = (Vec<u8>, oneshot::Sender<(Vec<u8>, io::Result<()>)>);

/// Writes stdout on a thread of its own: a reader that stops reading blocks that thread only,
/// never the task that reacts to signals and deadlines.
pub(crate) struct StdoutWriter {
    jobs: mpsc::Sender<Job>,
}

impl StdoutWriter {
    /// Starts the writer thread. It ends when the writer is dropped, or stays blocked in a write
    /// to a reader that never reads again until the process exits.
    pub(crate) fn start() -> io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sfstream-stdout".to_owned())
            .spawn(move || {
                for (buf, done) in queue {
                    let result = write_stdout(&buf);
                    let _ = done.send((buf, result));
                }
            })?;
        Ok(Self { jobs })
    }

    /// Writes `buf` to stdout and flushes it: when this returns `Ok`, the OS has the lines.
    /// Dropping the future leaves the write to finish (or block) on the writer thread.
    pub(crate) async fn write(&self, buf: Vec<u8>) -> (Vec<u8>, io::Result<()>) {
        let (done, result) = oneshot::channel();
        if self.jobs.send((buf, done)).is_err() {
            return (
                Vec::new(),
                Err(io::Error::other("the stdout writer thread ended")),
            );
        }
        result.await.unwrap_or_else(|_| {
            (
                Vec::new(),
                Err(io::Error::other("the stdout writer thread ended")),
            )
        })
    }
}

/// Writes `buf` to stdout and flushes it, on the calling thread.
pub(crate) fn write_stdout(buf: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(buf)?;
    out.flush()
}
