//! Encoding a `serde_json::Value` as an Avro datum, for publishing.
//!
//! A union takes the branch the value fits: `null` the null branch, anything else the first
//! branch whose type matches the value exactly (an integer for `int`/`long`, a number with a
//! fraction for `float`/`double`), else the first it can be converted to (an integer for a
//! `double`, `2.0` for a `long`). When the value fits no branch as it is, an object of one entry
//! named after a branch picks that branch, as in Avro's JSON encoding (`{"double": 1}`,
//! `{"com.example.Name": {...}}` or `{"Name": {...}}`): the way to choose between branches that
//! the plain value cannot tell apart. A record's missing field takes its default; a missing field
//! without one is `null` if its type allows it, and an error otherwise. A key that is not a
//! field of the record is an error, so that a misspelt field is not silently dropped.

use std::fmt;

use serde_json::Value;

use super::reader::MAX_DEPTH;
use super::schema::{Inner, NULL, Node, NodeId, Record};

/// A value that does not fit its schema: why, and in which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    detail: String,
    /// Field names and indexes from the innermost out; reversed when shown.
    path: Vec<String>,
}

impl EncodeError {
    fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            path: Vec::new(),
        }
    }

    pub(crate) fn serialize(error: serde_json::Error) -> Self {
        Self::new(format!("the value cannot be serialized: {error}"))
    }

    fn within(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    /// Where in the value it went wrong, e.g. `Address__c.City` (empty at the top).
    #[must_use]
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.path.iter().rev() {
            if !out.is_empty() && !segment.starts_with('[') {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }

    /// Why, without the path.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot encode the value with its Avro schema")?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path())?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for EncodeError {}

/// Appends a zigzag variable-length long.
pub(crate) fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() > 40 => "a string".into(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An integer value: exact integers always, integral floats (`2.0`) unless `strict`.
fn integer(value: &Value, strict: bool) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64().filter(|_| !strict && n.is_f64())?;
    // i64::MAX as f64 rounds up to 2^63, which is out of range: hence `<`.
    (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
}

/// A floating-point value: numbers with a fraction always, integers unless `strict`.
fn float(value: &Value, strict: bool) -> Option<f64> {
    let Value::Number(n) = value else { return None };
    if strict && !n.is_f64() {
        return None;
    }
    n.as_f64()
}

/// Avro's JSON form of bytes: a string of code points U+0000 to U+00FF, one per byte.
fn latin1_bytes(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let Value::String(s) = value else {
        return Err(EncodeError::new(format!(
            "expected bytes (a string of code points U+0000 to U+00FF), got {}",
            kind(value)
        )));
    };
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| {
            EncodeError::new(
                "bytes are written as a string of code points U+0000 to U+00FF (one per byte), \
                 and this string has a character above U+00FF",
            )
        })
}

impl Inner {
    pub(crate) fn encode(
        &self,
        node: NodeId,
        value: &Value,
        out: &mut Vec<u8>,
        strict: bool,
        depth: u32,
    ) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(EncodeError::new(format!(
                "values nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mismatch = || {
            EncodeError::new(format!(
                "expected {}, got {}",
                self.describe(node),
                kind(value)
            ))
        };
        match self.node(node) {
            Node::Null => value.is_null().then_some(()).ok_or_else(mismatch)?,
            Node::Boolean => out.push(u8::from(value.as_bool().ok_or_else(mismatch)?)),
            Node::Int => {
                let i = integer(value, strict).ok_or_else(mismatch)?;
                let i = i32::try_from(i).map_err(|_| {
                    EncodeError::new(format!("{i} does not fit an int (32 bits); use a long"))
                })?;
                write_long(out, i64::from(i));
            }
            Node::Long => write_long(out, integer(value, strict).ok_or_else(mismatch)?),
            Node::Float => {
                let f = float(value, strict).ok_or_else(mismatch)?;
                let narrow = f as f32;
                // A union's exact pass takes a float only for a value a float holds as it is,
                // so that a double branch after it gets `1e-60` rather than a float's 0.
                if strict && f64::from(narrow) != f && !f.is_nan() {
                    return Err(mismatch());
                }
                if narrow.is_infinite() && f.is_finite() {
                    return Err(EncodeError::new(format!(
                        "{f} is beyond a float's range (about 3.4e38); use a double"
                    )));
                }
                out.extend_from_slice(&narrow.to_le_bytes());
            }
            Node::Double => {
                let f = float(value, strict).ok_or_else(mismatch)?;
                out.extend_from_slice(&f.to_le_bytes());
            }
            Node::String => {
                let s = value.as_str().ok_or_else(mismatch)?;
                write_long(out, s.len() as i64);
                out.extend_from_slice(s.as_bytes());
            }
            Node::Bytes => {
                let bytes = latin1_bytes(value)?;
                write_long(out, bytes.len() as i64);
                out.extend_from_slice(&bytes);
            }
            Node::Fixed { name, size } => {
                let bytes = latin1_bytes(value)?;
                if bytes.len() != *size {
                    return Err(EncodeError::new(format!(
                        "fixed {name} takes exactly {size} bytes, got {}",
                        bytes.len()
                    )));
                }
                out.extend_from_slice(&bytes);
            }
            Node::Enum { name, symbols } => {
                let s = value.as_str().ok_or_else(mismatch)?;
                let index = symbols.iter().position(|sym| &**sym == s).ok_or_else(|| {
                    let list: Vec<&str> = symbols.iter().map(|s| &**s).collect();
                    EncodeError::new(format!(
                        "{s:?} is not a symbol of enum {name} ({})",
                        list.join(", ")
                    ))
                })?;
                write_long(out, index as i64);
            }
            Node::Array(items) => {
                let list = value.as_array().ok_or_else(mismatch)?;
                if !list.is_empty() {
                    write_long(out, list.len() as i64);
                    for (i, item) in list.iter().enumerate() {
                        self.encode(*items, item, out, strict, depth + 1)
                            .map_err(|e| e.within(format!("[{i}]")))?;
                    }
                }
                out.push(0);
            }
            Node::Map(values) => {
                let map = value.as_object().ok_or_else(mismatch)?;
                if !map.is_empty() {
                    write_long(out, map.len() as i64);
                    for (key, item) in map {
                        write_long(out, key.len() as i64);
                        out.extend_from_slice(key.as_bytes());
                        self.encode(*values, item, out, strict, depth + 1)
                            .map_err(|e| e.within(format!("[{key:?}]")))?;
                    }
                }
                out.push(0);
            }
            Node::Record(record) => self.encode_record(record, value, out, strict, depth)?,
            Node::Union(branches) => {
                self.encode_union(node, branches, value, out, strict, depth)?
            }
        }
        Ok(())
    }

    fn encode_record(
        &self,
        record: &Record,
        value: &Value,
        out: &mut Vec<u8>,
        strict: bool,
        depth: u32,
    ) -> Result<(), EncodeError> {
        let Value::Object(object) = value else {
            return Err(EncodeError::new(format!(
                "expected an object for record {}, got {}",
                record.name,
                kind(value)
            )));
        };
        let mut present = 0;
        for field in &record.fields {
            let result = match object.get(&*field.name) {
                Some(v) => {
                    present += 1;
                    self.encode(field.node, v, out, strict, depth + 1)
                }
                None => match &field.default {
                    Some(default) => self
                        .encode(field.node, default, out, false, depth + 1)
                        .map_err(|e| {
                            EncodeError::new(format!(
                                "the field is missing and its default in the schema does not fit \
                                 its type: {}",
                                e.detail
                            ))
                        }),
                    None if self.accepts_null(field.node) => {
                        self.encode(field.node, &Value::Null, out, strict, depth + 1)
                    }
                    None => Err(EncodeError::new(format!(
                        "the required field {} ({}) of record {} is missing",
                        field.name,
                        self.describe(field.node),
                        record.name
                    ))),
                },
            };
            result.map_err(|e| e.within(field.name.to_string()))?;
        }
        if present < object.len() {
            let unknown: Vec<&str> = object
                .keys()
                .filter(|k| !record.fields.iter().any(|f| *f.name == ***k))
                .map(String::as_str)
                .collect();
            let known: Vec<&str> = record.fields.iter().map(|f| &*f.name).collect();
            return Err(EncodeError::new(format!(
                "record {} has no field {} (its fields: {})",
                record.name,
                unknown.join(", "),
                known.join(", ")
            )));
        }
        Ok(())
    }

    fn encode_union(
        &self,
        node: NodeId,
        branches: &[NodeId],
        value: &Value,
        out: &mut Vec<u8>,
        strict: bool,
        depth: u32,
    ) -> Result<(), EncodeError> {
        if value.is_null() {
            let index = branches.iter().position(|&b| b == NULL).ok_or_else(|| {
                EncodeError::new(format!("{} does not accept null", self.describe(node)))
            })?;
            write_long(out, index as i64);
            return Ok(());
        }
        let passes: &[bool] = if strict { &[true] } else { &[true, false] };
        let mut first_error = None;
        for &pass in passes {
            for (index, &branch) in branches.iter().enumerate() {
                if branch == NULL {
                    continue;
                }
                let mark = out.len();
                write_long(out, index as i64);
                match self.encode(branch, value, out, pass, depth + 1) {
                    Ok(()) => return Ok(()),
                    Err(error) => {
                        out.truncate(mark);
                        first_error.get_or_insert(error);
                    }
                }
            }
        }
        if let Some(result) = self.encode_wrapped_branch(branches, value, out, depth) {
            return result;
        }
        let why = first_error.map_or_else(String::new, |e| {
            let path = e.path();
            if path.is_empty() {
                format!(" (first branch: {})", e.detail)
            } else {
                format!(" (first branch, at {path}: {})", e.detail)
            }
        });
        Err(EncodeError::new(format!(
            "{} fits no branch of {}{why}",
            kind(value),
            self.describe(node)
        )))
    }

    /// Avro's JSON form of a union value, `{"<branch name>": value}`: `None` unless the value is
    /// an object of one entry that names a branch. Nothing is written on error.
    fn encode_wrapped_branch(
        &self,
        branches: &[NodeId],
        value: &Value,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Option<Result<(), EncodeError>> {
        let Value::Object(object) = value else {
            return None;
        };
        let mut entries = object.iter();
        let (Some((name, inner)), None) = (entries.next(), entries.next()) else {
            return None;
        };
        let index = branches.iter().position(|&b| self.is_named(b, name))?;
        let mark = out.len();
        write_long(out, index as i64);
        let result = self
            .encode(branches[index], inner, out, false, depth + 1)
            .map_err(|e| e.within(name.clone()));
        if result.is_err() {
            out.truncate(mark);
        }
        Some(result)
    }

    /// Whether `name` names the type of `node` in a union's JSON form: a primitive's name,
    /// `array`, `map`, or a named type's full or short name.
    fn is_named(&self, node: NodeId, name: &str) -> bool {
        match self.node(node) {
            Node::Record(Record { name: full, .. })
            | Node::Enum { name: full, .. }
            | Node::Fixed { name: full, .. } => {
                &**full == name || full.rsplit('.').next() == Some(name)
            }
            _ => self.short(node) == name,
        }
    }

    fn accepts_null(&self, node: NodeId) -> bool {
        match self.node(node) {
            Node::Null => true,
            Node::Union(branches) => branches.contains(&NULL),
            _ => false,
        }
    }
}
