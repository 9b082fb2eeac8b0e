//! `/meta/handshake`: the success shape (no advice), authentication failures, client limits.

mod common;

use common::Bayeux;
use serde_json::json;

#[tokio::test]
async fn successful_handshake_has_replay_ext_and_no_advice() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    let reply = b
        .post(json!([{"channel": "/meta/handshake", "version": "1.0", "minimumVersion": "1.0",
                      "supportedConnectionTypes": ["long-polling"], "id": "1", "ext": {"replay": true}}]))
        .await;
    assert_eq!(reply.status, 200);
    let msg = reply.first();
    assert_eq!(msg["successful"], true);
    assert_eq!(msg["ext"], json!({"replay": true, "payload.format": true}));
    assert!(
        msg.get("advice").is_none(),
        "Salesforce sends no advice: {msg}"
    );
    assert_eq!(msg["supportedConnectionTypes"], json!(["long-polling"]));
    assert_eq!(msg["version"], "1.0");
    assert_eq!(msg["minimumVersion"], "1.0");
    assert_eq!(msg["id"], "1");
    let client_id = msg["clientId"].as_str().expect("clientId");
    assert!(client_id.len() >= 20 && client_id.bytes().all(|c| c.is_ascii_alphanumeric()));
    // Field order follows Salesforce's replies.
    assert!(
        reply.text.starts_with(
            r#"[{"ext":{"replay":true,"payload.format":true},"minimumVersion":"1.0","clientId":""#
        ),
        "{}",
        reply.text
    );
    assert!(
        reply.text.ends_with(
            r#""channel":"/meta/handshake","id":"1","version":"1.0","successful":true}]"#
        )
    );

    // Each handshake gives a new client id.
    let again = b.handshake().await;
    assert_ne!(again["clientId"], msg["clientId"]);
    assert_eq!(emu.control().stats().totals.handshakes, 2);
    assert_eq!(emu.control().stats().totals.active_sessions, 2);
}

#[tokio::test]
async fn handshake_without_token_is_denied_with_request_requires_authentication() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.token = None;
    let msg = b.handshake().await;
    assert_eq!(
        msg,
        // Authentication denials carry no replay flags, as in Salesforce's documented example.
        json!({"ext": {"sfdc": {"failureReason": "401::Request requires authentication"}},
               "advice": {"reconnect": "none"}, "channel": "/meta/handshake", "id": "1",
               "error": "403::Handshake denied", "successful": false})
    );
}

#[tokio::test]
async fn handshake_with_unknown_token_is_denied_with_authentication_invalid() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.token = Some("00Dbogus!token".into());
    let msg = b.handshake().await;
    // Salesforce's documented example: no replay flags beside the failure reason.
    assert_eq!(
        msg,
        json!({"ext": {"sfdc": {"failureReason": "401::Authentication invalid"}},
               "advice": {"reconnect": "none"}, "channel": "/meta/handshake", "id": "1",
               "error": "403::Handshake denied", "successful": false})
    );
    assert_eq!(emu.control().stats().totals.errors_sent, 1);
}

#[tokio::test]
async fn oauth_authorization_scheme_is_accepted() {
    let emu = common::start().await;
    let resp = common::http()
        .post(format!("{}/cometd/64.0", emu.base_url()))
        .header("Authorization", format!("OAuth {}", common::TOKEN))
        .header("Content-Type", "application/json")
        .body(r#"[{"channel":"/meta/handshake","id":"1"}]"#)
        .send()
        .await
        .expect("request");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body[0]["successful"], true);
}

#[tokio::test]
async fn handshakes_beyond_max_clients_hit_the_concurrent_limit() {
    let emu = common::fast().max_clients(1).start().await.expect("start");
    let mut a = Bayeux::new(emu.base_url());
    assert_eq!(a.handshake().await["successful"], true);
    let mut b = Bayeux::new(emu.base_url());
    let denied = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(
        denied.text,
        r#"[{"ext":{"sfdc":{"failureReason":"403::Organization concurrent user limit exceeded"},"replay":true,"payload.format":true},"advice":{"reconnect":"none"},"channel":"/meta/handshake","id":"1","error":"403::Handshake denied","successful":false}]"#
    );
    // Once the first client leaves, there is room again.
    let id = a.id();
    let bye = a
        .post(json!([{"channel": "/meta/disconnect", "clientId": a.client_id, "id": id}]))
        .await;
    assert_eq!(bye.first()["successful"], true);
    assert_eq!(b.handshake().await["successful"], true);
}
