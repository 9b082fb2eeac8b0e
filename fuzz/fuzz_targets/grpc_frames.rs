//! gRPC message framing: arbitrary bytes read as a response stream, fed to the frame decoder in
//! chunks of a size chosen by the first byte (the second chooses the size limit and whether
//! compressed messages are accepted). Nothing may panic; the chunking must not change what is
//! read; the messages read, framed again, must be exactly the bytes they were read from; the
//! end-of-stream check passes exactly when every byte was read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfstream_core::pubsub::frame::{Frame, FrameDecoder, FrameError};

fn decoder(config: u8) -> FrameDecoder {
    let max = [0, 1, 7, 64, 1024, 1 << 16][usize::from(config & 7) % 6];
    FrameDecoder::with_max_message_size(max).accept_compressed(config & 8 != 0)
}

fn read(config: u8, stream: &[u8], chunk: usize) -> (Vec<Frame>, Option<FrameError>, bool) {
    let mut decoder = decoder(config);
    let mut frames = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => {
                    let finished = decoder.finish().is_ok();
                    assert!(!finished, "a failed stream does not finish cleanly");
                    return (frames, Some(e), finished);
                }
            }
        }
    }
    let finished = decoder.finish().is_ok();
    (frames, None, finished)
}

fuzz_target!(|data: &[u8]| {
    let Some((&[chunk, config], stream)) = data.split_first_chunk::<2>() else {
        return;
    };
    let (frames, error, finished) = read(config, stream, usize::from(chunk));
    let (whole, whole_error, whole_finished) = read(config, stream, stream.len());
    assert_eq!(frames, whole, "chunking changed the messages");
    assert_eq!(error, whole_error, "chunking changed the error");
    assert_eq!(finished, whole_finished);

    let mut again = Vec::new();
    for frame in &frames {
        again.push(u8::from(frame.compressed));
        again.extend_from_slice(&(frame.payload.len() as u32).to_be_bytes());
        again.extend_from_slice(&frame.payload);
    }
    assert_eq!(
        &stream[..again.len()],
        &again[..],
        "messages are the bytes they came from"
    );
    assert_eq!(finished, error.is_none() && again.len() == stream.len());
    if let Some(e) = error {
        let _ = e.to_string();
    }
});
