//! Pub/Sub on the blocking runtime over TLS with ALPN `h2`: against the emulator with a
//! generated certificate, a client whose HTTP/2 pool trusts it receives events; one on the
//! platform's verifier, which does not, is refused with a certificate error and keeps retrying,
//! never falling back to plain text.

mod pubsub_common;

use std::sync::mpsc;
use std::thread;

use pubsub_common::*;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use sfstream_blocking::Blocking;
use sfstream_blocking::pubsub::PubSubSessionEvent;
use sfstream_blocking::pubsub::http_async_io::Client;
use sfstream_emulator_pubsub::PubSubEmulator;

fn tls_emulator(name: &str) -> (Emulator, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sfstream-bl-{name}-{}", std::process::id()));
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
    let want = published(&emulator.control().publish_generated(ORDERS, 3).unwrap());
    let pem = emulator
        .get()
        .tls_cert_pem()
        .expect("the emulator's certificate");
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate"))
        .expect("a root");
    let pool = Client::builder()
        .root_certificates(roots)
        .build()
        .http2_pool();
    let client = builder_on(Blocking::new().with_http2_pool(pool), &emulator)
        .build()
        .unwrap();
    client.subscribe(ORDERS).unwrap();
    client.open().unwrap();
    let events = receive_n(&client, 3);
    assert_eq!(ids(&events), want);
    assert!(events.iter().all(|e| e.payload().is_object()));
    client.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_untrusted_certificate_is_refused_and_retried() {
    let (emulator, dir) = tls_emulator("tls-untrusted");
    emulator.control().publish_generated(ORDERS, 3).unwrap();
    let client = builder(&emulator).build().unwrap();
    client.subscribe(ORDERS).unwrap();
    let reports = client.session_events();
    let opening = client.clone();
    let open = thread::spawn(move || opening.open());

    // The session's reports, read on a thread of their own so the wait is bounded.
    let (tx, refusals) = mpsc::channel();
    thread::spawn(move || {
        for event in reports {
            if let PubSubSessionEvent::Reconnecting { reason, .. } = event {
                if tx.send(reason.to_string()).is_err() {
                    return;
                }
            }
        }
    });
    for _ in 0..2 {
        let reason = refusals
            .recv_timeout(WAIT)
            .expect("a refused connection, and a retry");
        assert!(
            reason.to_lowercase().contains("certificate"),
            "the error names the certificate: {reason}"
        );
    }
    assert_eq!(client.stats().events_received, 0);
    assert!(
        !open.is_finished(),
        "open waits while the stream cannot be made"
    );
    client.close().unwrap();
    let opened = open.join().expect("open returns without a panic");
    assert!(opened.is_err(), "open ends with the close: {opened:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
