//! HTTP/2 over TLS: ALPN `h2` offered and agreed with a server whose certificate the pool
//! trusts; a server that only agrees to HTTP/1.1, a plain-text server, a certificate the
//! platform does not trust and a server that never finishes the handshake are each refused
//! with the error that names the mistake.

mod h2_common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use futures_lite::StreamExt as _;
use futures_lite::future::block_on;
use h2_common::{Answer, H2Server, body, collect, data_text, post};
use sfstream_driver::TransportError;
use sfstream_driver::pubsub::StreamEvent;
use sfstream_http_async_io::{Http2Pool, Proxies};
use sfstream_tests::loopback::Server;

#[test]
fn tls_offers_h2_and_carries_streams() {
    let server = H2Server::tls(Answer::Echo, &[b"h2"]);
    let pool = server.pool(Proxies::none());
    let events = collect(&pool, post(&server.url("/svc/Call")), &["over ", "TLS"]);
    assert!(matches!(&events[0], StreamEvent::Head { status, .. } if *status == 200));
    assert_eq!(data_text(&events), "over TLS");
    assert!(
        matches!(events.last(), Some(StreamEvent::Trailers(_))),
        "{events:?}"
    );
    assert_eq!(server.alpn(), [Some(b"h2".to_vec())]);
}

#[test]
fn a_server_that_does_not_agree_to_h2_is_no_grpc_endpoint() {
    // One refuses with an alert, one that knows no ALPN completes the handshake without it.
    let offers: [&[&[u8]]; 2] = [&[b"http/1.1"], &[]];
    for offer in offers {
        let server = H2Server::tls(Answer::Echo, offer);
        let pool = server.pool(Proxies::none());
        let events = collect(&pool, post(&server.url("/svc/Call")), &[]);
        let [StreamEvent::Failed(TransportError::Connect(text))] = &events[..] else {
            panic!("{events:?}");
        };
        assert!(
            text.contains("ALPN h2") && text.contains("no gRPC endpoint"),
            "{text}"
        );
    }
}

#[test]
fn a_plain_http_answer_to_the_handshake_is_not_tls() {
    let server = Server::start(|_| Vec::new());
    server.answer_raw(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let pool = Http2Pool::default();
    let url = format!("https://{}/svc/Call", server.authority());
    let events = collect(&pool, post(&url), &[]);
    assert!(
        matches!(
            &events[..],
            [StreamEvent::Failed(TransportError::NotTls(_))]
        ),
        "{events:?}"
    );
}

#[test]
fn the_platform_verifier_refuses_a_certificate_it_does_not_trust() {
    let server = H2Server::tls(Answer::Echo, &[b"h2"]);
    let pool = h2_common::env(&[]);
    let pool = sfstream_http_async_io::Client::builder()
        .proxies(pool)
        .build()
        .http2_pool();
    let events = collect(&pool, post(&server.url("/svc/Call")), &[]);
    let [StreamEvent::Failed(TransportError::Connect(text))] = &events[..] else {
        panic!("{events:?}");
    };
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[test]
fn a_handshake_that_never_ends_times_out_at_the_connect_deadline() {
    // Accepted by the kernel, never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}/svc/Call",
        silent.local_addr().unwrap().port()
    );
    let pool = Http2Pool::default();
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    let events: Vec<_> = block_on(pool.open_stream(post(&url), body(&[]), deadline).collect());
    assert!(
        matches!(&events[..], [StreamEvent::Failed(TransportError::Timeout)]),
        "{events:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
