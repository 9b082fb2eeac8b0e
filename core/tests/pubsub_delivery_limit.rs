//! The org's delivery allocation used up (`subscription.limit.exceeded`): the topic stays down,
//! says so, and is tried again only after the configured wait; other topics go on.
mod pubsub_common;

use std::time::Duration;

use pubsub_common::*;
use sfstream_core::pubsub::{PubSubErrorClass, PubSubEvent, ReplayId};

#[test]
fn the_topic_stays_down_until_much_later() {
    let config = config().delivery_limit_retry(Duration::from_secs(1800));
    let mut sc = PubSubScenario::started(config, &[TOPIC, OTHER]);
    let call = sc.stream(TOPIC);
    sc.send(call, &batch([4], 99));
    sc.end(call, 8, Some("subscription.limit.exceeded"));
    let reported = sc.events.iter().find_map(|e| match e {
        PubSubEvent::DeliveryLimitReached {
            topic,
            retry_after,
            error,
        } if topic == TOPIC => Some((*retry_after, error.class())),
        _ => None,
    });
    assert_eq!(
        reported,
        Some((
            Duration::from_secs(1800),
            Some(PubSubErrorClass::DeliveryLimit)
        ))
    );
    assert!(sc.reconnect_delays().is_empty(), "not an ordinary retry");
    sc.advance(1_799_999);
    assert!(sc.try_stream(TOPIC).is_none());
    assert!(sc.try_stream(OTHER).is_some(), "other topics go on");
    sc.advance(1);
    let next = sc.stream(TOPIC);
    assert_eq!(
        ReplayId::new(sc.call(next).first_fetch().replay_id),
        ReplayId::from_u64(4)
    );
}

#[test]
fn the_documented_message_is_recognised_without_the_error_code() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let call = sc.stream(TOPIC);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "8".parse().unwrap());
    trailers.insert(
        "grpc-message",
        "You%20have%20exceeded%20the%20event%20delivery%20limit%20for%20your%20org."
            .parse()
            .unwrap(),
    );
    sc.s.handle_trailers(call, &trailers, sc.now);
    sc.calls.get_mut(&call).unwrap().ended = true;
    sc.pump();
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::DeliveryLimitReached { .. }))
    );
    sc.advance(60_000);
    assert!(sc.try_stream(TOPIC).is_none(), "an hour by default");
}
