//! Several orgs in one emulator: each has its own credentials, tokens, channels and event logs,
//! sessions and statistics; the control API takes an org; the default org behaves as before.

mod common;

use common::{Bayeux, control, token_request};
use reqwest::Method;
use serde_json::json;
use sfstream_emulator::{Credentials, Org};

async fn two_orgs() -> sfstream_emulator::Emulator {
    common::fast()
        .org(Org::numbered(2))
        .start()
        .await
        .expect("start")
}

#[tokio::test]
async fn each_org_grants_its_own_credentials_and_tokens_name_the_org() {
    let emu = two_orgs().await;
    let d = Credentials::default();
    let password = format!("{}{}", d.password, d.security_token);
    let org2 = Org::numbered(2);
    let reply = token_request(
        emu.base_url(),
        &[
            ("grant_type", "password"),
            ("client_id", &org2.credentials.client_id),
            ("client_secret", &d.client_secret),
            ("username", &org2.credentials.username),
            ("password", &password),
        ],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let token = reply.json["access_token"].as_str().expect("token");
    assert!(token.starts_with("00DEM0000000002!"), "{token}");
    assert!(
        reply.json["id"]
            .as_str()
            .expect("id")
            .contains("/00DEM0000000002/")
    );
    // Another org's user with this org's consumer key is refused.
    let reply = token_request(
        emu.base_url(),
        &[
            ("grant_type", "password"),
            ("client_id", &org2.credentials.client_id),
            ("client_secret", &d.client_secret),
            ("username", &d.username),
            ("password", &password),
        ],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 400);
    let stats2 = emu.control_for("00DEM0000000002").expect("org").stats();
    assert_eq!(stats2.totals.token_requests, 1);
    assert_eq!(
        emu.control().stats().totals.token_requests,
        1,
        "the refused one is the default org's"
    );
}

#[tokio::test]
async fn events_and_sessions_stay_in_their_org() {
    let emu = two_orgs().await;
    let org1 = emu.control();
    let org2 = emu.control_for("00DEM0000000002").expect("org 2");
    let mut b1 = Bayeux::ready(emu.base_url(), &[("/event/Order__e", None)]).await;
    let mut b2 = Bayeux::new(emu.base_url());
    b2.token = Some(org2.issue_token());
    assert_eq!(b2.handshake().await["successful"], true);
    assert_eq!(b2.connect().await[0]["successful"], true);
    assert_eq!(
        b2.subscribe("/event/Order__e", None).await["successful"],
        true
    );

    let id2 = org2
        .publish("/event/Order__e", json!({"org": 2}))
        .expect("publish");
    let id1 = org1
        .publish("/event/Order__e", json!({"org": 1}))
        .expect("publish");
    let got1 = common::events(&b1.connect().await);
    let got2 = common::events(&b2.connect().await);
    assert_eq!(got1.len(), 1);
    assert_eq!(got1[0]["data"]["payload"]["org"], 1);
    assert_eq!(got1[0]["data"]["event"]["replayId"], id1);
    assert_eq!(got2.len(), 1);
    assert_eq!(got2[0]["data"]["payload"]["org"], 2);
    assert_eq!(got2[0]["data"]["event"]["replayId"], id2);
    assert_eq!(org1.stats().totals.active_sessions, 1);
    assert_eq!(org2.stats().totals.active_sessions, 1);

    // The control API takes an org: dropping org 2's sessions leaves org 1's alone.
    let (status, body) = control(
        emu.base_url(),
        Method::POST,
        "/_emulator/orgs/00DEM0000000002/sessions/drop",
        None,
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, json!({"dropped": 1})));
    assert_eq!(b2.connect().await[0]["error"], "403::Unknown client");
    org1.publish("/event/Order__e", json!({"org": 1}))
        .expect("publish");
    assert_eq!(common::events(&b1.connect().await).len(), 1);
    // A token of org 2 is no token of org 1.
    b1.token = Some(org2.issue_token());
    assert_eq!(b1.connect().await[0]["error"], "403::Unknown client");
}

#[tokio::test]
async fn the_session_high_water_mark_counts_per_org() {
    let emu = two_orgs().await;
    let org2 = emu.control_for("00DEM0000000002").expect("org 2");
    let _a = Bayeux::ready(emu.base_url(), &[]).await;
    let _b = Bayeux::ready(emu.base_url(), &[]).await;
    assert_eq!(emu.control().stats().totals.max_active_sessions, 2);
    assert_eq!(org2.stats().totals.max_active_sessions, 0);
    let (status, body) = control(emu.base_url(), Method::GET, "/_emulator/orgs", None).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(body["orgs"][1]["org_id"], "00DEM0000000002");
    assert_eq!(body["orgs"][1]["username"], "user2@example.com");
    let (status, _) = control(
        emu.base_url(),
        Method::GET,
        "/_emulator/orgs/00DNOPE/stats",
        None,
    )
    .await;
    assert_eq!(status.as_u16(), 404);
    drop(_a);
    assert_eq!(
        emu.control().reset_max_active_sessions(),
        2,
        "sessions live until their deadline"
    );
}

#[tokio::test]
async fn an_org_id_given_twice_is_refused() {
    let e = common::fast()
        .org(Org::numbered(1))
        .start()
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("00DEM0000000001"), "{e}");
}
