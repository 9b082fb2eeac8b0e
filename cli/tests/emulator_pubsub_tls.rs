//! `sfstream emulator --pubsub-tls` serves the Pub/Sub API over TLS with a generated certificate,
//! written where `--pubsub-tls-cert` says and printed; a client trusting it gets answers.

mod common;

use std::time::Duration;

use common::{scratch_dir, setting, signal, start_emulator, wait_status};
use sfstream_emulator_pubsub::proto::TopicRequest;
use sfstream_emulator_pubsub::proto::pub_sub_client::PubSubClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

#[test]
fn the_pubsub_api_answers_over_tls_with_the_printed_certificate() {
    let dir = scratch_dir("pubsub-tls");
    let cert = dir.join("pubsub.pem");
    let cert_arg = cert.to_str().expect("a UTF-8 path");
    let (mut emulator, out, printed) = start_emulator(&[
        "--port",
        "0",
        "--pubsub-port",
        "0",
        "--pubsub-tls-cert",
        cert_arg,
    ]);
    let grpc = setting(&printed, "gRPC URL").to_owned();
    assert!(grpc.starts_with("https://localhost:"), "{printed}");
    assert_eq!(setting(&printed, "TLS certificate"), cert_arg, "{printed}");
    let pem = std::fs::read_to_string(&cert).expect("the certificate was written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let tenant = runtime.block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&pem))
            .domain_name("localhost");
        let channel = Channel::from_shared(grpc.clone())
            .expect("a URL")
            .tls_config(tls)
            .expect("TLS settings")
            .connect()
            .await
            .expect("a TLS connection");
        let mut request = tonic::Request::new(TopicRequest {
            topic_name: "/data/AccountChangeEvent".into(),
        });
        let md = request.metadata_mut();
        md.insert(
            "accesstoken",
            setting(&printed, "accesstoken").parse().expect("ascii"),
        );
        md.insert(
            "instanceurl",
            setting(&printed, "instanceurl").parse().expect("ascii"),
        );
        md.insert(
            "tenantid",
            setting(&printed, "tenantid").parse().expect("ascii"),
        );
        PubSubClient::new(channel)
            .get_topic(request)
            .await
            .expect("GetTopic answers over TLS")
            .into_inner()
            .tenant_guid
    });
    assert_eq!(tenant, setting(&printed, "tenantid"));

    signal(&emulator, "TERM");
    drop(out);
    assert_eq!(
        wait_status(&mut emulator, Duration::from_secs(10)).code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(dir);
}
