//! Extensions on every runtime: the fields an extension adds reach the server, and the messages
//! the server sends reach the extension.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sfstream_core::extension::{Extension, IncomingMessage, OutgoingMessage};

use crate::cases::{ORDERS, ids, open_with, receive_all};
use crate::{Emu, Flavor, Setup};

/// Adds an `ext` entry and a top-level field to every message; keeps the channels and texts of
/// the messages received.
#[derive(Default)]
struct Tracer {
    incoming: Mutex<Vec<(String, String)>>,
}

impl Extension for Tracer {
    fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
        assert!(message.insert_ext("trace", json!("trace-4bf92f35")));
        assert!(message.insert("proxyRoute", json!("eu-1")));
    }

    fn incoming(&self, message: &IncomingMessage<'_>) {
        let mut seen = self.incoming.lock().unwrap_or_else(|p| p.into_inner());
        seen.push((message.channel().to_owned(), message.json().to_owned()));
    }
}

/// The emulator sees the extension's fields in the handshake, every connect, the subscription
/// and the disconnect; the extension sees the replies and the events.
pub fn extension_fields_reach_the_server(f: &dyn Flavor) {
    let emu = Emu::start();
    emu.control.observe_messages(10_000);
    let tracer = Arc::new(Tracer::default());
    let mut setup = Setup::new(&emu);
    setup.config = setup.config.extension(Arc::clone(&tracer));
    let client = open_with(f, setup, &[ORDERS]);
    let published = emu.publish(ORDERS, 3);
    receive_all(f, &*client, &ids(ORDERS, &published));
    client
        .close()
        .unwrap_or_else(|e| panic!("[{}] close: {e}", f.name()));

    let received = emu.control.received_messages();
    let on = |channel: &str| -> Vec<&Value> {
        received
            .iter()
            .filter(|m| m["channel"] == channel)
            .collect()
    };
    for channel in [
        "/meta/handshake",
        "/meta/connect",
        "/meta/subscribe",
        "/meta/disconnect",
    ] {
        let messages = on(channel);
        assert!(!messages.is_empty(), "[{}] no {channel} received", f.name());
        for m in messages {
            assert_eq!(m["ext"]["trace"], "trace-4bf92f35", "[{}] {m}", f.name());
            assert_eq!(m["proxyRoute"], "eu-1", "[{}] {m}", f.name());
        }
    }
    // The session's own fields are as it wrote them.
    assert_eq!(on("/meta/handshake")[0]["ext"]["replay"], true);
    assert_eq!(on("/meta/subscribe")[0]["ext"]["replay"][ORDERS], -1);

    let incoming = tracer.incoming.lock().unwrap_or_else(|p| p.into_inner());
    let event_ids: Vec<i64> = incoming
        .iter()
        .filter(|(channel, _)| channel == ORDERS)
        .map(|(_, text)| {
            let v: Value = serde_json::from_str(text).expect("an event's JSON");
            v["data"]["event"]["replayId"]
                .as_i64()
                .expect("a replay id")
        })
        .collect();
    assert_eq!(event_ids, published, "[{}]", f.name());
    for channel in ["/meta/handshake", "/meta/subscribe", "/meta/connect"] {
        assert!(
            incoming.iter().any(|(c, _)| c == channel),
            "[{}] the extension saw no {channel} reply",
            f.name()
        );
    }
}
