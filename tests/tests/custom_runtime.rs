//! A runtime of one's own needs no crate but the runtime crate it starts from: `Runtime`,
//! `BoxFuture`, `TransportError`, `driver::http` and the generic `driver::ClientBuilder` are named
//! through `sfstream_tokio`, and a client on that runtime streams from the emulator.
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use sfstream_tokio::driver::http::{Request, Response};
use sfstream_tokio::{BoxFuture, Credentials, Runtime, Tokio, TransportError, driver};
use support::{Emu, Exec, ORDERS, PREISSUED_TOKEN};

/// tokio's runtime, counting the requests it sends: what an application's own runtime (a
/// metrics wrapper, another HTTP client) looks like.
#[derive(Clone)]
struct Counting {
    inner: Tokio,
    sent: Arc<AtomicUsize>,
}

impl Runtime for Counting {
    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn wall_clock(&self) -> SystemTime {
        self.inner.wall_clock()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.inner.sleep_until(deadline)
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.inner.spawn(task);
    }

    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()> {
        self.inner.spawn_blocking(work)
    }

    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.send(request, deadline, max_body)
    }
}

#[test]
fn a_runtime_of_ones_own_streams_with_names_from_the_runtime_crate_alone() {
    let emu = Emu::start(|b| b);
    let exec = Exec::tokio();
    let _guard = exec.enter();
    let runtime = Counting {
        inner: Tokio::new(),
        sent: Arc::default(),
    };
    let credentials = Credentials::access_token(PREISSUED_TOKEN, emu.base_url.clone());
    let client = driver::ClientBuilder::new(runtime.clone(), credentials)
        .build()
        .expect("a valid configuration");
    exec.block_on(async {
        client.subscribe(ORDERS).await?;
        client.open().await
    })
    .expect("open");
    emu.control.publish_generated(ORDERS, 1).unwrap();
    exec.receive_n(&client, 1);
    exec.block_on(client.close()).expect("close");
    // A handshake, a subscription and long polls at least: every request went through it.
    assert!(runtime.sent.load(Ordering::SeqCst) >= 3);
}
