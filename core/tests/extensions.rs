//! Extensions: what they add to every outgoing Bayeux message, what they cannot change, and the
//! incoming messages they see.
mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value, json};
use sfstream_core::extension::{Extension, IncomingMessage, OutgoingMessage};
use sfstream_core::{Config, RequestKind};

/// Adds a tracing id to `ext` and a top-level field; tries to change what the session wrote;
/// records what it was refused and every incoming message.
#[derive(Default)]
struct Probe {
    refused: Mutex<Vec<String>>,
    seen: Mutex<Vec<(String, String)>>,
}

impl Extension for Probe {
    fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
        let channel = message.channel().to_owned();
        assert!(message.insert_ext("trace", json!(format!("t-{channel}"))));
        assert!(message.insert("x-proxy", json!(1)));
        for field in [
            "channel",
            "clientId",
            "id",
            "subscription",
            "advice",
            "ext",
            "x-proxy",
        ] {
            if !message.insert(field, json!("changed")) {
                self.refused.lock().unwrap().push(field.to_owned());
            }
        }
        if !message.insert_ext("replay", json!({"changed": 1})) {
            self.refused.lock().unwrap().push("ext.replay".to_owned());
        }
    }

    fn incoming(&self, message: &IncomingMessage<'_>) {
        self.seen
            .lock()
            .unwrap()
            .push((message.channel().to_owned(), message.json().to_owned()));
    }
}

fn with_probe(config: Config) -> (Config, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    (config.extension(probe.clone()), probe)
}

#[test]
fn every_outgoing_message_carries_the_additions_and_keeps_what_the_session_wrote() {
    let (config, probe) = with_probe(token_config());
    let mut sc = Scenario::new(config);
    sc.s.subscribe("/event/Order__e", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    let hs = sc.next(RequestKind::Handshake);
    let body = Scenario::body(&hs);
    assert_eq!(body[0]["channel"], "/meta/handshake");
    assert_eq!(
        body[0]["ext"],
        json!({"replay": true, "trace": "t-/meta/handshake"})
    );
    assert_eq!(body[0]["x-proxy"], 1);
    sc.reply(&hs, json!([{"channel": "/meta/handshake", "successful": true, "clientId": CLIENT, "ext": {"replay": true}}]));
    let poll = sc.next(RequestKind::Connect);
    let connect = &Scenario::body(&poll)[0];
    assert_eq!(connect["clientId"], CLIENT);
    assert_eq!(connect["connectionType"], "long-polling");
    assert_eq!(connect["advice"], json!({"timeout": 0}));
    assert_eq!(connect["ext"]["trace"], "t-/meta/connect");
    let subs = sc.next(RequestKind::Control);
    let sub = &Scenario::body(&subs)[0];
    assert_eq!(sub["subscription"], "/event/Order__e");
    assert_eq!(sub["ext"]["replay"], json!({"/event/Order__e": -1}));
    assert_eq!(sub["ext"]["trace"], "t-/meta/subscribe");
    sc.reply_ok(&subs);
    sc.reply(&poll, json!([{"channel": "/event/Order__e", "data": {"payload": {}, "event": {"replayId": 5}}}, connect_ok()]));
    assert_eq!(sc.messages().len(), 1);
    let _next_poll = sc.next(RequestKind::Connect);
    sc.s.unsubscribe("/event/Order__e", sc.now).unwrap();
    let unsub = sc.next(RequestKind::Control);
    assert_eq!(
        Scenario::body(&unsub)[0]["ext"]["trace"],
        "t-/meta/unsubscribe"
    );
    sc.reply_ok(&unsub);
    sc.s.close(sc.now);
    let bye = sc.next(RequestKind::Disconnect);
    let bye = &Scenario::body(&bye)[0];
    assert_eq!(bye["channel"], "/meta/disconnect");
    assert_eq!(bye["clientId"], CLIENT);
    assert_eq!(bye["ext"]["trace"], "t-/meta/disconnect");
    // Six messages (handshake, two connects, subscribe, unsubscribe, disconnect): every
    // attempt to set a Bayeux field, `ext.replay` or a field added already was refused.
    let refused = probe.refused.lock().unwrap();
    for field in [
        "channel",
        "clientId",
        "id",
        "subscription",
        "advice",
        "ext",
        "x-proxy",
        "ext.replay",
    ] {
        assert_eq!(
            refused.iter().filter(|f| *f == field).count(),
            6,
            "{field}: {refused:?}"
        );
    }
}

#[test]
fn incoming_messages_are_shown_in_order_as_the_server_sent_them() {
    let (config, probe) = with_probe(token_config());
    let mut sc = Scenario::connected(config, &["/event/Order__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.reply(
        &poll,
        json!([
            event_msg("/event/Order__e", 7),
            event_msg("/event/Order__e", 8),
            connect_ok()
        ]),
    );
    assert_eq!(sc.messages().len(), 2);
    let seen = probe.seen.lock().unwrap();
    let channels: Vec<&str> = seen.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        channels,
        [
            "/meta/handshake",
            "/meta/subscribe",
            "/meta/connect",
            "/event/Order__e",
            "/event/Order__e",
            "/meta/connect"
        ]
    );
    let event: Value = serde_json::from_str(&seen[4].1).unwrap();
    assert_eq!(event["data"]["event"]["replayId"], 8);
}

#[test]
fn a_batch_of_subscriptions_stays_under_the_request_bound_with_the_additions() {
    struct Big;
    impl Extension for Big {
        fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
            let _ = message.insert_ext("padding", json!("x".repeat(2000)));
        }
    }
    let config = token_config().extension(Big);
    let channels: Vec<String> = (0..40).map(|i| format!("/event/E{i}__e")).collect();
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    let mut sc = Scenario::new(config);
    for c in &names {
        sc.s.subscribe(c, None, sc.now).unwrap();
    }
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    let _poll = sc.next(RequestKind::Connect);
    let subs = sc.next(RequestKind::Control);
    assert!(
        subs.request.body().len() <= 32_768,
        "{}",
        subs.request.body().len()
    );
    let batch = Scenario::body(&subs);
    assert!(batch.as_array().unwrap().len() < 40);
    assert!(batch[0]["ext"]["padding"].as_str().unwrap().len() == 2000);
}

#[test]
fn a_configuration_shows_how_many_extensions_it_has_and_nothing_else() {
    let (config, _) = with_probe(Config::bayeux("http://127.0.0.1:1/bayeux"));
    assert!(format!("{config:?}").contains("extensions: Extensions(1)"));
}
