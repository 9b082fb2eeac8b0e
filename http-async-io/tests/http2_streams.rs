//! HTTP/2 streams over h2c to a loopback server: the head, the body's DATA and the trailers come
//! back in order; streams to one origin share a connection until it is forgotten; `http` to a
//! host that is not loopback, and an origin that refuses connections, fail as `Connect`.

mod h2_common;

use std::time::{Duration, Instant};

use futures_lite::StreamExt as _;
use futures_lite::future::block_on;
use h2_common::{Answer, H2Server, body, collect, data_text, post};
use sfstream_driver::TransportError;
use sfstream_driver::pubsub::StreamEvent;
use sfstream_http_async_io::{Http2Pool, Proxies};
use sfstream_tests::loopback::unused_port;

#[test]
fn a_stream_yields_head_data_and_trailers_in_order() {
    let server = H2Server::h2c(Answer::Echo);
    let pool = server.pool(Proxies::none());
    let events = collect(&pool, post(&server.url("/svc/Call")), &["one ", "two"]);
    let StreamEvent::Head { status, headers } = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(*status, 200);
    assert_eq!(headers["x-path"], "/svc/Call");
    assert_eq!(data_text(&events), "one two");
    let Some(StreamEvent::Trailers(trailers)) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(trailers["grpc-status"], "0");
    assert!(
        events[1..events.len() - 1]
            .iter()
            .all(|e| matches!(e, StreamEvent::Data(_))),
        "{events:?}"
    );
}

#[test]
fn streams_to_one_origin_share_a_connection_until_it_is_forgotten() {
    let server = H2Server::h2c(Answer::Echo);
    let pool = server.pool(Proxies::none());
    let url = server.url("/a");
    // A first stream makes the connection; two open at once and a fourth share it.
    assert_eq!(data_text(&collect(&pool, post(&url), &["0"])), "0");
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = pool.open_stream(post(&url), body(&["1"]), deadline);
    let second = pool.open_stream(post(&url), body(&["2"]), deadline);
    let (first, second) = block_on(futures_lite::future::zip(
        first.collect::<Vec<_>>(),
        second.collect::<Vec<_>>(),
    ));
    assert_eq!(
        (data_text(&first), data_text(&second)),
        ("1".into(), "2".into())
    );
    assert_eq!(data_text(&collect(&pool, post(&url), &["3"])), "3");
    assert_eq!(server.accepted(), 1, "one connection for four streams");
    // A clone shares the connection.
    assert_eq!(data_text(&collect(&pool.clone(), post(&url), &["4"])), "4");
    assert_eq!(server.accepted(), 1);

    pool.forget_connection(&url.parse().unwrap());
    assert_eq!(data_text(&collect(&pool, post(&url), &["5"])), "5");
    assert_eq!(
        server.accepted(),
        2,
        "a new connection after forget_connection"
    );
    assert_eq!(data_text(&collect(&pool, post(&url), &["6"])), "6");
    assert_eq!(server.accepted(), 2, "and that one is kept");
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_before_connecting() {
    let pool = Http2Pool::default();
    let events = collect(&pool, post("http://example.com:7443/svc/Call"), &[]);
    let [StreamEvent::Failed(TransportError::Connect(text))] = &events[..] else {
        panic!("{events:?}");
    };
    assert!(text.contains("http://example.com:7443"), "{text}");
    assert!(
        !text.contains("svc/Call"),
        "the path stays out of the error: {text}"
    );
}

#[test]
fn a_refused_connection_fails_as_connect() {
    let pool = Http2Pool::default();
    let url = format!("http://127.0.0.1:{}/svc/Call", unused_port());
    let events = collect(&pool, post(&url), &[]);
    assert!(
        matches!(
            &events[..],
            [StreamEvent::Failed(TransportError::Connect(_))]
        ),
        "{events:?}"
    );
}

#[test]
fn debug_names_no_connection_and_no_secret() {
    let pool = Http2Pool::default();
    let text = format!("{pool:?}");
    assert!(text.starts_with("Http2Pool"), "{text}");
}
