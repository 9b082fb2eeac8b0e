//! Pub/Sub re-authentication on tokio: when the server refuses the token (`UNAUTHENTICATED`, as
//! after a revocation or expiry), the client fetches a new one from the token endpoint (the
//! Streaming API emulator's OAuth, whose tokens the Pub/Sub emulator checks, as `sfstream
//! emulator` wires them) and opens its streams again from where they stopped: nothing lost.

mod pubsub_common;

use pubsub_common::*;
use sfstream_emulator_pubsub::{AuthOutcome, Fault, FaultTarget, PubSubEmulator};
use sfstream_tests::Emu;
use sfstream_tokio::pubsub;

#[test]
fn a_refused_token_is_renewed_and_the_stream_resumes() {
    // The OAuth side: the Streaming API emulator on its own thread and runtime.
    let oauth = Emu::start();
    let credentials = oauth.password();
    let tokens = oauth.control.clone();
    let org_id = oauth.control.org_id().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let org = org_id.clone();
        let checked = tokens.clone();
        let emulator = start(PubSubEmulator::builder().org_id(&org_id).token_check(
            move |token: &str, _instance: &str, tenant: &str| {
                // The org id in its 15- or 18-character form, and a token the OAuth side issued.
                if tenant.starts_with(&org) && checked.accepts_token(token) {
                    AuthOutcome::Ok
                } else {
                    AuthOutcome::Unauthenticated
                }
            },
        ))
        .await;
        let published = emulator.control().publish_generated(ORDERS, 120).unwrap();
        let client = pubsub::builder(credentials)
            .url(emulator.url())
            .replay(pubsub::PubSubReplayFrom::Earliest)
            .retry(quick_retry())
            .max_pending(20)
            .seed(3)
            .build()
            .unwrap();
        client.subscribe(ORDERS).await.unwrap();
        within("open", client.open()).await.unwrap();
        let mut received = receive_n(&client, 30).await;
        assert_eq!(client.stats().token_requests, 1);

        // Every token is revoked, and the stream ends: opening it again is refused until the
        // client has a new token.
        assert!(tokens.revoke_tokens() >= 1);
        emulator
            .control()
            .fail_next_on(FaultTarget::Subscribe, 1, Fault::Unavailable);
        received.extend(receive_n(&client, 90).await);

        let got: Vec<Vec<u8>> = received
            .iter()
            .map(|m| m.replay_id().as_bytes().to_vec())
            .collect();
        let want: Vec<Vec<u8>> = published.iter().map(|id| id.to_bytes().to_vec()).collect();
        assert_eq!(got, want, "every event once, in order, across the renewal");
        let stats = client.stats();
        assert!(stats.reauthentications >= 1, "{stats:?}");
        assert!(stats.token_requests >= 2, "{stats:?}");
        let refused = emulator.control().stats();
        assert!(refused.totals.errors_sent >= 1, "{refused:?}");
        within("close", client.close()).await.unwrap();
        emulator.shutdown().await;
    });
}
