//! Pub/Sub re-authentication on the blocking runtime: when the server refuses the token
//! (`UNAUTHENTICATED`, as after a revocation or expiry), the client fetches a new one from the
//! token endpoint over ureq (the Streaming API emulator's OAuth, whose tokens the Pub/Sub
//! emulator checks, as `sfstream emulator` wires them) and opens its streams again from where
//! they stopped: nothing lost, nothing twice.

mod pubsub_common;

use pubsub_common::*;
use sfstream_blocking::pubsub::{self, PubSubReplayFrom};
use sfstream_emulator_pubsub::{AuthOutcome, Fault, FaultTarget, PubSubEmulator};
use sfstream_tests::Emu;

#[test]
fn a_refused_token_is_renewed_and_the_stream_resumes() {
    let oauth = Emu::start();
    let tokens = oauth.control.clone();
    let org = oauth.control.org_id().to_owned();
    let emulator = Emulator::start(PubSubEmulator::builder().org_id(&org.clone()).token_check(
        move |token: &str, _instance: &str, tenant: &str| {
            // The org id in its 15- or 18-character form, and a token the OAuth side issued.
            if tenant.starts_with(&org) && tokens.accepts_token(token) {
                AuthOutcome::Ok
            } else {
                AuthOutcome::Unauthenticated
            }
        },
    ));
    let want = published(&emulator.control().publish_generated(ORDERS, 120).unwrap());
    let client = pubsub::builder(oauth.password())
        .url(emulator.url())
        .replay(PubSubReplayFrom::Earliest)
        .retry(quick_retry())
        .max_pending(20)
        .seed(3)
        .build()
        .unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let mut received = receive_n(&client, 30);
    assert_eq!(client.stats().token_requests, 1);

    // Every token is revoked and the stream ends: opening it again is refused until the client
    // has a new token.
    assert!(oauth.control.revoke_tokens() >= 1);
    emulator
        .control()
        .fail_next_on(FaultTarget::Subscribe, 1, Fault::Unavailable);
    received.extend(receive_n(&client, 90));

    assert_eq!(
        ids(&received),
        want,
        "every event once, in order, across the renewal"
    );
    let stats = client.stats();
    assert!(stats.reauthentications >= 1, "{stats:?}");
    assert!(stats.token_requests >= 2, "{stats:?}");
    assert!(emulator.control().stats().totals.errors_sent >= 1);
    client.close().unwrap();
}
