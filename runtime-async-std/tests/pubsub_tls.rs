//! Pub/Sub on async-io over TLS with ALPN `h2`: against the emulator with a generated
//! certificate, a client whose hyper client trusts it receives events; one on the platform's
//! verifier, which does not, is refused with a certificate error and keeps retrying, never
//! falling back to plain text.
#![cfg(feature = "pubsub")]

mod pubsub_common;

use pubsub_common::*;
use sfstream_async_std::pubsub::PubSubSessionEvent;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_http_async_io::Proxies;

fn tls_emulator(name: &str) -> (Emulator, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sfstream-as-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let emulator = Emulator::start(PubSubEmulator::builder().tls_cert_path(dir.join("e.pem")));
    assert!(
        emulator.url().starts_with("https://localhost:"),
        "{}",
        emulator.url()
    );
    (emulator, dir)
}

#[test]
fn a_client_trusting_the_certificate_receives_over_tls() {
    let (emulator, dir) = tls_emulator("tls-trusted");
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    smol::block_on(async {
        let runtime = trusting(&emulator, Proxies::none());
        let client = builder_on(runtime, &emulator).build().unwrap();
        client.subscribe(ORDERS).await.unwrap();
        within("open over TLS", client.open()).await.unwrap();
        let events = receive_n(&client, 3).await;
        assert!(events.iter().all(|e| e.payload().is_object()));
        within("close", client.close()).await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_untrusted_certificate_is_refused_and_retried() {
    let (emulator, dir) = tls_emulator("tls-untrusted");
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    smol::block_on(async {
        let client = builder(&emulator).build().unwrap();
        client.subscribe(ORDERS).await.unwrap();
        let mut session_events = client.session_events();
        let opening = client.clone();
        let open = smol::spawn(async move { opening.open().await });
        let mut refusals = Vec::new();
        within("two refused connections", async {
            while refusals.len() < 2 {
                match session_events.recv().await {
                    Some(PubSubSessionEvent::Reconnecting { reason, .. }) => {
                        refusals.push(reason.to_string());
                    }
                    Some(_) => {}
                    None => panic!("the session ended"),
                }
            }
        })
        .await;
        assert!(
            refusals
                .iter()
                .all(|r| r.to_lowercase().contains("certificate")),
            "the errors name the certificate: {refusals:?}"
        );
        assert_eq!(client.stats().events_received, 0);
        assert!(
            !open.is_finished(),
            "open waits while the stream cannot be made"
        );
        drop(open);
        within("close", client.close()).await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}
