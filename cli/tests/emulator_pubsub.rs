//! `sfstream emulator` serves both APIs: it prints the Streaming API's and the Pub/Sub API's
//! addresses, both answer, and they share the org id and the access tokens (the pre-issued one
//! and those of the token endpoint).

mod common;

use std::time::Duration;

use common::{setting, signal, start_emulator, wait_status};
use sfstream_emulator_pubsub::proto::TopicRequest;
use sfstream_emulator_pubsub::proto::pub_sub_client::PubSubClient;
use tonic::Code;
use tonic::transport::Channel;

/// `GetTopic` on `/event/Order__e` with these credentials.
async fn get_topic(
    url: &str,
    token: &str,
    instance_url: &str,
    tenant: &str,
) -> Result<String, tonic::Status> {
    let channel = Channel::from_shared(url.to_owned())
        .expect("a URL")
        .connect()
        .await
        .expect("the Pub/Sub API accepts connections");
    let mut request = tonic::Request::new(TopicRequest {
        topic_name: "/event/Order__e".into(),
    });
    let md = request.metadata_mut();
    md.insert("accesstoken", token.parse().expect("ascii"));
    md.insert("instanceurl", instance_url.parse().expect("ascii"));
    md.insert("tenantid", tenant.parse().expect("ascii"));
    let info = PubSubClient::new(channel)
        .get_topic(request)
        .await?
        .into_inner();
    assert_eq!(info.topic_name, "/event/Order__e");
    assert!(!info.schema_id.is_empty(), "{info:?}");
    Ok(info.tenant_guid)
}

#[test]
fn both_apis_answer_with_the_same_org_and_tokens() {
    let (mut emulator, out, printed) =
        start_emulator(&["--port", "0", "--pubsub-port", "0", "--seed", "3"]);
    // The Streaming API, as before.
    let base = setting(&printed, "login / instance URL").to_owned();
    assert!(base.starts_with("http://localhost:"), "{printed}");
    // The Pub/Sub API, beside it.
    let grpc = setting(&printed, "gRPC URL").to_owned();
    assert!(grpc.starts_with("http://127.0.0.1:"), "{printed}");
    assert!(
        printed.contains(&format!("Pub/Sub API (gRPC) listening on {grpc}\n")),
        "{printed}"
    );
    assert_ne!(grpc, base.replace("localhost", "127.0.0.1"), "two ports");
    assert!(
        setting(&printed, "topics").contains("/data/AccountChangeEvent"),
        "{printed}"
    );
    let token = setting(&printed, "accesstoken").to_owned();
    let tenant = setting(&printed, "tenantid").to_owned();
    assert_eq!(setting(&printed, "instanceurl"), base, "{printed}");
    assert_eq!(tenant.len(), 18, "{printed}");
    assert!(
        printed.contains(&format!("export SF_LOGIN_URL={base}\n")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("SF_ACCESS_TOKEN={token} ")),
        "the same ready token in both:\n{printed}"
    );
    let export = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no {name}:\n{printed}"))
            .to_owned()
    };

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        // A token request to the Streaming side (password flow with the printed settings).
        let (password, user) = (export("SF_PASSWORD"), export("SF_USERNAME"));
        let form = [
            ("grant_type", "password"),
            ("client_id", &export("SF_CLIENT_ID")),
            ("client_secret", &export("SF_CLIENT_SECRET")),
            ("username", &user),
            ("password", &password),
        ];
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace('@', "%40")))
            .collect::<Vec<_>>()
            .join("&");
        let reply = reqwest::Client::new()
            .post(format!("{base}/services/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the Streaming API answers");
        assert_eq!(reply.status(), 200);
        let reply: serde_json::Value =
            serde_json::from_slice(&reply.bytes().await.expect("a body")).expect("JSON");
        let issued = reply["access_token"].as_str().expect("a token").to_owned();
        assert_ne!(issued, token, "a fresh token");
        let org15: String = tenant.chars().take(15).collect();
        assert!(
            reply["id"].as_str().is_some_and(|id| id.contains(&org15)),
            "the same org: {reply}"
        );

        // A gRPC call to the Pub/Sub side: the printed token, and the one just issued by the
        // Streaming side's token endpoint, in the 18- and 15-character forms of the org id.
        let answered = get_topic(&grpc, &token, &base, &tenant).await;
        assert_eq!(answered.expect("the printed token works"), tenant);
        let answered = get_topic(&grpc, &issued, &base, &org15).await;
        assert_eq!(answered.expect("the issued token works"), tenant);
        // The printed publish example, through the Pub/Sub control API.
        let example = printed
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("curl -s {grpc}/_emulator/publish "))
            })
            .unwrap_or_else(|| panic!("no Pub/Sub publish example:\n{printed}"));
        let body = example
            .split_once("-d '")
            .and_then(|(_, b)| b.strip_suffix('\''))
            .expect("a JSON body");
        let reply = reqwest::Client::new()
            .post(format!("{grpc}/_emulator/publish"))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("the Pub/Sub control API answers");
        assert_eq!(reply.status(), 200);
        let reply: serde_json::Value =
            serde_json::from_slice(&reply.bytes().await.expect("a body")).expect("JSON");
        assert!(
            reply["replay_id"].as_str().is_some_and(|id| id.len() == 12),
            "{reply}"
        );

        let refused = get_topic(&grpc, "not-a-token", &base, &tenant)
            .await
            .expect_err("an unknown token is refused");
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
        let refused = get_topic(&grpc, &token, &base, "00DEM0000000002AAA")
            .await
            .expect_err("another org is refused");
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    });

    signal(&emulator, "TERM");
    drop(out);
    assert_eq!(
        wait_status(&mut emulator, Duration::from_secs(10)).code(),
        Some(0)
    );
}
