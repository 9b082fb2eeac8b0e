//! The HTTP/JSON control API on the gRPC port: what a Node or Python test would do — create a
//! topic, publish JSON, queue a fault, create a managed subscription, move the clock, read
//! statistics — checked against what a gRPC client sees.

mod common;

use common::*;
use serde_json::{Value, json};
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{ManagedFetchRequest, ReplayPreset, TopicRequest};
use tonic::Code;

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = http.post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_test_in_another_language_can_drive_everything() {
    let (emulator, mut client) = start(PubSubEmulator::builder()).await;
    let base = emulator.url().to_owned();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{base}/_emulator/{p}");

    let settings: Value = http
        .get(url("settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["org_id"], emulator.org_id());
    assert_eq!(settings["access_token"], emulator.access_token());

    let (status, body) = post(&http, url("topics"), json!({
        "name": "/event/Low_Ink__e",
        "fields": [{"name": "Printer__c", "type": "text"}, {"name": "Level__c", "type": "number"}]
    }))
    .await;
    assert_eq!(
        (status, body["kind"].as_str()),
        (201, Some("platform_event"))
    );
    let (status, body) = post(
        &http,
        url("topics"),
        json!({"name": "/topic/Old", "fields": []}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("/event/"));

    let mut sub = subscribe(
        &mut client,
        &emulator,
        fetch("/event/Low_Ink__e", ReplayPreset::Earliest, None, 10),
    )
    .await
    .unwrap();
    let (status, body) = post(
        &http,
        url("publish"),
        json!({"topic": "/event/Low_Ink__e", "payload": {"Printer__c": "XZO-5", "Level__c": 0.1}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let replay_b64 = body["replay_id"].as_str().unwrap().to_owned();
    let got = events(&mut sub, 1).await;
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&got[0].replay_id),
        replay_b64
    );
    let (_, body) = post(
        &http,
        url("publish"),
        json!({"topic": "/event/Low_Ink__e", "count": 2}),
    )
    .await;
    assert_eq!(body["replay_ids"].as_array().unwrap().len(), 2);
    let (status, body) = post(
        &http,
        url("publish"),
        json!({"topic": "/event/Low_Ink__e", "payload": {"Level__c": "low"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("Level__c"),
        "{body}"
    );
    let (status, _) = post(
        &http,
        url("publish"),
        json!({"topic": "/event/Nope__e", "payload": {}}),
    )
    .await;
    assert_eq!(status, 404);

    let (_, body) = post(&http, url("faults"), json!({"count": 1, "fault": {"kind": "status", "code": 14, "error_code": "service.unavailable", "message": "down"}, "target": "unary"})).await;
    assert_eq!(body["queued"], 1);
    let status = client
        .get_topic(auth(
            &emulator,
            TopicRequest {
                topic_name: "/event/Low_Ink__e".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_salesforce_error(&status, Code::Unavailable, "service.unavailable");
    let (status, _) = post(&http, url("faults"), json!({"fault": {"kind": "nonsense"}})).await;
    assert_eq!(status, 400);

    let (status, body) = post(&http, url("managed_subscriptions"), json!({"developer_name": "Ink", "topic": "/event/Low_Ink__e", "default_replay": "EARLIEST"})).await;
    assert_eq!(status, 201, "{body}");
    let mut managed_stream = managed(
        &mut client,
        &emulator,
        ManagedFetchRequest {
            developer_name: "Ink".into(),
            num_requested: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(managed_stream.message().await.events.len(), 3);
    let (status, _) = post(
        &http,
        url("managed_subscriptions/state"),
        json!({"subscription": "Ink", "state": "STOP"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_salesforce_error(
        &managed_stream.error().await,
        Code::FailedPrecondition,
        "managed.subscription.config.stopped",
    );

    let before = emulator.control().now_ms();
    let (_, body) = post(&http, url("clock/advance"), json!({"ms": 73 * 3600 * 1000})).await;
    assert!(body["now_ms"].as_u64().unwrap() >= before + 73 * 3600 * 1000);
    let topics: Value = http
        .get(url("topics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ink = topics["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "/event/Low_Ink__e")
        .unwrap()
        .clone();
    assert_eq!(ink["retained"], 0, "retention purged everything");

    let (_, body) = post(&http, url("tokens"), json!({})).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (_, body) = post(&http, url("tokens/expire"), json!({})).await;
    assert_eq!(body["expired"], 2);
    let stats: Value = http
        .get(url("stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["topics"]["/event/Low_Ink__e"]["published"], 3);
    assert_eq!(stats["faults"]["status"], 1);
    assert_eq!(stats["calls"]["GetTopic"], 1);
    let url = emulator.url().to_owned();
    let refused = client
        .get_topic(with_credentials(
            TopicRequest {
                topic_name: "/event/Low_Ink__e".into(),
            },
            &token,
            &url,
            emulator.org_id(),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::Unauthenticated,
        "issued, then expired"
    );
}
