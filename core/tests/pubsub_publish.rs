//! Publishing: events encoded with the topic's current schema (GetTopic, then GetSchema), one
//! outcome per event matched by correlation key, `Publish` and `PublishStream`, large publishes
//! split into requests, and the failures that are reported rather than retried.
mod pubsub_common;

use bytes::Bytes;
use prost::Message as _;
use pubsub_common::*;
use serde::Serialize;
use serde_json::json;
use sfstream_core::oauth::{Credentials, LoginUrl};
use sfstream_core::pubsub::proto::{Error, PublishResponse, PublishResult, TopicInfo};
use sfstream_core::pubsub::{
    CallId, CallKind, PubSubError, PubSubEvent, PublishEvent, PublishFailure, PublishId,
    PublishOutcome, ReplayId,
};
use sfstream_core::{RequestKind, Secret};

fn info(can_publish: bool) -> TopicInfo {
    TopicInfo {
        topic_name: TOPIC.into(),
        tenant_guid: "00DEM0000000001".into(),
        can_publish,
        can_subscribe: true,
        schema_id: SCHEMA_ID.into(),
        rpc_id: "r".into(),
    }
}

/// Answers the GetTopic and GetSchema calls a publish needs.
fn serve_topic(sc: &mut PubSubScenario, can_publish: bool) {
    let get = sc.live(CallKind::GetTopic);
    assert_eq!(get.len(), 1, "one GetTopic");
    assert_eq!(sc.topic_request(get[0]).topic_name, TOPIC);
    sc.accept(get[0]);
    sc.send(get[0], &info(can_publish));
    sc.end(get[0], 0, None);
    sc.serve_schemas();
}

fn event_json(n: u64) -> serde_json::Value {
    json!({"CreatedById": "005x", "N": n})
}

/// Answers a Publish call: every event accepted with replay id 1000 + its place, except those
/// whose key is in `refuse`.
fn results_for(sc: &PubSubScenario, call: CallId, refuse: &[&str]) -> PublishResponse {
    let request = &sc.call(call).publish_requests()[0];
    PublishResponse {
        results: request
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| PublishResult {
                replay_id: if refuse.contains(&e.id.as_str()) {
                    Bytes::new()
                } else {
                    ReplayId::from_u64(1000 + i as u64).to_bytes()
                },
                error: refuse.contains(&e.id.as_str()).then(|| Error {
                    code: 1,
                    msg: "too big".into(),
                }),
                correlation_key: e.id.clone(),
            })
            .collect(),
        schema_id: SCHEMA_ID.into(),
        rpc_id: "r".into(),
    }
}

fn published(sc: &PubSubScenario, id: PublishId) -> Option<Vec<PublishOutcome>> {
    sc.events.iter().find_map(|e| match e {
        PubSubEvent::Published { id: i, results, .. } if *i == id => Some(results.clone()),
        _ => None,
    })
}

#[test]
fn a_publish_gets_one_outcome_per_event() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish(
            TOPIC,
            vec![
                PublishEvent::with_id("key-1", event_json(1)),
                PublishEvent::new(event_json(2)),
                PublishEvent::with_id("key-3", event_json(3)),
            ],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let call = sc.live(CallKind::Publish)[0];
    assert!(sc.call(call).half_closed);
    let request = &sc.call(call).publish_requests()[0];
    assert_eq!(request.topic_name, TOPIC);
    assert_eq!(request.events.len(), 3);
    assert_eq!(request.events[0].id, "key-1");
    assert_eq!(request.events[1].id.len(), 36, "a generated UUID");
    assert_eq!(request.events[0].schema_id, SCHEMA_ID);
    // The payload is an Avro datum of the schema; CreatedDate was filled in (epoch ms).
    let sent = schema().decode_json(&request.events[0].payload).unwrap();
    assert_eq!(sent["N"], 1);
    assert_eq!(sent["CreatedDate"], 1_700_000_000_000_i64);
    let response = results_for(&sc, call, &["key-3"]);
    sc.accept(call);
    sc.send(call, &response);
    assert!(
        published(&sc, id).is_none(),
        "the result counts only with an OK status"
    );
    sc.end(call, 0, None);
    let results = published(&sc, id).expect("Published");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].correlation_key, "key-1");
    assert_eq!(results[0].result, Ok(ReplayId::from_u64(1000)));
    assert_eq!(results[1].result, Ok(ReplayId::from_u64(1001)));
    assert_eq!(
        results[2].result,
        Err(PublishFailure::Refused {
            code: 1,
            message: "too big".into()
        })
    );
    assert_eq!(sc.s.stats().events_published, 2);
    assert_eq!(sc.s.stats().events_refused, 1);
}

#[test]
fn an_event_that_does_not_fit_the_schema_fails_alone() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish(
            TOPIC,
            vec![
                PublishEvent::with_id("bad", json!({"N": "not a number", "CreatedById": "x"})),
                PublishEvent::with_id("good", event_json(2)),
            ],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let call = sc.live(CallKind::Publish)[0];
    assert_eq!(sc.call(call).publish_requests()[0].events.len(), 1);
    let response = results_for(&sc, call, &[]);
    sc.accept(call);
    sc.send(call, &response);
    sc.end(call, 0, None);
    let results = published(&sc, id).unwrap();
    assert!(matches!(&results[0].result, Err(PublishFailure::Encode(e)) if e.contains('N')));
    assert_eq!(results[1].result, Ok(ReplayId::from_u64(1000)));
}

#[test]
fn serde_values_publish_too() {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Order {
        created_by_id: &'static str,
        #[serde(rename = "N")]
        n: i64,
        #[serde(rename = "Note__c")]
        note: Option<&'static str>,
    }
    let event = PublishEvent::from_serialize(&Order {
        created_by_id: "005x",
        n: 8,
        note: Some("fragile"),
    })
    .unwrap();
    let mut sc = PubSubScenario::started(config(), &[]);
    sc.s.publish(TOPIC, vec![event], sc.now).unwrap();
    serve_topic(&mut sc, true);
    let call = sc.live(CallKind::Publish)[0];
    let sent = schema()
        .decode_json(&sc.call(call).publish_requests()[0].events[0].payload)
        .unwrap();
    assert_eq!(sent["Note__c"], "fragile");
    assert_eq!(sent["N"], 8);
}

#[test]
fn a_topic_that_cannot_be_published_to_fails_the_publish() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish(TOPIC, vec![PublishEvent::new(event_json(1))], sc.now)
            .unwrap();
    let get = sc.live(CallKind::GetTopic)[0];
    sc.accept(get);
    sc.send(get, &info(false));
    sc.end(get, 0, None);
    let failed = sc.events.iter().any(|e| {
        matches!(e, PubSubEvent::PublishFailed { id: i, error: PubSubError::InvalidOperation(m), .. } if *i == id && m.contains("cannot be published"))
    });
    assert!(failed, "{:?}", sc.events);
    assert!(sc.live(CallKind::Publish).is_empty());
}

#[test]
fn a_missing_topic_fails_the_publish_and_is_not_retried() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish(TOPIC, vec![PublishEvent::new(event_json(1))], sc.now)
            .unwrap();
    let get = sc.live(CallKind::GetTopic)[0];
    sc.refuse(get, 5, Some("topic.not.found"));
    assert!(
        sc.events
            .iter()
            .any(|e| matches!(e, PubSubEvent::PublishFailed { id: i, .. } if *i == id))
    );
    sc.advance(60_000);
    assert!(sc.live(CallKind::GetTopic).is_empty());
}

#[test]
fn a_failed_call_leaves_the_outcome_unknown_and_sends_nothing_twice() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish(
            TOPIC,
            vec![PublishEvent::with_id("k", event_json(1))],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let call = sc.live(CallKind::Publish)[0];
    sc.reset(call, 0);
    let results = published(&sc, id).unwrap();
    assert!(
        matches!(&results[0].result, Err(PublishFailure::Call(m)) if m.contains("UNAVAILABLE"))
    );
    sc.advance(60_000);
    assert!(sc.live(CallKind::Publish).is_empty(), "not sent again");
}

#[test]
fn a_refused_token_sends_the_same_events_again_with_a_new_one() {
    let mut config = config();
    config.credentials = Credentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: Secret::new(""),
        refresh_token: Secret::new("refresh-xyz"),
        login: LoginUrl::Custom("https://login.example.com".into()),
    };
    let mut sc = PubSubScenario::new(config);
    let id =
        sc.s.publish(
            TOPIC,
            vec![PublishEvent::with_id("k1", event_json(1))],
            sc.now,
        )
        .unwrap();
    sc.s.open(sc.now).unwrap();
    let token = |sc: &mut PubSubScenario, value: &str| {
        sc.pump();
        let t = sc.transmits.pop_front().unwrap();
        assert_eq!(t.kind, RequestKind::Token);
        let body = json!({"access_token": value, "instance_url": "https://na1.example.com",
            "id": "https://login.example.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU"});
        let response = http::Response::new(serde_json::to_vec(&body).unwrap());
        sc.s.handle_response(t.id, response, sc.now);
        sc.pump();
    };
    token(&mut sc, "tok-A");
    serve_topic(&mut sc, true);
    let first = sc.live(CallKind::Publish)[0];
    let sent_first = sc.call(first).publish_requests()[0].clone();
    // CreatedById came from the token's identity URL.
    let payload = schema().decode_json(&sent_first.events[0].payload).unwrap();
    assert_eq!(payload["CreatedById"], "005x");
    sc.refuse(first, 16, Some("service.auth.error"));
    token(&mut sc, "tok-B");
    let second = sc.live(CallKind::Publish)[0];
    assert_eq!(sc.call(second).head.headers()["accesstoken"], "tok-B");
    assert_eq!(
        sc.call(second).publish_requests()[0],
        sent_first,
        "the same request"
    );
    let response = results_for(&sc, second, &[]);
    sc.accept(second);
    sc.send(second, &response);
    sc.end(second, 0, None);
    assert_eq!(
        published(&sc, id).unwrap()[0].result,
        Ok(ReplayId::from_u64(1000))
    );
}

#[test]
fn large_publishes_are_split_and_their_outcomes_joined() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let events: Vec<PublishEvent> = (0..250).map(|n| PublishEvent::new(event_json(n))).collect();
    let id = sc.s.publish(TOPIC, events, sc.now).unwrap();
    serve_topic(&mut sc, true);
    let calls = sc.live(CallKind::Publish);
    assert_eq!(calls.len(), 2);
    assert_eq!(sc.call(calls[0]).publish_requests()[0].events.len(), 200);
    assert_eq!(sc.call(calls[1]).publish_requests()[0].events.len(), 50);
    for call in calls.iter().rev() {
        let response = results_for(&sc, *call, &[]);
        sc.accept(*call);
        sc.send(*call, &response);
        sc.end(*call, 0, None);
    }
    let results = published(&sc, id).unwrap();
    assert_eq!(results.len(), 250);
    assert_eq!(results[0].result, Ok(ReplayId::from_u64(1000)));
    assert_eq!(results[200].result, Ok(ReplayId::from_u64(1000)));
    assert_eq!(results[249].result, Ok(ReplayId::from_u64(1049)));
}

#[test]
fn publish_stream_results_find_their_events_in_any_order() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let first =
        sc.s.publish_on_stream(
            TOPIC,
            vec![PublishEvent::with_id("a1", event_json(1))],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let second =
        sc.s.publish_on_stream(
            TOPIC,
            vec![
                PublishEvent::with_id("b1", event_json(2)),
                PublishEvent::with_id("b2", event_json(3)),
            ],
            sc.now,
        )
        .unwrap();
    sc.pump();
    let streams = sc.live(CallKind::PublishStream);
    assert_eq!(streams.len(), 1, "one stream per topic");
    let stream = streams[0];
    assert!(!sc.call(stream).half_closed);
    assert_eq!(sc.call(stream).publish_requests().len(), 2, "pipelined");
    sc.accept(stream);
    // A keepalive, then the second request's results before the first's.
    sc.send(stream, &PublishResponse::default());
    let result = |key: &str, n: u64| PublishResult {
        replay_id: ReplayId::from_u64(n).to_bytes(),
        error: None,
        correlation_key: key.into(),
    };
    sc.send(
        stream,
        &PublishResponse {
            results: vec![result("b2", 22), result("b1", 21)],
            ..Default::default()
        },
    );
    sc.send(
        stream,
        &PublishResponse {
            results: vec![result("a1", 11)],
            ..Default::default()
        },
    );
    let b = published(&sc, second).unwrap();
    assert_eq!(b[0].correlation_key, "b1");
    assert_eq!(b[0].result, Ok(ReplayId::from_u64(21)));
    assert_eq!(b[1].result, Ok(ReplayId::from_u64(22)));
    assert_eq!(
        published(&sc, first).unwrap()[0].result,
        Ok(ReplayId::from_u64(11))
    );
    // The server's idle close with nothing outstanding is quiet; the next publish opens a new
    // stream.
    sc.end(stream, 0, None);
    sc.s.publish_on_stream(TOPIC, vec![PublishEvent::new(event_json(4))], sc.now)
        .unwrap();
    sc.pump();
    assert_eq!(sc.live(CallKind::PublishStream).len(), 1);
    assert_ne!(sc.live(CallKind::PublishStream)[0], stream);
}

#[test]
fn a_publish_stream_that_breaks_fails_what_it_had_not_answered() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish_on_stream(
            TOPIC,
            vec![
                PublishEvent::with_id("x1", event_json(1)),
                PublishEvent::with_id("x2", event_json(2)),
            ],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let stream = sc.live(CallKind::PublishStream)[0];
    sc.accept(stream);
    sc.send(
        stream,
        &PublishResponse {
            results: vec![PublishResult {
                replay_id: ReplayId::from_u64(5).to_bytes(),
                error: None,
                correlation_key: "x1".into(),
            }],
            ..Default::default()
        },
    );
    sc.end(stream, 14, None);
    let results = published(&sc, id).unwrap();
    assert_eq!(results[0].result, Ok(ReplayId::from_u64(5)));
    assert!(matches!(results[1].result, Err(PublishFailure::Call(_))));
}

#[test]
fn bad_publishes_are_refused_at_once() {
    let mut sc = PubSubScenario::started(config(), &[]);
    assert!(matches!(
        sc.s.publish(TOPIC, vec![], sc.now),
        Err(PubSubError::InvalidOperation(_))
    ));
    let long = PublishEvent::with_id("x".repeat(37), event_json(1));
    assert!(matches!(
        sc.s.publish(TOPIC, vec![long], sc.now),
        Err(PubSubError::InvalidOperation(_))
    ));
    let e = PublishEvent::new(event_json(1));
    assert!(matches!(
        sc.s.publish("Order__e", vec![e], sc.now),
        Err(PubSubError::InvalidOperation(_))
    ));
}

#[test]
fn closing_fails_what_was_not_answered() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let queued =
        sc.s.publish(TOPIC, vec![PublishEvent::new(event_json(1))], sc.now)
            .unwrap();
    sc.s.close(sc.now);
    sc.pump();
    assert!(sc.events.iter().any(|e| matches!(e, PubSubEvent::PublishFailed { id, error: PubSubError::Closed, .. } if *id == queued)));
    assert!(sc.calls.values().all(|c| c.cancelled || c.ended));
    let _ = PublishResponse::decode(&[][..]);
}

#[test]
fn a_silent_publish_stream_fails_what_it_owes_after_the_watchdog() {
    let mut sc = PubSubScenario::started(config(), &[]);
    let id =
        sc.s.publish_on_stream(
            TOPIC,
            vec![PublishEvent::with_id("w1", event_json(1))],
            sc.now,
        )
        .unwrap();
    serve_topic(&mut sc, true);
    let stream = sc.live(CallKind::PublishStream)[0];
    sc.accept(stream);
    sc.advance(149_999);
    assert!(published(&sc, id).is_none());
    sc.advance(1);
    assert!(sc.call(stream).cancelled);
    let results = published(&sc, id).unwrap();
    assert!(matches!(&results[0].result, Err(PublishFailure::Call(m)) if m.contains("looks dead")));
}
