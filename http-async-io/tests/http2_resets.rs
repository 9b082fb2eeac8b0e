//! A server's `RST_STREAM` and `GOAWAY` come back as [`StreamEvent::Reset`] with their HTTP/2
//! code, which the session tells apart (a refused stream is retried at once; others back off).

mod h2_common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use h2::Reason;
use h2_common::{Answer, H2Server, collect, post};
use sfstream_driver::pubsub::StreamEvent;
use sfstream_http_async_io::Proxies;

#[test]
fn rst_stream_comes_back_with_its_code() {
    for (reason, code) in [(Reason::REFUSED_STREAM, 7), (Reason::ENHANCE_YOUR_CALM, 11)] {
        let server = H2Server::h2c(Answer::Reset(reason));
        let pool = server.pool(Proxies::none());
        let events = collect(&pool, post(&server.url("/svc/Call")), &["x"]);
        assert!(
            matches!(&events[..], [StreamEvent::Reset(c)] if *c == code),
            "{reason:?}: {events:?}"
        );
    }
}

/// A server that writes HTTP/2 frames by hand: its SETTINGS, then, once the client's first
/// HEADERS frame has come, `GOAWAY` saying it processed no stream (last stream id 0), with
/// `code`; then it closes. Returns its port.
fn goaway_server(code: u32) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            let mut preface = [0; 24];
            if tcp.read_exact(&mut preface).is_err() {
                continue;
            }
            // SETTINGS (type 4), empty.
            let _ = tcp.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
            loop {
                let mut header = [0; 9];
                if tcp.read_exact(&mut header).is_err() {
                    break;
                }
                let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
                let mut payload = vec![0; len];
                if tcp.read_exact(&mut payload).is_err() {
                    break;
                }
                if header[3] == 1 {
                    // HEADERS: GOAWAY (type 7), last stream id 0, the code.
                    let mut goaway = vec![0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                    goaway.extend_from_slice(&code.to_be_bytes());
                    let _ = tcp.write_all(&goaway);
                    thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
        }
    });
    port
}

#[test]
fn goaway_before_the_stream_was_processed_comes_back_with_its_code() {
    let port = goaway_server(2);
    let pool = h2_common::env(&[]);
    let pool = sfstream_http_async_io::Client::builder()
        .proxies(pool)
        .build()
        .http2_pool();
    let url = format!("http://127.0.0.1:{port}/svc/Call");
    let events = collect(&pool, post(&url), &["x"]);
    assert!(matches!(&events[..], [StreamEvent::Reset(2)]), "{events:?}");
}
