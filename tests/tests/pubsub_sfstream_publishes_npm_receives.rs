//! Events sfstream's tokio client publishes (Avro-encoded by sfstream from JSON values, through
//! `Publish` and through `PublishStream`) reach the npm `salesforce-pubsub-api-client` under the
//! replay ids sfstream was given, once each, and the npm client decodes each to exactly the
//! JSON that was published.
//!
//! Both against the emulator over TLS. The npm client is pinned by
//! `tests/interop/pubsub-npm/package-lock.json`; the test command installs it (this test fails,
//! never skips, without it or without Node.js).

mod pubsub_npm_common;

use pubsub_npm_common::*;
use serde_json::{Value, json};
use sfstream_tokio::pubsub::{self, Credentials, PublishEvent, Secret};

/// What sfstream publishes: plain JSON values for every field of the topic, nulls among them.
fn payloads() -> Vec<Value> {
    let user = "005EM0000000001AAA";
    vec![
        json!({"CreatedDate": 1_700_000_000_001_i64, "CreatedById": user,
               "OrderNumber__c": "S-1", "Amount__c": 12.25, "Shipped__c": false,
               "ShipDate__c": 1_700_000_086_400_000_i64}),
        json!({"CreatedDate": 1_700_000_000_002_i64, "CreatedById": user,
               "OrderNumber__c": "S-2 é ✓ \"quoted\"", "Amount__c": null, "Shipped__c": true,
               "ShipDate__c": null}),
        json!({"CreatedDate": 1_700_000_000_003_i64, "CreatedById": user,
               "OrderNumber__c": null, "Amount__c": -0.125, "Shipped__c": null,
               "ShipDate__c": 0}),
        // Published on a `PublishStream`.
        json!({"CreatedDate": 1_700_000_000_004_i64, "CreatedById": user,
               "OrderNumber__c": "S-4", "Amount__c": 1234.5, "Shipped__c": true,
               "ShipDate__c": 1_700_000_000_000_i64}),
    ]
}

#[test]
fn events_published_by_sfstream_reach_the_npm_client_as_published() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let tls = start_tls(&runtime, "sfstream-publishes");
    let sent = payloads();

    let npm_subscriber = npm_client(&tls.emulator, "subscribe", &[ORDERS.to_owned()]);
    npm_subscriber.subscribed(&[ORDERS]);
    let ours = SfstreamChild::start(&tls, "sfstream_publishes", &[]);
    let outcomes = ours.lines_of("published", sent.len());
    ours.passed();
    let keys: Vec<&str> = outcomes
        .iter()
        .map(|o| o["correlationKey"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        ["s-1", "s-2", "s-3", "s-4"],
        "one outcome per event, in order"
    );
    let published: Vec<u64> = outcomes
        .iter()
        .map(|o| {
            o["replayId"]
                .as_u64()
                .unwrap_or_else(|| panic!("published: {o}"))
        })
        .collect();

    // The npm client may hand over the first events of a stream out of order (its handler of
    // each response awaits the schema, fetched once per handler until one has cached it): they
    // are compared by replay id, which the emulator assigns in publishing order.
    let mut got = lines_of(&npm_subscriber, "message", sent.len());
    let id = |l: &Value| l["replayId"].as_u64().expect("a replay id");
    got.sort_by_key(id);
    let ids: Vec<u64> = got.iter().map(id).collect();
    assert_eq!(ids, published, "every event, once, under its replay id");
    for (line, sent) in got.iter().zip(&sent) {
        assert_eq!(
            &line["payload"], sent,
            "the npm client decodes what sfstream published"
        );
    }
    npm_subscriber.no_more_messages(std::time::Duration::from_millis(300));
    npm_subscriber.stop();
    assert_eq!(
        tls.emulator.control().stats().totals.published,
        4,
        "the emulator took each event once"
    );
}

/// The child half: sfstream's tokio client, trusting the emulator's certificate through
/// `SSL_CERT_FILE`, publishes three events with `Publish` and one with `PublishStream`; prints
/// one `published` line per outcome (replay id as a number).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by events_published_by_sfstream_reach_the_npm_client_as_published"]
async fn sfstream_publishes() {
    let (url, token, org) = child_env();
    let client = pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new(token),
        instance_url: url.clone(),
    })
    .url(&url)
    .tenant_id(org)
    .build()
    .expect("a client");
    tokio::time::timeout(WAIT, client.open())
        .await
        .expect("open in time")
        .expect("open over TLS");
    let mut events: Vec<PublishEvent> = payloads()
        .into_iter()
        .enumerate()
        .map(|(i, p)| PublishEvent::with_id(format!("s-{}", i + 1), p))
        .collect();
    let last = events.pop().expect("four events");
    let mut outcomes = tokio::time::timeout(WAIT, client.publish(ORDERS, events))
        .await
        .expect("published in time")
        .expect("published");
    outcomes.extend(
        tokio::time::timeout(WAIT, client.publish_on_stream(ORDERS, vec![last]))
            .await
            .expect("published on the stream in time")
            .expect("published on the stream"),
    );
    for outcome in outcomes {
        let id = outcome
            .result
            .unwrap_or_else(|e| panic!("{} refused: {e:?}", outcome.correlation_key));
        say(&json!({
            "event": "published",
            "correlationKey": outcome.correlation_key,
            "replayId": id.as_u64(),
        }));
    }
    let _ = tokio::time::timeout(WAIT, client.close()).await;
}
