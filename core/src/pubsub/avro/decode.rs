//! Decoding a datum into a `serde_json::Value`, and skipping values nobody asked for.

use serde_json::{Map, Number, Value};

use super::reader::{DecodeError, Reader};
use super::schema::{Inner, Node, NodeId};

impl Inner {
    /// Decodes one value of `node` into JSON: longs exactly (`i64`), unions as the plain value of
    /// their branch, enums as their symbol, bytes and fixed as strings of code points U+0000 to
    /// U+00FF (Avro's JSON form), NaN and infinities as `null` (JSON has no such numbers).
    pub(crate) fn to_json(&self, node: NodeId, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        Ok(match self.node(node) {
            Node::Null => Value::Null,
            Node::Boolean => Value::Bool(r.boolean()?),
            Node::Int => Value::Number(r.int()?.into()),
            Node::Long => Value::Number(r.long()?.into()),
            Node::Float => float_json(f64::from(r.float()?)),
            Node::Double => float_json(r.double()?),
            Node::Bytes => Value::String(latin1(r.bytes()?)),
            Node::Fixed { size, .. } => Value::String(latin1(r.take(*size)?)),
            Node::String => Value::String(r.str()?.to_owned()),
            Node::Enum { symbols, .. } => {
                Value::String(symbols[r.symbol(symbols.len())?].to_string())
            }
            Node::Union(branches) => {
                let branch = branches[r.branch(branches.len())?];
                self.to_json(branch, r)?
            }
            Node::Record(record) => {
                r.enter()?;
                let mut map = Map::new();
                for field in &record.fields {
                    let value = self
                        .to_json(field.node, r)
                        .map_err(|e| e.in_field(&field.name))?;
                    map.insert(field.name.to_string(), value);
                }
                r.leave();
                Value::Object(map)
            }
            Node::Array(items) => {
                r.enter()?;
                let zero = self.zero_width[*items as usize];
                let mut out = Vec::new();
                loop {
                    let block = r.block(zero)?;
                    if block.count == 0 {
                        break;
                    }
                    // The count is checked against the bytes left, but a value takes more memory
                    // than its bytes: grow with the items actually read.
                    out.reserve(block.count.min(1024));
                    for _ in 0..block.count {
                        let index = out.len() as u64;
                        out.push(self.to_json(*items, r).map_err(|e| e.at_index(index))?);
                    }
                    r.end_block(&block)?;
                }
                r.leave();
                Value::Array(out)
            }
            Node::Map(values) => {
                r.enter()?;
                let mut map = Map::new();
                loop {
                    // Every entry has a key, so entries take at least a byte each.
                    let block = r.block(false)?;
                    if block.count == 0 {
                        break;
                    }
                    for _ in 0..block.count {
                        let key = r.str()?;
                        let value = self.to_json(*values, r).map_err(|e| e.at_key(key))?;
                        map.insert(key.to_owned(), value);
                    }
                    r.end_block(&block)?;
                }
                r.leave();
                Value::Object(map)
            }
        })
    }

    /// Reads past one value of `node` without building it. Strings are not checked for UTF-8.
    pub(crate) fn skip(&self, node: NodeId, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        match self.node(node) {
            Node::Null => {}
            Node::Boolean => {
                r.boolean()?;
            }
            Node::Int => {
                r.int()?;
            }
            Node::Long => {
                r.long()?;
            }
            Node::Float => {
                r.take(4)?;
            }
            Node::Double => {
                r.take(8)?;
            }
            Node::Bytes | Node::String => {
                r.bytes()?;
            }
            Node::Fixed { size, .. } => {
                r.take(*size)?;
            }
            Node::Enum { symbols, .. } => {
                r.symbol(symbols.len())?;
            }
            Node::Union(branches) => {
                let branch = branches[r.branch(branches.len())?];
                self.skip(branch, r)?;
            }
            Node::Record(record) => {
                r.enter()?;
                for field in &record.fields {
                    self.skip(field.node, r)
                        .map_err(|e| e.in_field(&field.name))?;
                }
                r.leave();
            }
            Node::Array(items) => {
                r.enter()?;
                let zero = self.zero_width[*items as usize];
                loop {
                    if r.skip_sized_block()? {
                        continue;
                    }
                    // Only unsized blocks get here: the sized ones were jumped over.
                    let count = r.block(zero)?.count;
                    if count == 0 {
                        break;
                    }
                    for i in 0..count {
                        self.skip(*items, r).map_err(|e| e.at_index(i as u64))?;
                    }
                }
                r.leave();
            }
            Node::Map(values) => {
                r.enter()?;
                loop {
                    if r.skip_sized_block()? {
                        continue;
                    }
                    let count = r.block(false)?.count;
                    if count == 0 {
                        break;
                    }
                    for _ in 0..count {
                        r.bytes()?;
                        self.skip(*values, r)?;
                    }
                }
                r.leave();
            }
        }
        Ok(())
    }
}

fn float_json(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// Avro's JSON form of bytes: each byte as the code point of the same value.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
