//! Commands: misuse is a `Result` error with a clear message; closing is graceful.
mod common;

use common::*;
use serde_json::json;
use sfstream_core::{DisconnectReason, Error, Event, ReplayFrom, RequestKind};

#[test]
fn misuse_is_reported() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/event/A__e", None, sc.now).unwrap();
    assert!(
        matches!(sc.s.subscribe("/event/A__e", None, sc.now), Err(Error::AlreadySubscribed { channel }) if channel == "/event/A__e")
    );
    assert!(sc.s.subscribe("event/NoSlash", None, sc.now).is_err());
    assert!(sc.s.subscribe("/meta/connect", None, sc.now).is_err());
    assert!(
        sc.s.subscribe("/event/B__e", Some(ReplayFrom::Id(-5)), sc.now)
            .is_err()
    );
    assert!(matches!(
        sc.s.unsubscribe("/event/Nope__e", sc.now),
        Err(Error::NotSubscribed { channel }) if channel == "/event/Nope__e"
    ));
    sc.s.open(sc.now).unwrap();
    assert!(sc.s.open(sc.now).is_err());
    sc.s.close(sc.now);
    assert!(matches!(
        sc.s.subscribe("/event/C__e", None, sc.now),
        Err(Error::Closed { cause: None })
    ));
}

#[test]
fn close_abandons_the_long_poll_and_disconnects() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e"]);
    let poll = sc.next(RequestKind::Connect);
    sc.s.close(sc.now);
    let mut cancelled = Vec::new();
    while let Some(id) = sc.s.poll_cancel() {
        cancelled.push(id);
    }
    assert_eq!(cancelled, vec![poll.id]);
    let bye = sc.next(RequestKind::Disconnect);
    assert_eq!(Scenario::body(&bye)[0]["clientId"], CLIENT);
    // A late answer to the abandoned poll is ignored.
    sc.reply(&poll, json!([event_msg("/event/A__e", 1), connect_ok()]));
    assert_eq!(sc.s.pending(), 0);
    sc.reply_ok(&bye);
    assert!(sc.s.is_closed());
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected(DisconnectReason::Closed)))
    );
}

#[test]
fn unsubscribe_sends_one_message_and_reports() {
    let mut sc = Scenario::connected(token_config(), &["/event/A__e", "/event/B__e"]);
    sc.s.unsubscribe("/event/A__e", sc.now).unwrap();
    let _poll = sc.next(RequestKind::Connect);
    let t = sc.next(RequestKind::Control);
    let body = Scenario::body(&t);
    assert_eq!(body[0]["channel"], "/meta/unsubscribe");
    assert_eq!(body[0]["subscription"], "/event/A__e");
    sc.reply_ok(&t);
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, Event::Unsubscribed { channel } if channel == "/event/A__e"))
    );
    assert_eq!(sc.s.subscriptions(), vec!["/event/B__e"]);
}

#[test]
fn permission_error_fails_one_channel_only() {
    let mut sc = Scenario::new(token_config());
    sc.s.subscribe("/topic/Secret", None, sc.now).unwrap();
    sc.s.subscribe("/topic/Open", None, sc.now).unwrap();
    sc.s.open(sc.now).unwrap();
    sc.handshake_ok(CLIENT);
    sc.next(RequestKind::Connect);
    let t = sc.next(RequestKind::Control);
    sc.reply(&t, json!([
        {"channel": "/meta/subscribe", "successful": true},
        {"channel": "/meta/subscribe", "successful": false, "error": "403::Subscriber does not have access to the entity in this topic"}]));
    assert!(sc.events.iter().any(|e| matches!(e, Event::SubscribeFailed { channel, error } if channel == "/topic/Secret" && error.to_string().contains("permission"))));
    assert_eq!(sc.s.subscriptions(), vec!["/topic/Open"]);
    assert!(!sc.s.is_closed());
}
