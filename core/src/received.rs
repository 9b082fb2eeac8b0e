//! The response path in two steps, for an adapter that shares the session behind a lock.
//!
//! Decoding a `/meta/connect` response is most of the client's work (a thousand events per
//! response under load), and it needs nothing of the session. So:
//!
//! 1. [`Session::handle_arrived`] reports a response as soon as it is in (the session may send
//!    the next long poll at once) and returns an [`Arrived`] token: the response, with the id
//!    and kind of the request it answers;
//! 2. [`Arrived::decode`] decodes it without the session, on any thread (or [`Arrived::split`]
//!    on two threads, for a large body);
//! 3. [`Session::handle_received`] takes the decoded [`Received`] and does the bookkeeping.
//!
//! An adapter without a lock calls [`Session::handle_response`], which does all three.
//!
//! [`Session::handle_arrived`]: crate::Session::handle_arrived
//! [`Session::handle_received`]: crate::Session::handle_received
//! [`Session::handle_response`]: crate::Session::handle_response

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::Response;
use http::response::Parts;

use crate::bayeux::{self, Incoming};
use crate::message::{DecodeProblem, Message};
use crate::transmit::{RequestId, RequestKind};

/// A response the session knows has arrived, not decoded yet: what
/// [`Session::handle_arrived`](crate::Session::handle_arrived) returns. Decoding it is pure and
/// self-contained, so it can run on any thread, without the session.
pub struct Arrived {
    id: RequestId,
    kind: RequestKind,
    response: Response<Vec<u8>>,
}

impl Arrived {
    pub(crate) fn new(id: RequestId, kind: RequestKind, response: Response<Vec<u8>>) -> Self {
        Self { id, kind, response }
    }

    /// The request the response answers.
    #[must_use]
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// What the request was for.
    #[must_use]
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// Decodes the response: the messages of a Bayeux body; any other body is kept as is.
    #[must_use]
    pub fn decode(self) -> Received {
        Received::read(self.id, self.kind, self.response)
    }

    /// A large long-poll body cut near its middle, to decode on two threads (see [`Split`]);
    /// the token back when it is small or not a long poll's (use [`Arrived::decode`]).
    #[allow(
        clippy::result_large_err,
        reason = "the Err side is the token handed back to decode whole, not an error"
    )]
    pub fn split(self) -> Result<Split, Self> {
        match self.kind {
            RequestKind::Connect => match bayeux::split_guess(self.response.body()) {
                Some(at) => Ok(self.split_at(at)),
                None => Err(self),
            },
            _ => Err(self),
        }
    }

    /// The body cut at byte `at`, wherever that is: [`Split::join`] knows whether it was a
    /// message boundary, and decodes the whole body itself when it was not. [`Arrived::split`]
    /// picks a cut that usually is one.
    #[must_use]
    pub fn split_at(self, at: usize) -> Split {
        let (head, body) = self.response.into_parts();
        Split {
            id: self.id,
            kind: self.kind,
            head,
            body: Arc::new(body),
            at,
        }
    }
}

impl fmt::Debug for Arrived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers may carry cookies: only the status and the size are shown.
        f.debug_struct("Arrived")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("status", &self.response.status())
            .field("bytes", &self.response.body().len())
            .finish()
    }
}

/// A response decoded outside the session. Give it to
/// [`Session::handle_received`](crate::Session::handle_received): it knows the request it
/// answers.
pub struct Received {
    pub(crate) id: RequestId,
    pub(crate) head: Parts,
    pub(crate) body: Body,
}

pub(crate) enum Body {
    /// A token response: the session reads it itself.
    Token(Vec<u8>),
    /// A body nothing is read from (the disconnect's): its length.
    Unread(usize),
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
    /// A reply on a meta channel (its `data`, which meta replies do not use, is not kept), and
    /// its text, for extensions.
    Meta(Incoming<'static>, Box<str>),
    /// A message that could not be read, and why.
    Unreadable(String),
}

impl Received {
    /// Reads the response to request `id` of `kind`.
    pub(crate) fn read(id: RequestId, kind: RequestKind, response: Response<Vec<u8>>) -> Self {
        let (head, bytes) = response.into_parts();
        let body = match kind {
            RequestKind::Handshake | RequestKind::Connect | RequestKind::Control => Body::Bayeux {
                len: bytes.len(),
                items: decode(&bytes),
            },
            RequestKind::Token => Body::Token(bytes),
            RequestKind::Disconnect => Body::Unread(bytes.len()),
        };
        Self { id, head, body }
    }

    /// The request the response answers.
    #[must_use]
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// The body's size in bytes.
    pub(crate) fn body_len(&self) -> usize {
        match &self.body {
            Body::Token(b) => b.len(),
            Body::Unread(len) | Body::Bayeux { len, .. } => *len,
        }
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers may carry cookies: only the status and the size are shown.
        f.debug_struct("Received")
            .field("id", &self.id)
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
            items.push(Item::Meta(into_owned(m), part.raw.into()));
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

/// One half of a large body, decoded on its own (see [`Split`]).
pub struct Half(Option<Vec<Item>>);

impl fmt::Debug for Half {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Half")
            .field("messages", &self.0.as_ref().map(Vec::len))
            .finish()
    }
}

/// A large long-poll body cut in two, to decode on two threads: [`Split::read_first_half`] on
/// one, [`SecondHalf::read`] (from [`Split::second_half`]) on the other, then [`Split::join`].
/// The result is always that of [`Arrived::decode`].
pub struct Split {
    id: RequestId,
    kind: RequestKind,
    head: Parts,
    body: Arc<Vec<u8>>,
    at: usize,
}

/// The second half of a [`Split`], to decode on another thread.
pub struct SecondHalf {
    body: Arc<Vec<u8>>,
    at: usize,
}

impl Split {
    /// Where the body is cut: the byte the second half starts at.
    #[must_use]
    pub fn at(&self) -> usize {
        self.at
    }

    /// The second half, to decode with [`SecondHalf::read`] on another thread.
    #[must_use]
    pub fn second_half(&self) -> SecondHalf {
        SecondHalf {
            body: Arc::clone(&self.body),
            at: self.at,
        }
    }

    /// Decodes the messages before the cut, if a sequential reading from the start lands
    /// exactly on it (which proves it a message boundary).
    #[must_use]
    pub fn read_first_half(&self) -> Half {
        Half(bayeux::parse_head(&self.body, self.at).map(items_of))
    }

    /// The response, from the two halves' readings when both succeeded (`second` is `None`
    /// when it could not be had); otherwise the whole body is decoded here.
    #[must_use]
    pub fn join(self, first: Half, second: Option<Half>) -> Received {
        match (first, second) {
            (Half(Some(mut items)), Some(Half(Some(tail)))) => {
                items.extend(tail);
                Received {
                    id: self.id,
                    head: self.head,
                    body: Body::Bayeux {
                        len: self.body.len(),
                        items: Ok(items),
                    },
                }
            }
            _ => {
                let body = Arc::try_unwrap(self.body).unwrap_or_else(|shared| (*shared).clone());
                Received::read(self.id, self.kind, Response::from_parts(self.head, body))
            }
        }
    }
}

impl SecondHalf {
    /// Decodes the messages from the cut to the end. Pure: any thread.
    #[must_use]
    pub fn read(self) -> Half {
        Half(bayeux::parse_tail(&self.body, self.at).map(items_of))
    }
}

impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Split")
            .field("id", &self.id)
            .field("bytes", &self.body.len())
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SecondHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecondHalf")
            .field("bytes", &self.body.len().saturating_sub(self.at))
            .finish()
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
