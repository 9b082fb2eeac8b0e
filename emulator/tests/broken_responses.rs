//! Broken responses that lose events: a `/meta/connect` takes the session's events and its
//! response is then cut mid-body, reset before anything is written, or held past the client's
//! deadline. The events are gone from the session: the next connect does not bring them again.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Bayeux, TOKEN, events, replay_ids};
use serde_json::Value;
use sfstream_emulator::{Emulator, Fault, FaultTarget};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHANNEL: &str = "/event/Order__e";

/// What a raw HTTP/1.1 exchange produced before the connection ended.
#[derive(Debug)]
struct Raw {
    /// The status line and headers (empty when nothing came).
    head: String,
    /// The body bytes that arrived.
    body: Vec<u8>,
    /// How the connection ended: `Ok` for a clean end of stream, otherwise the error kind.
    end: Result<(), std::io::ErrorKind>,
    elapsed: Duration,
}

impl Raw {
    fn content_length(&self) -> Option<usize> {
        self.head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
    }
}

/// POSTs one connect of `b`'s session over a fresh TCP connection and reads until the
/// connection ends (or 5 s pass, which fails the test).
async fn raw_connect(b: &mut Bayeux, addr: SocketAddr) -> Raw {
    let msg = b.connect_msg();
    let body = Value::Array(vec![msg]).to_string();
    let cookies: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let request = format!(
        "POST /cometd/64.0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nCookie: {}\r\nContent-Length: {}\r\n\r\n{body}",
        cookies.join("; "),
        body.len()
    );
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Err(_) => panic!("the connection neither answered nor ended: {bytes:?}"),
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => break Err(e.kind()),
        }
    };
    let split = memchr::memmem::find(&bytes, b"\r\n\r\n");
    let (head, body) = match split {
        Some(i) => (
            String::from_utf8_lossy(&bytes[..i]).into_owned(),
            bytes[i + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&bytes).into_owned(), Vec::new()),
    };
    Raw {
        head,
        body,
        end,
        elapsed: started.elapsed(),
    }
}

/// A fast emulator and a subscribed session with `n` events queued for it.
async fn session_with_events(n: usize) -> (Emulator, Bayeux, Vec<i64>) {
    let emu = common::start().await;
    let b = Bayeux::ready(emu.base_url(), &[(CHANNEL, None)]).await;
    let ids = emu
        .control()
        .publish_generated(CHANNEL, n)
        .expect("publish");
    (emu, b, ids)
}

/// The next connect of `b` brings no event, and the session is alive.
async fn next_connect_is_empty(b: &mut Bayeux) {
    let reply = b.connect().await;
    assert!(events(&reply).is_empty(), "events came again: {reply:?}");
    let last = reply.last().expect("a connect reply");
    assert_eq!(last["channel"], "/meta/connect");
    assert_eq!(last["successful"], true, "{reply:?}");
}

#[tokio::test]
async fn cut_sends_headers_and_half_the_body_then_resets() {
    let (emu, mut b, _) = session_with_events(3).await;
    emu.control().fail_next(1, Fault::CutAfterDelivery);
    let raw = raw_connect(&mut b, emu.addr()).await;

    assert!(raw.head.starts_with("HTTP/1.1 200"), "{raw:?}");
    let total = raw.content_length().expect("a Content-Length");
    assert_eq!(
        raw.body.len(),
        total / 2,
        "about half of {total} bytes: {raw:?}"
    );
    assert!(raw.body.starts_with(b"[{"), "{raw:?}");
    assert!(serde_json::from_slice::<Value>(&raw.body).is_err());
    assert_eq!(raw.end, Err(std::io::ErrorKind::ConnectionReset), "{raw:?}");

    // The events were taken: delivered to the session, gone from its queue.
    next_connect_is_empty(&mut b).await;
    let stats = emu.control().stats();
    assert_eq!(stats.totals.broken_responses, 1);
    assert_eq!(stats.totals.events_lost_in_broken_responses, 3);
    assert_eq!(stats.totals.faults_injected, 1);
    let client = &stats.clients[b.client_id.as_deref().expect("client id")];
    assert_eq!((client.delivered, client.lost_in_broken_responses), (3, 3));

    // The fault is spent and the session survives: the next event arrives whole.
    let id = emu
        .control()
        .publish(CHANNEL, serde_json::json!({"n": 4}))
        .expect("publish");
    assert_eq!(replay_ids(&b.connect().await), vec![id]);
}

#[tokio::test]
async fn reset_after_delivery_writes_nothing() {
    let (emu, mut b, _) = session_with_events(2).await;
    emu.control().fail_next(1, Fault::ResetAfterDelivery);
    let raw = raw_connect(&mut b, emu.addr()).await;
    assert_eq!(raw.head, "", "{raw:?}");
    assert!(raw.body.is_empty());
    assert_eq!(raw.end, Err(std::io::ErrorKind::ConnectionReset), "{raw:?}");
    next_connect_is_empty(&mut b).await;
    let totals = emu.control().stats().totals;
    assert_eq!(
        (
            totals.broken_responses,
            totals.events_lost_in_broken_responses
        ),
        (1, 2)
    );
}

#[tokio::test]
async fn hold_keeps_the_response_past_the_deadline_then_resets() {
    let (emu, mut b, _) = session_with_events(2).await;
    let hold = Duration::from_millis(700);
    emu.control().fail_next(1, Fault::HoldAfterDelivery(hold));
    let mut held_client = Bayeux::new(emu.base_url());
    held_client.cookies = b.cookies.clone();
    held_client.client_id = b.client_id.clone();
    let addr = emu.addr();
    let held = tokio::spawn(async move { raw_connect(&mut held_client, addr).await });

    // A client whose deadline passed reconnects on the same session while the response is
    // held: the events do not come again.
    tokio::time::sleep(Duration::from_millis(150)).await;
    next_connect_is_empty(&mut b).await;

    let raw = held.await.expect("join");
    assert!(raw.elapsed >= hold, "{raw:?}");
    assert_eq!((raw.head.as_str(), raw.body.len()), ("", 0), "{raw:?}");
    assert_eq!(raw.end, Err(std::io::ErrorKind::ConnectionReset), "{raw:?}");
    assert_eq!(
        emu.control().stats().totals.events_lost_in_broken_responses,
        2
    );
}

#[tokio::test]
async fn only_a_connect_that_delivers_events_consumes_the_fault() {
    let emu = common::start().await;
    let control = emu.control();
    control.fail_next(2, Fault::CutAfterDelivery);
    // Handshakes, first connects, subscribes and empty connects pass untouched.
    let mut b = Bayeux::ready(emu.base_url(), &[(CHANNEL, None)]).await;
    next_connect_is_empty(&mut b).await;
    assert_eq!(control.stats().totals.broken_responses, 0);

    control.publish_generated(CHANNEL, 1).expect("publish");
    let first = raw_connect(&mut b, emu.addr()).await;
    assert_eq!(first.end, Err(std::io::ErrorKind::ConnectionReset));
    control.publish_generated(CHANNEL, 1).expect("publish");
    let second = raw_connect(&mut b, emu.addr()).await;
    assert_eq!(second.end, Err(std::io::ErrorKind::ConnectionReset));
    // Both are spent: the third delivery is whole.
    let ids = control.publish_generated(CHANNEL, 2).expect("publish");
    assert_eq!(replay_ids(&b.connect().await), ids);
    let totals = control.stats().totals;
    assert_eq!(
        (
            totals.broken_responses,
            totals.events_lost_in_broken_responses
        ),
        (2, 2)
    );
}

#[tokio::test]
async fn other_queued_faults_pass_a_waiting_broken_response() {
    let emu = common::start().await;
    let control = emu.control();
    control.fail_next_on(FaultTarget::Any, 1, Fault::ResetAfterDelivery);
    control.fail_next(1, Fault::Status(503));
    let mut b = Bayeux::new(emu.base_url());
    // The 503 queued behind the broken response hits the first request.
    let reply = b
        .post(serde_json::json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(reply.status, 503);
    let mut b = Bayeux::ready(emu.base_url(), &[(CHANNEL, None)]).await;
    control.publish_generated(CHANNEL, 1).expect("publish");
    let raw = raw_connect(&mut b, emu.addr()).await;
    assert_eq!(
        (raw.head.as_str(), raw.end),
        ("", Err(std::io::ErrorKind::ConnectionReset))
    );
}

#[tokio::test]
async fn a_large_cut_body_still_delivers_its_half() {
    // More than the socket buffers hold at once: the reset must not discard the half.
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[(CHANNEL, None)]).await;
    let bulk = emu
        .control()
        .publish_bulk(CHANNEL, 1000, 1000)
        .expect("bulk");
    assert!(bulk.bytes_per_client > 1_000_000);
    emu.control().fail_next(1, Fault::CutAfterDelivery);
    let raw = raw_connect(&mut b, emu.addr()).await;
    let total = raw.content_length().expect("a Content-Length");
    assert!(total > bulk.bytes_per_client, "{total}");
    assert_eq!(raw.body.len(), total / 2);
    assert_eq!(raw.end, Err(std::io::ErrorKind::ConnectionReset));
    assert_eq!(
        emu.control().stats().totals.events_lost_in_broken_responses,
        1000
    );
}

#[tokio::test]
async fn broken_responses_over_http() {
    use reqwest::Method;
    let emu = common::start().await;
    let base = emu.base_url();
    let post = |fault: Value, target: Option<&str>| {
        let mut body = serde_json::json!({"count": 1, "fault": fault});
        if let Some(t) = target {
            body["target"] = t.into();
        }
        common::control(base, Method::POST, "/_emulator/faults", Some(body))
    };
    let (status, body) = post(serde_json::json!({"kind": "hold_after_delivery"}), None).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("ms")),
        "{body}"
    );
    let (status, body) = post(
        serde_json::json!({"kind": "cut_after_delivery"}),
        Some("token"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("cometd")),
        "{body}"
    );

    let mut b = Bayeux::ready(base, &[(CHANNEL, None)]).await;
    for (kind, lost) in [
        (serde_json::json!({"kind": "reset_after_delivery"}), 1),
        (serde_json::json!({"kind": "cut_after_delivery"}), 2),
        (
            serde_json::json!({"kind": "hold_after_delivery", "ms": 50}),
            3,
        ),
    ] {
        let (status, _) = post(kind.clone(), Some("any")).await;
        assert_eq!(status, 200, "{kind}");
        emu.control()
            .publish_generated(CHANNEL, lost)
            .expect("publish");
        let raw = raw_connect(&mut b, emu.addr()).await;
        assert_eq!(raw.end, Err(std::io::ErrorKind::ConnectionReset), "{kind}");
        let (_, stats) = common::control(base, Method::GET, "/_emulator/stats", None).await;
        let cid = b.client_id.as_deref().expect("client id");
        assert_eq!(
            stats["clients"][cid]["lost_in_broken_responses"],
            stats["totals"]["events_lost_in_broken_responses"],
            "{stats}"
        );
        assert!(stats["totals"]["broken_responses"].is_u64(), "{stats}");
    }
    let (_, stats) = common::control(base, Method::GET, "/_emulator/stats", None).await;
    assert_eq!(stats["totals"]["broken_responses"], 3);
    assert_eq!(stats["totals"]["events_lost_in_broken_responses"], 6);
    next_connect_is_empty(&mut b).await;
}
