//! Connect-response decoding: the bytes are the HTTP body of the answer to the long poll of a
//! connected Salesforce session (or, by the first byte, to a handshake or a subscribe batch),
//! with or without its arrival reported first (`Session::handle_arrived`).
//! Whatever the body, the session must not panic, must keep its run-loop contract (a timeout
//! when it waits for something), and must keep delivering messages it accepted.
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sfstream_core::oauth::Credentials;
use sfstream_core::{Config, RequestKind, Secret, Session, Transmit};

const CHANNELS: [&str; 2] = ["/event/Order__e", "/topic/AccountUpdates"];

struct Harness {
    s: Session,
    now: Instant,
    sent: Vec<Transmit>,
}

impl Harness {
    fn pump(&mut self) {
        while let Some(t) = self.s.poll_transmit() {
            self.sent.push(t);
        }
        while let Some(id) = self.s.poll_cancel() {
            self.sent.retain(|t| t.id != id);
        }
        while self.s.poll_event().is_some() {}
    }

    fn take(&mut self, kind: RequestKind) -> Transmit {
        self.pump();
        let i = self
            .sent
            .iter()
            .position(|t| t.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} request"));
        self.sent.remove(i)
    }

    fn reply(&mut self, t: &Transmit, status: u16, body: Vec<u8>) {
        self.reply_reported(t, status, body, false);
    }

    /// [`Harness::reply`], reporting the arrival first when `arrival` (as the driver does).
    fn reply_reported(&mut self, t: &Transmit, status: u16, body: Vec<u8>, arrival: bool) {
        let response = http::Response::builder()
            .status(status)
            .header("set-cookie", "BAYEUX_BROWSER=b1; Path=/")
            .body(body)
            .expect("a response");
        if arrival {
            let arrived = self.s.handle_arrived(t.id, response, self.now);
            self.pump();
            if let Some(arrived) = arrived {
                self.s.handle_received(arrived.decode(), self.now);
            }
        } else {
            self.s.handle_response(t.id, response, self.now);
        }
        self.pump();
    }

    /// Every control message of a request answered with success.
    fn reply_ok(&mut self, t: &Transmit) {
        let sent: Value = serde_json::from_slice(t.request.body()).expect("JSON request");
        let replies: Vec<Value> = sent
            .as_array()
            .expect("a batch")
            .iter()
            .map(|m| json!({"channel": m["channel"], "id": m["id"], "subscription": m.get("subscription"), "successful": true}))
            .collect();
        self.reply(t, 200, serde_json::to_vec(&replies).expect("JSON"));
    }
}

/// A session that is handshaken, subscribed and holds a long poll.
fn connected() -> Harness {
    let now = Instant::now();
    let config = Config::salesforce(Credentials::AccessToken {
        access_token: Secret::new("fuzz-token"),
        instance_url: "https://na1.example.com".into(),
    })
    .max_pending(8);
    let s = Session::new(
        config,
        now,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
    .expect("a valid configuration");
    let mut h = Harness {
        s,
        now,
        sent: Vec::new(),
    };
    for c in CHANNELS {
        h.s.subscribe(c, None, now).expect("subscribe");
    }
    h.s.open(now).expect("open");
    let hs = h.take(RequestKind::Handshake);
    let body = br#"[{"channel":"/meta/handshake","successful":true,"clientId":"c1","version":"1.0","ext":{"replay":true,"payload.format":true}}]"#;
    h.reply(&hs, 200, body.to_vec());
    let first = h.take(RequestKind::Connect);
    let subs = h.take(RequestKind::Control);
    h.reply_ok(&subs);
    let body = br#"[{"channel":"/meta/connect","successful":true,"clientId":"c1","advice":{"interval":0,"timeout":110000,"reconnect":"retry"}}]"#;
    h.reply(&first, 200, body.to_vec());
    h
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let mut h = connected();
    let status = match selector >> 4 {
        0 => 500,
        1 => 401,
        2 => 403,
        3 => 400,
        _ => 200,
    };
    let t = match selector & 0x3 {
        0 => {
            // A handshake: lose the session first so the next request is one.
            let c = h.take(RequestKind::Connect);
            h.reply(&c, 200, br#"[{"channel":"/meta/connect","successful":false,"error":"403::Unknown client","advice":{"reconnect":"handshake"}}]"#.to_vec());
            h.take(RequestKind::Handshake)
        }
        1 => {
            h.s.subscribe("/data/ChangeEvents", None, h.now)
                .expect("subscribe");
            h.take(RequestKind::Control)
        }
        _ => h.take(RequestKind::Connect),
    };
    // Bit 2: the arrival is reported before the response is handled (the next long poll may
    // go out early); bit 3 then answers that early poll with the same body too.
    let arrival = selector & 0x4 != 0;
    h.reply_reported(&t, status, body.to_vec(), arrival);
    if arrival && selector & 0x8 != 0 {
        h.pump();
        if let Some(i) = h.sent.iter().position(|s| s.kind == RequestKind::Connect) {
            let early = h.sent.remove(i);
            h.reply_reported(&early, status, body.to_vec(), true);
        }
    }
    // Take what was delivered, let time pass, and check the run loop still has a next step.
    for _ in 0..3 {
        while h.s.poll_message().is_some() {}
        h.now += Duration::from_secs(1);
        h.s.handle_timeout(h.now);
        h.pump();
    }
    assert!(
        h.s.is_closed() || h.s.poll_timeout().is_some() || !h.sent.is_empty(),
        "the session neither ended nor has anything to wait for"
    );
    let _ = format!("{:?}", h.s.stats());
});
