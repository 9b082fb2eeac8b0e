//! Request-level rules of `/cometd/{version}`: the version in the URI, JSON arrays only, the
//! 32,768-byte limit, and robustness against malformed messages.

mod common;

use common::Bayeux;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MANDATORY: &str = "400::API version in the URI is mandatory. URI format: '/cometd/66.0'";
const UNSUPPORTED: &str = "400::Unsupported API version. Only API versions '37.0' and later are supported. URI format: '/cometd/66.0'";

async fn handshake_at(base: &str, path: &str) -> common::Reply {
    let mut b = Bayeux::new(base);
    let url = format!("{base}{path}");
    b.post_bytes_to(
        &url,
        br#"[{"channel":"/meta/handshake","id":"1"}]"#.to_vec(),
    )
    .await
}

#[tokio::test]
async fn the_api_version_is_mandatory_and_at_least_37() {
    let emu = common::start().await;
    let base = emu.base_url();
    for path in ["/cometd", "/cometd/"] {
        let r = handshake_at(base, path).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(
            r.first(),
            json!({"channel": "/meta/handshake", "id": "1", "error": MANDATORY, "successful": false})
        );
    }
    for path in ["/cometd/36.0", "/cometd/replay/36.0", "/cometd/abc"] {
        let r = handshake_at(base, path).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.first()["error"], UNSUPPORTED, "{path}");
    }
    for path in ["/cometd/37.0", "/cometd/64.0", "/cometd/66.0/"] {
        let r = handshake_at(base, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.first()["successful"], true, "{path}");
    }
}

#[tokio::test]
async fn only_json_arrays_are_accepted() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    let url = b.url.clone();
    let object = b
        .post_bytes_to(&url, br#"{"channel":"/meta/handshake","id":"1"}"#.to_vec())
        .await;
    assert_eq!(object.status, 400);
    assert_eq!(object.first()["successful"], false);
    assert!(
        object.first()["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("400::"))
    );
    let garbage = b.post_bytes_to(&url, b"[{\"channel\":".to_vec()).await;
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.first()["successful"], false);
    // An empty array is a valid, empty request.
    let empty = b.post_bytes_to(&url, b"[]".to_vec()).await;
    assert_eq!((empty.status.as_u16(), empty.text.as_str()), (200, "[]"));
}

fn padded_handshake(total: usize) -> Vec<u8> {
    let mut body = br#"[{"channel":"/meta/handshake","id":"1"}"#.to_vec();
    body.resize(total - 1, b' ');
    body.push(b']');
    body
}

#[tokio::test]
async fn requests_over_32768_bytes_get_413() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    let url = b.url.clone();
    let at_limit = b.post_bytes_to(&url, padded_handshake(32_768)).await;
    assert_eq!(at_limit.status, 200);
    assert_eq!(at_limit.first()["successful"], true);
    let over = b.post_bytes_to(&url, padded_handshake(32_769)).await;
    assert_eq!(over.status, 413);
    assert_eq!(over.text, "Maximum Request Size Exceeded");

    // The status line itself reads "413 Maximum Request Size Exceeded".
    let mut tcp = tokio::net::TcpStream::connect(emu.addr())
        .await
        .expect("connect");
    let head = "POST /cometd/64.0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 256];
    let n = tcp.read(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("HTTP/1.1 413 Maximum Request Size Exceeded\r\n"),
        "{text}"
    );
}

#[tokio::test]
async fn malformed_messages_get_bayeux_errors_not_panics() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let cid = b.client_id.clone();
    let junk = json!([
        {"id": "1"},
        42,
        {"channel": 7, "id": "2"},
        {"channel": "/meta/subscribe", "clientId": cid, "subscription": 5, "id": "3"},
        {"channel": "/meta/subscribe", "clientId": cid, "subscription": "/topic/AccountUpdates",
         "ext": {"replay": {"/topic/AccountUpdates": "abc"}}, "id": "4"},
        {"channel": "/meta/subscribe", "clientId": 12, "id": "5"},
        {"channel": "/meta/connect", "clientId": cid, "advice": "soon", "id": {"x": 1}},
        {"channel": "/meta/bogus", "id": "6"},
        {"channel": "/topic/AccountUpdates", "data": {}, "id": "7"},
    ]);
    let r = b.post(junk).await;
    assert_eq!(r.status, 200);
    let msgs = r.messages();
    let errors: Vec<Value> = msgs.iter().map(|m| m["error"].clone()).collect();
    assert_eq!(errors[0], "400::Channel name not specified");
    assert_eq!(errors[1], "400::Channel name not specified");
    assert_eq!(errors[2], "400::Channel name not specified");
    assert_eq!(errors[3], "400::Channel name not specified");
    assert_eq!(
        errors[4],
        "400::The replayId {abc} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."
    );
    assert_eq!(errors[5], "403::Client has not completed handshake");
    // The connect with an odd advice and id still works (answered after the hold).
    assert_eq!(msgs[6]["successful"], true);
    assert!(msgs[6].get("id").is_none());
    assert_eq!(errors[7], "400::Unknown meta channel {/meta/bogus}");
    assert_eq!(errors[8], "403::Restricted channel");
    assert_eq!(msgs[8]["id"], "7");
}

#[tokio::test]
async fn the_content_type_must_be_json() {
    // Salesforce: "the Content-Type: application/json header is required on all calls to the
    // cometd servlet".
    let emu = common::start().await;
    let url = format!("{}/cometd/64.0", emu.base_url());
    let body = r#"[{"channel":"/meta/handshake","id":"1"}]"#;
    let send = |content_type: Option<&'static str>| {
        let mut req = common::http()
            .post(&url)
            .header("Authorization", format!("Bearer {}", common::TOKEN))
            .body(body);
        if let Some(t) = content_type {
            req = req.header("Content-Type", t);
        }
        req.send()
    };
    for accepted in [
        "application/json",
        "application/json;charset=UTF-8",
        "Application/JSON; charset=utf-8",
    ] {
        let resp = send(Some(accepted)).await.expect("request");
        let json: Value = resp.json().await.expect("json");
        assert_eq!(json[0]["successful"], true, "{accepted}: {json}");
    }
    for refused in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let resp = send(refused).await.expect("request");
        assert_eq!(resp.status(), 400, "{refused:?}");
        let json: Value = resp.json().await.expect("json");
        let error = json[0]["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            error.starts_with("400::") && error.contains("application/json"),
            "{error}"
        );
        if let Some(t) = refused {
            assert!(error.contains(t), "{error}");
        }
        assert_eq!(
            (&json[0]["channel"], &json[0]["id"]),
            (&json!("/meta/handshake"), &json!("1"))
        );
    }
    assert_eq!(emu.control().stats().totals.handshakes, 3);
}

#[tokio::test]
async fn a_bare_authorization_token_is_accepted() {
    // EMP-Connector sends the token with no scheme, and Salesforce accepts it.
    let emu = common::start().await;
    let resp = common::http()
        .post(format!("{}/cometd/64.0", emu.base_url()))
        .header("Authorization", common::TOKEN)
        .header("Content-Type", "application/json")
        .body(r#"[{"channel":"/meta/handshake","id":"1"}]"#)
        .send()
        .await
        .expect("request");
    let json: Value = resp.json().await.expect("json");
    assert_eq!(json[0]["successful"], true, "{json}");
}
