//! The six methods answer at their exact paths (`/eventbus.v1.PubSub/<Method>`), called with a
//! generic gRPC client that names each path itself; any other path is `UNIMPLEMENTED`.

mod common;

use common::*;
use http::uri::PathAndQuery;
use sfstream_emulator_pubsub::PubSubEmulator;
use sfstream_emulator_pubsub::proto::{
    FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse, PublishRequest,
    PublishResponse, ReplayPreset, SchemaInfo, SchemaRequest, TopicInfo, TopicRequest,
};
use tonic::client::Grpc;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

async fn grpc(emulator: &PubSubEmulator) -> Grpc<Channel> {
    let channel = Channel::from_shared(emulator.url().to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    Grpc::new(channel)
}

#[tokio::test]
async fn every_method_answers_at_its_exact_path() {
    let emulator = PubSubEmulator::builder()
        .idle_timeout(std::time::Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let control = emulator.control();
    control
        .create_managed_subscription(
            "Orders",
            "/event/Order__e",
            Default::default(),
            Default::default(),
        )
        .unwrap();
    let mut g = grpc(&emulator).await;

    g.ready().await.unwrap();
    let topic: TopicInfo = g
        .unary(
            auth(
                &emulator,
                TopicRequest {
                    topic_name: "/event/Order__e".into(),
                },
            ),
            PathAndQuery::from_static("/eventbus.v1.PubSub/GetTopic"),
            ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(topic.topic_name, "/event/Order__e");

    g.ready().await.unwrap();
    let schema: SchemaInfo = g
        .unary(
            auth(
                &emulator,
                SchemaRequest {
                    schema_id: topic.schema_id.clone(),
                },
            ),
            PathAndQuery::from_static("/eventbus.v1.PubSub/GetSchema"),
            ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schema.schema_id, topic.schema_id);

    g.ready().await.unwrap();
    let published: PublishResponse = g
        .unary(
            auth(
                &emulator,
                PublishRequest {
                    topic_name: "/event/Order__e".into(),
                    events: vec![],
                    auth_refresh: String::new(),
                },
            ),
            PathAndQuery::from_static("/eventbus.v1.PubSub/Publish"),
            ProstCodec::default(),
        )
        .await
        .map(|r| r.into_inner())
        .unwrap_or_else(|status| {
            // An empty batch is refused, which proves the method is there.
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            PublishResponse::default()
        });
    assert!(published.results.is_empty());

    g.ready().await.unwrap();
    let fetch = fetch("/event/Order__e", ReplayPreset::Latest, None, 1);
    let mut stream = g
        .streaming::<_, FetchRequest, FetchResponse, _>(
            auth(&emulator, tokio_stream::iter(vec![fetch])),
            PathAndQuery::from_static("/eventbus.v1.PubSub/Subscribe"),
            ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    control
        .publish("/event/Order__e", serde_json::json!({}))
        .unwrap();
    let got = tokio::time::timeout(WAIT, stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.events.len(), 1);

    g.ready().await.unwrap();
    let mut stream = g
        .streaming::<_, PublishRequest, PublishResponse, _>(
            auth(
                &emulator,
                tokio_stream::iter(vec![PublishRequest {
                    topic_name: "/event/Order__e".into(),
                    ..Default::default()
                }]),
            ),
            PathAndQuery::from_static("/eventbus.v1.PubSub/PublishStream"),
            ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    let status = tokio::time::timeout(WAIT, stream.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");

    g.ready().await.unwrap();
    let managed = ManagedFetchRequest {
        developer_name: "Orders".into(),
        num_requested: 1,
        ..Default::default()
    };
    let mut stream = g
        .streaming::<_, ManagedFetchRequest, ManagedFetchResponse, _>(
            auth(&emulator, tokio_stream::iter(vec![managed])),
            PathAndQuery::from_static("/eventbus.v1.PubSub/ManagedSubscribe"),
            ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    control
        .publish("/event/Order__e", serde_json::json!({}))
        .unwrap();
    let got = tokio::time::timeout(WAIT, stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.events.len(), 1);

    g.ready().await.unwrap();
    let status = g
        .unary::<TopicRequest, TopicInfo, _>(
            auth(&emulator, TopicRequest::default()),
            PathAndQuery::from_static("/eventbus.v1.PubSub/GetTopics"),
            ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    emulator.shutdown().await;
}
