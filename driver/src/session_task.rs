//! The session task: the background loop that carries time and commands to the session and
//! drains what it asks for (requests to send, events to dispatch).

use std::sync::Arc;

use futures_util::future;

use crate::Runtime;
use crate::request;
use crate::shared::Shared;

/// Runs until the session has ended and no request is in flight.
pub(crate) async fn run<R: Runtime>(shared: Arc<Shared<R>>) {
    loop {
        let listener = shared.driver_wake.listen();
        let (timeout, done) = {
            let mut st = shared.lock();
            let now = shared.runtime.now();
            // Spurious calls are no-ops; this also sends what a command queued.
            st.session.handle_timeout(now);
            request::drain(&shared, &mut st);
            let timeout = st.session.poll_timeout();
            (timeout, st.ended && st.aborts.is_empty())
        };
        if done {
            break;
        }
        match timeout {
            Some(at) => {
                let sleep = shared.runtime.sleep_until(at);
                let _ = future::select(Box::pin(listener), sleep).await;
            }
            None => listener.await,
        }
    }
    tracing::debug!("driver stopped");
}
