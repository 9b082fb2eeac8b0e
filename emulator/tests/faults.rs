//! Fault injection on the wire: statuses, resets, delays, malformed JSON, handshake denial,
//! server too busy, dropped sessions, pushed disconnects and chaos mode.

mod common;

use std::time::{Duration, Instant};

use common::{Bayeux, TOKEN};
use serde_json::json;
use sfstream_emulator::{DropAdvice, Fault, FaultTarget};

const HANDSHAKE: &str = r#"[{"channel":"/meta/handshake","id":"1"}]"#;

/// One handshake on a fresh connection, classified.
async fn outcome(base: &str) -> String {
    let resp = common::http()
        .post(format!("{base}/cometd/64.0"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .body(HANDSHAKE)
        .send()
        .await;
    let Ok(resp) = resp else {
        return "reset".into();
    };
    let status = resp.status();
    let Ok(text) = resp.text().await else {
        return "broken body".into();
    };
    if status != 200 {
        return format!("status {status}");
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Err(_) => "malformed".into(),
        Ok(v) if v[0]["successful"] == true => "ok".into(),
        Ok(v) => format!("denied {}", v[0]["ext"]["sfdc"]["failureReason"]),
    }
}

#[tokio::test]
async fn status_faults_hit_the_next_n_requests() {
    let emu = common::start().await;
    emu.control().fail_next(2, Fault::Status(503));
    let base = emu.base_url();
    assert_eq!(outcome(base).await, "status 503 Service Unavailable");
    assert_eq!(outcome(base).await, "status 503 Service Unavailable");
    assert_eq!(outcome(base).await, "ok");
    let totals = emu.control().stats().totals;
    assert_eq!(totals.faults_injected, 2);
    assert_eq!(totals.errors_sent, 2);
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response() {
    let emu = common::start().await;
    emu.control().fail_next(1, Fault::Reset);
    let err = common::http()
        .post(format!("{}/cometd/64.0", emu.base_url()))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .body(HANDSHAKE)
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    assert_eq!(outcome(emu.base_url()).await, "ok");
}

#[tokio::test]
async fn delay_holds_the_response_then_answers_normally() {
    let emu = common::start().await;
    emu.control()
        .fail_next(1, Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(outcome(emu.base_url()).await, "ok");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn malformed_json_is_a_truncated_200() {
    let emu = common::start().await;
    emu.control().fail_next(1, Fault::MalformedJson);
    let mut b = Bayeux::new(emu.base_url());
    let reply = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.starts_with(r#"[{"channel":"/meta/connect","#));
    assert!(serde_json::from_str::<serde_json::Value>(&reply.text).is_err());
}

#[tokio::test]
async fn handshake_denial_waits_for_a_handshake() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    emu.control()
        .fail_next(1, Fault::DenyHandshakeConcurrentLimit);
    // A connect is not a handshake: it passes.
    let msg = b.connect_msg();
    let ok = b
        .post(
            json!([{"advice": {"timeout": 0}, "channel": "/meta/connect",
                      "clientId": msg["clientId"], "id": msg["id"]}]),
        )
        .await;
    assert_eq!(ok.first()["successful"], true);
    let denied = b
        .post(json!([{"channel": "/meta/handshake", "id": "1"}]))
        .await;
    assert_eq!(
        denied.text,
        r#"[{"ext":{"sfdc":{"failureReason":"403::Organization concurrent user limit exceeded"},"replay":true,"payload.format":true},"advice":{"reconnect":"none"},"channel":"/meta/handshake","id":"1","error":"403::Handshake denied","successful":false}]"#
    );
}

#[tokio::test]
async fn server_too_busy_comes_beside_an_authentication_error() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    emu.control().fail_next(1, Fault::ServerTooBusy);
    let reply = b.connect().await;
    let cid = b.client_id.clone();
    assert_eq!(
        reply[0],
        json!({"ext": {"sfdc": {"failureReason": "503::Server is too busy.  Please try your request again later."}},
               "clientId": cid, "advice": {"interval": 0, "reconnect": "none"},
               "channel": "/meta/connect", "id": reply[0]["id"],
               "error": "401::Authentication invalid", "successful": false})
    );
    // The session survives the busy answer.
    let msg = b.connect_msg();
    let ok = b
        .post(
            json!([{"advice": {"timeout": 0}, "channel": "/meta/connect",
                      "clientId": msg["clientId"], "id": "x"}]),
        )
        .await;
    assert_eq!(ok.first()["successful"], true);
    let totals = emu.control().stats().totals;
    // The busy connect is counted as a connect, an injected fault and an error.
    assert_eq!(
        (totals.connects, totals.faults_injected, totals.errors_sent),
        (3, 1, 1)
    );
}

#[tokio::test]
async fn token_endpoint_faults_are_targeted_separately() {
    let emu = common::start().await;
    emu.control()
        .fail_next_on(FaultTarget::Token, 1, Fault::Status(500));
    emu.control()
        .fail_next_on(FaultTarget::Token, 1, Fault::MalformedJson);
    // CometD is unaffected.
    assert_eq!(outcome(emu.base_url()).await, "ok");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "emulator-client-id"),
        ("client_secret", "emulator-client-secret"),
    ];
    assert_eq!(
        common::token_request(emu.base_url(), &form).await.status,
        500
    );
    let truncated = common::token_request(emu.base_url(), &form).await;
    assert_eq!(truncated.status, 200);
    assert!(truncated.json.is_null(), "{}", truncated.text);
    assert_eq!(
        common::token_request(emu.base_url(), &form).await.status,
        200
    );
}

#[tokio::test]
async fn dropped_sessions_answer_unknown_client_with_the_chosen_advice() {
    for (advice, word) in [
        (DropAdvice::Handshake, "handshake"),
        (DropAdvice::None, "none"),
    ] {
        let emu = common::start_holding().await;
        let mut held = Bayeux::ready(emu.base_url(), &[]).await;
        let mut idle = Bayeux::ready(emu.base_url(), &[]).await;
        let dropper = common::later(&emu.control(), Duration::from_millis(100), move |c| {
            c.drop_sessions(advice)
        });
        let started = Instant::now();
        let reply = held.connect().await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(dropper.await.expect("join"), 2);
        let expected = json!({"interval": 0, "reconnect": word});
        assert_eq!(reply[0]["error"], "403::Unknown client");
        assert_eq!(reply[0]["advice"], expected);
        // Salesforce's `reconnect: none` replies carry the clientId; current `handshake` ones
        // do not.
        let cid = held.client_id.clone().map(serde_json::Value::from);
        assert_eq!(
            reply[0].get("clientId"),
            cid.as_ref().filter(|_| word == "none")
        );
        for b in [&mut held, &mut idle] {
            let next = b.connect().await;
            assert_eq!(next[0]["error"], "403::Unknown client");
            assert_eq!(next[0]["advice"], expected);
            let cid = b.client_id.clone().map(serde_json::Value::from);
            assert_eq!(
                next[0].get("clientId"),
                cid.as_ref().filter(|_| word == "none")
            );
        }
        // A new handshake works.
        assert_eq!(held.handshake().await["successful"], true);
    }
}

#[tokio::test]
async fn pushed_disconnect_ends_held_and_idle_sessions() {
    let emu = common::start_holding().await;
    let mut held = Bayeux::ready(emu.base_url(), &[]).await;
    let mut idle = Bayeux::ready(emu.base_url(), &[]).await;
    let pusher = common::later(&emu.control(), Duration::from_millis(100), move |c| {
        c.push_disconnect()
    });
    let reply = held.connect().await;
    assert_eq!(pusher.await.expect("join"), 2);
    let cid = held.client_id.clone();
    assert_eq!(
        reply,
        vec![
            json!({"channel": "/meta/disconnect"}),
            json!({"clientId": cid, "advice": {"interval": 0, "reconnect": "none"},
                   "channel": "/meta/connect", "id": reply[1]["id"],
                   "error": "403::Unknown client", "successful": false}),
        ]
    );
    // A client that was not polling gets the same pair on its next connect, once.
    let first = idle.connect().await;
    assert_eq!(first[0], json!({"channel": "/meta/disconnect"}));
    assert_eq!(first[1]["error"], "403::Unknown client");
    let second = idle.connect().await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["advice"]["reconnect"], "none");
    assert_eq!(emu.control().stats().totals.active_sessions, 0);
}

async fn chaos_run(seed: u64) -> (Vec<String>, u64) {
    let emu = common::start().await;
    emu.control()
        .chaos_with_max_delay(0.5, seed, Duration::from_millis(20))
        .expect("chaos");
    let mut outcomes = Vec::new();
    for _ in 0..30 {
        outcomes.push(outcome(emu.base_url()).await);
    }
    (outcomes, emu.control().stats().totals.faults_injected)
}

#[tokio::test]
async fn chaos_mode_is_seeded_and_counted() {
    let (a, faults_a) = chaos_run(11).await;
    let (b, faults_b) = chaos_run(11).await;
    assert_eq!(a, b);
    assert_eq!(faults_a, faults_b);
    let visible = a.iter().filter(|o| *o != "ok").count() as u64;
    assert!(visible >= 5, "{a:?}");
    // Delays are faults too but look like successes.
    assert!(faults_a >= visible && faults_a < 30, "{faults_a} {a:?}");
    let (c, _) = chaos_run(12).await;
    assert_ne!(a, c);

    let emu = common::start().await;
    emu.control().chaos(1.0, 3).expect("chaos");
    let n = 10;
    for _ in 0..n {
        outcome(emu.base_url()).await;
    }
    assert_eq!(emu.control().stats().totals.faults_injected, n);
    emu.control().stop_chaos();
    assert_eq!(outcome(emu.base_url()).await, "ok");
    assert!(emu.control().chaos(1.5, 0).is_err());
}
