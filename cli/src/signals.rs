//! Ctrl-C and SIGTERM, listened for from the start so that a signal during startup is not lost.
//!
//! A second signal within [`SAME_REQUEST`] of the first is the same request: `timeout N cmd`
//! sends SIGTERM to the child and then to its process group, and a terminal's Ctrl-C reaches
//! every process of the foreground group. Only a signal after that counts as "stop now".

use std::time::Duration;

use tokio::time::Instant;

use crate::exit::Failure;

/// Signals this close together are one request to stop.
pub(crate) const SAME_REQUEST: Duration = Duration::from_secs(1);

/// The stop signals of the process.
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    /// When the last request to stop arrived.
    last: Option<Instant>,
}

impl Signals {
    /// Starts listening. Call it inside the tokio runtime.
    pub(crate) fn new() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind| {
                signal(kind).map_err(|e| Failure::other(format!("cannot listen for signals: {e}")))
            };
            Ok(Self {
                interrupt: listen(SignalKind::interrupt())?,
                terminate: listen(SignalKind::terminate())?,
                last: None,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self { last: None })
        }
    }

    /// Completes when a stop signal arrives, with its name; repeats of the previous request
    /// (within [`SAME_REQUEST`] of it) are skipped.
    pub(crate) async fn next(&mut self) -> &'static str {
        loop {
            let name = self.raw_next().await;
            let now = Instant::now();
            if self
                .last
                .is_some_and(|last| now.duration_since(last) < SAME_REQUEST)
            {
                tracing::debug!("{name} again within {SAME_REQUEST:?}: the same request");
                continue;
            }
            self.last = Some(now);
            return name;
        }
    }

    async fn raw_next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT (Ctrl-C)",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
