//! Plain HTTP/2 (h2c, prior knowledge) from the blocking runtime to a loopback emulator: streams
//! of several topics and unary calls share the origin at once, each topic's events arrive on its
//! own stream; plain `http://` to any other host is refused before anything is sent.

mod pubsub_common;

use pubsub_common::*;
use sfstream_blocking::pubsub::{self, Credentials, Error, PubSubError, Secret};
use sfstream_emulator_pubsub::PubSubEmulator;

#[test]
fn two_topics_and_a_unary_call_share_the_loopback_origin() {
    let emulator = Emulator::start(PubSubEmulator::builder());
    assert!(
        emulator.url().starts_with("http://127.0.0.1:"),
        "{}",
        emulator.url()
    );
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).unwrap();
    client.subscribe(ACCOUNTS).unwrap();
    client.open().unwrap();
    let info = client.get_topic(ACCOUNTS).unwrap();
    assert_eq!(info.topic_name, ACCOUNTS);
    assert_eq!(
        emulator.control().stats().totals.subscribe_streams_open,
        2,
        "both streams open at once"
    );

    let orders = published(&emulator.control().publish_generated(ORDERS, 30).unwrap());
    let accounts = published(&emulator.control().publish_generated(ACCOUNTS, 20).unwrap());
    let received = receive_n(&client, 50);
    let of = |topic: &str| {
        let events: Vec<_> = received
            .iter()
            .filter(|m| m.topic() == topic)
            .cloned()
            .collect();
        ids(&events)
    };
    assert_eq!(of(ORDERS), orders, "each topic's events in order");
    assert_eq!(of(ACCOUNTS), accounts, "each topic's events in order");
    let mut topics = client.topics();
    topics.sort();
    assert_eq!(topics, [ACCOUNTS, ORDERS]);
    assert!(
        client.outstanding(ORDERS).is_some(),
        "an open stream owes credits"
    );
    client.close().unwrap();
    assert_eq!(client.outstanding(ORDERS), None, "no stream after close");
}

#[test]
fn plain_http_to_another_host_is_refused_at_build() {
    let refused = pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new("00D000000000001!token"),
        instance_url: "https://example.my.salesforce.com".into(),
    })
    .url("http://api.pubsub.salesforce.com:7443")
    .build()
    .expect_err("plain http to a remote host");
    let Error::Session(PubSubError::Config(message)) = &refused else {
        panic!("a configuration error: {refused:?}");
    };
    assert!(message.contains("use https://"), "names the fix: {message}");
    assert!(
        !message.contains("token"),
        "no credential in the error: {message}"
    );
}
