//! The connection pool: reuse, the bound on idle connections, and the rule that a connection
//! whose exchange was dropped, or that the server closes, is never handed to another request.

mod common;

use std::sync::{Barrier, Mutex, mpsc};

use common::{MAX, body, direct};
use futures_lite::future::{self, block_on};
use sfstream_tests::loopback::{Event, Server, get, ok};

fn idle(client: &sfstream_http_async_io::Client, server: &Server) -> usize {
    client.idle_connections(&server.url("/").parse().expect("a URL"))
}

#[test]
fn sequential_requests_share_one_connection() {
    let server = Server::start(ok);
    let client = direct();
    block_on(async {
        assert_eq!(body(client.send(get(&server.url("/a")), MAX).await), "/a");
        assert_eq!(body(client.send(get(&server.url("/b")), MAX).await), "/b");
    });
    assert_eq!(
        server.accepted(),
        1,
        "the second request reused the connection"
    );
    assert_eq!(idle(&client, &server), 1);
}

/// The bug this pool must not have: a request dropped while waiting (deadline, cancelled long
/// poll) leaves its connection with the late answer on the way; the next request must not get
/// that connection, or it reads the answer meant for the dropped one.
#[test]
fn a_dropped_exchange_drops_its_connection() {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
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
        let held = client.send(get(&server.url("/held")), MAX);
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
        assert_eq!(idle(&client, &server), 0);
        let next = client.send(get(&server.url("/next")), MAX).await;
        assert_eq!(body(next), "fresh answer");
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn at_most_four_idle_connections_per_origin() {
    let barrier = Barrier::new(5);
    let server = Server::start(move |target| {
        // All five requests are in flight at once, so each has a connection of its own.
        barrier.wait();
        ok(target)
    });
    let client = direct();
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (client, request) = (client.clone(), get(&server.url(&format!("/{i}"))));
            async_global_executor::spawn(async move { client.send(request, MAX).await })
        })
        .collect();
    block_on(async {
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(body(task.await), format!("/{i}"));
        }
    });
    assert_eq!(server.accepted(), 5);
    assert_eq!(idle(&client, &server), 4);
}

#[test]
fn a_connection_the_server_closes_is_not_pooled() {
    let server = Server::start(|_| {
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()
    });
    let client = direct();
    block_on(async {
        assert_eq!(body(client.send(get(&server.url("/")), MAX).await), "ok");
        assert_eq!(idle(&client, &server), 0);
        assert_eq!(body(client.send(get(&server.url("/")), MAX).await), "ok");
    });
    assert_eq!(server.accepted(), 2);
}
