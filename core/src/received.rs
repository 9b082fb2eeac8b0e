//! A response read before it reaches the session.
//!
//! Decoding a `/meta/connect` response is most of the client's work (a thousand events per
//! response under load), and it needs nothing of the session. [`Received::read`] does it on its
//! own, so an adapter that shares the session behind a lock can decode without holding it, and
//! the application keeps taking messages meanwhile; [`Session::handle_received`] then only does
//! the bookkeeping. [`Session::handle_response`] does both in one call.
//!
//! [`Session::handle_received`]: crate::Session::handle_received
//! [`Session::handle_response`]: crate::Session::handle_response

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::Response;
use http::response::Parts;

use crate::bayeux::{self, Incoming};
use crate::event::{DecodeProblem, Message};
use crate::transmit::RequestKind;

/// A response to one of the session's requests, read (and, for Bayeux requests, decoded) outside
/// the session. Give it to [`Session::handle_received`](crate::Session::handle_received) with the
/// id of the request it answers.
pub struct Received {
    pub(crate) head: Parts,
    pub(crate) body: Body,
}

pub(crate) enum Body {
    /// Kept as bytes: a token response, or a body the session reads itself.
    Bytes(Vec<u8>),
    /// A Bayeux response, decoded: its length, and its messages in order (or why it is not a
    /// Bayeux response at all).
    Bayeux {
        len: usize,
        items: Result<Vec<Item>, String>,
    },
}

/// One message of a Bayeux response.
pub(crate) enum Item {
    /// A message on a non-meta channel, with data: an event.
    Event {
        message: Message,
        problem: Option<DecodeProblem>,
    },
    /// A reply on a meta channel (its `data`, which meta replies do not use, is not kept).
    Meta(Incoming<'static>),
    /// A message that could not be read, and why.
    Unreadable(String),
}

impl Received {
    /// Reads a response to a request of `kind` (the [`Transmit::kind`](crate::Transmit) of the
    /// request): decodes the body of a Bayeux response into messages, and keeps any other as is.
    /// Pure and self-contained: it can run on any thread, without the session.
    #[must_use]
    pub fn read(kind: RequestKind, response: Response<Vec<u8>>) -> Self {
        let (head, bytes) = response.into_parts();
        let body = match kind {
            RequestKind::Handshake | RequestKind::Connect | RequestKind::Control => Body::Bayeux {
                len: bytes.len(),
                items: decode(&bytes),
            },
            _ => Body::Bytes(bytes),
        };
        Self { head, body }
    }

    /// The body's size in bytes.
    pub(crate) fn body_len(&self) -> usize {
        match &self.body {
            Body::Bytes(b) => b.len(),
            Body::Bayeux { len, .. } => *len,
        }
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers may carry cookies: only the status and the size are shown.
        f.debug_struct("Received")
            .field("status", &self.head.status)
            .field("bytes", &self.body_len())
            .finish_non_exhaustive()
    }
}

/// Decodes a Bayeux response body into its messages.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<Item>, String> {
    Ok(items_of(bayeux::parse_response(body)?))
}

/// The items of parsed messages, in order.
fn items_of(parts: Vec<bayeux::Part<'_>>) -> Vec<Item> {
    let mut items = Vec::with_capacity(parts.len());
    // One allocation of a channel name for a run of messages of the same channel.
    let mut last_channel: Option<Arc<str>> = None;
    for part in parts {
        let m = match part.message {
            Ok(m) => m,
            Err(e) => {
                items.push(Item::Unreadable(e.to_string()));
                continue;
            }
        };
        if m.is_meta() {
            items.push(Item::Meta(into_owned(m)));
            continue;
        }
        if m.data.is_none() {
            // Not an event (a publish acknowledgement, say): nothing to deliver.
            continue;
        }
        let channel = match &last_channel {
            Some(c) if **c == *m.channel => Arc::clone(c),
            _ => {
                let c: Arc<str> = Arc::from(m.channel.as_ref());
                last_channel = Some(Arc::clone(&c));
                c
            }
        };
        // Whether a missing replay id is a problem depends on the session's mode: it decides.
        let (message, problem) = Message::decode(channel, part.raw, m.data.as_ref(), false);
        items.push(Item::Event { message, problem });
    }
    items
}

/// One half of a large body, decoded on its own (see [`Received::split_point`]).
pub struct Half(Option<Vec<Item>>);

impl fmt::Debug for Half {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Half")
            .field("messages", &self.0.as_ref().map(Vec::len))
            .finish()
    }
}

impl Received {
    /// Where a large Bayeux body can be cut to decode it on two threads:
    /// [`Received::read_first_half`] on one, [`Received::read_second_half`] on the other, then
    /// [`Received::join_halves`]. `None` for small bodies and other requests (use
    /// [`Received::read`]). The point is a guess; `join_halves` knows whether it was right, and
    /// decodes the whole body itself when it was not, so the result is always that of
    /// [`Received::read`].
    #[must_use]
    pub fn split_point(kind: RequestKind, body: &[u8]) -> Option<usize> {
        match kind {
            RequestKind::Connect => bayeux::split_guess(body),
            _ => None,
        }
    }

    /// Decodes the messages of `body` before `split`, if a sequential reading from the start
    /// lands exactly on `split` (which proves it a message boundary). Pure: any thread.
    #[must_use]
    pub fn read_first_half(body: &[u8], split: usize) -> Half {
        Half(bayeux::parse_head(body, split).map(items_of))
    }

    /// Decodes the messages of `body` from `split` to the end. Pure: any thread.
    #[must_use]
    pub fn read_second_half(body: &[u8], split: usize) -> Half {
        Half(bayeux::parse_tail(body, split).map(items_of))
    }

    /// The response whose head is `head` and body `body`, from the two halves' readings when
    /// both succeeded (`second` is `None` when it could not be had); otherwise the whole body
    /// is decoded here.
    #[must_use]
    pub fn join_halves(
        kind: RequestKind,
        head: Parts,
        body: &[u8],
        first: Half,
        second: Option<Half>,
    ) -> Self {
        match (first, second) {
            (Half(Some(mut items)), Some(Half(Some(tail)))) => {
                items.extend(tail);
                Self {
                    head,
                    body: Body::Bayeux {
                        len: body.len(),
                        items: Ok(items),
                    },
                }
            }
            _ => Self::read(kind, Response::from_parts(head, body.to_vec())),
        }
    }
}

/// A meta reply that no longer borrows the body.
fn into_owned(m: Incoming<'_>) -> Incoming<'static> {
    Incoming {
        channel: Cow::Owned(m.channel.into_owned()),
        id: m.id,
        successful: m.successful,
        error: m.error,
        client_id: m.client_id,
        advice: m.advice,
        subscription: m.subscription,
        ext: m.ext,
        data: None,
    }
}
