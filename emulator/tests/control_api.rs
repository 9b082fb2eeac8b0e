//! The HTTP control API under `/_emulator/`, mirroring `Control`.

mod common;

use common::{Bayeux, control, replay_ids};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn settings_describe_what_a_client_needs() {
    let emu = common::start().await;
    let base = emu.base_url();
    let (status, body) = control(base, Method::GET, "/_emulator/settings", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["base_url"], base);
    assert_eq!(body["token_url"], format!("{base}/services/oauth2/token"));
    assert_eq!(body["client_id"], "emulator-client-id");
    assert_eq!(body["client_secret"], "emulator-client-secret");
    assert_eq!(body["username"], "user@example.com");
    assert_eq!(body["password"], "password");
    assert_eq!(body["security_token"], "TOKEN");
    assert_eq!(body["refresh_token"], "emulator-refresh-token");
    assert_eq!(body["access_token"], "emulator-access-token");
    assert_eq!(body["long_poll_timeout_ms"], 300);
}

#[tokio::test]
async fn channels_are_created_and_listed() {
    let emu = common::start().await;
    let base = emu.base_url();
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/channels",
        Some(json!({"name": "/data/Thing__ChangeEvent"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({"name": "/data/Thing__ChangeEvent", "kind": "change_data_capture"})
    );
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/channels",
        Some(json!({"name": "/nope"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("/nope")));
    let (_, body) = control(base, Method::GET, "/_emulator/channels", None).await;
    let names: Vec<&str> = body["channels"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        names.contains(&"/data/Thing__ChangeEvent") && names.contains(&"/topic/AccountUpdates")
    );
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/channels",
        Some(json!({"nom": 1})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn publish_given_many_and_generated_payloads() {
    let emu = common::start().await;
    let base = emu.base_url();
    let ch = "/event/Order__e";
    let mut b = Bayeux::ready(base, &[(ch, None)]).await;
    let (s1, one) = control(
        base,
        Method::POST,
        "/_emulator/publish",
        Some(json!({"channel": ch, "payload": {"Qty__c": 1}})),
    )
    .await;
    let (s2, many) = control(
        base,
        Method::POST,
        "/_emulator/publish",
        Some(json!({"channel": ch, "payloads": [{"Qty__c": 2}, {"Qty__c": 3}]})),
    )
    .await;
    let (s3, generated) = control(
        base,
        Method::POST,
        "/_emulator/publish",
        Some(json!({"channel": ch, "count": 2})),
    )
    .await;
    assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (200, 200, 200));
    let mut expected = vec![one["replay_id"].as_i64().expect("id")];
    for list in [&many, &generated] {
        expected.extend(
            list["replay_ids"]
                .as_array()
                .expect("ids")
                .iter()
                .filter_map(|v| v.as_i64()),
        );
    }
    assert_eq!(expected.len(), 5);
    assert_eq!(replay_ids(&b.connect().await), expected);
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/publish",
        Some(json!({"channel": "/event/Missing__e", "count": 1})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unknown channel \"/event/Missing__e\"");
}

#[tokio::test]
async fn tokens_are_issued_and_revoked() {
    let emu = common::start().await;
    let base = emu.base_url();
    let (_, issued) = control(base, Method::POST, "/_emulator/tokens", None).await;
    let token = issued["access_token"].as_str().expect("token").to_owned();
    let mut b = Bayeux::new(base);
    b.token = Some(token);
    assert_eq!(b.handshake().await["successful"], true);
    let (_, revoked) = control(base, Method::POST, "/_emulator/tokens/revoke", None).await;
    assert_eq!(revoked["revoked"], 2);
    let denied = b.handshake().await;
    assert_eq!(
        denied["ext"]["sfdc"]["failureReason"],
        "401::Authentication invalid"
    );
    let mut default_token = Bayeux::new(base);
    assert_eq!(default_token.handshake().await["successful"], false);
    // The refresh token still gets a new access token.
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "emulator-client-id"),
        ("refresh_token", "emulator-refresh-token"),
    ];
    assert_eq!(common::token_request(base, &form).await.status, 200);
}

#[tokio::test]
async fn sessions_are_dropped_and_disconnected_over_http() {
    let emu = common::start().await;
    let base = emu.base_url();
    let mut a = Bayeux::ready(base, &[]).await;
    let (_, dropped) = control(
        base,
        Method::POST,
        "/_emulator/sessions/drop",
        Some(json!({"advice": "none"})),
    )
    .await;
    assert_eq!(dropped["dropped"], 1);
    assert_eq!(a.connect().await[0]["advice"]["reconnect"], "none");
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/sessions/drop",
        Some(json!({"advice": "later"})),
    )
    .await;
    assert_eq!(status, 400);

    let mut b = Bayeux::ready(base, &[]).await;
    let (_, pushed) = control(base, Method::POST, "/_emulator/sessions/disconnect", None).await;
    assert_eq!(pushed["disconnected"], 1);
    assert_eq!(b.connect().await[0], json!({"channel": "/meta/disconnect"}));
}

#[tokio::test]
async fn faults_and_chaos_over_http() {
    let emu = common::start().await;
    let base = emu.base_url();
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/faults",
        Some(json!({"count": 1, "fault": {"kind": "status", "status": 502}})),
    )
    .await;
    assert_eq!(status, 200);
    let mut b = Bayeux::new(base);
    let url = b.url.clone();
    assert_eq!(b.post_bytes_to(&url, b"[]".to_vec()).await.status, 502);
    assert_eq!(b.post_bytes_to(&url, b"[]".to_vec()).await.status, 200);

    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/faults",
        Some(json!({"count": 3, "fault": {"kind": "server_too_busy"}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = control(base, Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(status, 204);
    assert_eq!(b.handshake().await["successful"], true);

    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/faults",
        Some(json!({"fault": {"kind": "gremlins"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("gremlins"))
    );
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/faults",
        Some(json!({"fault": {"kind": "delay", "ms": 10}, "target": "moon"})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/chaos",
        Some(json!({"rate": 1.0, "seed": 5, "max_delay_ms": 5})),
    )
    .await;
    assert_eq!(status, 200);
    let mut c = Bayeux::new(base);
    let _ = common::http().post(&url).body("[]").send().await;
    let (status, _) = control(base, Method::DELETE, "/_emulator/chaos", None).await;
    assert_eq!(status, 204);
    assert_eq!(c.handshake().await["successful"], true);
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/chaos",
        Some(json!({"rate": 2.0})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, stats) = control(base, Method::GET, "/_emulator/stats", None).await;
    assert_eq!(stats["totals"]["faults_injected"], 2);
}

#[tokio::test]
async fn stats_report_totals_and_per_client_delivery() {
    let emu = common::start().await;
    let base = emu.base_url();
    let ch = "/topic/AccountUpdates";
    let mut b = Bayeux::ready(base, &[(ch, None)]).await;
    let ids = emu.control().publish_generated(ch, 2).expect("publish");
    b.connect().await;
    let (status, stats) = control(base, Method::GET, "/_emulator/stats", None).await;
    assert_eq!(status, 200);
    let totals = &stats["totals"];
    for key in [
        "handshakes",
        "connects",
        "token_requests",
        "errors_sent",
        "events_published",
        "faults_injected",
        "active_sessions",
        "broken_responses",
        "events_lost_in_broken_responses",
    ] {
        assert!(totals[key].is_u64(), "{key}: {stats}");
    }
    assert_eq!(totals["handshakes"], 1);
    assert_eq!(totals["connects"], 2);
    assert_eq!(totals["events_published"], 2);
    let cid = b.client_id.clone().expect("client id");
    assert_eq!(
        stats["clients"][&cid],
        json!({"active": true, "delivered": 2, "lost_in_broken_responses": 0,
               "last_replay_ids": {ch: ids[1]}, "subscriptions": [ch]})
    );
}

#[tokio::test]
async fn bulk_publish_over_http() {
    let emu = common::start().await;
    let base = emu.base_url();
    let mut b = Bayeux::ready(base, &[("/event/Order__e", None)]).await;
    let (status, body) = control(
        base,
        Method::POST,
        "/_emulator/publish_bulk",
        Some(json!({"channel": "/event/Order__e", "count": 10, "payload_size": 50})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 10);
    assert_eq!(body["subscribers"], 1);
    let got = replay_ids(&b.connect().await);
    assert_eq!(got.len(), 10);
    assert_eq!(got.last().copied(), body["last_replay_id"].as_i64());
}
