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

/// How writing a batch ended.
pub(crate) enum Written {
    /// Every line was written: commit the batch. The buffer comes back for the next batch.
    All(Vec<u8>),
    /// The run stops (`why`, asked for at `at`). `committable`: the lines were written within
    /// the grace period, so the reader has them and the batch may be committed.
    Stopped {
        why: Stop,
        at: Instant,
        committable: bool,
    },
    /// Writing failed.
    Failed(Failure),
}

/// Writes `lines` (the `count` lines of one batch). A reader that stops reading blocks the
/// write; a signal or the deadline still stops the run, after a short grace for a reader that
/// keeps up. A batch not confirmed written is not committed: the next run prints it again.
pub(crate) async fn write_batch(
    writer: &StdoutWriter,
    lines: Vec<u8>,
    count: usize,
    signals: &mut Signals,
    deadline: Option<Instant>,
) -> Written {
    let write = writer.write(lines);
    tokio::pin!(write);
    let (why, what) = tokio::select! {
        biased;
        (returned, written) = &mut write => {
            return match written {
                Ok(()) => Written::All(returned),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Written::Stopped {
                    why: Stop::StdoutClosed,
                    at: Instant::now(),
                    committable: false,
                },
                Err(e) => {
                    Written::Failed(Failure::other(format!("writing to stdout failed: {e}")))
                }
            };
        }
        signal = signals.next() => (Stop::Signal(signal), format!("{signal} received")),
        () = sleep_until(deadline) => (Stop::Duration, "--duration reached".to_owned()),
    };
    let at = Instant::now();
    let committable = match tokio::time::timeout(WRITE_GRACE, &mut write).await {
        Ok((_, Ok(()))) => true,
        Ok((_, Err(e))) => {
            tracing::debug!(error = %e, "writing to stdout failed while stopping");
            false
        }
        Err(_) => {
            tracing::warn!(
                "{what} while stdout was not being read: {count} lines not confirmed written; \
                 they are not stored and will be printed again next time"
            );
            false
        }
    };
    Written::Stopped {
        why,
        at,
        committable,
    }
}
