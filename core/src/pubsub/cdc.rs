//! Change events over the Pub/Sub API list changed, nulled and diff fields as bitmaps over the
//! schema's fields, not as names. This turns them back into names.
//!
//! - An entry `0x…` (any case) is a hex bitmap over the top-level fields in declaration order:
//!   bit *i* (least significant = 0) names field *i* (`ChangeEventHeader` is field 0).
//! - An entry `N-0x…` is a bitmap over the fields of the record inside top-level field *N* (a
//!   compound field such as an address, `["null", Address]`); names come out as `Parent.Child`.
//!   Such an entry may stand alone, with no top-level bitmap before it.
//! - Bits past the last field are ignored. Any other entry is taken to be a name already.
//!
//! ```
//! use sfstream_core::pubsub::avro::Schema;
//! use sfstream_core::pubsub::cdc;
//!
//! let schema = Schema::parse(r#"{"type": "record", "name": "AccountChangeEvent", "fields": [
//!     {"name": "ChangeEventHeader", "type": "string"},
//!     {"name": "Name", "type": ["null", "string"]},
//!     {"name": "BillingAddress", "type": ["null", {"type": "record", "name": "Address", "fields": [
//!         {"name": "Street", "type": ["null", "string"]},
//!         {"name": "City", "type": ["null", "string"]}]}]}
//! ]}"#).unwrap();
//! let names = cdc::field_names(&schema, &["0x6", "2-0x2"]).unwrap();
//! assert_eq!(names, ["Name", "BillingAddress", "BillingAddress.City"]);
//! ```

use serde_json::Value;

use super::avro::Schema;

/// The field lists of `ChangeEventHeader` that are bitmap-encoded.
pub const BITMAP_FIELDS: [&str; 3] = ["changedFields", "nulledFields", "diffFields"];

/// A field-list entry that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the change event field list entry {entry:?}: {detail}")]
pub struct BitmapError {
    /// The entry.
    pub entry: String,
    /// Why.
    pub detail: String,
}

fn error(entry: &str, detail: impl Into<String>) -> BitmapError {
    BitmapError {
        entry: entry.to_owned(),
        detail: detail.into(),
    }
}

/// The indexes of the bits set in a hex number (without its `0x`), lowest first.
///
/// # Errors
/// A message when the text is empty or holds a character that is not a hex digit.
fn set_bits(hex: &str, limit: usize) -> Result<Vec<usize>, String> {
    if hex.is_empty() {
        return Err("no hex digits after 0x".into());
    }
    let mut out = Vec::new();
    for (k, c) in hex.chars().rev().enumerate() {
        let digit = c
            .to_digit(16)
            .ok_or_else(|| format!("{c:?} is not a hex digit"))?;
        for bit in 0..4 {
            let index = k.saturating_mul(4).saturating_add(bit);
            if digit & (1 << bit) != 0 && index < limit {
                out.push(index);
            }
        }
    }
    Ok(out)
}

fn strip_hex_prefix(text: &str) -> Option<&str> {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
}

/// Turns one field list (`changedFields`, `nulledFields` or `diffFields`) into field names, in
/// the order of its entries and, within a bitmap, of the schema.
///
/// # Errors
/// [`BitmapError`] for an entry with bad hex digits, or a compound entry whose index is not a
/// top-level field holding a record.
pub fn field_names<S: AsRef<str>>(
    schema: &Schema,
    entries: &[S],
) -> Result<Vec<String>, BitmapError> {
    let top = schema.field_names();
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.as_ref();
        if let Some(hex) = strip_hex_prefix(entry) {
            let bits = set_bits(hex, top.len()).map_err(|d| error(entry, d))?;
            out.extend(bits.into_iter().map(|i| top[i].to_owned()));
        } else if let Some((parent, hex)) = entry
            .split_once('-')
            .and_then(|(p, rest)| Some((p, strip_hex_prefix(rest)?)))
        {
            let index: usize = parent
                .parse()
                .map_err(|_| error(entry, format!("{parent:?} is not a field index")))?;
            let parent_name = top.get(index).ok_or_else(|| {
                error(
                    entry,
                    format!(
                        "field index {index} is past the schema's {} fields",
                        top.len()
                    ),
                )
            })?;
            let nested = schema.nested_field_names(index).ok_or_else(|| {
                error(
                    entry,
                    format!("field {index} ({parent_name}) holds no record"),
                )
            })?;
            let bits = set_bits(hex, nested.len()).map_err(|d| error(entry, d))?;
            out.extend(
                bits.into_iter()
                    .map(|i| format!("{parent_name}.{}", nested[i])),
            );
        } else {
            out.push(entry.to_owned());
        }
    }
    Ok(out)
}

/// Replaces the bitmap-encoded lists ([`BITMAP_FIELDS`]) in the `ChangeEventHeader` of a change
/// event decoded to JSON with field names. Events without such a header are left alone.
///
/// # Errors
/// [`BitmapError`] for an entry that cannot be read; the event is then left unchanged.
pub fn expand_field_lists(schema: &Schema, event: &mut Value) -> Result<(), BitmapError> {
    let Some(header) = event
        .get_mut("ChangeEventHeader")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let mut expanded = Vec::with_capacity(BITMAP_FIELDS.len());
    for key in BITMAP_FIELDS {
        if let Some(Value::Array(entries)) = header.get(key) {
            let entries: Vec<&str> = entries.iter().filter_map(Value::as_str).collect();
            let names = field_names(schema, &entries)?;
            expanded.push((key, names));
        }
    }
    for (key, names) in expanded {
        header.insert(
            key.to_owned(),
            Value::Array(names.into_iter().map(Value::String).collect()),
        );
    }
    Ok(())
}
