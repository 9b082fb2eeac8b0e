//! The `eventbus.v1` messages put every field on the wire under the number and wire type of the
//! Pub/Sub API's published tables: each message is encoded with every field set, and its raw
//! protobuf keys are read back by a scanner written here (not prost's).

use bytes::Bytes;
use prost::Message;
use sfstream_core::pubsub::proto::*;

const VARINT: u8 = 0;
const LEN: u8 = 2;

/// The (field number, wire type) of each top-level field in a protobuf message, in order.
fn keys(mut bytes: &[u8]) -> Vec<(u64, u8)> {
    fn varint(bytes: &mut &[u8]) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = bytes[0];
            *bytes = &bytes[1..];
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        let wire = (key & 7) as u8;
        match wire {
            VARINT => {
                varint(&mut bytes);
            }
            LEN => {
                let len = varint(&mut bytes) as usize;
                bytes = &bytes[len..];
            }
            other => panic!("unexpected wire type {other}"),
        }
        out.push((key >> 3, wire));
    }
    out
}

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

fn error() -> Error {
    Error {
        code: ErrorCode::Commit.into(),
        msg: "m".into(),
    }
}

fn producer_event() -> ProducerEvent {
    ProducerEvent {
        id: "id".into(),
        schema_id: "s".into(),
        payload: b(b"p"),
        headers: vec![EventHeader {
            key: "k".into(),
            value: b(b"v"),
        }],
    }
}

fn consumer_event() -> ConsumerEvent {
    ConsumerEvent {
        event: Some(producer_event()),
        replay_id: b(&[0, 0, 0, 0, 0, 0, 0, 1]),
    }
}

#[test]
fn topic_and_schema_messages() {
    let request = TopicRequest {
        topic_name: "t".into(),
    };
    assert_eq!(keys(&request.encode_to_vec()), [(1, LEN)]);
    let info = TopicInfo {
        topic_name: "t".into(),
        tenant_guid: "00D".into(),
        can_publish: true,
        can_subscribe: true,
        schema_id: "s".into(),
        rpc_id: "r".into(),
    };
    assert_eq!(
        keys(&info.encode_to_vec()),
        [
            (1, LEN),
            (2, LEN),
            (3, VARINT),
            (4, VARINT),
            (5, LEN),
            (6, LEN)
        ]
    );
    let request = SchemaRequest {
        schema_id: "s".into(),
    };
    assert_eq!(keys(&request.encode_to_vec()), [(1, LEN)]);
    let info = SchemaInfo {
        schema_json: "{}".into(),
        schema_id: "s".into(),
        rpc_id: "r".into(),
    };
    assert_eq!(keys(&info.encode_to_vec()), [(1, LEN), (2, LEN), (3, LEN)]);
}

#[test]
fn event_messages() {
    let header = EventHeader {
        key: "k".into(),
        value: b(b"v"),
    };
    assert_eq!(keys(&header.encode_to_vec()), [(1, LEN), (2, LEN)]);
    assert_eq!(
        keys(&producer_event().encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN), (4, LEN)]
    );
    assert_eq!(
        keys(&consumer_event().encode_to_vec()),
        [(1, LEN), (2, LEN)]
    );
    assert_eq!(keys(&error().encode_to_vec()), [(1, VARINT), (2, LEN)]);
    let result = PublishResult {
        replay_id: b(b"r"),
        error: Some(error()),
        correlation_key: "c".into(),
    };
    assert_eq!(
        keys(&result.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN)]
    );
}

#[test]
fn subscribe_messages() {
    let request = FetchRequest {
        topic_name: "t".into(),
        replay_preset: ReplayPreset::Custom.into(),
        replay_id: b(b"r"),
        num_requested: 7,
        auth_refresh: "a".into(),
    };
    assert_eq!(
        keys(&request.encode_to_vec()),
        [(1, LEN), (2, VARINT), (3, LEN), (4, VARINT), (5, LEN)]
    );
    let response = FetchResponse {
        events: vec![consumer_event()],
        latest_replay_id: b(b"r"),
        rpc_id: "r".into(),
        pending_num_requested: 3,
    };
    assert_eq!(
        keys(&response.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN), (4, VARINT)]
    );
}

#[test]
fn publish_messages() {
    let request = PublishRequest {
        topic_name: "t".into(),
        events: vec![producer_event()],
        auth_refresh: "a".into(),
    };
    assert_eq!(
        keys(&request.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN)]
    );
    let response = PublishResponse {
        results: vec![PublishResult::default()],
        schema_id: "s".into(),
        rpc_id: "r".into(),
    };
    assert_eq!(
        keys(&response.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN)]
    );
}

#[test]
fn managed_subscribe_messages() {
    let commit = CommitReplayRequest {
        commit_request_id: "c".into(),
        replay_id: b(b"r"),
    };
    assert_eq!(keys(&commit.encode_to_vec()), [(1, LEN), (2, LEN)]);
    let request = ManagedFetchRequest {
        subscription_id: "0Xx".into(),
        developer_name: "d".into(),
        num_requested: 5,
        auth_refresh: "a".into(),
        commit_replay_id_request: Some(commit),
    };
    assert_eq!(
        keys(&request.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, VARINT), (4, LEN), (5, LEN)]
    );
    let commit_response = CommitReplayResponse {
        commit_request_id: "c".into(),
        replay_id: b(b"r"),
        error: Some(error()),
        process_time: 1_700_000_000_000,
    };
    assert_eq!(
        keys(&commit_response.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN), (4, VARINT)]
    );
    let response = ManagedFetchResponse {
        events: vec![consumer_event()],
        latest_replay_id: b(b"r"),
        rpc_id: "r".into(),
        pending_num_requested: 1,
        commit_response: Some(commit_response),
    };
    assert_eq!(
        keys(&response.encode_to_vec()),
        [(1, LEN), (2, LEN), (3, LEN), (4, VARINT), (5, LEN)]
    );
}

#[test]
fn enum_values_match_the_published_numbers() {
    assert_eq!(ReplayPreset::Latest as i32, 0);
    assert_eq!(ReplayPreset::Earliest as i32, 1);
    assert_eq!(ReplayPreset::Custom as i32, 2);
    assert_eq!(ErrorCode::Unknown as i32, 0);
    assert_eq!(ErrorCode::Publish as i32, 1);
    assert_eq!(ErrorCode::Commit as i32, 2);
    // An unset preset is LATEST on the wire (proto3 default): the field is not even sent.
    let request = FetchRequest {
        topic_name: "t".into(),
        num_requested: 1,
        ..FetchRequest::default()
    };
    assert_eq!(keys(&request.encode_to_vec()), [(1, LEN), (4, VARINT)]);
}

#[test]
fn a_fetch_response_written_by_hand_decodes() {
    // FetchResponse { events: [ConsumerEvent { event: { id: "e", schema_id: "s", payload: 0x02 },
    // replay_id: 00..2A }], latest_replay_id: 00..2B, rpc_id: "r", pending_num_requested: 99 }
    let producer = [0x0a, 1, b'e', 0x12, 1, b's', 0x1a, 1, 0x02];
    let mut consumer = vec![0x0a, producer.len() as u8];
    consumer.extend_from_slice(&producer);
    consumer.extend_from_slice(&[0x12, 8, 0, 0, 0, 0, 0, 0, 0, 0x2a]);
    let mut wire = vec![0x0a, consumer.len() as u8];
    wire.extend_from_slice(&consumer);
    wire.extend_from_slice(&[0x12, 8, 0, 0, 0, 0, 0, 0, 0, 0x2b]);
    wire.extend_from_slice(&[0x1a, 1, b'r', 0x20, 99]);
    let response = FetchResponse::decode(Bytes::from(wire)).unwrap();
    assert_eq!(response.events.len(), 1);
    let event = &response.events[0];
    assert_eq!(&event.replay_id[..], &[0, 0, 0, 0, 0, 0, 0, 0x2a]);
    let inner = event.event.as_ref().unwrap();
    assert_eq!((inner.id.as_str(), inner.schema_id.as_str()), ("e", "s"));
    assert_eq!(&inner.payload[..], &[0x02]);
    assert_eq!(&response.latest_replay_id[..], &[0, 0, 0, 0, 0, 0, 0, 0x2b]);
    assert_eq!(response.rpc_id, "r");
    assert_eq!(response.pending_num_requested, 99);
}

#[test]
fn replay_ids_of_any_length_survive_unchanged() {
    // Ids are opaque: a 10-byte id has been seen; never assume 8.
    for id in [
        &[][..],
        &[1][..],
        &[0, 0, 0, 0, 0, 0, 0, 1][..],
        &[9; 10][..],
        &[0xff; 16][..],
    ] {
        let event = ConsumerEvent {
            event: None,
            replay_id: Bytes::copy_from_slice(id),
        };
        let back = ConsumerEvent::decode(event.encode_to_vec().as_slice()).unwrap();
        assert_eq!(&back.replay_id[..], id);
    }
}

#[test]
fn method_paths() {
    use sfstream_core::pubsub::proto::path;
    assert_eq!(path::SUBSCRIBE, "/eventbus.v1.PubSub/Subscribe");
    assert_eq!(path::GET_SCHEMA, "/eventbus.v1.PubSub/GetSchema");
    assert_eq!(path::GET_TOPIC, "/eventbus.v1.PubSub/GetTopic");
    assert_eq!(path::PUBLISH, "/eventbus.v1.PubSub/Publish");
    assert_eq!(path::PUBLISH_STREAM, "/eventbus.v1.PubSub/PublishStream");
    assert_eq!(
        path::MANAGED_SUBSCRIBE,
        "/eventbus.v1.PubSub/ManagedSubscribe"
    );
}
