//! Interoperability of the Pub/Sub API emulator with the npm `salesforce-pubsub-api-client`, a
//! Pub/Sub client nobody here wrote: what works against the emulator must work for clients
//! other than ours.
//!
//! The test starts the emulator with TLS (the npm client speaks gRPC over TLS only) on a free
//! loopback port, then `node tests/interop/pubsub-npm/client.mjs` (the client pinned by its
//! `package-lock.json`), which subscribes or publishes and prints what happens as JSON lines.
//! The test publishes through the emulator's `Control` and checks what the client decoded, has
//! the client publish and checks what the emulator holds, and resumes from a replay id.
//!
//! Needs Node.js and `npm ci --prefix tests/interop/pubsub-npm` (the test command runs it).
//! Without them the test fails and says so; it never skips.

mod pubsub_npm_common;

use std::time::{Duration, Instant};

use pubsub_npm_common::{lines_of, npm_client};
use serde_json::{Value, json};
use sfstream_emulator_pubsub::{PubSubEmulator, TopicSummary};
use sfstream_tests::interop::LineClient;

const ORDERS: &str = "/event/Order__e";
const ACCOUNTS: &str = "/data/AccountChangeEvent";
/// How long the client may take to deliver what the test expects.
const WAIT: Duration = Duration::from_secs(20);

/// The next `n` `message` lines, in the order the client delivered them.
fn messages(client: &LineClient, n: usize) -> Vec<Value> {
    lines_of(client, "message", n)
}

/// `(channel, replay id)` of each message line.
fn ids(lines: &[Value]) -> Vec<(String, u64)> {
    lines
        .iter()
        .map(|l| {
            let id = l["replayId"].as_u64().expect("a numeric replay id");
            (l["channel"].as_str().unwrap_or_default().to_owned(), id)
        })
        .collect()
}

fn topic(emulator: &PubSubEmulator, name: &str) -> TopicSummary {
    emulator
        .control()
        .topics()
        .into_iter()
        .find(|t| t.name == name)
        .expect("the topic exists")
}

#[test]
fn the_npm_client_subscribes_publishes_and_resumes_through_the_emulator() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let emulator = runtime
        .block_on(
            PubSubEmulator::builder()
                .tls(true)
                // The subscriber announces itself at its stream's first keepalive.
                .keepalive(Duration::from_millis(200))
                .seed(18)
                .start(),
        )
        .expect("the emulator starts");
    let control = emulator.control();

    // 1. Subscribed to new events of a Platform Event topic and a change event topic.
    let subscriber = npm_client(
        &emulator,
        "subscribe",
        &[ORDERS.to_owned(), ACCOUNTS.to_owned()],
    );
    subscriber.subscribed(&[ORDERS, ACCOUNTS]);
    let orders = control
        .publish_many(
            ORDERS,
            (1..=3).map(|n| {
                json!({"OrderNumber__c": format!("A-{n}"), "Amount__c": f64::from(n) * 1.5,
                       "Shipped__c": n == 2, "ShipDate__c": 1_700_000_000_000_i64 + i64::from(n)})
            }),
        )
        .expect("published");
    let got = messages(&subscriber, 3);
    assert_eq!(
        ids(&got),
        orders
            .iter()
            .map(|id| (ORDERS.to_owned(), id.0))
            .collect::<Vec<_>>(),
        "every Platform Event, in order, once"
    );
    for (n, line) in (1..=3).zip(&got) {
        let p = &line["payload"];
        assert_eq!(p["OrderNumber__c"], format!("A-{n}"), "{line}");
        assert_eq!(p["Amount__c"], f64::from(n) * 1.5, "{line}");
        assert_eq!(p["Shipped__c"], n == 2, "{line}");
        assert_eq!(
            p["ShipDate__c"],
            1_700_000_000_000_i64 + i64::from(n),
            "{line}"
        );
        assert!(
            p["CreatedById"]
                .as_str()
                .is_some_and(|s| s.starts_with("005")),
            "{line}"
        );
        assert!(p["CreatedDate"].as_i64().is_some_and(|d| d > 0), "{line}");
    }

    let changes = control
        .publish_many(
            ACCOUNTS,
            [
                json!({"ChangeEventHeader": {"changeType": "CREATE"}, "Name": "Acme",
                       "NumberOfEmployees": 12}),
                json!({"ChangeEventHeader": {"changeType": "UPDATE"}, "Name": "Acme SA",
                       "Phone": null, "BillingAddress": {"City": "Paris"}}),
            ],
        )
        .expect("published");
    let got = messages(&subscriber, 2);
    assert_eq!(
        ids(&got),
        changes
            .iter()
            .map(|id| (ACCOUNTS.to_owned(), id.0))
            .collect::<Vec<_>>(),
        "every change event, in order, once"
    );
    let (create, update) = (&got[0]["payload"], &got[1]["payload"]);
    assert_eq!(
        create["ChangeEventHeader"]["changeType"], "CREATE",
        "{create}"
    );
    assert_eq!(
        create["ChangeEventHeader"]["entityName"], "Account",
        "{create}"
    );
    assert_eq!(create["Name"], "Acme", "{create}");
    assert_eq!(create["NumberOfEmployees"], 12, "{create}");
    let header = &update["ChangeEventHeader"];
    assert_eq!(header["changeType"], "UPDATE", "{update}");
    assert_eq!(update["Name"], "Acme SA", "{update}");
    assert_eq!(update["BillingAddress"]["City"], "Paris", "{update}");
    // The bitmaps, decoded by the npm client against the schema: the fields given, the compound
    // part as `BillingAddress.City`, and the field given as null.
    assert_eq!(
        header["changedFields"],
        json!(["Name", "Phone", "BillingAddress.City"]),
        "{update}"
    );
    assert_eq!(header["nulledFields"], json!(["Phone"]), "{update}");

    // 2. The npm client publishes; the emulator holds the events, the subscriber gets them.
    let before = topic(&emulator, ORDERS);
    let publisher = npm_client(
        &emulator,
        "publish",
        &[
            ORDERS.to_owned(),
            json!({"CreatedDate": 1_700_000_000_123_i64, "CreatedById": "005EM0000000001AAA",
                   "OrderNumber__c": {"string": "N-1"}, "Amount__c": {"double": 9.5},
                   "Shipped__c": null, "ShipDate__c": null})
            .to_string(),
            json!({"CreatedDate": 1_700_000_000_456_i64, "CreatedById": "005EM0000000001AAA",
                   "OrderNumber__c": {"string": "N-2"}, "Amount__c": null,
                   "Shipped__c": {"boolean": true}, "ShipDate__c": null})
            .to_string(),
        ],
    );
    let deadline = Instant::now() + WAIT;
    let mut published = Vec::new();
    while published.len() < 2 {
        let line = publisher
            .next(deadline.saturating_duration_since(Instant::now()))
            .expect("the npm client published");
        if line["event"] == "published" {
            let id = line["replayId"].as_u64();
            published.push(id.unwrap_or_else(|| panic!("a replay id: {line}")));
        }
    }
    assert!(published[0] < published[1], "{published:?}");
    let after = topic(&emulator, ORDERS);
    assert_eq!(
        after.retained,
        before.retained + 2,
        "the emulator holds both"
    );
    assert_eq!(
        after.tip_replay_id,
        sfstream_emulator_pubsub::ReplayId(published[1]).to_base64(),
        "the last one is the topic's newest"
    );
    assert_eq!(
        control.stats().totals.published,
        7,
        "3 + 2 by Control, 2 by npm"
    );
    let got = messages(&subscriber, 2);
    assert_eq!(
        ids(&got),
        published
            .iter()
            .map(|id| (ORDERS.to_owned(), *id))
            .collect::<Vec<_>>()
    );
    assert_eq!(got[0]["payload"]["OrderNumber__c"], "N-1", "{}", got[0]);
    assert_eq!(got[0]["payload"]["Amount__c"], 9.5, "{}", got[0]);
    assert_eq!(got[0]["payload"]["CreatedDate"], 1_700_000_000_123_i64);
    assert_eq!(got[1]["payload"]["Shipped__c"], true, "{}", got[1]);
    assert_eq!(got[1]["payload"]["Amount__c"], Value::Null, "{}", got[1]);
    subscriber.no_more_messages(Duration::from_millis(300));
    subscriber.stop();
    publisher.stop();

    // 3. A new client resumes after a replay id: the events after it, and only those.
    let missed = control
        .publish_many(ORDERS, ["B-1", "B-2"].map(|n| json!({"OrderNumber__c": n})))
        .expect("published");
    let resumed = npm_client(
        &emulator,
        "subscribe",
        &[format!("{ORDERS}={}", orders[2].0)],
    );
    let got = messages(&resumed, 4);
    let expected: Vec<(String, u64)> = published
        .iter()
        .copied()
        .chain(missed.iter().map(|id| id.0))
        .map(|id| (ORDERS.to_owned(), id))
        .collect();
    assert_eq!(
        ids(&got),
        expected,
        "the events after the replay id, in order"
    );
    assert_eq!(got[3]["payload"]["OrderNumber__c"], "B-2", "{}", got[3]);
    resumed.no_more_messages(Duration::from_millis(300));
    resumed.stop();
    drop(emulator);
}
