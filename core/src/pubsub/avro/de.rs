//! A serde `Deserializer` over a datum: decodes straight into the application's types, with
//! strings and bytes borrowed from the payload and unread fields skipped, not built.

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

use super::reader::{Block, DecodeError, DecodeErrorKind, Reader};
use super::schema::{Field, Inner, Node, NodeId};

/// Deserializes one value of `node`.
pub(crate) struct Deserializer<'a, 'de> {
    pub(crate) schema: &'a Inner,
    pub(crate) node: NodeId,
    pub(crate) reader: &'a mut Reader<'de>,
}

impl<'a, 'de> Deserializer<'a, 'de> {
    fn at(&mut self, node: NodeId) -> Deserializer<'_, 'de> {
        Deserializer {
            schema: self.schema,
            node,
            reader: self.reader,
        }
    }

    /// The branch a union value takes (the node itself when it is not a union).
    fn resolve(&mut self) -> Result<NodeId, DecodeError> {
        match self.schema.node(self.node) {
            Node::Union(branches) => Ok(branches[self.reader.branch(branches.len())?]),
            _ => Ok(self.node),
        }
    }

    /// Adds the position to an error raised by a visitor (a value that does not fit the Rust
    /// type), which knows nothing of it.
    fn locate(&self, error: DecodeError) -> DecodeError {
        match error.kind() {
            DecodeErrorKind::Custom(_) if error.offset() == 0 && error.path().is_empty() => {
                DecodeError::new(error.kind().clone(), self.reader.pos())
            }
            _ => error,
        }
    }

    fn any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, DecodeError> {
        let node = self.resolve()?;
        let schema = self.schema;
        match schema.node(node) {
            Node::Null => visitor.visit_unit(),
            Node::Boolean => visitor.visit_bool(self.reader.boolean()?),
            Node::Int => visitor.visit_i32(self.reader.int()?),
            Node::Long => visitor.visit_i64(self.reader.long()?),
            Node::Float => visitor.visit_f32(self.reader.float()?),
            Node::Double => visitor.visit_f64(self.reader.double()?),
            Node::Bytes => visitor.visit_borrowed_bytes(self.reader.bytes()?),
            Node::Fixed { size, .. } => visitor.visit_borrowed_bytes(self.reader.take(*size)?),
            Node::String => visitor.visit_borrowed_str(self.reader.str()?),
            Node::Enum { symbols, .. } => {
                visitor.visit_str(&symbols[self.reader.symbol(symbols.len())?])
            }
            // The parser forbids a union directly inside a union, so a branch is never one.
            Node::Union(_) => Err(self.reader.error(DecodeErrorKind::Custom(
                "a union directly inside a union".into(),
            ))),
            Node::Record(record) => {
                self.reader.enter()?;
                let mut access = RecordAccess {
                    schema,
                    fields: &record.fields,
                    next: 0,
                    reader: &mut *self.reader,
                };
                let value = visitor.visit_map(&mut access)?;
                // A visitor may stop before the last field: the fields it left are skipped, so
                // that the next value is read from its own bytes.
                access.skip_rest()?;
                self.reader.leave();
                Ok(value)
            }
            Node::Array(items) => {
                self.reader.enter()?;
                let mut access = BlockAccess::new(
                    schema,
                    *items,
                    schema.zero_width[*items as usize],
                    &mut *self.reader,
                );
                let value = visitor.visit_seq(&mut access)?;
                access.end("array", "items")?;
                self.reader.leave();
                Ok(value)
            }
            Node::Map(values) => {
                self.reader.enter()?;
                let mut access = BlockAccess::new(schema, *values, false, &mut *self.reader);
                let value = visitor.visit_map(&mut access)?;
                access.end("map", "entries")?;
                self.reader.leave();
                Ok(value)
            }
        }
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'_, 'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DecodeError> {
        self.any(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DecodeError> {
        let node = self.resolve()?;
        if matches!(self.schema.node(node), Node::Null) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self.at(node))
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let node = self.resolve()?;
        match self.schema.node(node) {
            Node::Enum { symbols, .. } => {
                let symbol: &str = &symbols[self.reader.symbol(symbols.len())?];
                visitor.visit_enum(UnitVariant(symbol))
            }
            Node::String => {
                let symbol = self.reader.str()?;
                visitor.visit_enum(UnitVariant(symbol))
            }
            _ => return self.at(node).deserialize_any(visitor),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.schema.skip(self.node, self.reader)?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// A record's fields as a map from field name to value, in schema order.
struct RecordAccess<'a, 'de> {
    schema: &'a Inner,
    fields: &'a [Field],
    next: usize,
    reader: &'a mut Reader<'de>,
}

impl<'de> MapAccess<'de> for RecordAccess<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.fields.get(self.next) {
            Some(field) => seed.deserialize(FieldName(&field.name)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let Some(field) = self.fields.get(self.next) else {
            return Err(self
                .reader
                .error(DecodeErrorKind::Custom("a value without a field".into())));
        };
        self.next += 1;
        seed.deserialize(Deserializer {
            schema: self.schema,
            node: field.node,
            reader: &mut *self.reader,
        })
        .map_err(|e| e.in_field(&field.name))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len() - self.next)
    }
}

impl RecordAccess<'_, '_> {
    /// Reads past the fields the visitor did not take.
    fn skip_rest(&mut self) -> Result<(), DecodeError> {
        while let Some(field) = self.fields.get(self.next) {
            self.next += 1;
            self.schema
                .skip(field.node, self.reader)
                .map_err(|e| e.in_field(&field.name))?;
        }
        Ok(())
    }
}

/// A field name as a map key.
struct FieldName<'a>(&'a str);

impl<'de> de::Deserializer<'de> for FieldName<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The items of an array, or the entries of a map, read block by block.
struct BlockAccess<'a, 'de> {
    schema: &'a Inner,
    item: NodeId,
    zero_width: bool,
    left: usize,
    /// The block being read, checked against its declared size when it ends.
    block: Option<Block>,
    index: u64,
    done: bool,
    reader: &'a mut Reader<'de>,
    /// The key of the map entry whose value is next, for error paths.
    pending_key: Option<&'de str>,
}

impl<'a, 'de> BlockAccess<'a, 'de> {
    /// `zero_width`: whether an item can take no bytes (never for a map entry, which has a key).
    fn new(schema: &'a Inner, item: NodeId, zero_width: bool, reader: &'a mut Reader<'de>) -> Self {
        Self {
            schema,
            item,
            zero_width,
            left: 0,
            block: None,
            index: 0,
            done: false,
            reader,
            pending_key: None,
        }
    }

    /// Whether another item follows, reading the next block's count when one ends.
    fn more(&mut self) -> Result<bool, DecodeError> {
        if self.done {
            return Ok(false);
        }
        if self.left == 0 {
            if let Some(block) = self.block.take() {
                self.reader.end_block(&block)?;
            }
            let block = self.reader.block(self.zero_width)?;
            if block.count == 0 {
                self.done = true;
                return Ok(false);
            }
            self.left = block.count;
            self.block = Some(block);
        }
        self.left -= 1;
        Ok(true)
    }
}

impl BlockAccess<'_, '_> {
    /// Checks that the visitor took every item: a Rust type that takes fewer (a tuple shorter
    /// than the array) does not fit the value, as with any other serde format.
    fn end(&mut self, kind: &str, items: &str) -> Result<(), DecodeError> {
        if self.pending_key.is_some() {
            return Err(self.reader.error(DecodeErrorKind::Custom(format!(
                "the Rust type read a key of this {kind} without its value"
            ))));
        }
        if self.more()? {
            return Err(self.reader.error(DecodeErrorKind::Custom(format!(
                "the {kind} has more {items} than the Rust type takes ({} read)",
                self.index
            ))));
        }
        Ok(())
    }
}

impl<'de> SeqAccess<'de> for BlockAccess<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if !self.more()? {
            return Ok(None);
        }
        let index = self.index;
        self.index += 1;
        seed.deserialize(Deserializer {
            schema: self.schema,
            node: self.item,
            reader: &mut *self.reader,
        })
        .map(Some)
        .map_err(|e| e.at_index(index))
    }
}

impl<'de> MapAccess<'de> for BlockAccess<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        if !self.more()? {
            return Ok(None);
        }
        let key = self.reader.str()?;
        self.index += 1;
        self.pending_key = Some(key);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let key = self.pending_key.take().unwrap_or_default();
        seed.deserialize(Deserializer {
            schema: self.schema,
            node: self.item,
            reader: &mut *self.reader,
        })
        .map_err(|e| e.at_key(key))
    }
}

/// An enum symbol (or a string) as a unit variant of a Rust enum.
struct UnitVariant<'a>(&'a str);

impl<'de> EnumAccess<'de> for UnitVariant<'_> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), DecodeError> {
        let variant =
            seed.deserialize(IntoDeserializer::<DecodeError>::into_deserializer(self.0))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, DecodeError> {
        Err(de::Error::custom(format!(
            "the Avro enum symbol {} maps to a unit variant, not a newtype variant",
            self.0
        )))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, DecodeError> {
        Err(de::Error::custom(format!(
            "the Avro enum symbol {} maps to a unit variant, not a tuple variant",
            self.0
        )))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DecodeError> {
        Err(de::Error::custom(format!(
            "the Avro enum symbol {} maps to a unit variant, not a struct variant",
            self.0
        )))
    }
}
