//! The wire layer of the Salesforce Pub/Sub API (gRPC), pure like the rest of the core: bytes in,
//! values out.
//!
//! - [`proto`]: the `eventbus.v1` protobuf messages and method paths.
//! - [`frame`]: gRPC's length-prefixed message framing, and an incremental decoder of DATA
//!   chunks with a size limit.
//! - [`status`]: the response head and trailers (`grpc-status`, `grpc-message`, Salesforce's
//!   `error-code` and `rpc-id`) read into a [`Status`].
//! - [`classify()`]: what each failure means ([`PubSubErrorClass`] and its action).
//! - [`avro`]: event payloads: schema parsing, decoding to JSON or to serde types, encoding.
//! - [`cdc`]: change events' bitmap-encoded field lists turned into names.
//!
//! A subscription reads like this: frame and send `FetchRequest`s; feed each DATA chunk to a
//! [`frame::FrameDecoder`] and decode each message as a `FetchResponse`; decode each event's
//! payload with the [`avro::Schema`] of its `schema_id`; at the end, read the trailers with
//! [`status::read_trailers`] and act on [`Status::class`].
//!
//! ```
//! use prost::Message;
//! use sfstream_core::pubsub::avro::Schema;
//! use sfstream_core::pubsub::frame::{encode_message, FrameDecoder};
//! use sfstream_core::pubsub::proto::{ConsumerEvent, FetchResponse, ProducerEvent};
//!
//! let schema = Schema::parse(r#"{"type": "record", "name": "Ping__e", "fields": [
//!     {"name": "CreatedDate", "type": "long"}, {"name": "CreatedById", "type": "string"}]}"#).unwrap();
//! let payload = schema.encode_json(&serde_json::json!({"CreatedDate": 1, "CreatedById": "005"})).unwrap();
//!
//! // What the server would send: one FetchResponse with one event, framed.
//! let response = FetchResponse {
//!     events: vec![ConsumerEvent {
//!         event: Some(ProducerEvent { id: "e1".into(), schema_id: "s1".into(), payload: payload.into(), headers: vec![] }),
//!         replay_id: vec![0, 0, 0, 0, 0, 0, 0, 9].into(),
//!     }],
//!     pending_num_requested: 99,
//!     ..FetchResponse::default()
//! };
//! let wire = encode_message(&response).unwrap();
//!
//! let mut decoder = FrameDecoder::new();
//! decoder.push(&wire);
//! let frame = decoder.next_frame().unwrap().expect("one whole message");
//! let fetched = FetchResponse::decode(frame.payload).unwrap();
//! let event = fetched.events[0].event.as_ref().unwrap();
//! assert_eq!(event.schema_id, "s1");
//! assert_eq!(schema.decode_json(&event.payload).unwrap()["CreatedById"], "005");
//! ```

pub mod avro;
pub mod cdc;
pub mod classify;
pub mod frame;
pub mod proto;
pub mod session;
pub mod status;

pub use classify::{PubSubErrorClass, classify};
pub use session::{
    CallId, CallKind, CallOp, OpenCall, PubSubConfig, PubSubDisconnectReason, PubSubError,
    PubSubEvent, PubSubMessage, PubSubReplayFrom, PubSubSession, PubSubStats, PublishEvent,
    PublishFailure, PublishId, PublishOutcome, ReplayId, ReplayIdError, TopicStats,
};
pub use status::{GrpcStatus, Status};
/// The buffer and protobuf crates of the wire types, for code that must name them.
pub use {bytes, prost};
