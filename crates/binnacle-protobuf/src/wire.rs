//! A minimal reader for the protobuf wire format: varints, tags and length-delimited payloads.
//!
//! Every read is bounds-checked; malformed input yields a [`WireError`], never a panic.

/// A malformed protobuf payload, or one whose content cannot be expressed as Kubernetes JSON.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended inside a field.
    #[error("unexpected end of input")]
    Truncated,
    /// A varint ran past 10 bytes.
    #[error("varint is longer than 10 bytes")]
    VarintOverflow,
    /// A field key carried field number 0 or one past 2^29-1.
    #[error("invalid field number {0}")]
    InvalidFieldNumber(u64),
    /// A field key carried a wire type this decoder does not know (groups included).
    #[error("unsupported wire type {0}")]
    UnsupportedWireType(u8),
    /// A known field arrived with a different wire type than its schema says.
    #[error("field {tag} has wire type {found}, expected {expected}")]
    WrongWireType {
        /// The field number.
        tag: u32,
        /// The wire type on the wire.
        found: u8,
        /// The wire type the schema calls for.
        expected: u8,
    },
    /// A length-delimited field announced more bytes than remain.
    #[error("length {0} runs past the end of the input")]
    LengthOutOfBounds(u64),
    /// A timestamp outside the range RFC 3339 can express.
    #[error("timestamp {seconds}s {nanos}ns is out of range")]
    TimeOutOfRange {
        /// Seconds since the Unix epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: i32,
    },
    /// A floating-point value that JSON cannot hold (NaN or infinite).
    #[error("floating-point value {0} cannot be represented in JSON")]
    NonFiniteFloat(f64),
    /// Embedded raw bytes (`runtime.RawExtension`, `FieldsV1`) are neither JSON nor Kubernetes protobuf.
    #[error("embedded raw object is not valid JSON: {0}")]
    InvalidEmbeddedJson(String),
    /// An `IntOrString` whose type is neither 0 (int) nor 1 (string).
    #[error("IntOrString has unknown type {0}")]
    InvalidIntOrString(u64),
    /// An object embedded in a `RawExtension` with its own `k8s\0` envelope failed to decode.
    #[error("embedded object: {0}")]
    EmbeddedObject(String),
    /// Messages nested deeper than the decoder allows.
    #[error("messages nested more than {0} levels deep")]
    TooDeep(usize),
    /// The schema tables are inconsistent (a bug in this crate, not in the input).
    #[error("internal schema error: {0}")]
    Schema(&'static str),
}

/// Protobuf wire types.
pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const FIXED32: u8 = 5;

/// The payload of one field as read from the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2.
    Len(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl Value<'_> {
    /// The wire type number of this payload.
    pub(crate) fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => VARINT,
            Value::Fixed64(_) => FIXED64,
            Value::Len(_) => LEN,
            Value::Fixed32(_) => FIXED32,
        }
    }
}

/// Iterates over the fields of one encoded message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Reads one varint from the front of `self.buf`.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value: u64 = 0;
        for (i, byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = self.buf.get(i + 1..).unwrap_or_default();
                return Ok(value);
            }
        }
        if self.buf.len() >= 10 { Err(WireError::VarintOverflow) } else { Err(WireError::Truncated) }
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Reads a little-endian 32-bit value.
    pub(crate) fn fixed32(&mut self) -> Result<u32, WireError> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| WireError::Truncated)?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// Reads a little-endian 64-bit value.
    pub(crate) fn fixed64(&mut self) -> Result<u64, WireError> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| WireError::Truncated)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next field as (number, payload), or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > 0x1fff_ffff {
            return Err(WireError::InvalidFieldNumber(number));
        }
        let tag = u32::try_from(number).map_err(|_| WireError::InvalidFieldNumber(number))?;
        let wire_type = u8::try_from(key & 7).map_err(|_| WireError::UnsupportedWireType(u8::MAX))?;
        let value = match wire_type {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(self.fixed64()?),
            LEN => {
                let len = self.varint()?;
                let n = usize::try_from(len).map_err(|_| WireError::LengthOutOfBounds(len))?;
                if n > self.buf.len() {
                    return Err(WireError::LengthOutOfBounds(len));
                }
                Value::Len(self.take(n)?)
            }
            FIXED32 => Value::Fixed32(self.fixed32()?),
            other => return Err(WireError::UnsupportedWireType(other)),
        };
        Ok(Some((tag, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields() {
        // field 1 varint 150, field 2 "hi", field 3 fixed32, field 4 fixed64
        let buf = [0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0, 0x21, 2, 0, 0, 0, 0, 0, 0, 0];
        let mut r = Reader::new(&buf);
        assert!(matches!(r.next_field(), Ok(Some((1, Value::Varint(150))))));
        assert!(matches!(r.next_field(), Ok(Some((2, Value::Len(b"hi"))))));
        assert!(matches!(r.next_field(), Ok(Some((3, Value::Fixed32(1))))));
        assert!(matches!(r.next_field(), Ok(Some((4, Value::Fixed64(2))))));
        assert!(matches!(r.next_field(), Ok(None)));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Reader::new(&[0x08]).next_field().err(), Some(WireError::Truncated));
        assert_eq!(Reader::new(&[0x08, 0x80]).next_field().err(), Some(WireError::Truncated));
        assert_eq!(Reader::new(&[0x12, 0x05, 1]).next_field().err(), Some(WireError::LengthOutOfBounds(5)));
        assert_eq!(Reader::new(&[0x00]).next_field().err(), Some(WireError::InvalidFieldNumber(0)));
        assert_eq!(Reader::new(&[0x0b]).next_field().err(), Some(WireError::UnsupportedWireType(3)));
        assert_eq!(
            Reader::new(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).next_field().err(),
            Some(WireError::VarintOverflow)
        );
        assert_eq!(
            Reader::new(&[0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).next_field().err(),
            Some(WireError::LengthOutOfBounds(u64::MAX))
        );
    }
}
