//! `/meta/subscribe` and `/meta/unsubscribe`: channel rules, the replay map, filters.

mod common;

use common::{Bayeux, events, replay_ids};
use serde_json::json;

#[tokio::test]
async fn unknown_channels_do_not_exist_until_created() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let cid = b.client_id.clone();
    let reply = b.subscribe("/event/Low_Ink__e", None).await;
    assert_eq!(
        reply,
        json!({"clientId": cid, "channel": "/meta/subscribe", "id": reply["id"],
               "subscription": "/event/Low_Ink__e",
               "error": "400::The channel you requested to subscribe to doesn't exist {/event/Low_Ink__e}",
               "successful": false})
    );
    emu.control()
        .create_channel("/event/Low_Ink__e")
        .expect("create");
    let reply = b.subscribe("/event/Low_Ink__e", Some(-1)).await;
    assert_eq!(
        reply,
        json!({"clientId": cid, "channel": "/meta/subscribe", "id": reply["id"],
               "subscription": "/event/Low_Ink__e", "successful": true})
    );
    // The default set exists from the start.
    for ch in [
        "/topic/AccountUpdates",
        "/event/Order__e",
        "/data/ChangeEvents",
        "/data/AccountChangeEvent",
        "/u/notifications",
    ] {
        assert_eq!(b.subscribe(ch, None).await["successful"], true, "{ch}");
    }
}

#[tokio::test]
async fn channels_can_be_created_on_demand() {
    let emu = common::fast()
        .auto_create_channels(true)
        .start()
        .await
        .expect("start");
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    assert_eq!(
        b.subscribe("/event/Fresh__e", None).await["successful"],
        true
    );
    // Not a streaming channel name: still does not exist.
    assert_eq!(b.subscribe("/foo/bar", None).await["successful"], false);
}

#[tokio::test]
async fn the_replay_map_must_contain_the_subscribed_channel() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let reply = b
        .post(
            json!([{"channel": "/meta/subscribe", "clientId": b.client_id,
                      "subscription": "/topic/AccountUpdates", "id": "5", "ext": {"replay": {}}}]),
        )
        .await;
    assert_eq!(
        reply.first()["error"],
        "400::The replayId for channel {/topic/AccountUpdates} wasn't found using the provided replay ID map {{}}. Ensure that the channel name you provided in the replay map is valid and matches the channel name used for subscribing."
    );
    let reply = b
        .post(
            json!([{"channel": "/meta/subscribe", "clientId": b.client_id,
                      "subscription": "/topic/AccountUpdates", "id": "6",
                      "ext": {"replay": {"/event/Order__e": -1, "/u/notifications": -2}}}]),
        )
        .await;
    assert!(
        reply.first()["error"]
            .as_str()
            .is_some_and(|e| e.contains("map {{/event/Order__e=-1, /u/notifications=-2}}.")),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn subscription_field_rules() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let cid = b.client_id.clone();
    let no_slash = b
        .post(json!([{"channel": "/meta/subscribe", "clientId": cid, "subscription": "topic/X", "id": "1"}]))
        .await;
    assert_eq!(
        no_slash.first()["error"],
        "400::Channel subscriptions must start with a leading '/'"
    );
    let missing = b
        .post(json!([{"channel": "/meta/subscribe", "clientId": cid, "id": "2"}]))
        .await;
    assert_eq!(missing.first()["error"], "400::Channel name not specified");
    // A JSON list instead of a string: Salesforce answers with an empty body.
    let list = b
        .post(json!([{"channel": "/meta/subscribe", "clientId": cid,
                      "subscription": ["/topic/AccountUpdates"], "id": "3"}]))
        .await;
    assert_eq!((list.status.as_u16(), list.text.as_str()), (200, ""));
}

#[tokio::test]
async fn bulk_subscriptions_in_one_request() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let cid = b.client_id.clone();
    let reply = b
        .post(json!([
            {"channel": "/meta/subscribe", "clientId": cid, "subscription": "/topic/AccountUpdates", "id": "1"},
            {"channel": "/meta/subscribe", "clientId": cid, "subscription": "/event/Order__e", "id": "2"},
            {"channel": "/meta/subscribe", "clientId": cid, "subscription": "/u/notifications", "id": "3"},
        ]))
        .await;
    let msgs = reply.messages();
    assert_eq!(msgs.len(), 3);
    assert!(msgs.iter().all(|m| m["successful"] == true));
    let stats = emu.control().stats();
    assert_eq!(
        stats.clients[cid.as_deref().unwrap_or_default()].subscriptions,
        vec![
            "/event/Order__e",
            "/topic/AccountUpdates",
            "/u/notifications"
        ]
    );
}

#[tokio::test]
async fn unsubscribe_stops_delivery_and_drops_queued_events() {
    let emu = common::start().await;
    let control = emu.control();
    let mut b = Bayeux::ready(
        emu.base_url(),
        &[("/event/Order__e", None), ("/u/notifications", None)],
    )
    .await;
    control
        .publish_generated("/event/Order__e", 2)
        .expect("publish");
    let kept = control
        .publish_generated("/u/notifications", 1)
        .expect("publish");
    let id = b.id();
    let reply = b
        .post(
            json!([{"channel": "/meta/unsubscribe", "clientId": b.client_id,
                      "subscription": "/event/Order__e", "id": id}]),
        )
        .await;
    let cid = b.client_id.clone();
    assert_eq!(
        reply.first(),
        json!({"clientId": cid, "channel": "/meta/unsubscribe", "id": id,
               "subscription": "/event/Order__e", "successful": true})
    );
    control
        .publish_generated("/event/Order__e", 1)
        .expect("publish");
    let got = b.connect().await;
    assert_eq!(replay_ids(&got), kept);
    assert!(
        events(&got)
            .iter()
            .all(|e| e["channel"] == "/u/notifications")
    );
}

#[tokio::test]
async fn filtered_subscriptions_use_the_channel_without_the_filter() {
    let emu = common::start().await;
    let mut b = Bayeux::ready(emu.base_url(), &[]).await;
    let sub = "/topic/AccountUpdates?Industry='Energy'";
    let id = b.id();
    let reply = b
        .post(
            json!([{"channel": "/meta/subscribe", "clientId": b.client_id, "subscription": sub,
                      "id": id, "ext": {"replay": {"/topic/AccountUpdates": -1}}}]),
        )
        .await;
    assert_eq!(reply.first()["successful"], true, "{}", reply.text);
    assert_eq!(reply.first()["subscription"], sub);
    let ids = emu
        .control()
        .publish_generated("/topic/AccountUpdates", 1)
        .expect("publish");
    assert_eq!(replay_ids(&b.connect().await), ids);
}

#[tokio::test]
async fn failed_subscribe_and_unsubscribe_replies_name_the_subscription() {
    // CometD's server copies `subscription` into every reply of these channels: a client that
    // drops a channel named in a failed reply must see the name on every kind of failure.
    let emu = common::start().await;
    let ch = "/event/Order__e";
    for meta in ["/meta/subscribe", "/meta/unsubscribe"] {
        let mut cases: Vec<(&str, Bayeux, serde_json::Value)> = Vec::new();
        let mut no_token = Bayeux::ready(emu.base_url(), &[]).await;
        no_token.token = None;
        let msg =
            json!({"channel": meta, "clientId": no_token.client_id, "subscription": ch, "id": "1"});
        cases.push(("401::Request requires authentication", no_token, msg));
        let mut bad_token = Bayeux::ready(emu.base_url(), &[]).await;
        bad_token.token = Some("00Dbogus!x".into());
        let msg = json!({"channel": meta, "clientId": bad_token.client_id, "subscription": ch, "id": "1"});
        cases.push(("401::Authentication invalid", bad_token, msg));
        let unknown = Bayeux::ready(emu.base_url(), &[]).await;
        let msg =
            json!({"channel": meta, "clientId": "nosuchclient", "subscription": ch, "id": "1"});
        cases.push(("403::Unknown client", unknown, msg));
        let mut no_cookie = Bayeux::ready(emu.base_url(), &[]).await;
        no_cookie.cookies.remove("BAYEUX_BROWSER");
        let msg = json!({"channel": meta, "clientId": no_cookie.client_id, "subscription": ch, "id": "1"});
        cases.push(("no BAYEUX_BROWSER cookie present", no_cookie, msg));
        let no_client = Bayeux::ready(emu.base_url(), &[]).await;
        let msg = json!({"channel": meta, "subscription": ch, "id": "1"});
        cases.push(("403::Client has not completed handshake", no_client, msg));
        for (error, mut b, msg) in cases {
            let reply = b.post(json!([msg])).await.first();
            assert_eq!(reply["successful"], false, "{meta} {reply}");
            assert!(
                reply["error"].as_str().is_some_and(|e| e.contains(error)),
                "{meta}: {reply}"
            );
            assert_eq!(reply["subscription"], ch, "{meta} {error}: {reply}");
        }
    }
}
