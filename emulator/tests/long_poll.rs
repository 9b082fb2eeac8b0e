//! `/meta/connect`: advice, holding, early return on events, batching, the reconnect deadline.

mod common;

use std::time::{Duration, Instant};

use common::{Bayeux, DEADLINE, POLL, events, replay_ids};
use serde_json::json;
use sfstream_emulator::Emulator;

#[tokio::test]
async fn first_connect_has_advice_and_returns_at_once_later_ones_are_held() {
    // Default settings: the advertised timeout is 110000 ms.
    let emu = Emulator::start().await.expect("start");
    let mut b = Bayeux::new(emu.base_url());
    b.handshake().await;
    let started = Instant::now();
    let first = b.connect().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let cid = b.client_id.clone();
    assert_eq!(
        first,
        vec![
            json!({"clientId": cid, "advice": {"interval": 0, "timeout": 110_000, "reconnect": "retry"},
                    "channel": "/meta/connect", "id": "2", "successful": true})
        ]
    );

    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let started = Instant::now();
    let second = b.connect().await;
    let held = started.elapsed();
    assert!(held >= POLL, "held {held:?}");
    assert!(held < POLL + Duration::from_secs(1), "held {held:?}");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["successful"], true);
    assert!(second[0].get("advice").is_none(), "{}", second[0]);
    assert_eq!(emu.control().stats().totals.connects, 2);
}

#[tokio::test]
async fn a_held_connect_returns_as_soon_as_an_event_arrives() {
    let emu = common::start_holding().await;
    let mut b = Bayeux::ready(emu.base_url(), &[("/event/Order__e", None)]).await;
    let publisher = common::later(&emu.control(), Duration::from_millis(100), move |c| {
        c.publish("/event/Order__e", json!({"Qty__c": 3}))
    });
    let started = Instant::now();
    let reply = b.connect().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let id = publisher.await.expect("join").expect("publish");
    // The event comes first, the connect reply after it (as CometD servers write them).
    assert_eq!(reply.len(), 2);
    assert_eq!(reply[1]["channel"], "/meta/connect");
    assert_eq!(reply[1]["successful"], true);
    assert_eq!(replay_ids(&reply), vec![id]);
    assert_eq!(reply[0]["data"]["payload"]["Qty__c"], 3);
}

#[tokio::test]
async fn message_ids_are_echoed_as_sent_and_client_advice_timeout_is_honoured() {
    let emu = common::start_holding().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let started = Instant::now();
    let reply = b
        .post(json!([{"channel": "/meta/connect", "clientId": b.client_id,
                      "connectionType": "long-polling", "id": 42, "advice": {"timeout": 0}}]))
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(reply.first()["id"], 42);
    assert!(reply.text.contains(r#""id":42,"#), "{}", reply.text);
    let reply = b
        .post(json!([{"channel": "/meta/connect", "clientId": b.client_id,
                      "connectionType": "long-polling", "id": "abc", "advice": {"timeout": 0}}]))
        .await;
    assert_eq!(reply.first()["id"], "abc");
}

#[tokio::test]
async fn replies_carry_at_most_max_batch_events() {
    let emu = common::fast().max_batch(3).start().await.expect("start");
    let mut b = Bayeux::ready(emu.base_url(), &[("/u/notifications", None)]).await;
    let ids = emu
        .control()
        .publish_generated("/u/notifications", 7)
        .expect("publish");
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..3 {
        let reply = b.connect().await;
        sizes.push(events(&reply).len());
        got.extend(replay_ids(&reply));
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(got, ids);
}

#[tokio::test]
async fn the_session_expires_when_the_client_does_not_reconnect_in_time() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    // Polling again within the deadline keeps the session alive across several timeouts.
    for _ in 0..2 {
        assert_eq!(b.connect().await[0]["successful"], true);
    }
    tokio::time::sleep(DEADLINE + Duration::from_millis(150)).await;
    let reply = b.connect().await;
    assert_eq!(
        reply[0],
        json!({"advice": {"interval": 0, "reconnect": "handshake"}, "channel": "/meta/connect",
               "id": reply[0]["id"], "error": "403::Unknown client", "successful": false})
    );
    assert_eq!(emu.control().stats().totals.active_sessions, 0);
}

#[tokio::test]
async fn a_handshaken_client_that_never_connects_expires_too() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.handshake().await;
    tokio::time::sleep(DEADLINE + Duration::from_millis(150)).await;
    assert_eq!(b.connect().await[0]["error"], "403::Unknown client");
}

#[tokio::test]
async fn only_long_polling_is_supported() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let reply = b
        .post(json!([{"channel": "/meta/connect", "clientId": b.client_id,
                      "connectionType": "websocket", "id": "9"}]))
        .await;
    assert_eq!(
        reply.first()["error"],
        "400::Invalid connection type {websocket}"
    );
}

#[tokio::test]
async fn a_newer_connect_releases_the_held_one() {
    let emu = common::start_holding().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let mut twin = Bayeux::new(emu.base_url());
    twin.cookies = b.cookies.clone();
    twin.client_id = b.client_id.clone();
    let started = Instant::now();
    let held = tokio::spawn(async move { b.connect().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let newer = twin.connect_msg();
    let newer = tokio::spawn(async move { twin.post(json!([newer])).await });
    let released = held.await.expect("join");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(released[0]["successful"], true);
    newer.abort();
}

#[tokio::test]
async fn connects_for_unknown_or_missing_clients_fail() {
    let emu = common::start().await;
    let mut b = Bayeux::new(emu.base_url());
    b.handshake().await;
    b.client_id = Some("nosuchclient".into());
    let reply = b.connect().await;
    assert_eq!(reply[0]["error"], "403::Unknown client");
    assert_eq!(reply[0]["advice"]["reconnect"], "handshake");
    let reply = b
        .post(json!([{"channel": "/meta/connect", "connectionType": "long-polling", "id": "1"}]))
        .await;
    assert_eq!(
        reply.first()["error"],
        "403::Client has not completed handshake"
    );
}

#[tokio::test]
async fn revoked_tokens_end_held_polls_and_fail_later_connects() {
    let emu = common::start_holding().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let revoker = common::later(&emu.control(), Duration::from_millis(100), move |c| {
        c.revoke_tokens()
    });
    let started = Instant::now();
    let reply = b.connect().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(revoker.await.expect("join"), 1);
    let cid = b.client_id.clone();
    assert_eq!(
        reply[0],
        json!({"clientId": cid, "advice": {"interval": 0, "reconnect": "none"},
               "channel": "/meta/connect", "id": reply[0]["id"],
               "error": "401::Authentication invalid", "successful": false})
    );
    assert_eq!(b.connect().await[0]["error"], "401::Authentication invalid");
    b.token = None;
    assert_eq!(
        b.connect().await[0]["error"],
        "401::Request requires authentication"
    );
}

#[tokio::test]
async fn disconnect_ends_the_session() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let id = b.id();
    let bye = b
        .post(json!([{"channel": "/meta/disconnect", "clientId": b.client_id, "id": id}]))
        .await;
    let cid = b.client_id.clone();
    assert_eq!(
        bye.first(),
        json!({"clientId": cid, "channel": "/meta/disconnect", "id": id, "successful": true})
    );
    assert_eq!(b.connect().await[0]["error"], "403::Unknown client");
    let stats = emu.control().stats();
    let client = &stats.clients[cid.as_deref().unwrap_or_default()];
    assert!(!client.active);
}

#[tokio::test]
async fn a_connect_batched_with_other_messages_is_answered_at_once() {
    // Only a connect alone in its request is held (CometD's behaviour): batched with a
    // subscribe, as some clients send after a re-handshake, it does not delay that reply.
    let emu = common::start_holding().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let connect = b.connect_msg();
    let id = b.id();
    let subscribe = json!({"channel": "/meta/subscribe", "clientId": b.client_id,
                           "subscription": "/event/Order__e", "id": id});
    let started = Instant::now();
    let reply = b.post(json!([subscribe, connect])).await.messages();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.len(), 2, "{reply:?}");
    assert!(reply.iter().all(|m| m["successful"] == true), "{reply:?}");
    // Alone again, the connect is held until an event comes.
    let publisher = common::later(&emu.control(), Duration::from_millis(300), move |c| {
        c.publish_generated("/event/Order__e", 1)
    });
    let started = Instant::now();
    let held = b.connect().await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(events(&held).len(), 1);
    publisher.await.expect("join").expect("publish");
}
