//! The client's session events as status lines: read from `Client::session_events` by a task of
//! their own and written through `tracing` (so `-q`, `-v`, `RUST_LOG` and `--log-format` apply),
//! each failed request's reason handed to [`diagnosis::observe`].
//!
//! The lines keep the messages and fields that the status layer (`logging.rs`) turns into human
//! text. The task prints as events come; [`SessionStatus::flush`] prints what waits before the
//! caller writes a line of its own, so lines stay in order.

use std::time::Duration;

use sfstream_tokio::{RefetchReason, SessionEvent, SessionEvents};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::diagnosis;

/// The target of the status lines: the human text of their messages is `logging.rs`'s.
pub(crate) const TARGET: &str = "sfstream::session";

/// How long a flush or the final stop may take.
const FLUSH_LIMIT: Duration = Duration::from_secs(1);

/// The task printing a client's session events.
pub(crate) struct SessionStatus {
    flushes: mpsc::Sender<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl SessionStatus {
    /// Starts printing `events`.
    pub(crate) fn start(mut events: SessionEvents) -> Self {
        let (flushes, mut asked) = mpsc::channel::<oneshot::Sender<()>>(4);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    flush = asked.recv() => {
                        while let Some(event) = events.try_next() {
                            print(&event);
                        }
                        match flush {
                            Some(done) => { let _ = done.send(()); }
                            None => break,
                        }
                    }
                    event = events.recv() => match event {
                        Some(event) => print(&event),
                        None => break,
                    },
                }
            }
        });
        Self { flushes, task }
    }

    /// Prints every event that has come so far.
    pub(crate) async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.flushes.send(done).await.is_ok() {
            let _ = tokio::time::timeout(FLUSH_LIMIT, flushed).await;
        }
    }

    /// Prints every event that has come so far, and stops.
    pub(crate) async fn stop(self) {
        drop(self.flushes);
        let _ = tokio::time::timeout(FLUSH_LIMIT, self.task).await;
    }
}

/// `New` → `New`, `Id(5)` → `Id(5)`: the form `logging::replay_words` reads.
fn replay<T: std::fmt::Debug>(from: &T) -> String {
    format!("{from:?}")
}

/// One event as a status line.
fn print(event: &SessionEvent) {
    match event {
        SessionEvent::Authenticated {
            instance_url,
            org_id,
        } => {
            tracing::info!(target: TARGET, %instance_url, org_id = org_id.as_deref().unwrap_or(""), "authenticated");
        }
        SessionEvent::Handshaken {
            client_id,
            reconnect,
        } => tracing::info!(target: TARGET, %client_id, reconnect, "handshake done"),
        SessionEvent::Connected => tracing::info!(target: TARGET, "connected"),
        SessionEvent::Subscribed {
            channel,
            replay_from,
        } => {
            tracing::info!(target: TARGET, %channel, replay_from = replay(replay_from), "subscribed");
        }
        SessionEvent::SubscribeFailed { channel, error } => {
            tracing::error!(target: TARGET, %channel, %error, "subscription failed");
        }
        SessionEvent::Unsubscribed { channel } => {
            tracing::info!(target: TARGET, %channel, "unsubscribed");
        }
        SessionEvent::SessionLost { reason } => {
            tracing::warn!(target: TARGET, %reason, "session lost");
        }
        SessionEvent::Reconnecting { after, reason } => {
            // `kind` and `transport` are the driver's stable names, as in its own log line.
            let transport = reason.transport().map(|t| t.kind().as_str());
            diagnosis::observe(transport.unwrap_or_default(), &reason.to_string());
            tracing::warn!(target: TARGET, after_ms = after.as_millis() as u64, %reason,
                kind = reason.kind().as_str(), transport, "retrying");
        }
        SessionEvent::ReplayFallback {
            channel,
            rejected,
            using,
            error,
        } => {
            let gap = event.is_gap();
            tracing::warn!(target: TARGET, %channel, rejected = replay(rejected), using = replay(using), %error, gap,
                "stored replay id rejected; using the fallback");
        }
        SessionEvent::Refetch {
            channel,
            from,
            reason,
        } => match reason {
            RefetchReason::BrokenLongPoll { error } => tracing::warn!(
                target: TARGET, %channel, from = replay(from), %error, "re-fetching after a broken long poll"
            ),
            RefetchReason::MemoryBound { dropped } => tracing::info!(
                target: TARGET, %channel, from = replay(from), dropped, "re-fetching events set aside for memory"
            ),
            other => {
                tracing::info!(target: TARGET, %channel, from = replay(from), reason = ?other, "re-fetching")
            }
        },
        SessionEvent::ConnectionLost { outage } => {
            tracing::warn!(target: TARGET, for_ms = outage.as_millis() as u64, "connection lost");
        }
        SessionEvent::ConnectionRestored => tracing::info!(target: TARGET, "connection restored"),
        SessionEvent::Problem { error } => tracing::warn!(target: TARGET, %error, "stream problem"),
        SessionEvent::Closed { error: None } => tracing::info!(target: TARGET, "disconnected"),
        // The reason is reported as the run's error.
        SessionEvent::Closed { error: Some(error) } => {
            tracing::debug!(target: TARGET, %error, "session ended");
        }
        SessionEvent::Lagged { missed } => {
            tracing::warn!(target: TARGET, missed, "status lines skipped: the status printer fell behind");
        }
        other => tracing::info!(target: TARGET, event = ?other, "session event"),
    }
}
