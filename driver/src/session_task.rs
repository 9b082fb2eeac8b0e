//! The session task: the background loop that carries time and commands to the session and
//! drains what it asks for (requests to send, events to dispatch).

use std::sync::Arc;
use std::time::Instant;

use event_listener::Event as Notify;
use futures_util::future;

use crate::Runtime;
use crate::request;
use crate::shared::Shared;

/// Runs until the session has ended and no request is in flight.
pub(crate) async fn run<R: Runtime>(shared: Arc<Shared<R>>) {
    run_until_done(&shared.runtime, &shared.driver_wake, || {
        let mut st = shared.lock();
        let now = shared.runtime.now();
        // Spurious calls are no-ops; this also sends what a command queued.
        st.session.handle_timeout(now);
        request::drain(&shared, &mut st);
        let timeout = st.session.poll_timeout();
        (timeout, st.ended && st.aborts.is_empty())
    })
    .await;
    tracing::debug!("driver stopped");
}

/// The loop of a session task, for either API: `step` brings the session up to date and says
/// when it wants to be called again and whether it is done; between steps the task sleeps until
/// then or until `wake` is notified.
pub(crate) async fn run_until_done<R: Runtime>(
    runtime: &R,
    wake: &Notify,
    mut step: impl FnMut() -> (Option<Instant>, bool),
) {
    loop {
        let listener = wake.listen();
        let (timeout, done) = step();
        if done {
            break;
        }
        match timeout {
            Some(at) => {
                let sleep = runtime.sleep_until(at);
                let _ = future::select(Box::pin(listener), sleep).await;
            }
            None => listener.await,
        }
    }
}
