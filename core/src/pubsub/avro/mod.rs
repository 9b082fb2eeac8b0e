//! Avro binary datums, as Pub/Sub events carry them: one raw datum per payload (no container
//! header, no marker, no fingerprint), read with the writer schema named by the event's schema
//! id.
//!
//! Parse the schema once ([`Schema::parse`]; cheap to clone and share, keep one per schema id),
//! then decode each payload into JSON ([`Schema::decode_json`]) or straight into your own type
//! ([`Schema::decode`], the fast path: strings borrow from the payload, fields your type does not
//! name are skipped without being built). Publish with [`Schema::encode_json`] or
//! [`Schema::encode`].
//!
//! Malformed bytes are an error, never a panic: truncated values, varints past 64 bits, lengths
//! past the end, union or enum indexes out of range, nesting past 64 levels, bytes left over.
//! No length prefix makes the decoder allocate more than the bytes left can hold.
//!
//! ```
//! use serde::Deserialize;
//! use sfstream_core::pubsub::avro::Schema;
//!
//! let schema = Schema::parse(r#"{
//!     "type": "record", "name": "Order_Event__e", "namespace": "com.sforce.eventbus",
//!     "fields": [
//!         {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
//!         {"name": "CreatedById", "type": "string"},
//!         {"name": "Amount__c", "type": ["null", "double"], "default": null}
//!     ]
//! }"#).unwrap();
//!
//! let event = serde_json::json!({"CreatedDate": 1_700_000_000_123_i64, "CreatedById": "005xx0000012345"});
//! let payload = schema.encode_json(&event).unwrap(); // Amount__c takes its default, null
//!
//! let decoded = schema.decode_json(&payload).unwrap();
//! assert_eq!(decoded["CreatedDate"], 1_700_000_000_123_i64);
//! assert!(decoded["Amount__c"].is_null());
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "PascalCase")]
//! struct Order<'a> {
//!     created_date: i64,
//!     created_by_id: &'a str,
//!     #[serde(rename = "Amount__c")]
//!     amount: Option<f64>,
//! }
//! let order: Order<'_> = schema.decode(&payload).unwrap();
//! assert_eq!((order.created_date, order.created_by_id, order.amount), (1_700_000_000_123, "005xx0000012345", None));
//!
//! // A payload cut short is an error that says where.
//! let error = schema.decode_json(&payload[..payload.len() - 3]).unwrap_err();
//! assert!(error.to_string().contains("CreatedById"), "{error}");
//! ```

mod de;
mod decode;
mod encode;
mod reader;
mod schema;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use encode::EncodeError;
pub use reader::{DecodeError, DecodeErrorKind, MAX_DEPTH, MAX_ZERO_WIDTH_ITEMS};
pub use schema::{Schema, SchemaError};

use reader::Reader;

impl Schema {
    /// Decodes a datum into JSON: records as objects, longs as exact `i64`s, unions as the plain
    /// value of their branch, enums as their symbol, bytes and fixed as strings of code points
    /// U+0000 to U+00FF (Avro's JSON form). NaN and infinite floats become `null`.
    ///
    /// # Errors
    /// [`DecodeError`] when the bytes are not a datum of this schema.
    pub fn decode_json(&self, datum: &[u8]) -> Result<Value, DecodeError> {
        let mut reader = Reader::new(datum);
        let value = self.inner.to_json(self.inner.root, &mut reader)?;
        reader.finish()?;
        Ok(value)
    }

    /// Decodes a datum straight into `T`. Records deserialize as maps (structs by field name),
    /// `["null", T]` unions as `Option`, enums as strings or unit variants; strings and bytes
    /// borrow from `datum`; fields `T` does not name are skipped.
    ///
    /// # Errors
    /// [`DecodeError`] when the bytes are not a datum of this schema, or the value does not fit
    /// `T`.
    pub fn decode<'de, T: Deserialize<'de>>(&self, datum: &'de [u8]) -> Result<T, DecodeError> {
        let mut reader = Reader::new(datum);
        let value = T::deserialize(de::Deserializer {
            schema: &self.inner,
            node: self.inner.root,
            reader: &mut reader,
        })?;
        reader.finish()?;
        Ok(value)
    }

    /// Encodes a JSON value as a datum (see the `encode` module notes on unions and missing
    /// fields).
    ///
    /// # Errors
    /// [`EncodeError`] when the value does not fit the schema.
    pub fn encode_json(&self, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_json_into(value, &mut out)?;
        Ok(out)
    }

    /// Appends the datum of a JSON value to `out`; on error `out` is left as it was.
    ///
    /// # Errors
    /// [`EncodeError`] when the value does not fit the schema.
    pub fn encode_json_into(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mark = out.len();
        let result = self.inner.encode(self.inner.root, value, out, false, 0);
        if result.is_err() {
            out.truncate(mark);
        }
        result
    }

    /// Encodes any serializable value, through its JSON form.
    ///
    /// # Errors
    /// [`EncodeError`] when the value cannot be serialized to JSON or does not fit the schema.
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, EncodeError> {
        let value = serde_json::to_value(value).map_err(EncodeError::serialize)?;
        self.encode_json(&value)
    }
}
