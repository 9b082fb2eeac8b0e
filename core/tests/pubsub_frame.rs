//! gRPC message framing: the encoder's header, and the incremental decoder over any chunking,
//! with its size limit, compressed-flag rule and end-of-stream check.

use bytes::Bytes;
use prost::Message;
use sfstream_core::pubsub::frame::{
    DEFAULT_MAX_MESSAGE_SIZE, Frame, FrameDecoder, FrameError, encode_message, encode_message_into,
};
use sfstream_core::pubsub::proto::{FetchRequest, FetchResponse};

fn raw_frame(flag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn drain(decoder: &mut FrameDecoder) -> Result<Vec<Frame>, FrameError> {
    let mut out = Vec::new();
    while let Some(frame) = decoder.next_frame()? {
        out.push(frame);
    }
    Ok(out)
}

#[test]
fn the_encoder_writes_flag_zero_and_a_big_endian_length() {
    let request = FetchRequest {
        topic_name: "/event/Order_Event__e".into(),
        num_requested: 100,
        ..FetchRequest::default()
    };
    let framed = encode_message(&request).unwrap();
    let body = request.encode_to_vec();
    assert_eq!(framed[0], 0, "uncompressed");
    assert_eq!(&framed[1..5], &(body.len() as u32).to_be_bytes());
    assert_eq!(&framed[5..], &body[..]);

    // Several messages appended to one buffer.
    let mut buf = bytes::BytesMut::new();
    encode_message_into(&request, &mut buf).unwrap();
    encode_message_into(&FetchRequest::default(), &mut buf).unwrap();
    assert_eq!(
        buf.len(),
        framed.len() + 5,
        "an empty message is a bare header"
    );
    assert_eq!(&buf[framed.len()..], &[0, 0, 0, 0, 0]);
}

#[test]
fn messages_come_out_whole_whatever_the_chunking() {
    let payloads: Vec<Vec<u8>> = vec![
        b"first".to_vec(),
        Vec::new(),
        vec![7; 300],
        b"x".to_vec(),
        (0..=255).collect(),
    ];
    let stream: Vec<u8> = payloads.iter().flat_map(|p| raw_frame(0, p)).collect();
    for chunk_size in [1, 2, 3, 4, 5, 6, 7, 13, 64, 299, 306, 1000, stream.len()] {
        let mut decoder = FrameDecoder::new();
        let mut got = Vec::new();
        for chunk in stream.chunks(chunk_size) {
            decoder.push(chunk);
            got.extend(drain(&mut decoder).unwrap());
        }
        decoder.finish().unwrap();
        let got: Vec<Vec<u8>> = got
            .into_iter()
            .map(|f| {
                assert!(!f.compressed);
                f.payload.to_vec()
            })
            .collect();
        assert_eq!(got, payloads, "chunks of {chunk_size}");
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn a_message_waits_for_its_last_byte() {
    let frame = raw_frame(0, b"hello");
    let mut decoder = FrameDecoder::new();
    decoder.push(&frame[..frame.len() - 1]);
    assert_eq!(decoder.next_frame().unwrap(), None);
    assert_eq!(
        decoder.finish(),
        Err(FrameError::Truncated {
            buffered: 9,
            expected: 10
        })
    );
    decoder.push(&frame[frame.len() - 1..]);
    let got = decoder.next_frame().unwrap().unwrap();
    assert_eq!(got.payload, Bytes::from_static(b"hello"));
    decoder.finish().unwrap();
}

#[test]
fn a_stream_cut_inside_a_header_is_truncated() {
    let mut decoder = FrameDecoder::new();
    decoder.push(&[0, 0, 0]);
    assert_eq!(decoder.next_frame().unwrap(), None);
    let error = decoder.finish().unwrap_err();
    assert_eq!(
        error,
        FrameError::Truncated {
            buffered: 3,
            expected: 5
        }
    );
    assert!(
        error.to_string().contains("ended inside a gRPC message"),
        "{error}"
    );
}

#[test]
fn the_default_limit_is_far_above_grpcs_usual_four_mebibytes() {
    assert_eq!(DEFAULT_MAX_MESSAGE_SIZE, 16 * 1024 * 1024);
    // A FetchResponse of 12 MB (a dozen 1 MB events) arrives whole in chunks of 16 KiB (HTTP/2's
    // default frame size).
    let payload = vec![0xab; 12 * 1024 * 1024];
    let stream = raw_frame(0, &payload);
    let mut decoder = FrameDecoder::new();
    let mut got = Vec::new();
    for chunk in stream.chunks(16 * 1024) {
        decoder.push(chunk);
        got.extend(drain(&mut decoder).unwrap());
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload.len(), payload.len());
}

#[test]
fn a_message_over_the_limit_fails_at_its_header() {
    let mut decoder = FrameDecoder::with_max_message_size(1024);
    assert_eq!(decoder.max_message_size(), 1024);
    decoder.push(&raw_frame(0, &[1; 1024]));
    assert_eq!(decoder.next_frame().unwrap().unwrap().payload.len(), 1024);
    // Only the header of the next one: the error comes before any of its body is buffered.
    decoder.push(&[0, 0, 0, 4, 1]);
    let error = decoder.next_frame().unwrap_err();
    assert_eq!(
        error,
        FrameError::TooLarge {
            size: 1025,
            max: 1024
        }
    );
    assert!(error.to_string().contains("raise the maximum"), "{error}");
    // The decoder stays failed and holds nothing more.
    decoder.push(&[0; 4096]);
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.next_frame(), Err(error.clone()));
    assert_eq!(decoder.finish(), Err(error));
}

#[test]
fn a_huge_length_allocates_nothing() {
    let mut decoder = FrameDecoder::new();
    decoder.push(&[0, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        decoder.next_frame(),
        Err(FrameError::TooLarge {
            size: 0xffff_ffff,
            ..
        })
    ));
}

#[test]
fn a_compressed_message_is_a_protocol_error_unless_accepted() {
    let frame = raw_frame(1, b"gzipped?");
    let mut decoder = FrameDecoder::new();
    decoder.push(&frame);
    let error = decoder.next_frame().unwrap_err();
    assert_eq!(error, FrameError::Compressed);
    assert!(
        error.to_string().contains("no compression was negotiated"),
        "{error}"
    );

    let mut decoder = FrameDecoder::new().accept_compressed(true);
    decoder.push(&frame);
    let got = decoder.next_frame().unwrap().unwrap();
    assert!(got.compressed);
    assert_eq!(got.payload, Bytes::from_static(b"gzipped?"));
}

#[test]
fn a_flag_other_than_zero_or_one_is_not_grpc() {
    let mut decoder = FrameDecoder::new();
    decoder.push(b"<html><body>down for maintenance</body></html>");
    let error = decoder.next_frame().unwrap_err();
    assert_eq!(error, FrameError::InvalidFlag(b'<'));
    assert!(
        error.to_string().contains("check the Pub/Sub URL"),
        "{error}"
    );
}

#[test]
fn messages_decode_as_fetch_responses_without_copying_payloads() {
    let response = FetchResponse {
        latest_replay_id: Bytes::from_static(&[0, 0, 0, 0, 0, 0, 1, 0]),
        pending_num_requested: 42,
        rpc_id: "r-1".into(),
        ..FetchResponse::default()
    };
    let wire = encode_message(&response).unwrap();
    let mut decoder = FrameDecoder::new();
    decoder.push(&wire);
    let frame = decoder.next_frame().unwrap().unwrap();
    let decoded = FetchResponse::decode(frame.payload.clone()).unwrap();
    assert_eq!(decoded, response);
    // The replay id is a view into the frame's buffer.
    let frame_range =
        frame.payload.as_ptr() as usize..frame.payload.as_ptr() as usize + frame.payload.len();
    assert!(frame_range.contains(&(decoded.latest_replay_id.as_ptr() as usize)));
}
