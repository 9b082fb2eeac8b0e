//! What hyper's HTTP/2 client needs of a runtime: an executor for the tasks it spawns (one per
//! connection, one per request body) and a timer for its PINGs. Tasks go to
//! async-global-executor and timers are async-io's, so no executor of the application's is
//! needed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Spawns hyper's tasks on async-global-executor, detached: each ends with its connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GlobalExecutor;

impl<F> hyper::rt::Executor<F> for GlobalExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        async_global_executor::spawn(future).detach();
    }
}

/// hyper's sleeps as async-io timers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AsyncIoTimer;

impl hyper::rt::Timer for AsyncIoTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep(async_io::Timer::after(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep(async_io::Timer::at(deadline)))
    }
}

/// An async-io timer that yields `()`, as hyper's `Sleep` does.
struct Sleep(async_io::Timer);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl hyper::rt::Sleep for Sleep {}
