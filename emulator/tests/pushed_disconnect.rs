//! Server-pushed `/meta/disconnect` in both of the variants Salesforce's logs show: with
//! `403::Unknown client` and with `401::Authentication invalid` (which also revokes tokens).

mod common;

use std::time::Duration;

use common::{Bayeux, control};
use reqwest::Method;
use serde_json::{Value, json};
use sfstream_emulator::PushedDisconnect;

fn pair(cid: Option<&str>, id: &Value, error: &str) -> Vec<Value> {
    vec![
        json!({"channel": "/meta/disconnect"}),
        json!({"clientId": cid, "advice": {"interval": 0, "reconnect": "none"},
               "channel": "/meta/connect", "id": id, "error": error, "successful": false}),
    ]
}

#[tokio::test]
async fn a_pushed_disconnect_can_carry_authentication_invalid() {
    let emu = common::start_holding().await;
    let mut held = Bayeux::ready(emu.base_url(), &[]).await;
    let mut idle = Bayeux::ready(emu.base_url(), &[]).await;
    let pusher = common::later(&emu.control(), Duration::from_millis(100), move |c| {
        c.push_disconnect_with(PushedDisconnect::AuthenticationInvalid)
    });
    let reply = held.connect().await;
    assert_eq!(pusher.await.expect("join"), 2);
    let error = "401::Authentication invalid";
    assert_eq!(
        reply,
        pair(held.client_id.as_deref(), &reply[1]["id"], error)
    );
    let first = idle.connect().await;
    assert_eq!(
        first,
        pair(idle.client_id.as_deref(), &first[1]["id"], error)
    );
    // Once only; the token is revoked, so the client must authenticate again.
    let second = idle.connect().await;
    assert_eq!((second.len(), &second[0]["error"]), (1, &json!(error)));
    let denied = idle.handshake().await;
    assert_eq!(denied["ext"]["sfdc"]["failureReason"], error);
    idle.token = Some(emu.control().issue_token());
    assert_eq!(idle.handshake().await["successful"], true);
}

#[tokio::test]
async fn both_variants_over_http() {
    let emu = common::start().await;
    let base = emu.base_url();
    // The authentication variant revokes the pre-issued token the helper uses: it comes last.
    for (body, error) in [
        (None, "403::Unknown client"),
        (
            Some(json!({"error": "unknown_client"})),
            "403::Unknown client",
        ),
        (
            Some(json!({"error": "authentication_invalid"})),
            "401::Authentication invalid",
        ),
    ] {
        let mut b = Bayeux::ready(base, &[]).await;
        let (status, answer) =
            control(base, Method::POST, "/_emulator/sessions/disconnect", body).await;
        assert_eq!((status.as_u16(), answer), (200, json!({"disconnected": 1})));
        let reply = b.connect().await;
        assert_eq!(reply, pair(b.client_id.as_deref(), &reply[1]["id"], error));
    }
    let (status, answer) = control(
        base,
        Method::POST,
        "/_emulator/sessions/disconnect",
        Some(json!({"error": "gremlins"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("authentication_invalid"))
    );
}
