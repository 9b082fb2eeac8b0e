//! Pub/Sub schemas: fetched once per schema id (`GetSchema`) and cached; events whose schema is
//! not there yet wait for it in order (later events of their topic wait behind them, other topics
//! go on); a schema that cannot be had leaves its events undecoded but delivered.
mod pubsub_common;

use pubsub_common::*;
use sfstream_core::pubsub::proto::FetchResponse;
use sfstream_core::pubsub::{CallKind, PubSubEvent};

#[test]
fn one_get_schema_per_schema_id_across_events_streams_and_topics() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC, OTHER]);
    let a = sc.stream(TOPIC);
    let b = sc.stream(OTHER);
    sc.send(a, &batch(1..=3, 97));
    sc.send(b, &batch(10..=12, 97));
    assert_eq!(
        sc.live(CallKind::GetSchema).len(),
        1,
        "one call while it is on its way"
    );
    let get = sc.live(CallKind::GetSchema)[0];
    let h = sc.call(get).head.headers();
    assert_eq!(h["grpc-timeout"], "30000m");
    assert!(
        sc.call(get).half_closed,
        "a unary call is half-closed after its request"
    );
    assert_eq!(sc.serve_schemas(), 1);
    let got = numbers(&sc.take(100));
    assert_eq!(got.len(), 6);
    sc.send(a, &batch(4..=5, 95));
    sc.end(a, 14, None);
    sc.advance(1_000);
    let a2 = sc.stream(TOPIC);
    sc.send(a2, &batch(6..=7, 98));
    assert_eq!(sc.live(CallKind::GetSchema).len(), 0, "cached");
    assert_eq!(sc.s.stats().schema_requests, 1);
    assert_eq!(numbers(&sc.take(100)), vec![4, 5, 6, 7]);
}

#[test]
fn events_wait_in_order_behind_an_unknown_schema() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC, OTHER]);
    sc.auto_schemas = false;
    sc.schemas
        .insert("s2".into(), SCHEMA.replace("Order__e", "Order2__e"));
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([1], 99));
    sc.serve_schemas(); // s1 known from now on
    assert_eq!(numbers(&sc.take(10)), vec![1]);
    let mut response = FetchResponse {
        events: vec![
            event_with_schema(2, "s2"),
            event(3),
            event_with_schema(4, "s2"),
        ],
        pending_num_requested: 96,
        ..FetchResponse::default()
    };
    sc.send(a, &response);
    // Event 3's schema is known, but it waits behind 2.
    assert!(sc.take(10).is_empty());
    assert_eq!(sc.s.buffered(TOPIC), Some(3));
    // Another topic is not held up.
    let b = sc.stream(OTHER);
    sc.send(b, &batch([50], 99));
    assert_eq!(numbers(&sc.take(10)), vec![50]);
    assert_eq!(sc.serve_schemas(), 1, "one GetSchema for s2");
    let messages = sc.take(10);
    assert_eq!(numbers(&messages), vec![2, 3, 4]);
    assert_eq!(messages[0].schema_id(), "s2");
    assert_eq!(messages[1].schema_id(), "s1");
    assert_eq!(messages[0].payload(), &decoded(2));
    response.events.clear();
}

#[test]
fn a_schema_that_cannot_be_had_leaves_its_events_undecoded_but_delivered() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    sc.auto_schemas = false;
    let a = sc.stream(TOPIC);
    let response = FetchResponse {
        events: vec![event_with_schema(1, "gone"), event(2)],
        pending_num_requested: 98,
        ..FetchResponse::default()
    };
    sc.send(a, &response);
    sc.serve_schemas(); // "gone": PERMISSION_DENIED; then s1 is asked for
    sc.serve_schemas();
    let messages = sc.take(10);
    assert_eq!(numbers(&messages), vec![1, 2]);
    assert!(messages[0].payload().is_null());
    let why = messages[0].decode_error().expect("says why");
    assert!(why.contains("schema.meta.permission"), "{why}");
    assert_eq!(
        messages[0].raw_payload(),
        &payload(1),
        "the raw datum is kept"
    );
    assert_eq!(messages[1].payload(), &decoded(2));
    assert!(sc.events.iter().any(|e| matches!(e, PubSubEvent::Error(_))));
    assert_eq!(sc.s.stats().undecodable_events, 1);
}

#[test]
fn a_failed_schema_fetch_is_retried_with_backoff() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([1], 99));
    let get = sc.live(CallKind::GetSchema)[0];
    sc.reset(get, 2);
    assert!(sc.live(CallKind::GetSchema).is_empty());
    sc.advance(1_000);
    assert_eq!(sc.live(CallKind::GetSchema).len(), 1);
    assert_eq!(numbers(&sc.take(10)), vec![1]);
}

#[test]
fn a_get_schema_past_its_deadline_is_aborted_and_retried() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([1], 99));
    let get = sc.live(CallKind::GetSchema)[0];
    sc.advance(30_000);
    assert!(sc.call(get).cancelled);
    sc.advance(1_000);
    assert_eq!(sc.live(CallKind::GetSchema).len(), 1);
}

#[test]
fn a_schema_that_is_not_avro_is_reported_and_its_events_delivered_raw() {
    let mut sc = PubSubScenario::started(config(), &[TOPIC]);
    sc.schemas.insert(SCHEMA_ID.into(), "{not avro".into());
    let a = sc.stream(TOPIC);
    sc.send(a, &batch([1], 99));
    let messages = sc.take(10);
    assert_eq!(numbers(&messages), vec![1]);
    assert!(messages[0].decode_error().unwrap().contains("unusable"));
    assert!(messages[0].schema().is_none());
}
