//! # sfstream-driver
//!
//! The client that every sfstream runtime shares. It owns a [`sfstream_core::Session`] and runs
//! the core's loop — send what it asks, feed back what came, sleep until its timeout, store its
//! checkpoints — over a [`Runtime`]: a handful of functions (clock, sleep, spawn, HTTP) that each
//! runtime crate implements in a few lines. No protocol decision is made here; no runtime crate
//! repeats this loop.
//!
//! Users reach this code through `sfstream-tokio`, `sfstream-async-std` or `sfstream-blocking`,
//! which re-export [`Client`] bound to their runtime.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod client;
mod client_common;
mod error;
mod jwt_key;
pub mod proxy_tunnel;
pub mod pubsub;
mod recording;
mod request;
mod session_events;
mod session_task;
mod settings;
mod shared;
mod store_writer;
pub mod testing;
mod wire_logs;

use std::time::{Instant, SystemTime};

use http::{Request, Response};

mod api;

pub use builder::ClientBuilder;
pub use client::Client;
pub use error::{CloseTimedOut, Error};
/// A boxed, sendable future: what a [`Runtime`]'s methods return.
pub use futures_util::future::BoxFuture;
/// The `http` crate, whose `Request` and `Response` a [`Runtime`] sends and returns.
pub use http;
pub use jwt_key::{JwtKeyFromPem, jwt_key_from_pem};
pub use recording::RECORD_ENV;
/// Borrowed raw JSON, as [`Message::payload_json`] returns it.
pub use serde_json::value::RawValue;
pub use session_events::{
    FanOutEvent, RefetchReason, SESSION_EVENTS_BUFFER, SessionEvent, SessionEvents,
};
pub use sfstream_core::extension::{Extension, IncomingMessage, OutgoingMessage};
pub use sfstream_core::{
    self as core, Batch, ChangeEventHeader, ChannelStats, CommitPolicy, Committable, ErrorKind,
    EventKind, Message, ReplayFallback, ReplayFrom, RetryPolicy, Secret, Stats, Timestamp,
    TransportError, TransportErrorKind,
    oauth::{Credentials, LoginUrl, jwt::JwtKey},
};
pub use sfstream_store::{
    self as store, ConstantStore, FileStore, MemoryStore, ReplayStore, StoreError,
};
pub use wire_logs::WireLogFilter;

/// What a runtime provides: time, timers, tasks, a blocking pool and HTTP.
///
/// Implementations are small and make no protocol decisions.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The monotonic clock.
    fn now(&self) -> Instant;
    /// The wall clock.
    fn wall_clock(&self) -> SystemTime;
    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
    /// Runs a task in the background.
    fn spawn(&self, task: BoxFuture<'static, ()>);
    /// Runs blocking work (a replay store call, half of a large response's decoding) off the
    /// async threads and completes when it is done.
    fn spawn_blocking(&self, work: Box<dyn FnOnce() + Send + 'static>) -> BoxFuture<'static, ()>;
    /// Sends one request. The response body is read completely, but no more than `max_body`
    /// bytes ([`TransportError::BodyTooLarge`] beyond). Gives up at `deadline`.
    fn send(
        &self,
        request: Request<Vec<u8>>,
        deadline: Instant,
        max_body: usize,
    ) -> BoxFuture<'static, Result<Response<Vec<u8>>, TransportError>>;
}

/// The first error of type `T` in `error`'s chain of sources, looking inside I/O errors too (an
/// `io::Error` that wraps another error does not list it as its source). Runtime adapters use it
/// to find their TLS library's error in their HTTP client's, and report
/// [`TransportError::NotTls`] from it.
#[must_use]
pub fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if let Some(found) = wrapped.and_then(|inner| find_cause::<T>(inner)) {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// An error's text followed by the texts of its sources, joined by `: `, for the strings of
/// [`TransportError`]. Runtime adapters pass their HTTP client's errors here; those name URLs
/// but never headers or bodies, so no token ends up in the text.
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
