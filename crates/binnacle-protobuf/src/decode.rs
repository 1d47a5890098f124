//! Schema-driven conversion of an encoded message into the JSON Kubernetes would serve for it.
//!
//! The rules follow what the API server's Go types do when they are decoded from protobuf and
//! then marshalled to JSON:
//!
//! * a field absent on the wire is absent in JSON;
//! * a zero scalar (`""`, `0`, `false`) of a non-pointer `omitempty` field is left out, while a
//!   pointer field keeps its zero (`replicas: 0`, `automountServiceAccountToken: false`);
//! * empty lists, maps and byte strings are left out;
//! * nested structs are kept even when empty (`resources: {}`), except a zero `Time`;
//! * embedded (inline) structs such as `Volume.volumeSource` are merged into their parent;
//! * `Time`, `MicroTime`, `Duration`, `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`
//!   and the named list types (`ExtraValue`, `Verbs`) take their custom JSON shapes.

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

use crate::schema::{self, FieldSchema, INLINE, MessageSchema, OMITEMPTY, POINTER, REPEATED, Special, Ty};
use crate::wire::{FIXED32, FIXED64, LEN, Reader, VARINT, Value, WireError};

/// How deep messages (and objects embedded in `RawExtension`s) may nest.
pub(crate) const MAX_DEPTH: usize = 100;

/// One step of the path to a failing field, innermost first while unwinding.
#[derive(Debug)]
enum Segment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// A decoding failure together with where in the object it happened.
#[derive(Debug)]
pub(crate) struct Failure {
    segments: Vec<Segment>,
    pub(crate) error: WireError,
}

impl Failure {
    fn at(mut self, segment: Segment) -> Self {
        self.segments.push(segment);
        self
    }

    /// The path to the failing field, such as `spec.template.spec.containers[0].image`.
    pub(crate) fn path(&self) -> String {
        let mut path = String::new();
        for segment in self.segments.iter().rev() {
            match segment {
                Segment::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Segment::Index(i) => {
                    let _ = write!(path, "[{i}]");
                }
                Segment::Key(key) => {
                    let _ = write!(path, "[{key:?}]");
                }
            }
        }
        if path.is_empty() { "<root>".to_owned() } else { path }
    }
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Self {
        Failure { segments: Vec::new(), error }
    }
}

type Result<T> = std::result::Result<T, Failure>;

/// Decodes embedded objects found in `RawExtension`s that are themselves protobuf-encoded.
pub(crate) type EmbeddedDecoder = fn(&[u8], usize) -> std::result::Result<Json, WireError>;

/// Decoding context.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) depth: usize,
    pub(crate) embedded: EmbeddedDecoder,
}

impl Ctx {
    fn deeper(self) -> std::result::Result<Ctx, WireError> {
        if self.depth >= MAX_DEPTH {
            return Err(WireError::TooDeep(MAX_DEPTH));
        }
        Ok(Ctx { depth: self.depth + 1, ..self })
    }
}

/// What has been collected for one field while scanning a message.
enum Slot<'a> {
    Empty,
    Scalar(Json),
    List(Vec<Json>),
    Map(Map<String, Json>),
    /// A singular message: its encodings, merged by concatenation as protobuf specifies.
    Message(Vec<&'a [u8]>),
}

fn sub_message(index: u16) -> std::result::Result<&'static MessageSchema, WireError> {
    schema::message(index).ok_or(WireError::Schema("message index out of range"))
}

/// Decodes `bytes` as the message `schema` into JSON. A zero `Time` decodes to `null`.
pub(crate) fn message(schema: &MessageSchema, bytes: &[u8], ctx: Ctx) -> Result<Json> {
    let ctx = ctx.deeper()?;
    match schema.special {
        Special::Plain => plain(schema, bytes, ctx),
        Special::Time => time(bytes, false),
        Special::MicroTime => time(bytes, true),
        Special::Duration => {
            let nanos = last_varint(bytes, 1)?.unwrap_or(0) as i64;
            Ok(Json::String(go_duration(nanos)))
        }
        Special::Quantity => {
            let s = last_string(bytes, 1)?.unwrap_or_default();
            Ok(Json::String(if s.is_empty() { "0".to_owned() } else { s }))
        }
        Special::IntOrString => int_or_string(bytes),
        Special::RawJson => raw_json(bytes, ctx),
        Special::List => {
            let field = schema.fields.first().ok_or(WireError::Schema("list wrapper without items"))?;
            let mut items = Vec::new();
            let mut reader = Reader::new(bytes);
            while let Some((tag, value)) = reader.next_field()? {
                if tag == field.tag {
                    push_repeated(field, value, &mut items, ctx).map_err(|f| f.at(Segment::Field(field.json)))?;
                }
            }
            Ok(Json::Array(items))
        }
    }
}

fn plain(schema: &MessageSchema, bytes: &[u8], ctx: Ctx) -> Result<Json> {
    let mut slots: Vec<Slot<'_>> = schema.fields.iter().map(|_| Slot::Empty).collect();
    let mut reader = Reader::new(bytes);
    while let Some((tag, value)) = reader.next_field()? {
        let Some((i, field)) = schema.field(tag) else {
            continue; // unknown fields are skipped, as protobuf parsers do
        };
        let slot = slots.get_mut(i).ok_or(WireError::Schema("slot index out of range"))?;
        collect(field, value, slot, ctx).map_err(|f| f.at(Segment::Field(field.json)))?;
    }

    let mut out = Map::new();
    for (field, slot) in schema.fields.iter().zip(slots) {
        emit(field, slot, &mut out, ctx).map_err(|f| f.at(Segment::Field(field.json)))?;
    }
    Ok(Json::Object(out))
}

/// Records one wire occurrence of `field` into its slot.
fn collect<'a>(field: &FieldSchema, value: Value<'a>, slot: &mut Slot<'a>, ctx: Ctx) -> Result<()> {
    match field.ty {
        Ty::Map(value_ty) => {
            let bytes = expect_len(field, value)?;
            let (key, entry) = map_entry(field, value_ty, bytes, ctx)?;
            if !matches!(slot, Slot::Map(_)) {
                *slot = Slot::Map(Map::new());
            }
            if let Slot::Map(map) = slot {
                map.insert(key, entry);
            }
        }
        _ if field.has(REPEATED) => {
            if !matches!(slot, Slot::List(_)) {
                *slot = Slot::List(Vec::new());
            }
            if let Slot::List(items) = slot {
                push_repeated(field, value, items, ctx)?;
            }
        }
        Ty::Msg(_) => {
            let bytes = expect_len(field, value)?;
            if !matches!(slot, Slot::Message(_)) {
                *slot = Slot::Message(Vec::new());
            }
            if let Slot::Message(parts) = slot {
                parts.push(bytes);
            }
        }
        ty => *slot = Slot::Scalar(scalar(field.tag, ty, value)?),
    }
    Ok(())
}

/// Appends the element(s) one wire occurrence of a repeated field carries (packed or not).
fn push_repeated(field: &FieldSchema, value: Value<'_>, items: &mut Vec<Json>, ctx: Ctx) -> Result<()> {
    match field.ty {
        Ty::Msg(index) => {
            let bytes = expect_len(field, value)?;
            let element = message(sub_message(index)?, bytes, ctx).map_err(|f| f.at(Segment::Index(items.len())))?;
            items.push(element);
        }
        ty @ (Ty::Bool | Ty::I32 | Ty::I64 | Ty::U32 | Ty::U64 | Ty::F32 | Ty::F64) => {
            if let Value::Len(packed) = value {
                let mut rest = Reader::new(packed);
                while !rest.is_empty() {
                    let element = match wire_type_of(ty) {
                        FIXED32 => Value::Fixed32(rest.fixed32()?),
                        FIXED64 => Value::Fixed64(rest.fixed64()?),
                        _ => Value::Varint(rest.varint()?),
                    };
                    items.push(scalar(field.tag, ty, element)?);
                }
            } else {
                items.push(scalar(field.tag, ty, value)?);
            }
        }
        ty => items.push(scalar(field.tag, ty, value)?),
    }
    Ok(())
}

/// Decodes one `map<string, V>` entry.
fn map_entry(field: &FieldSchema, value_ty: &Ty, bytes: &[u8], ctx: Ctx) -> Result<(String, Json)> {
    let mut key = String::new();
    let mut value: Option<Value<'_>> = None;
    let mut reader = Reader::new(bytes);
    while let Some((tag, v)) = reader.next_field()? {
        match tag {
            1 => key = string(1, v)?,
            2 => value = Some(v),
            _ => {}
        }
    }
    let entry = match (*value_ty, value) {
        (Ty::Msg(index), v) => {
            let bytes = match v {
                Some(v) => expect_len(field, v)?,
                None => &[],
            };
            message(sub_message(index)?, bytes, ctx)
        }
        (ty, Some(v)) => scalar(2, ty, v).map_err(Failure::from),
        (ty, None) => Ok(zero(ty)),
    };
    let entry = entry.map_err(|f| f.at(Segment::Key(key.clone())))?;
    Ok((key, entry))
}

/// Writes one collected field into the JSON object, applying Go's emptiness rules.
fn emit(field: &FieldSchema, slot: Slot<'_>, out: &mut Map<String, Json>, ctx: Ctx) -> Result<()> {
    match slot {
        Slot::Empty => {}
        Slot::Scalar(value) => {
            if field.has(POINTER) || !field.has(OMITEMPTY) || !is_zero(&value) {
                out.insert(field.json.to_owned(), value);
            }
        }
        Slot::List(items) => {
            if !items.is_empty() {
                out.insert(field.json.to_owned(), Json::Array(items));
            }
        }
        Slot::Map(map) => {
            if !map.is_empty() {
                out.insert(field.json.to_owned(), Json::Object(map));
            }
        }
        Slot::Message(parts) => {
            let Ty::Msg(index) = field.ty else {
                return Err(WireError::Schema("message slot for a non-message field").into());
            };
            let sub = sub_message(index)?;
            let value = if let [single] = parts.as_slice() {
                message(sub, single, ctx)?
            } else {
                message(sub, &parts.concat(), ctx)?
            };
            match value {
                Json::Null => {}
                Json::Object(members) if field.has(INLINE) => {
                    for (key, member) in members {
                        out.insert(key, member);
                    }
                }
                Json::Array(items) if sub.special == Special::List => {
                    if field.has(POINTER) || !field.has(OMITEMPTY) || !items.is_empty() {
                        out.insert(field.json.to_owned(), Json::Array(items));
                    }
                }
                value => {
                    out.insert(field.json.to_owned(), value);
                }
            }
        }
    }
    Ok(())
}

fn is_zero(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    }
}

fn zero(ty: Ty) -> Json {
    match ty {
        Ty::Str | Ty::Bytes => Json::String(String::new()),
        Ty::Bool => Json::Bool(false),
        Ty::F32 | Ty::F64 | Ty::I32 | Ty::I64 | Ty::U32 | Ty::U64 => Json::Number(0.into()),
        Ty::Msg(_) | Ty::Map(_) => Json::Null,
    }
}

fn wire_type_of(ty: Ty) -> u8 {
    match ty {
        Ty::Bool | Ty::I32 | Ty::I64 | Ty::U32 | Ty::U64 => VARINT,
        Ty::F32 => FIXED32,
        Ty::F64 => FIXED64,
        Ty::Str | Ty::Bytes | Ty::Msg(_) | Ty::Map(_) => LEN,
    }
}

fn wrong_type(tag: u32, ty: Ty, value: Value<'_>) -> WireError {
    WireError::WrongWireType { tag, found: value.wire_type(), expected: wire_type_of(ty) }
}

fn expect_len<'a>(field: &FieldSchema, value: Value<'a>) -> std::result::Result<&'a [u8], WireError> {
    match value {
        Value::Len(bytes) => Ok(bytes),
        other => Err(WireError::WrongWireType { tag: field.tag, found: other.wire_type(), expected: LEN }),
    }
}

fn string(tag: u32, value: Value<'_>) -> std::result::Result<String, WireError> {
    match value {
        // Go replaces invalid UTF-8 with U+FFFD when it writes JSON; do the same.
        Value::Len(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        other => Err(wrong_type(tag, Ty::Str, other)),
    }
}

fn float(value: f64) -> std::result::Result<Json, WireError> {
    Number::from_f64(value).map(Json::Number).ok_or(WireError::NonFiniteFloat(value))
}

/// Converts a scalar field's wire payload into JSON.
fn scalar(tag: u32, ty: Ty, value: Value<'_>) -> std::result::Result<Json, WireError> {
    // Integer conversions below follow protobuf: int32 values travel sign-extended in 64 bits
    // and are truncated back; uint32 keeps the low 32 bits.
    Ok(match (ty, value) {
        (Ty::Str, v) => Json::String(string(tag, v)?),
        (Ty::Bytes, Value::Len(bytes)) => Json::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        (Ty::Bool, Value::Varint(v)) => Json::Bool(v != 0),
        (Ty::I32, Value::Varint(v)) => Json::Number(i64::from(v as i32).into()),
        (Ty::I64, Value::Varint(v)) => Json::Number((v as i64).into()),
        (Ty::U32, Value::Varint(v)) => Json::Number(u64::from(v as u32).into()),
        (Ty::U64, Value::Varint(v)) => Json::Number(v.into()),
        (Ty::F32, Value::Fixed32(bits)) => float(f64::from(f32::from_bits(bits)))?,
        (Ty::F64, Value::Fixed64(bits)) => float(f64::from_bits(bits))?,
        (ty, v) => return Err(wrong_type(tag, ty, v)),
    })
}

/// The last occurrence of varint field `tag` in a small fixed-layout message.
fn last_varint(bytes: &[u8], tag: u32) -> std::result::Result<Option<u64>, WireError> {
    let mut found = None;
    let mut reader = Reader::new(bytes);
    while let Some((t, value)) = reader.next_field()? {
        if t == tag {
            match value {
                Value::Varint(v) => found = Some(v),
                other => return Err(wrong_type(tag, Ty::I64, other)),
            }
        }
    }
    Ok(found)
}

/// The last occurrence of string field `tag` in a small fixed-layout message.
fn last_string(bytes: &[u8], tag: u32) -> std::result::Result<Option<String>, WireError> {
    let mut found = None;
    let mut reader = Reader::new(bytes);
    while let Some((t, value)) = reader.next_field()? {
        if t == tag {
            found = Some(string(tag, value)?);
        }
    }
    Ok(found)
}

/// Seconds from 0000-01-01T00:00:00Z to the Unix epoch: RFC 3339 has four-digit years.
const YEAR_ZERO: i64 = -62_167_219_200;
/// Go's zero `time.Time` (0001-01-01T00:00:00Z), which Kubernetes writes as JSON `null`.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// `metav1.Time` (seconds only) or `metav1.MicroTime` (microseconds).
fn time(bytes: &[u8], micro: bool) -> Result<Json> {
    if bytes.is_empty() {
        return Ok(Json::Null);
    }
    let seconds = last_varint(bytes, 1)?.unwrap_or(0) as i64;
    let nanos = last_varint(bytes, 2)?.unwrap_or(0) as i32;
    let out_of_range = WireError::TimeOutOfRange { seconds, nanos };
    let (seconds, nanos) = if micro {
        let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos / 1000 * 1000);
        let secs = i64::try_from(total.div_euclid(1_000_000_000)).map_err(|_| out_of_range.clone())?;
        let sub = i32::try_from(total.rem_euclid(1_000_000_000)).map_err(|_| out_of_range.clone())?;
        (secs, sub)
    } else {
        (seconds, 0)
    };
    if seconds == GO_ZERO_TIME && nanos == 0 {
        return Ok(Json::Null);
    }
    if seconds < YEAR_ZERO {
        return Err(out_of_range.into());
    }
    let ts = jiff::Timestamp::new(seconds, 0).map_err(|_| out_of_range)?;
    let mut text = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if micro {
        let _ = write!(text, ".{:06}", nanos / 1000);
    }
    text.push('Z');
    Ok(Json::String(text))
}

fn int_or_string(bytes: &[u8]) -> Result<Json> {
    let mut kind = 0u64;
    let mut int_val = 0i32;
    let mut str_val = String::new();
    let mut reader = Reader::new(bytes);
    while let Some((tag, value)) = reader.next_field()? {
        match (tag, value) {
            (1, Value::Varint(v)) => kind = v,
            (2, Value::Varint(v)) => int_val = v as i32,
            (3, v) => str_val = string(3, v)?,
            (1 | 2, other) => return Err(wrong_type(tag, Ty::I64, other).into()),
            _ => {}
        }
    }
    match kind {
        0 => Ok(Json::Number(int_val.into())),
        1 => Ok(Json::String(str_val)),
        other => Err(WireError::InvalidIntOrString(other).into()),
    }
}

/// `runtime.RawExtension` / `metav1.FieldsV1`: the raw bytes are JSON, or a nested
/// protobuf object with its own `k8s\0` envelope.
fn raw_json(bytes: &[u8], ctx: Ctx) -> Result<Json> {
    let mut raw: &[u8] = &[];
    let mut reader = Reader::new(bytes);
    while let Some((tag, value)) = reader.next_field()? {
        if tag == 1 {
            raw = match value {
                Value::Len(b) => b,
                other => return Err(wrong_type(1, Ty::Bytes, other).into()),
            };
        }
    }
    if raw.is_empty() {
        return Ok(Json::Null);
    }
    if crate::is_kubernetes_protobuf(raw) {
        return (ctx.embedded)(raw, ctx.depth).map_err(Failure::from);
    }
    serde_json::from_slice(raw).map_err(|e| WireError::InvalidEmbeddedJson(e.to_string()).into())
}

/// Formats nanoseconds the way Go's `time.Duration.String` does (`1h2m3.5s`, `1.5ms`, `0s`).
pub(crate) fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let u = nanos.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, suffix) = match u {
            0..1_000 => (1, "ns"),
            1_000..1_000_000 => (1_000, "µs"),
            _ => (1_000_000, "ms"),
        };
        push_fraction(&mut out, u / unit, u % unit, unit);
        out.push_str(suffix);
        return out;
    }
    let total_seconds = u / 1_000_000_000;
    let (hours, minutes, seconds) = (total_seconds / 3600, total_seconds / 60 % 60, total_seconds % 60);
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    push_fraction(&mut out, seconds, u % 1_000_000_000, 1_000_000_000);
    out.push('s');
    out
}

/// Writes `whole.frac` where `frac` is out of `unit`, trimming trailing zeros (and a bare dot).
fn push_fraction(out: &mut String, whole: u64, frac: u64, unit: u64) {
    let _ = write!(out, "{whole}");
    if frac > 0 {
        let width = unit.ilog10() as usize;
        let digits = format!("{frac:0width$}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_match_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1), "1ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(1_000_000_000), "1s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(go_duration(-2_000_000_000), "-2s");
        assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
    }

    fn time_bytes(seconds: i64, nanos: i32) -> Vec<u8> {
        let mut out = vec![0x08];
        let mut v = seconds as u64;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        if nanos != 0 {
            out.push(0x10);
            let mut v = i64::from(nanos) as u64;
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    #[test]
    fn times() {
        let t = |s, n, micro| time(&time_bytes(s, n), micro).map_err(|f| f.error);
        assert_eq!(t(1_767_366_245, 0, false), Ok(Json::String("2026-01-02T15:04:05Z".into())));
        assert_eq!(t(1_767_366_245, 123_456_789, false), Ok(Json::String("2026-01-02T15:04:05Z".into())));
        assert_eq!(t(1_767_366_245, 123_456_789, true), Ok(Json::String("2026-01-02T15:04:05.123456Z".into())));
        assert_eq!(t(0, 0, false), Ok(Json::String("1970-01-01T00:00:00Z".into())));
        assert_eq!(t(GO_ZERO_TIME, 0, false), Ok(Json::Null));
        assert_eq!(t(GO_ZERO_TIME + 1, 0, false), Ok(Json::String("0001-01-01T00:00:01Z".into())));
        assert!(t(i64::MAX, 0, false).is_err());
        assert!(t(YEAR_ZERO - 1, 0, false).is_err());
        assert_eq!(time(&[], false).map_err(|f| f.error), Ok(Json::Null));
    }
}
