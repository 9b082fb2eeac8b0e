//! The pool, the body bound, error texts and proxies, against small loopback servers (one
//! thread per connection) and the emulator.

mod proxies;
mod support;
mod tls;

use std::time::{Duration, Instant};

use futures_lite::future::{self, block_on};
use sfstream_driver::{Runtime as _, TransportError};

use super::{HyperClient, Origin, ProxyEnv, exchange};
use crate::AsyncStd;
use support::{Event, Server, get, ok};

const MAX: usize = 1 << 20;

fn direct() -> HyperClient {
    HyperClient::with(ProxyEnv::default(), None)
}

fn origin(server: &Server) -> Origin {
    Origin::of(&server.url("/").parse().expect("a URL")).expect("an origin")
}

fn body(response: Result<http::Response<Vec<u8>>, TransportError>) -> String {
    String::from_utf8(response.expect("a response").into_body()).expect("UTF-8")
}

#[test]
fn sequential_requests_share_one_connection() {
    let server = Server::start(ok);
    let client = direct();
    block_on(async {
        assert_eq!(
            body(exchange(client.clone(), get(&server.url("/a")), MAX).await),
            "/a"
        );
        assert_eq!(
            body(exchange(client.clone(), get(&server.url("/b")), MAX).await),
            "/b"
        );
    });
    assert_eq!(
        server.accepted(),
        1,
        "the second request reused the connection"
    );
    assert_eq!(client.idle_count(&origin(&server)), 1);
}

/// The bug this pool must not have: a request dropped while waiting (deadline, cancelled long
/// poll) leaves its connection with the late answer on the way; the next request must not get
/// that connection, or it reads the answer meant for the dropped one.
#[test]
fn a_dropped_exchange_drops_its_connection() {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    let server = Server::start(move |target| {
        if target == "/held" {
            let _ = released.lock().expect("not poisoned").recv();
            ok("late answer")
        } else {
            ok("fresh answer")
        }
    });
    let client = direct();
    block_on(async {
        let held = exchange(client.clone(), get(&server.url("/held")), MAX);
        let dropped = future::or(async { Some(held.await) }, async {
            server
                .until(|e| matches!(e, Event::Request { conn: 0, target } if target == "/held"))
                .await;
            None
        })
        .await;
        assert!(dropped.is_none(), "the held request got no answer");
        release.send(()).expect("the server waits");
        server
            .until(|e| matches!(e, Event::Closed { conn: 0 }))
            .await;
        assert_eq!(client.idle_count(&origin(&server)), 0);
        let next = exchange(client.clone(), get(&server.url("/next")), MAX).await;
        assert_eq!(body(next), "fresh answer");
    });
    assert_eq!(server.accepted(), 2);
}

/// The same through the runtime: the deadline passes while the server holds the answer.
#[test]
fn a_request_past_its_deadline_times_out_and_closes_its_connection() {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    let server = Server::start(move |target| {
        if target == "/held" {
            let _ = released.lock().expect("not poisoned").recv();
        }
        ok("answer")
    });
    let runtime = AsyncStd::with_hyper_client(direct());
    block_on(async {
        let deadline = Instant::now() + Duration::from_millis(300);
        let late = runtime.send(get(&server.url("/held")), deadline, MAX).await;
        assert!(matches!(late, Err(TransportError::Timeout)), "{late:?}");
        release.send(()).expect("the server waits");
        server
            .until(|e| matches!(e, Event::Closed { conn: 0 }))
            .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let next = runtime.send(get(&server.url("/next")), deadline, MAX).await;
        assert_eq!(body(next), "answer");
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn at_most_four_idle_connections_per_origin() {
    let barrier = std::sync::Barrier::new(5);
    let server = Server::start(move |target| {
        // All five requests are in flight at once, so each has a connection of its own.
        barrier.wait();
        ok(target)
    });
    let client = direct();
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (client, request) = (client.clone(), get(&server.url(&format!("/{i}"))));
            async_global_executor::spawn(exchange(client, request, MAX))
        })
        .collect();
    block_on(async {
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(body(task.await), format!("/{i}"));
        }
    });
    assert_eq!(server.accepted(), 5);
    assert_eq!(client.idle_count(&origin(&server)), 4);
}

#[test]
fn a_body_over_the_bound_is_refused_unread() {
    let server = Server::start(|target| match target {
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            6\r\n123456\r\n6\r\n789012\r\n0\r\n\r\n"
            .to_vec(),
        _ => ok("0123456789"),
    });
    let client = direct();
    block_on(async {
        let exact = exchange(client.clone(), get(&server.url("/exact")), 10).await;
        assert_eq!(body(exact), "0123456789");
        let declared = exchange(client.clone(), get(&server.url("/declared")), 9).await;
        assert!(
            matches!(declared, Err(TransportError::BodyTooLarge { limit: 9 })),
            "{declared:?}"
        );
        server
            .until(|e| matches!(e, Event::Closed { conn: 0 }))
            .await;
        let chunked = exchange(client.clone(), get(&server.url("/chunked")), 11).await;
        assert!(
            matches!(chunked, Err(TransportError::BodyTooLarge { limit: 11 })),
            "{chunked:?}"
        );
        server
            .until(|e| matches!(e, Event::Closed { conn: 1 }))
            .await;
    });
    assert_eq!(client.idle_count(&origin(&server)), 0);
}

#[test]
fn a_connection_the_server_closes_is_not_pooled() {
    let server = Server::start(|_| {
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()
    });
    let client = direct();
    block_on(async {
        assert_eq!(
            body(exchange(client.clone(), get(&server.url("/")), MAX).await),
            "ok"
        );
        assert_eq!(client.idle_count(&origin(&server)), 0);
        assert_eq!(
            body(exchange(client.clone(), get(&server.url("/")), MAX).await),
            "ok"
        );
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn the_host_header_and_origin_form_are_sent() {
    let server = Server::start(|_| ok(""));
    block_on(async {
        let response = exchange(direct(), get(&server.url("/p?q=1")), MAX).await;
        assert_eq!(body(response), "");
    });
    let head = server.heads().remove(0);
    assert!(head.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{head}");
    let host = format!("host: {}\r\n", server.authority());
    assert!(head.to_ascii_lowercase().contains(&host), "{head}");
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = support::unused_port();
    let mut request = get(&format!("http://127.0.0.1:{port}/"));
    request.headers_mut().insert(
        "authorization",
        "Bearer secret-token".parse().expect("a header"),
    );
    let refused = block_on(exchange(direct(), request, MAX));
    let Err(TransportError::Connect(text)) = refused else {
        panic!("{refused:?}");
    };
    assert!(!text.contains("secret-token"), "{text}");
}

#[test]
fn a_connection_broken_mid_answer_is_an_io_error_without_secrets() {
    let server = Server::start(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart".to_vec());
    server.close_after_reply();
    let request = http::Request::post(server.url("/token"))
        .header("authorization", "Bearer secret-token")
        .body(b"password=secret-password".to_vec())
        .expect("a request");
    let broken = block_on(exchange(direct(), request, MAX));
    let Err(TransportError::Io(text)) = broken else {
        panic!("{broken:?}");
    };
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn a_failed_tls_handshake_is_a_connect_error() {
    // Not a TLS server: it answers the ClientHello with plain HTTP.
    let server = Server::start(|_| Vec::new());
    server.answer_raw(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let url = format!("https://{}/", server.authority());
    let failed = block_on(exchange(direct(), get(&url), MAX));
    assert!(
        matches!(failed, Err(TransportError::Connect(_))),
        "{failed:?}"
    );
}
