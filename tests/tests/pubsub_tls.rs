//! Pub/Sub on tokio over TLS with ALPN `h2`: against the emulator with a generated certificate,
//! a client that trusts it (installed in the trust store the platform's verifier reads, named
//! here by `SSL_CERT_FILE`) receives events; one that does not is refused with a certificate
//! error and keeps retrying, never falling back to plain text.

mod pubsub_common;

use std::process::Command;

use pubsub_common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_tokio::pubsub::{self, Credentials, PubSubReplayFrom, PubSubSessionEvent, Secret};

const URL_VAR: &str = "SFSTREAM_TEST_PUBSUB_TLS_URL";
const TOKEN_VAR: &str = "SFSTREAM_TEST_PUBSUB_TLS_TOKEN";
const ORG_VAR: &str = "SFSTREAM_TEST_PUBSUB_TLS_ORG";

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_certificate_receives_over_tls() {
    let dir =
        std::env::temp_dir().join(format!("sfstream-pubsub-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("emulator.pem");
    let emulator = start(PubSubEmulator::builder().tls_cert_path(&cert)).await;
    assert!(
        emulator.url().starts_with("https://localhost:"),
        "{}",
        emulator.url()
    );
    emulator.control().publish_generated(ORDERS, 3).unwrap();

    let (url, token, org) = (
        emulator.url().to_owned(),
        emulator.access_token().to_owned(),
        emulator.org_id().to_owned(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::current_exe().unwrap())
            .args(["tls_child", "--exact", "--ignored", "--nocapture"])
            .env("SSL_CERT_FILE", &cert)
            .env_remove("SSL_CERT_DIR")
            .env(URL_VAR, url)
            .env(TOKEN_VAR, token)
            .env(ORG_VAR, org)
            .output()
            .expect("the child test runs")
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    emulator.shutdown().await;
}

/// The child half of [`a_client_trusting_the_certificate_receives_over_tls`], run with
/// `SSL_CERT_FILE` naming the emulator's certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_client_trusting_the_certificate_receives_over_tls, with SSL_CERT_FILE set"]
async fn tls_child() {
    let var = |name: &str| std::env::var(name).expect("run by the parent test");
    let url = var(URL_VAR);
    let client = pubsub::builder(Credentials::AccessToken {
        access_token: Secret::new(var(TOKEN_VAR)),
        instance_url: url.clone(),
    })
    .url(&url)
    .tenant_id(var(ORG_VAR))
    .replay(PubSubReplayFrom::Earliest)
    .build()
    .unwrap();
    client.subscribe(ORDERS).await.unwrap();
    within("open over TLS", client.open()).await.unwrap();
    let events = receive_n(&client, 3).await;
    assert!(events.iter().all(|e| e.payload().is_object()));
    within("close", client.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_and_retried() {
    let dir =
        std::env::temp_dir().join(format!("sfstream-pubsub-untrusted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let emulator = start(PubSubEmulator::builder().tls_cert_path(dir.join("e.pem"))).await;
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).await.unwrap();
    let mut session_events = client.session_events();
    let opening = client.clone();
    let open = tokio::spawn(async move { opening.open().await });
    let refused = within("a refused connection", async {
        loop {
            match session_events.recv().await {
                Some(PubSubSessionEvent::Reconnecting { reason, .. }) => return reason.to_string(),
                Some(_) => continue,
                None => panic!("the session ended"),
            }
        }
    })
    .await;
    assert!(
        refused.to_lowercase().contains("certificate"),
        "the error names the certificate: {refused}"
    );
    assert_eq!(client.stats().events_received, 0);
    assert!(
        !open.is_finished(),
        "open waits while the stream cannot be made"
    );
    open.abort();
    within("close", client.close()).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    emulator.shutdown().await;
}
