//! A revoked token: `401::Authentication invalid`, and by default the Bayeux session it opened
//! is over, so a client that merely swaps in a new token gets `403::Unknown client` and must
//! handshake again, as on Salesforce.

mod common;

use common::{Bayeux, control};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_revoked_token_ends_its_session_by_default() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let (status, body) = control(
        emu.base_url(),
        Method::POST,
        "/_emulator/tokens/revoke",
        None,
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, json!({"revoked": 1})));
    let reply = b.connect().await;
    assert_eq!(reply[0]["error"], "401::Authentication invalid");
    assert_eq!(
        reply[0]["advice"],
        json!({"interval": 0, "reconnect": "none"})
    );

    // A new token does not bring the old session back.
    b.token = Some(emu.control().issue_token());
    let reply = b.connect().await;
    assert_eq!(reply[0]["error"], "403::Unknown client");
    assert_eq!(reply[0]["advice"]["reconnect"], "handshake");
    assert_eq!(b.handshake().await["successful"], true);
    assert_eq!(b.connect().await[0]["successful"], true);
    let (_, settings) = control(emu.base_url(), Method::GET, "/_emulator/settings", None).await;
    assert_eq!(settings["revoked_token_ends_sessions"], true);
}

#[tokio::test]
async fn sessions_can_outlive_a_revocation_when_configured() {
    let emu = common::fast()
        .revoked_token_ends_sessions(false)
        .start()
        .await
        .expect("start");
    let mut b = Bayeux::ready(emu.base_url(), &[("/event/Order__e", None)]).await;
    emu.control().revoke_tokens();
    assert_eq!(b.connect().await[0]["error"], "401::Authentication invalid");
    b.token = Some(emu.control().issue_token());
    let id = emu
        .control()
        .publish("/event/Order__e", json!({"n": 1}))
        .expect("publish");
    assert_eq!(common::replay_ids(&b.connect().await), vec![id]);
}
