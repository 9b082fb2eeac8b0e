//! Pub/Sub configuration mistakes are refused when the session is made, each with a message that
//! names the setting and the fix; commands that misuse the session are refused too.
mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_core::pubsub::{PubSubConfig, PubSubError, PubSubReplayFrom, PubSubSession, ReplayId};

fn refused(config: PubSubConfig) -> String {
    let now = PubSubScenario::new(pubsub_common::config()).now;
    match PubSubSession::new(config, now, std::time::SystemTime::UNIX_EPOCH) {
        Err(PubSubError::Config(m)) => m,
        Err(other) => panic!("not a configuration error: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn unusable_settings_are_refused_with_the_fix() {
    let m = refused(config().url("http://pubsub.example.com:7443"));
    assert!(m.contains("plain http"), "{m}");
    let m = refused(config().url("https://api.pubsub.salesforce.com:7443/some/path"));
    assert!(m.contains("scheme, host and port"), "{m}");
    let m = refused(config().url("not a url"));
    assert!(m.contains("Pub/Sub URL"), "{m}");
    let m = refused(config().max_pending(0));
    assert!(m.contains("max_pending"), "{m}");
    let m = refused(config().watchdog(Some(Duration::ZERO)));
    assert!(m.contains("watchdog"), "{m}");
    let m = refused(config().tenant_id("00D x"));
    assert!(m.contains("tenant id"), "{m}");
    let m = refused(config().replay(PubSubReplayFrom::Custom(ReplayId::new(vec![]))));
    assert!(m.contains("CUSTOM"), "{m}");
    let mut c = config();
    c.retry.multiplier = 0.5;
    assert!(refused(c).contains("retry policy"));
    let mut c = config();
    c.request_timeout = Duration::ZERO;
    assert!(refused(c).contains("request_timeout"));
}

#[test]
fn the_default_endpoint_and_loopback_emulators_are_accepted() {
    let c = PubSubConfig::new(config().credentials);
    assert_eq!(c.url, "https://api.pubsub.salesforce.com:7443");
    c.validate().unwrap();
    config().url("http://localhost:7443").validate().unwrap();
    config()
        .url("https://api.deu.pubsub.salesforce.com/")
        .validate()
        .unwrap();
}

#[test]
fn misuse_is_refused() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let now = sc.now;
    assert!(matches!(
        sc.s.subscribe(TOPIC, None, now),
        Err(PubSubError::InvalidOperation(_))
    ));
    assert!(matches!(
        sc.s.subscribe("/topic/Legacy", None, now),
        Err(PubSubError::InvalidOperation(_))
    ));
    assert!(matches!(
        sc.s.open(now),
        Err(PubSubError::InvalidOperation(_))
    ));
    assert!(matches!(
        sc.s.unsubscribe(OTHER, now),
        Err(PubSubError::InvalidOperation(_))
    ));
    sc.s.close(now);
    assert!(matches!(
        sc.s.subscribe(OTHER, None, now),
        Err(PubSubError::Closed)
    ));
    assert!(matches!(sc.s.open(now), Err(PubSubError::Closed)));
}

#[test]
fn unsubscribing_cancels_the_stream_and_keeps_what_arrived() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([1, 2], 98));
    sc.serve_schemas();
    sc.s.unsubscribe(TOPIC, sc.now).unwrap();
    sc.pump();
    assert!(sc.call(call).cancelled);
    assert!(sc.s.topics().is_empty());
    assert_eq!(numbers(&sc.take(10)), vec![1, 2]);
}

#[test]
fn events_of_an_earlier_subscription_never_count_for_a_new_one() {
    let mut sc = PubSubScenario::started(config().max_pending(10), &[TOPIC]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch(1..=10, 0));
    sc.serve_schemas();
    sc.s.unsubscribe(TOPIC, sc.now).unwrap();
    sc.s.subscribe(TOPIC, None, sc.now).unwrap();
    let again = sc.stream(TOPIC);
    assert_eq!(sc.call(again).first_fetch().num_requested, 10);
    sc.send(again, &batch(11..=20, 0));
    // Taking the old subscription's events makes no room for the new one, and commits nothing.
    assert_eq!(numbers(&sc.take(10)), (1..=10).collect::<Vec<_>>());
    assert_eq!(sc.s.buffered(TOPIC), Some(10));
    assert_eq!(sc.call(again).fetch_requests().len(), 1);
    assert!(sc.checkpoints(TOPIC).is_empty());
    assert_eq!(numbers(&sc.take(10)), (11..=20).collect::<Vec<_>>());
    assert_eq!(sc.checkpoints(TOPIC).last(), Some(&ReplayId::from_u64(20)));
}
