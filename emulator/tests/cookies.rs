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
async fn a_missing_sfproxy_id_cookie_looks_like_an_unknown_client() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.handshake().await;
    let saved = b.cookies.remove("sfproxy-id").expect("sfproxy-id was set");
    let reply = b.connect().await;
    assert_eq!(
        reply[0],
        json!({"advice": {"interval": 0, "reconnect": "handshake"}, "channel": "/meta/connect",
               "id": "2", "error": "403::Unknown client", "successful": false})
    );
    // With all cookies back, the session is still there.
    b.cookies.insert("sfproxy-id".into(), saved);
    let ok = b.connect().await;
    assert_eq!(ok[0]["successful"], true);
    assert!(
        ok[0]["advice"].is_object(),
        "first successful connect carries advice"
    );
}
