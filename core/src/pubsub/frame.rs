//! gRPC message framing: each message on a stream is a 1-byte compressed flag, a 4-byte
//! big-endian length and that many bytes of protobuf. Messages may span HTTP/2 DATA frames and
//! one DATA frame may hold several messages, so [`FrameDecoder`] takes arbitrary chunks.
//!
//! ```
//! use prost::Message;
//! use sfstream_core::pubsub::frame::{encode_message, FrameDecoder};
//! use sfstream_core::pubsub::proto::FetchRequest;
//!
//! let request = FetchRequest { topic_name: "/event/Order_Event__e".into(), num_requested: 100, ..Default::default() };
//! let wire = encode_message(&request).unwrap();
//! assert_eq!(&wire[..5], &[0, 0, 0, 0, (wire.len() - 5) as u8]);
//!
//! // Two messages, delivered in chunks that cut across them.
//! let mut stream = wire.to_vec();
//! stream.extend_from_slice(&wire);
//! let mut decoder = FrameDecoder::new();
//! let mut got = Vec::new();
//! for chunk in stream.chunks(7) {
//!     decoder.push(chunk);
//!     while let Some(frame) = decoder.next_frame().unwrap() {
//!         got.push(FetchRequest::decode(frame.payload).unwrap());
//!     }
//! }
//! decoder.finish().unwrap(); // nothing left half-read
//! assert_eq!(got, vec![request.clone(), request]);
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Bytes before each message: the compressed flag and the length.
pub const HEADER_LEN: usize = 5;

/// The default largest message accepted: 16 MiB, where gRPC stacks usually stop at 4 MiB. A
/// FetchResponse holds at most the events requested, each of up to 1 MB, and Salesforce does not
/// document a bound on its size: a subscriber whose events are that large requests fewer at a
/// time, or raises the limit ([`FrameDecoder::with_max_message_size`]).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// A framing failure. After one, the stream cannot be read further: the decoder returns the same
/// error again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A message is larger than the configured maximum.
    #[error(
        "a gRPC message of {size} bytes exceeds the maximum of {max} bytes; raise the maximum \
         message size if the server really sends messages this large"
    )]
    TooLarge {
        /// The message's length.
        size: u64,
        /// The maximum.
        max: usize,
    },
    /// The server compressed a message although no compression was negotiated.
    #[error(
        "the server sent a compressed gRPC message, but no compression was negotiated (the \
         client offers none in grpc-accept-encoding): the server broke the gRPC protocol"
    )]
    Compressed,
    /// The flag byte is neither 0 nor 1: these bytes are not gRPC-framed.
    #[error(
        "invalid gRPC message flag {0:#04x} (0 or 1 expected): the response is not a gRPC \
         stream; check the Pub/Sub URL"
    )]
    InvalidFlag(u8),
    /// The stream ended inside a message.
    #[error("the stream ended inside a gRPC message: {buffered} bytes of {expected} received")]
    Truncated {
        /// The bytes of the message (header included) received.
        buffered: usize,
        /// The bytes the message needs (header included), or the header's 5 if it was cut.
        expected: usize,
    },
}

/// Frames one message for sending, uncompressed.
///
/// # Errors
/// [`FrameError::TooLarge`] if the encoded message does not fit the 4-byte length (4 GiB).
pub fn encode_message(message: &impl prost::Message) -> Result<Bytes, FrameError> {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(HEADER_LEN + len);
    encode_message_into(message, &mut buf)?;
    Ok(buf.freeze())
}

/// Frames one message at the end of `buf`, uncompressed, for writing several messages at once.
///
/// # Errors
/// [`FrameError::TooLarge`] if the encoded message does not fit the 4-byte length (4 GiB).
pub fn encode_message_into(
    message: &impl prost::Message,
    buf: &mut BytesMut,
) -> Result<(), FrameError> {
    let len = message.encoded_len();
    let Ok(len32) = u32::try_from(len) else {
        return Err(FrameError::TooLarge {
            size: len as u64,
            max: u32::MAX as usize,
        });
    };
    buf.reserve(HEADER_LEN + len);
    buf.put_u8(0);
    buf.put_u32(len32);
    // A `BytesMut` grows as needed, so this never runs out of room.
    message.encode(buf).map_err(|_| FrameError::TooLarge {
        size: len as u64,
        max: u32::MAX as usize,
    })
}

/// One message read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Whether the message is compressed with the negotiated `grpc-encoding` (only possible when
    /// the decoder was told to accept compressed messages).
    pub compressed: bool,
    /// The message's bytes (protobuf unless compressed), a slice of the decoder's buffer.
    pub payload: Bytes,
}

/// Reads length-prefixed gRPC messages out of byte chunks as they arrive.
///
/// Memory stays bounded: a length above the maximum is an error as soon as its header is read,
/// before any of its bytes are buffered.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_message_size: usize,
    accept_compressed: bool,
    failed: Option<FrameError>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder with the default maximum message size ([`DEFAULT_MAX_MESSAGE_SIZE`]) that rejects
    /// compressed messages.
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_message_size(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// A decoder that accepts messages of up to `max` bytes (header excluded).
    #[must_use]
    pub fn with_max_message_size(max: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_message_size: max,
            accept_compressed: false,
            failed: None,
        }
    }

    /// Accepts compressed messages (yielded with [`Frame::compressed`] set, for the caller to
    /// decompress). Only for a call whose request offered a codec in `grpc-accept-encoding`.
    #[must_use]
    pub fn accept_compressed(mut self, accept: bool) -> Self {
        self.accept_compressed = accept;
        self
    }

    /// The largest message accepted.
    #[must_use]
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Appends bytes received on the stream (one DATA frame, or any part of the stream).
    pub fn push(&mut self, chunk: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Bytes received and not yet returned as a message.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete message, or `None` until more bytes arrive.
    ///
    /// # Errors
    /// A [`FrameError`] when the bytes are not a valid gRPC stream; the same error is returned on
    /// every later call.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.read_frame() {
            Ok(frame) => Ok(frame),
            Err(error) => {
                self.buf = BytesMut::new();
                self.failed = Some(error.clone());
                Err(error)
            }
        }
    }

    fn read_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let flag = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let compressed = match flag {
            0 => false,
            1 if self.accept_compressed => true,
            1 => return Err(FrameError::Compressed),
            other => return Err(FrameError::InvalidFlag(other)),
        };
        let len = len as usize;
        if len > self.max_message_size {
            return Err(FrameError::TooLarge {
                size: len as u64,
                max: self.max_message_size,
            });
        }
        if self.buf.len() < HEADER_LEN + len {
            // One allocation for the rest of the message, bounded by the maximum.
            self.buf.reserve(HEADER_LEN + len - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let payload = self.buf.split_to(len).freeze();
        Ok(Some(Frame {
            compressed,
            payload,
        }))
    }

    /// Checks, at the end of the stream (after [`FrameDecoder::next_frame`] returned `None`),
    /// that no message was cut short.
    ///
    /// # Errors
    /// [`FrameError::Truncated`] when bytes of an unfinished message remain, or the error the
    /// stream already failed with.
    pub fn finish(&self) -> Result<(), FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let expected = match self.buf.get(1..HEADER_LEN) {
            Some(len) => HEADER_LEN + u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize,
            None => HEADER_LEN,
        };
        Err(FrameError::Truncated {
            buffered: self.buf.len(),
            expected,
        })
    }
}
