//! Events the npm `salesforce-pubsub-api-client` publishes (Avro-encoded by that client from the
//! topic's schema) reach sfstream's tokio client under the replay ids the publisher was given,
//! in order, once, decoded to exactly the payload the npm client itself decodes from the same
//! events: field for field, unions, nulls, longs, doubles and booleans alike.
//!
//! Both against the emulator over TLS. The npm client is pinned by
//! `tests/interop/pubsub-npm/package-lock.json`; the test command installs it (this test fails,
//! never skips, without it or without Node.js).

mod pubsub_npm_common;

use pubsub_npm_common::*;
use serde_json::{Value, json};
use sfstream_tokio::pubsub::{self, Credentials, PubSubReplayFrom, Secret};

const COUNT_VAR: &str = "SFSTREAM_TEST_NPM_PUBSUB_COUNT";

/// What the npm client publishes: its JSON form of Avro values (a union branch named by its
/// type), every field type of the topic, nulls among them.
fn payloads() -> Vec<Value> {
    let user = "005EM0000000001AAA";
    vec![
        json!({"CreatedDate": 1_700_000_000_001_i64, "CreatedById": user,
               "OrderNumber__c": {"string": "N-1"}, "Amount__c": {"double": 9.5},
               "Shipped__c": {"boolean": false}, "ShipDate__c": {"long": 1_700_000_086_400_000_i64}}),
        json!({"CreatedDate": 1_700_000_000_002_i64, "CreatedById": user,
               "OrderNumber__c": {"string": "N-2 é ✓ \"quoted\""}, "Amount__c": null,
               "Shipped__c": {"boolean": true}, "ShipDate__c": null}),
        json!({"CreatedDate": 1_700_000_000_003_i64, "CreatedById": user,
               "OrderNumber__c": null, "Amount__c": {"double": -0.125},
               "Shipped__c": null, "ShipDate__c": {"long": 0}}),
    ]
}

#[test]
fn events_published_by_the_npm_client_reach_sfstream_decoded_alike() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let tls = start_tls(&runtime, "npm-publishes");
    let emulator = &tls.emulator;
    let sent = payloads();

    // The npm client subscribes too: its decoding of the same events is the reference.
    let npm_subscriber = npm_client(emulator, "subscribe", &[ORDERS.to_owned()]);
    npm_subscriber.subscribed(&[ORDERS]);
    let ours = SfstreamChild::start(
        &tls,
        "sfstream_receives",
        &[(COUNT_VAR, sent.len().to_string())],
    );
    ours.lines_of("open", 1);

    let mut args = vec![ORDERS.to_owned()];
    args.extend(sent.iter().map(Value::to_string));
    let publisher = npm_client(emulator, "publish", &args);
    let published: Vec<u64> = lines_of(&publisher, "published", sent.len())
        .iter()
        .map(|l| {
            l["replayId"]
                .as_u64()
                .unwrap_or_else(|| panic!("a replay id: {l}"))
        })
        .collect();
    publisher.stop();

    let received = ours.lines_of("message", sent.len());
    let mut reference = lines_of(&npm_subscriber, "message", sent.len());
    let id = |l: &Value| l["replayId"].as_u64().expect("a replay id");
    assert_eq!(
        received.iter().map(id).collect::<Vec<_>>(),
        published,
        "sfstream: every event, in order, once"
    );
    // The npm client may hand over the first events of a stream out of order: its handler of
    // each response awaits the schema, fetched once per handler until one has cached it, so
    // the handler that started second can finish first. Its events are compared by replay id.
    reference.sort_by_key(id);
    assert_eq!(
        reference.iter().map(id).collect::<Vec<_>>(),
        published,
        "npm: every event, once"
    );

    for ((got, npm), sent) in received.iter().zip(&reference).zip(&sent) {
        let (got, npm) = (&got["payload"], &npm["payload"]);
        assert_eq!(
            got, npm,
            "sfstream and the npm client decode the same event alike"
        );
        // And both say what was published, union branches unwrapped.
        for (field, value) in sent.as_object().expect("an object") {
            let plain = match value {
                Value::Object(branch) => branch.values().next().cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            assert_eq!(got[field], plain, "{field} of {got}");
        }
    }
    ours.passed();
    npm_subscriber.no_more_messages(std::time::Duration::from_millis(300));
    npm_subscriber.stop();
}

/// The child half: sfstream's tokio client, trusting the emulator's certificate through
/// `SSL_CERT_FILE`, subscribed from the earliest event; prints `open`, then one `message` line
/// per event (replay id as a number, decoded payload).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by events_published_by_the_npm_client_reach_sfstream_decoded_alike"]
async fn sfstream_receives() {
    let (url, token, org) = child_env();
    let count: usize = std::env::var(COUNT_VAR)
        .expect("run by the parent test")
        .parse()
        .expect("a count");
    let client = pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new(token),
        instance_url: url.clone(),
    })
    .url(&url)
    .tenant_id(org)
    .replay(PubSubReplayFrom::Earliest)
    .build()
    .expect("a client");
    client.subscribe(ORDERS).await.expect("subscribed");
    tokio::time::timeout(WAIT, client.open())
        .await
        .expect("open in time")
        .expect("open over TLS");
    say(&json!({"event": "open"}));
    for _ in 0..count {
        let m = tokio::time::timeout(WAIT, client.receive())
            .await
            .expect("an event in time")
            .expect("an event");
        assert_eq!(m.decode_error(), None, "{m:?}");
        say(&json!({
            "event": "message",
            "topic": m.topic(),
            "replayId": m.replay_id().as_u64(),
            "payload": m.payload(),
        }));
    }
    let _ = tokio::time::timeout(WAIT, client.close()).await;
}
