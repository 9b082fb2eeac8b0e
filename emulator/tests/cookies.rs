//! Session cookies: what the handshake sets, and what later requests must send back.

mod common;

use common::Bayeux;
use serde_json::json;

fn cookie<'a>(set: &'a [String], name: &str) -> &'a str {
    set.iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {name} cookie in {set:?}"))
}

fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn handshake_sets_the_three_salesforce_cookies() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    let reply = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(reply.set_cookies.len(), 3, "{:?}", reply.set_cookies);

    let browser = cookie(&reply.set_cookies, "BAYEUX_BROWSER");
    assert!(browser.ends_with("; Path=/; HttpOnly"), "{browser}");

    let stream = cookie(&reply.set_cookies, "sfdc-stream");
    assert!(stream.starts_with("sfdc-stream=!"), "{stream}");
    assert!(stream.contains("; path=/; Expires="), "{stream}");
    assert!(
        stream.contains(" GMT;  SameSite=None"),
        "double space kept: {stream}"
    );
    // Plain http: no Secure, or an RFC 6265 client would never send it back.
    assert!(
        !attributes(stream).contains(&"secure".to_owned()),
        "{stream}"
    );

    let proxy = cookie(&reply.set_cookies, "sfproxy-id");
    let attrs = attributes(proxy);
    assert_eq!(attrs, vec!["max-age=3600", "httponly"], "{proxy}");
    assert!(
        !attrs.iter().any(|a| a.starts_with("path")),
        "sfproxy-id must have no Path: {proxy}"
    );
    let value = proxy["sfproxy-id=".len()..]
        .split(';')
        .next()
        .unwrap_or_default();
    assert!(
        value.starts_with('"') && value.ends_with('"') && value.len() == 18,
        "{value}"
    );
}

#[tokio::test]
async fn secure_cookies_can_be_enabled() {
    let emu = common::fast()
        .secure_cookies(true)
        .start()
        .await
        .expect("start");
    let mut b = Bayeux::new(emu.base_url());
    let reply = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    let stream = cookie(&reply.set_cookies, "sfdc-stream");
    assert!(stream.ends_with("SameSite=None; Secure"), "{stream}");
}

#[tokio::test]
async fn a_missing_bayeux_browser_cookie_is_reported_with_the_client_id() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.handshake().await;
    let cid = b.client_id.clone().expect("client id");
    b.cookies.remove("BAYEUX_BROWSER");
    let reply = b.connect().await;
    assert_eq!(
        reply[0]["error"],
        format!(
            "400::Client {{{cid}}} has established a session, but no BAYEUX_BROWSER cookie present"
        )
    );
    assert_eq!(reply[0]["successful"], false);
    // The same applies to subscribe, and to a BAYEUX_BROWSER of another session.
    let sub = b.subscribe("/topic/AccountUpdates", None).await;
    assert!(
        sub["error"]
            .as_str()
            .is_some_and(|e| e.contains("no BAYEUX_BROWSER cookie"))
    );
    b.cookies
        .insert("BAYEUX_BROWSER".into(), "someoneelse".into());
    assert_eq!(b.connect().await[0]["successful"], false);
}

#[tokio::test]
async fn a_handshake_keeps_the_cookies_it_presents_so_two_sessions_can_share_a_jar() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    let first = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(first.set_cookies.len(), 3);
    let a = first.first()["clientId"]
        .as_str()
        .expect("client id")
        .to_owned();
    let jar = b.cookies.clone();
    // A second handshake with the same jar: CometD reuses the browser id, the load balancer
    // keeps its affinity; nothing is set again.
    let second = b
        .post(json!([{"channel": "/meta/handshake", "id": "2"}]))
        .await;
    assert!(second.set_cookies.is_empty(), "{:?}", second.set_cookies);
    let c = second.first()["clientId"]
        .as_str()
        .expect("client id")
        .to_owned();
    assert_ne!(a, c);
    assert_eq!(b.cookies, jar);
    // Both sessions work with the one jar, in turns.
    for id in [&a, &c, &a, &c] {
        b.client_id = Some(id.clone());
        let reply = b.connect().await;
        assert_eq!(
            reply.last().expect("reply")["successful"],
            true,
            "{reply:?}"
        );
    }
    // A jar with only some of the cookies gets the missing ones.
    b.cookies.remove("sfproxy-id");
    let third = b
        .post(json!([{"channel": "/meta/handshake", "id": "3"}]))
        .await;
    assert_eq!(third.set_cookies.len(), 1, "{:?}", third.set_cookies);
    assert!(third.set_cookies[0].starts_with("sfproxy-id="));
}
