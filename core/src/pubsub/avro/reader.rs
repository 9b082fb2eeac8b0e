//! The primitive readers of Avro's binary encoding over a byte slice, and the decode error.
//! Every length is checked against the bytes left before anything is allocated.

use std::fmt;

/// Deepest nesting of records, arrays and maps a datum may have (only recursive schemas can
/// reach it).
pub const MAX_DEPTH: u32 = 64;

/// Most items of zero-width types (nulls, empty records) one datum may hold: their count costs
/// no bytes, so the input's length cannot bound it.
pub const MAX_ZERO_WIDTH_ITEMS: u64 = 65_536;

/// Why a datum could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The datum ended in the middle of a value.
    Truncated,
    /// A variable-length integer runs past 64 bits.
    VarintOverflow,
    /// An `int` holds a value outside the 32-bit range.
    IntOutOfRange(i64),
    /// A length or count is negative.
    NegativeLength(i64),
    /// A length or item count claims more than the bytes left.
    LengthPastEnd {
        /// The claimed length (or item count).
        length: u64,
        /// The bytes left.
        remaining: usize,
    },
    /// Too many items of a type that takes no bytes.
    TooManyZeroWidthItems,
    /// A union branch index outside the union.
    UnionIndex {
        /// The index read.
        index: i64,
        /// The branches of the union.
        branches: usize,
    },
    /// An enum symbol index outside the enum.
    EnumIndex {
        /// The index read.
        index: i64,
        /// The symbols of the enum.
        symbols: usize,
    },
    /// A boolean byte other than 0 or 1.
    InvalidBoolean(u8),
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// Records, arrays and maps nested deeper than the limit.
    TooDeep,
    /// A block of an array or map whose items do not take the byte size its header gives.
    BlockSize {
        /// The size the block's header gives.
        declared: u64,
        /// The bytes its items took.
        read: u64,
    },
    /// Bytes left after the datum: the payload was written with another schema.
    TrailingBytes(usize),
    /// The value does not fit the requested Rust type.
    Custom(String),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("the datum ends in the middle of a value"),
            Self::VarintOverflow => f.write_str("a variable-length integer runs past 64 bits"),
            Self::IntOutOfRange(v) => write!(f, "the int {v} is outside the 32-bit range"),
            Self::NegativeLength(v) => write!(f, "negative length {v}"),
            Self::LengthPastEnd { length, remaining } => {
                write!(f, "a length of {length} but only {remaining} bytes left")
            }
            Self::TooManyZeroWidthItems => write!(
                f,
                "more than {MAX_ZERO_WIDTH_ITEMS} items of a type that takes no bytes"
            ),
            Self::UnionIndex { index, branches } => {
                write!(f, "union branch {index} of a union of {branches}")
            }
            Self::EnumIndex { index, symbols } => {
                write!(f, "enum symbol {index} of an enum of {symbols}")
            }
            Self::InvalidBoolean(b) => write!(f, "boolean byte {b:#04x} (0 or 1 expected)"),
            Self::InvalidUtf8 => f.write_str("a string that is not UTF-8"),
            Self::TooDeep => write!(f, "values nested deeper than {MAX_DEPTH} levels"),
            Self::BlockSize { declared, read } => write!(
                f,
                "a block of {declared} bytes (by its header) whose items take {read} bytes"
            ),
            Self::TrailingBytes(n) => write!(f, "{n} bytes left after the datum"),
            Self::Custom(message) => f.write_str(message),
        }
    }
}

/// A datum that does not decode with its schema: what went wrong, at which byte, in which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
    /// Field names and indexes from the innermost out; reversed when shown.
    path: Vec<PathSegment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathSegment {
    Field(Box<str>),
    Index(u64),
    Key(Box<str>),
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset,
            path: Vec::new(),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// The byte of the datum where it went wrong.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Where in the value it went wrong, e.g. `ChangeEventHeader.recordIds[2]` (empty at the top).
    #[must_use]
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                PathSegment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                PathSegment::Index(i) => out.push_str(&format!("[{i}]")),
                PathSegment::Key(k) => out.push_str(&format!("[{k:?}]")),
            }
        }
        out
    }

    pub(crate) fn in_field(mut self, name: &str) -> Self {
        self.path.push(PathSegment::Field(name.into()));
        self
    }

    pub(crate) fn at_index(mut self, index: u64) -> Self {
        self.path.push(PathSegment::Index(index));
        self
    }

    pub(crate) fn at_key(mut self, key: &str) -> Self {
        self.path.push(PathSegment::Key(key.into()));
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Avro datum does not decode with its schema at byte {}",
            self.offset
        )?;
        if !self.path.is_empty() {
            write!(f, " (in {})", self.path())?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // The offset is not known here; the caller's context adds the path.
        Self::new(DecodeErrorKind::Custom(msg.to_string()), 0)
    }
}

/// The header of one block of an array or map.
pub(crate) struct Block {
    /// How many items the block holds (0 for the end of the array or map).
    pub(crate) count: usize,
    /// Where the block's items start and the byte size the writer gave them, if it did.
    sized: Option<(usize, usize)>,
}

/// A cursor over one datum.
pub(crate) struct Reader<'de> {
    data: &'de [u8],
    pos: usize,
    pub(crate) depth: u32,
    zero_width_items: u64,
}

impl<'de> Reader<'de> {
    pub(crate) fn new(data: &'de [u8]) -> Self {
        Self {
            data,
            pos: 0,
            depth: 0,
            zero_width_items: 0,
        }
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.pos)
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(DecodeErrorKind::TrailingBytes(n))),
        }
    }

    pub(crate) fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A zigzag variable-length `long`.
    #[inline]
    pub(crate) fn long(&mut self) -> Result<i64, DecodeError> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.data.get(self.pos) else {
                return Err(self.error(DecodeErrorKind::Truncated));
            };
            self.pos += 1;
            // The tenth byte may carry only the 64th bit, and no continuation.
            if shift == 63 && byte > 1 {
                return Err(self.error(DecodeErrorKind::VarintOverflow));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Ok((value >> 1) as i64 ^ -((value & 1) as i64))
    }

    /// A zigzag variable-length `int`.
    #[inline]
    pub(crate) fn int(&mut self) -> Result<i32, DecodeError> {
        let value = self.long()?;
        i32::try_from(value).map_err(|_| self.error(DecodeErrorKind::IntOutOfRange(value)))
    }

    #[inline]
    pub(crate) fn boolean(&mut self) -> Result<bool, DecodeError> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            [other, ..] => Err(self.error(DecodeErrorKind::InvalidBoolean(*other))),
            [] => Err(self.error(DecodeErrorKind::Truncated)),
        }
    }

    #[inline]
    pub(crate) fn float(&mut self) -> Result<f32, DecodeError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub(crate) fn double(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    /// The next `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'de [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.error(DecodeErrorKind::Truncated));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A length-prefixed run of bytes.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'de [u8], DecodeError> {
        let len = self.long()?;
        let len = self.length(len)?;
        self.take(len)
    }

    /// A length-prefixed UTF-8 string.
    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'de str, DecodeError> {
        let start = self.pos;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, start))
    }

    /// A length read as a long: not negative and within the bytes left.
    fn length(&self, len: i64) -> Result<usize, DecodeError> {
        let Ok(len) = u64::try_from(len) else {
            return Err(self.error(DecodeErrorKind::NegativeLength(len)));
        };
        match usize::try_from(len) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(self.error(DecodeErrorKind::LengthPastEnd {
                length: len,
                remaining: self.remaining(),
            })),
        }
    }

    /// A union branch index, checked against the number of branches.
    #[inline]
    pub(crate) fn branch(&mut self, branches: usize) -> Result<usize, DecodeError> {
        let index = self.long()?;
        match usize::try_from(index) {
            Ok(i) if i < branches => Ok(i),
            _ => Err(self.error(DecodeErrorKind::UnionIndex { index, branches })),
        }
    }

    /// An enum symbol index, checked against the number of symbols.
    #[inline]
    pub(crate) fn symbol(&mut self, symbols: usize) -> Result<usize, DecodeError> {
        let index = self.long()?;
        match usize::try_from(index) {
            Ok(i) if i < symbols => Ok(i),
            _ => Err(self.error(DecodeErrorKind::EnumIndex { index, symbols })),
        }
    }

    /// The next block header of an array or map: its item count (0 ends the array or map) and,
    /// when the writer gave the block's byte size (a negative count), where the block must end.
    /// Items that take at least one byte cannot outnumber the bytes left; items that take none
    /// count against a budget.
    pub(crate) fn block(&mut self, zero_width_items: bool) -> Result<Block, DecodeError> {
        let count = self.long()?;
        let (count, end) = if count < 0 {
            let size = self.long()?;
            let size = self.length(size)?;
            (count.unsigned_abs(), Some((self.pos, size)))
        } else {
            (count as u64, None)
        };
        if zero_width_items {
            self.zero_width_items = self.zero_width_items.saturating_add(count);
            if self.zero_width_items > MAX_ZERO_WIDTH_ITEMS {
                return Err(self.error(DecodeErrorKind::TooManyZeroWidthItems));
            }
        } else if count > self.remaining() as u64 {
            return Err(self.error(DecodeErrorKind::LengthPastEnd {
                length: count,
                remaining: self.remaining(),
            }));
        }
        Ok(Block {
            // Bounded by the bytes left or by the zero-width budget, so it fits a usize.
            count: count as usize,
            sized: end,
        })
    }

    /// Checks, after the items of a block, that they took the size its header gave: skipping
    /// trusts that size, so a datum read in full must agree with it.
    pub(crate) fn end_block(&self, block: &Block) -> Result<(), DecodeError> {
        match block.sized {
            Some((start, size)) if self.pos - start != size => {
                Err(self.error(DecodeErrorKind::BlockSize {
                    declared: size as u64,
                    read: (self.pos - start) as u64,
                }))
            }
            _ => Ok(()),
        }
    }

    /// Skips a block of an array or map without reading its items, when the writer gave its size
    /// (negative count). Returns whether it did; if not, nothing was consumed.
    pub(crate) fn skip_sized_block(&mut self) -> Result<bool, DecodeError> {
        let start = self.pos;
        if self.long()? >= 0 {
            self.pos = start;
            return Ok(false);
        }
        let size = self.long()?;
        let size = self.length(size)?;
        self.pos += size;
        Ok(true)
    }
}
