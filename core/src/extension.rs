//! Extensions: application code that adds fields to the Bayeux messages the session sends and
//! sees the messages it receives, as CometD clients' extensions do (an `ext` entry a proxy
//! needs, a tracing id), without I/O.
//!
//! The session calls each [`Extension`] of [`Config::extensions`](crate::Config::extensions),
//! in the order they were added:
//!
//! - [`Extension::outgoing`] for every message it builds: `/meta/handshake`, `/meta/connect`,
//!   `/meta/subscribe`, `/meta/unsubscribe`, `/meta/disconnect`, before the message is put in a
//!   request body (additions count against the 32,768 bytes of a request; a batch of
//!   subscriptions is cut to fit them). Not for OAuth token requests, which are not Bayeux.
//! - [`Extension::incoming`] for every message of a Bayeux response (replies on meta channels
//!   and events, in the order of the response), before the session acts on them. A message that
//!   does not read as a Bayeux message is not shown.
//!
//! An extension may **add** entries to the message's `ext` object and add top-level fields
//! that Bayeux does not define; it can neither change nor remove what the session wrote, nor
//! add a field Bayeux defines (`channel`, `clientId`, `id`, `subscription`, `advice`, …) or
//! `ext.replay`: those calls return `false` and change nothing.
//! The calls run while the session works (under the client's lock, in the runtime crates): keep
//! them short, and do no I/O in them; hand anything slow to a channel.
//!
//! ```
//! use sfstream_core::extension::{Extension, OutgoingMessage};
//! use serde_json::json;
//!
//! /// Tags every message with the tracing id a proxy in front of the org expects.
//! struct TraceId(String);
//!
//! impl Extension for TraceId {
//!     fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
//!         let _ = message.insert_ext("x-trace-id", json!(self.0));
//!     }
//! }
//!
//! let config = sfstream_core::Config::bayeux("https://cometd.example.com/cometd")
//!     .extension(TraceId("4bf92f35".into()));
//! assert_eq!(config.extensions.len(), 1);
//! ```

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// See the [module docs](self).
pub trait Extension: Send + Sync + 'static {
    /// Called for every message the session sends, before it goes into a request body.
    fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
        let _ = message;
    }

    /// Called for every message of a Bayeux response, before the session acts on it.
    fn incoming(&self, message: &IncomingMessage<'_>) {
        let _ = message;
    }
}

/// An extension shared with other code (which reads what it collected, say).
impl<E: Extension + ?Sized> Extension for Arc<E> {
    fn outgoing(&self, message: &mut OutgoingMessage<'_>) {
        (**self).outgoing(message);
    }

    fn incoming(&self, message: &IncomingMessage<'_>) {
        (**self).incoming(message);
    }
}

/// The message fields Bayeux 1.0 defines: never an extension's to add.
const BAYEUX_FIELDS: &[&str] = &[
    "channel",
    "clientId",
    "id",
    "subscription",
    "advice",
    "connectionType",
    "version",
    "minimumVersion",
    "supportedConnectionTypes",
    "successful",
    "error",
    "data",
    "timestamp",
    "authSuccessful",
    "reestablish",
    "ext",
];

/// A message the session is about to send, open to additions.
pub struct OutgoingMessage<'a> {
    fields: &'a mut Map<String, Value>,
}

impl OutgoingMessage<'_> {
    /// The message's channel (`/meta/connect`, …).
    #[must_use]
    pub fn channel(&self) -> &str {
        self.fields
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A field of the message, as it stands.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// Adds a top-level field. `false` (nothing changed) for a field the message has already
    /// (everything the session wrote stays as it wrote it) and for every field Bayeux defines
    /// (`channel`, `clientId`, `id`, `subscription`, `advice`, `connectionType`, `ext`, …):
    /// use [`OutgoingMessage::insert_ext`] for `ext`.
    #[must_use = "false means the field was not added"]
    pub fn insert(&mut self, field: &str, value: Value) -> bool {
        if BAYEUX_FIELDS.contains(&field) || self.fields.contains_key(field) {
            return false;
        }
        self.fields.insert(field.to_owned(), value);
        true
    }

    /// Adds an entry to the message's `ext` object (made if the message has none). `false`
    /// (nothing changed) if `ext` has that entry already, and for `replay` (Salesforce's replay
    /// extension, the session's own).
    #[must_use = "false means the entry was not added"]
    pub fn insert_ext(&mut self, key: &str, value: Value) -> bool {
        if key == "replay" {
            return false;
        }
        let ext = self
            .fields
            .entry("ext")
            .or_insert_with(|| Value::Object(Map::new()));
        match ext {
            Value::Object(ext) if !ext.contains_key(key) => {
                ext.insert(key.to_owned(), value);
                true
            }
            _ => false,
        }
    }
}

/// A message the session received, as the server sent it.
#[derive(Debug, Clone, Copy)]
pub struct IncomingMessage<'a> {
    channel: &'a str,
    json: &'a str,
}

impl<'a> IncomingMessage<'a> {
    pub(crate) fn new(channel: &'a str, json: &'a str) -> Self {
        Self { channel, json }
    }

    /// The message's channel.
    #[must_use]
    pub fn channel(&self) -> &'a str {
        self.channel
    }

    /// The message's JSON text, exactly as the server sent it.
    #[must_use]
    pub fn json(&self) -> &'a str {
        self.json
    }
}

/// The extensions of a configuration, in the order they run. `Debug` shows how many there are.
#[derive(Clone, Default)]
pub struct Extensions(Vec<Arc<dyn Extension>>);

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Extensions({})", self.0.len())
    }
}

impl Extensions {
    /// Adds an extension; it runs after those added before it.
    pub fn push(&mut self, extension: impl Extension) {
        self.0.push(Arc::new(extension));
    }

    /// How many extensions there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text of an outgoing message after every extension's additions. Without extensions,
    /// the text as it is (no parsing).
    pub(crate) fn outgoing(&self, text: String) -> String {
        if self.0.is_empty() {
            return text;
        }
        let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(&text) else {
            return text;
        };
        for e in &self.0 {
            e.outgoing(&mut OutgoingMessage {
                fields: &mut fields,
            });
        }
        serde_json::to_string(&fields).unwrap_or(text)
    }

    /// Shows an incoming message to every extension.
    pub(crate) fn incoming(&self, message: IncomingMessage<'_>) {
        for e in &self.0 {
            e.incoming(&message);
        }
    }
}
