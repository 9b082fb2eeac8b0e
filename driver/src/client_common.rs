//! What the Streaming API's client and the Pub/Sub API's client do the same way around their
//! shared state, written once: waiting for the session task's progress, the receive queue's
//! wait, the results of subscriptions made before `open`, the store writer's start and its
//! flush at close, and a close with a time bound.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use event_listener::Event as Notify;
use futures_channel::{mpsc, oneshot};
use futures_util::future::{self, Either};
use futures_util::stream::{self, Stream};
use sfstream_store::{ReplayStore, StoreError};
use tracing::Instrument;

use crate::Runtime;
use crate::store_writer::{self, StoreOp};

/// Waits until `ready` returns `Some`, looking again whenever `wake` is notified. The listener
/// is registered before each look, so no notification between the two is missed.
pub(crate) async fn wait_until<T>(wake: &Notify, mut ready: impl FnMut() -> Option<T>) -> T {
    loop {
        let listener = wake.listen();
        if let Some(v) = ready() {
            return v;
        }
        listener.await;
    }
}

/// The next item of a receive queue: `try_receive` once without a listener (most calls find
/// one waiting: no allocation), then [`wait_until`]. Cancellation-safe as long as
/// `try_receive` is: nothing is taken between an await and the return.
pub(crate) async fn receive<T>(wake: &Notify, mut try_receive: impl FnMut() -> Option<T>) -> T {
    if let Some(r) = try_receive() {
        return r;
    }
    wait_until(wake, try_receive).await
}

/// An error that says the client is closed: the item streams end on it.
pub(crate) trait ClosedError {
    fn is_closed_error(&self) -> bool;
}

impl ClosedError for crate::Error {
    fn is_closed_error(&self) -> bool {
        self.is_closed()
    }
}

impl ClosedError for crate::pubsub::Error {
    fn is_closed_error(&self) -> bool {
        self.is_closed()
    }
}

/// A client's items as a stream, from its `receive`: it ends when `receive` says the client is
/// closed (and drained); other errors are items and the stream goes on after them.
pub(crate) fn until_closed<C, T, E, F, Fut>(
    client: C,
    receive: F,
) -> impl Stream<Item = Result<T, E>> + Send + Unpin + 'static
where
    C: Send + 'static,
    T: Send + 'static,
    E: ClosedError + Send + 'static,
    F: Fn(C) -> Fut + Send + 'static,
    Fut: Future<Output = (Result<T, E>, C)> + Send + 'static,
{
    Box::pin(stream::unfold(
        (client, receive),
        |(client, receive)| async move {
            match receive(client).await {
                (Err(e), _) if e.is_closed_error() => None,
                (other, client) => Some((other, (client, receive))),
            }
        },
    ))
}

/// Once no subscription made before `open` waits any more: their outcome, the first failure if
/// one failed (the waiters are taken). `None` while one still waits.
pub(crate) fn subscriptions_done<E>(
    waiters: &mut BTreeMap<String, Option<Result<(), E>>>,
) -> Option<Result<(), E>> {
    if waiters.values().any(Option::is_none) {
        return None;
    }
    Some(
        std::mem::take(waiters)
            .into_values()
            .flatten()
            .find(Result::is_err)
            .unwrap_or(Ok(())),
    )
}

/// Starts a client's store writer on the runtime, in the client's span; `done` hears each
/// batch's outcome. Returns the sender the session's checkpoints go to.
pub(crate) fn spawn_store_writer<R: Runtime>(
    runtime: &R,
    store: Arc<dyn ReplayStore>,
    span: tracing::Span,
    done: impl Fn(Result<store_writer::Stored, StoreError>) + Send + Sync + 'static,
) -> mpsc::UnboundedSender<StoreOp> {
    let (tx, rx) = mpsc::unbounded();
    runtime.spawn(Box::pin(
        store_writer::run(runtime.clone(), store, rx, done).instrument(span),
    ));
    tx
}

/// Waits until everything handed to the store writer is stored, then lets the writer end (it
/// ends with its last sender).
pub(crate) async fn flush_store(sender: Option<mpsc::UnboundedSender<StoreOp>>) {
    if let Some(sender) = sender {
        let (tx, rx) = oneshot::channel();
        let _ = sender.unbounded_send(StoreOp::Flush(tx));
        let _ = rx.await;
    }
}

/// The first store error among errors waiting for `receive`, taken out: what `close` returns.
pub(crate) fn take_store_error<E>(
    errors: &mut std::collections::VecDeque<E>,
    is_store: impl Fn(&E) -> bool,
) -> Option<E> {
    let i = errors.iter().position(is_store)?;
    errors.remove(i)
}

/// `close`, waiting no longer than `bound`: its result on time, else `timed_out(bound)` (which
/// closes the client for the application and says what was not finished). The bound is a timer
/// of the runtime: no thread of its own.
pub(crate) async fn close_within<R: Runtime, E>(
    runtime: &R,
    bound: Duration,
    close: impl Future<Output = Result<(), E>>,
    timed_out: impl FnOnce(Duration) -> E,
) -> Result<(), E> {
    let Some(deadline) = runtime.now().checked_add(bound) else {
        return close.await;
    };
    let close = std::pin::pin!(close);
    let timer = runtime.sleep_until(deadline);
    match future::select(close, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(timed_out(bound)),
    }
}
