//! Chaos with a mix: besides request-level faults, faults that end sessions (a revoked token,
//! drops with either advice, pushed disconnects of either kind, a load-balancer reroute), the
//! handshake denial and broken responses that lose events, drawn by a seeded generator.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Bayeux, control, replay_ids};
use reqwest::Method;
use serde_json::{Value, json};
use sfstream_emulator::{ChaosConfig, ChaosKind, ChaosMix};

const CHANNEL: &str = "/event/Order__e";

/// A hand-written client that keeps going whatever happens: it handshakes (and subscribes)
/// when it has no session, takes a new token after a 401, and otherwise publishes one event
/// and long-polls. Returns the chaos counters and how many events it received.
async fn survive(config: ChaosConfig, requests: usize) -> (BTreeMap<String, u64>, u64, usize) {
    let emu = common::start().await;
    let control_ = emu.control();
    control_.chaos_with(config).expect("chaos");
    let mut b = Bayeux::new(emu.base_url());
    let mut session = false;
    let mut received = 0;
    for _ in 0..requests {
        if !session {
            let id = b.id();
            let Some(reply) = b
                .try_post(json!([{"channel": "/meta/handshake", "version": "1.0",
                                  "supportedConnectionTypes": ["long-polling"], "id": id}]))
                .await
            else {
                continue;
            };
            let msg = reply.first();
            if msg["successful"] == true {
                b.client_id = msg["clientId"].as_str().map(str::to_owned);
                let id = b.id();
                let sub = b
                    .try_post(
                        json!([{"channel": "/meta/subscribe", "clientId": b.client_id,
                                      "subscription": CHANNEL, "id": id}]),
                    )
                    .await;
                session = sub.is_some_and(|r| r.first()["successful"] == true);
            } else if msg["ext"]["sfdc"]["failureReason"]
                .as_str()
                .is_some_and(|r| r.starts_with("401"))
            {
                b.token = Some(control_.issue_token());
            }
            continue;
        }
        control_.publish_generated(CHANNEL, 1).expect("publish");
        let msg = b.connect_msg();
        let Some(reply) = b.try_post(json!([msg])).await else {
            continue;
        };
        received += replay_ids(&reply.messages()).len();
        let Some(connect) = reply
            .messages()
            .into_iter()
            .find(|m| m["channel"] == "/meta/connect")
        else {
            continue;
        };
        if let Some(error) = connect["error"].as_str() {
            if error.starts_with("401") && connect["ext"].is_null() {
                b.token = Some(control_.issue_token());
                session = false;
            } else if error.starts_with("403") || error.starts_with("400") {
                session = false;
            }
        }
    }
    let totals = control_.stats().totals;
    (
        totals.faults_by_kind,
        totals.events_lost_in_broken_responses,
        received,
    )
}

fn full(seed: u64) -> ChaosConfig {
    ChaosConfig::new(0.4, seed)
        .mix(ChaosMix::all())
        .max_delay(Duration::from_millis(5))
        .hold(Duration::from_millis(30))
}

#[tokio::test]
async fn the_full_mix_ends_sessions_breaks_responses_and_repeats_with_its_seed() {
    let (kinds, lost, received) = survive(full(17), 500).await;
    for kind in ChaosKind::ALL {
        assert!(
            kinds.get(kind.name()).is_some_and(|n| *n > 0),
            "{} never injected: {kinds:?}",
            kind.name()
        );
    }
    assert!(lost > 0 && received > 0, "lost {lost}, received {received}");
    // The same seed and the same traffic: the same faults.
    let (again, lost_again, _) = survive(full(17), 500).await;
    assert_eq!((&kinds, lost), (&again, lost_again));
    let (other, _, _) = survive(full(18), 500).await;
    assert_ne!(kinds, other);
}

#[tokio::test]
async fn the_transport_mix_never_touches_sessions() {
    let (kinds, lost, _) = survive(
        ChaosConfig::new(0.5, 4).max_delay(Duration::from_millis(5)),
        200,
    )
    .await;
    let transport: Vec<&str> = ChaosKind::ALL[..7].iter().map(|k| k.name()).collect();
    assert!(!kinds.is_empty());
    assert!(
        kinds.keys().all(|k| transport.contains(&k.as_str())),
        "{kinds:?}"
    );
    assert_eq!(lost, 0);
}

#[tokio::test]
async fn a_mix_over_http() {
    let emu = common::start().await;
    let base = emu.base_url();
    let mut b = Bayeux::ready(base, &[]).await;
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/chaos",
        Some(json!({"rate": 1.0, "seed": 3, "mix": {"reroute": 1}})),
    )
    .await;
    assert_eq!(status, 200);
    let reply = b.connect().await;
    assert_eq!(reply[0]["error"], "403::Unknown client");
    let (_, stats) = control(base, Method::GET, "/_emulator/stats", None).await;
    assert_eq!(stats["totals"]["faults_by_kind"], json!({"reroute": 1}));
    assert_eq!(stats["totals"]["sessions_rerouted"], 1);

    for (mix, needle) in [
        (json!({"gremlins": 1}), "reroute"),
        (json!({"reroute": -1}), "whole number"),
        (json!("some"), "transport"),
    ] {
        let (status, body): (_, Value) = control(
            base,
            Method::POST,
            "/_emulator/chaos",
            Some(json!({"rate": 0.5, "mix": mix})),
        )
        .await;
        assert_eq!(status, 400, "{mix}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains(needle)),
            "{body}"
        );
    }
    let (status, _) = control(
        base,
        Method::POST,
        "/_emulator/chaos",
        Some(json!({"rate": 0.5, "seed": 1, "mix": "all", "hold_ms": 100, "max_delay_ms": 5})),
    )
    .await;
    assert_eq!(status, 200);
}
