//! Events as JSON lines on stdout.
//!
//! Lines are written in batches through one locked stdout and flushed before the caller commits
//! their replay ids, so the store never holds an id whose line the OS did not get. The writes
//! happen on a thread of their own ([`StdoutWriter`]), so a reader that stops reading cannot
//! keep the client from reacting to a signal.

use std::io::{self, Write};
use std::sync::mpsc;

use sfstream_tokio::Message;
use tokio::sync::oneshot;

/// Appends the line of `message` (with its newline) to `buf`: the JSON object described in
/// [`sfstream_bridge::event_json`], which the bridge publishes too.
pub(crate) fn push_line(buf: &mut Vec<u8>, message: &Message) {
    sfstream_bridge::event_json::write_event_json(buf, message);
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
