//! Protobuf decoding of what a Pub/Sub server sends: arbitrary bytes decoded as each response
//! message (FetchResponse, ManagedFetchResponse, PublishResponse, TopicInfo, SchemaInfo), from a
//! `Bytes` buffer as the frame decoder yields them. Nothing may panic; a message that decodes
//! encodes again to bytes that decode to the same message.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use sfstream_core::pubsub::proto::{
    FetchResponse, ManagedFetchResponse, PublishResponse, SchemaInfo, TopicInfo,
};

fn check<M: Message + Default + PartialEq + std::fmt::Debug>(data: &Bytes) {
    if let Ok(message) = M::decode(data.clone()) {
        let again =
            M::decode(Bytes::from(message.encode_to_vec())).expect("re-encoded bytes decode");
        assert_eq!(again, message);
        let _ = format!("{message:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let data = Bytes::copy_from_slice(data);
    check::<FetchResponse>(&data);
    check::<ManagedFetchResponse>(&data);
    check::<PublishResponse>(&data);
    check::<TopicInfo>(&data);
    check::<SchemaInfo>(&data);
});
