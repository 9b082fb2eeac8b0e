//! TLS: with TLS on, a self-signed certificate for `localhost` / `127.0.0.1` is written to a file,
//! a client that trusts it speaks gRPC over HTTP/2 (ALPN `h2`) and the control API over HTTPS;
//! a plaintext client does not get through.

mod common;

use common::*;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::TopicRequest;
use sfstream_emulator_pubsub::proto::pub_sub_client::PubSubClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

#[tokio::test]
async fn a_client_trusting_the_written_certificate_connects() {
    let dir = std::env::temp_dir().join(format!("sfstream-pubsub-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("emulator.pem");
    let emulator = PubSubEmulator::builder()
        .tls_cert_path(&path)
        .start()
        .await
        .unwrap();
    assert!(emulator.url().starts_with("https://localhost:"));
    assert_eq!(emulator.tls_cert_path(), Some(path.as_path()));
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(Some(pem.as_str()), emulator.tls_cert_pem());

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(emulator.url().to_owned())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = PubSubClient::new(channel);
    let info = client
        .get_topic(auth(
            &emulator,
            TopicRequest {
                topic_name: "/event/Order__e".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.tenant_guid, emulator.org_id());

    // Plaintext h2c to the TLS port fails.
    let plain = format!("http://127.0.0.1:{}", emulator.addr().port());
    let plaintext = async {
        let channel = Channel::from_shared(plain).unwrap().connect().await?;
        PubSubClient::new(channel)
            .get_topic(auth(
                &emulator,
                TopicRequest {
                    topic_name: "/event/Order__e".into(),
                },
            ))
            .await
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    };
    assert!(
        tokio::time::timeout(WAIT, plaintext)
            .await
            .unwrap()
            .is_err()
    );

    // The control API answers over HTTPS with the same certificate.
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let settings: serde_json::Value = http
        .get(format!("{}/_emulator/settings", emulator.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["tls_cert_path"], path.display().to_string());
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
