//! The runtime's deadline on an exchange: past it the request fails with a timeout and its
//! connection is closed, so the next request gets a fresh one, never the late answer.
#![cfg(feature = "hyper")]

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use sfstream_async_std::AsyncStd;
use sfstream_driver::{Runtime as _, TransportError};
use sfstream_http_async_io::{Client, Proxies};
use sfstream_tests::loopback::{Event, Server, get, ok};

#[test]
fn a_request_past_its_deadline_times_out_and_closes_its_connection() {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let server = Server::start(move |target| {
        if target == "/held" {
            let _ = released.lock().expect("not poisoned").recv();
        }
        ok("answer")
    });
    let client = Client::builder().proxies(Proxies::none()).build();
    let runtime = AsyncStd::with_hyper_client(client);
    block_on(async {
        let deadline = Instant::now() + Duration::from_millis(300);
        let late = runtime
            .send(get(&server.url("/held")), deadline, 1 << 20)
            .await;
        assert!(matches!(late, Err(TransportError::Timeout)), "{late:?}");
        release.send(()).expect("the server waits");
        server
            .until(|e| matches!(e, Event::Closed { conn: 0 }))
            .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let next = runtime
            .send(get(&server.url("/next")), deadline, 1 << 20)
            .await;
        let next = next.expect("a response");
        assert_eq!(next.body().as_slice(), b"answer");
    });
    assert_eq!(server.accepted(), 2);
}
