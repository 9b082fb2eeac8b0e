//! One exchange: the request as it goes out, the bound on the response body, and the errors a
//! failed exchange gives (their kind, and no secret in their text).

mod common;

use common::{MAX, body, direct};
use futures_lite::future::block_on;
use sfstream_driver::TransportError;
use sfstream_tests::loopback::{Event, Server, get, ok, unused_port};

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
        let exact = client.send(get(&server.url("/exact")), 10).await;
        assert_eq!(body(exact), "0123456789");
        let declared = client.send(get(&server.url("/declared")), 9).await;
        assert!(
            matches!(declared, Err(TransportError::BodyTooLarge { limit: 9 })),
            "{declared:?}"
        );
        server
            .until(|e| matches!(e, Event::Closed { conn: 0 }))
            .await;
        let chunked = client.send(get(&server.url("/chunked")), 11).await;
        assert!(
            matches!(chunked, Err(TransportError::BodyTooLarge { limit: 11 })),
            "{chunked:?}"
        );
        server
            .until(|e| matches!(e, Event::Closed { conn: 1 }))
            .await;
    });
    let url = server.url("/").parse().expect("a URL");
    assert_eq!(client.idle_connections(&url), 0);
}

#[test]
fn the_host_header_and_origin_form_are_sent() {
    let server = Server::start(|_| ok(""));
    block_on(async {
        let response = direct().send(get(&server.url("/p?q=1")), MAX).await;
        assert_eq!(body(response), "");
    });
    let head = server.heads().remove(0);
    assert!(head.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{head}");
    let host = format!("host: {}\r\n", server.authority());
    assert!(head.to_ascii_lowercase().contains(&host), "{head}");
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = unused_port();
    let mut request = get(&format!("http://127.0.0.1:{port}/"));
    request.headers_mut().insert(
        "authorization",
        "Bearer secret-token".parse().expect("a header"),
    );
    let refused = block_on(direct().send(request, MAX));
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
    let broken = block_on(direct().send(request, MAX));
    let Err(TransportError::Io(text)) = broken else {
        panic!("{broken:?}");
    };
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn a_plain_http_answer_to_tls_is_not_tls_and_never_reached_the_server() {
    // Not a TLS server: it answers the ClientHello with plain HTTP.
    let server = Server::start(|_| Vec::new());
    server.answer_raw(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let url = format!("https://{}/", server.authority());
    let failed = block_on(direct().send(get(&url), MAX));
    let Err(error) = failed else {
        panic!("{failed:?}");
    };
    assert!(matches!(error, TransportError::NotTls(_)), "{error:?}");
    assert!(!error.may_have_reached_server(), "{error:?}");
}
