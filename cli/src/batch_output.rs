//! Writing a batch's lines to stdout while a signal or the deadline may stop the run: what both
//! `listen` loops (Streaming API and Pub/Sub) do between taking a batch and committing it.

use std::io;

use tokio::time::Instant;

use crate::exit::Failure;
use crate::listen::{WRITE_GRACE, sleep_until};
use crate::output::StdoutWriter;
use crate::signals::Signals;

/// Why a run stopped without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Count,
    Duration,
    Signal(&'static str),
    StdoutClosed,
}

/// Writes the batch's lines in `buf` (`count` lines) and calls `written` once the reader has
/// them, to commit the batch. A reader that stops reading blocks the write; a signal or the
/// deadline still stops the run (`Some((why, asked for at))`), after a short grace for a reader
/// that keeps up. A batch not confirmed written is not committed: the next run prints it again.
/// `buf` comes back empty, for the next batch.
pub(crate) async fn write_batch(
    writer: &StdoutWriter,
    buf: &mut Vec<u8>,
    count: usize,
    signals: &mut Signals,
    deadline: Option<Instant>,
    written: impl FnOnce(),
) -> Result<Option<(Stop, Instant)>, Failure> {
    let write = writer.write(std::mem::take(buf));
    tokio::pin!(write);
    let (why, what) = tokio::select! {
        biased;
        (returned, outcome) = &mut write => {
            *buf = returned;
            buf.clear();
            return match outcome {
                Ok(()) => {
                    written();
                    Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    Ok(Some((Stop::StdoutClosed, Instant::now())))
                }
                Err(e) => Err(Failure::other(format!("writing to stdout failed: {e}"))),
            };
        }
        signal = signals.next() => (Stop::Signal(signal), format!("{signal} received")),
        () = sleep_until(deadline) => (Stop::Duration, "--duration reached".to_owned()),
    };
    let at = Instant::now();
    match tokio::time::timeout(WRITE_GRACE, &mut write).await {
        Ok((_, Ok(()))) => written(),
        Ok((_, Err(e))) => {
            tracing::debug!(error = %e, "writing to stdout failed while stopping");
        }
        Err(_) => {
            tracing::warn!(
                "{what} while stdout was not being read: {count} lines not confirmed written; \
                 they are not stored and will be printed again next time"
            );
        }
    }
    Ok(Some((why, at)))
}
