//! Decodes Kubernetes protobuf request bodies into the JSON form of the same object.
//!
//! kubectl's typed clients send `Content-Type: application/vnd.kubernetes.protobuf` bodies:
//! the four magic bytes `k8s\0` followed by a `runtime.Unknown` message whose `typeMeta`
//! names the apiVersion and kind and whose `raw` bytes hold the object itself. [`decode`]
//! turns such a body into the `serde_json::Value` the API server would show for the object
//! (`kubectl get -o json`), so a server can handle it exactly like a JSON request.
//!
//! # How
//!
//! Decoding is driven by static schema tables (`generated.rs`) produced by
//! `tools/gen_schema.py` from the published Kubernetes API definitions: the `generated.proto`
//! files give each message's field numbers and wire types, and the Go types give the JSON
//! names and the emptiness rules (pointer, `omitempty`, inline embedding). Every built-in kind
//! of `k8s.io/api` and `meta.k8s.io` is covered, so no per-kind code is needed; see the
//! `decode` module for the exact JSON rules. Custom resources are never protobuf-encoded.
//!
//! # Example
//!
//! ```
//! // k8s\0 + Unknown{typeMeta{apiVersion "v1", kind "Namespace"}, raw: Namespace{metadata{name "demo"}}}
//! let mut body = b"k8s\0".to_vec();
//! body.extend([0x0a, 0x0f, 0x0a, 0x02]);
//! body.extend(b"v1");
//! body.extend([0x12, 0x09]);
//! body.extend(b"Namespace");
//! body.extend([0x12, 0x08, 0x0a, 0x06, 0x0a, 0x04]);
//! body.extend(b"demo");
//!
//! assert!(binnacle_protobuf::is_kubernetes_protobuf(&body));
//! let object = binnacle_protobuf::decode(&body)?;
//! assert_eq!(
//!     object,
//!     serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
//! );
//! # Ok::<(), binnacle_protobuf::DecodeError>(())
//! ```

mod decode;
#[rustfmt::skip]
mod generated;
mod schema;
mod wire;

use serde_json::{Map, Value as Json};

pub use wire::WireError;

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// True when the body starts with the Kubernetes protobuf magic `k8s\0`.
pub fn is_kubernetes_protobuf(body: &[u8]) -> bool {
    body.starts_with(MAGIC)
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body does not start with the `k8s\0` magic.
    #[error("body is not Kubernetes protobuf: it does not start with the k8s\\0 magic bytes")]
    NotProtobuf,
    /// The `runtime.Unknown` envelope around the object is malformed.
    #[error("malformed Kubernetes protobuf envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The envelope names a kind this decoder has no schema for.
    #[error("unsupported protobuf kind {kind:?} in apiVersion {api_version:?}")]
    UnsupportedKind {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
    /// The object inside the envelope is malformed.
    #[error(transparent)]
    Message(#[from] MessageError),
}

/// A malformed `runtime.Unknown` envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope bytes are not valid protobuf (or a field has the wrong wire type).
    #[error("{0}")]
    Wire(#[from] WireError),
    /// `typeMeta.kind` is missing or empty.
    #[error("typeMeta.kind is missing")]
    MissingKind,
    /// The raw object is compressed or otherwise encoded (`contentEncoding`), which is not supported.
    #[error("unsupported contentEncoding {0:?}")]
    UnsupportedContentEncoding(String),
    /// The raw object has a content type other than protobuf or JSON.
    #[error("unsupported contentType {0:?}")]
    UnsupportedContentType(String),
    /// The envelope says the raw object is JSON, but it is not a JSON object.
    #[error("raw object declared as JSON is not a JSON object: {0}")]
    InvalidJson(String),
}

/// A malformed object inside a well-formed envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed protobuf {api_version} {kind} at {path}: {error}")]
pub struct MessageError {
    /// The envelope's `apiVersion`.
    pub api_version: String,
    /// The envelope's `kind`.
    pub kind: String,
    /// Where in the object decoding failed, such as `spec.template.spec.containers[0]`.
    pub path: String,
    /// What was wrong there.
    pub error: WireError,
}

/// Decodes a protobuf-encoded Kubernetes object (envelope `k8s\0` + runtime.Unknown{typeMeta{apiVersion,kind}, raw, contentEncoding, contentType}) into its JSON form, with "apiVersion" and "kind" set from the envelope.
///
/// Never panics on malformed input; every failure is a [`DecodeError`].
pub fn decode(body: &[u8]) -> Result<Json, DecodeError> {
    decode_at_depth(body, 0)
}

/// The parts of a `runtime.Unknown` envelope.
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_type: String,
}

fn parse_envelope(bytes: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    use wire::{Reader, Value};

    fn text(tag: u32, value: Value<'_>) -> Result<String, WireError> {
        match value {
            Value::Len(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            other => Err(WireError::WrongWireType { tag, found: other.wire_type(), expected: wire::LEN }),
        }
    }

    let mut envelope =
        Envelope { api_version: String::new(), kind: String::new(), raw: &[], content_type: String::new() };
    let mut content_encoding = String::new();
    let mut reader = Reader::new(bytes);
    while let Some((tag, value)) = reader.next_field()? {
        match tag {
            1 => {
                let Value::Len(type_meta) = value else {
                    return Err(WireError::WrongWireType { tag, found: value.wire_type(), expected: wire::LEN }.into());
                };
                let mut inner = Reader::new(type_meta);
                while let Some((tag, value)) = inner.next_field()? {
                    match tag {
                        1 => envelope.api_version = text(tag, value)?,
                        2 => envelope.kind = text(tag, value)?,
                        _ => {}
                    }
                }
            }
            2 => {
                envelope.raw = match value {
                    Value::Len(raw) => raw,
                    other => {
                        return Err(
                            WireError::WrongWireType { tag, found: other.wire_type(), expected: wire::LEN }.into()
                        );
                    }
                };
            }
            3 => content_encoding = text(tag, value)?,
            4 => envelope.content_type = text(tag, value)?,
            _ => {}
        }
    }
    if envelope.kind.is_empty() {
        return Err(EnvelopeError::MissingKind);
    }
    if !content_encoding.is_empty() {
        return Err(EnvelopeError::UnsupportedContentEncoding(content_encoding));
    }
    Ok(envelope)
}

fn decode_at_depth(body: &[u8], depth: usize) -> Result<Json, DecodeError> {
    let rest = body.strip_prefix(MAGIC.as_slice()).ok_or(DecodeError::NotProtobuf)?;
    let Envelope { api_version, kind, raw, content_type } = parse_envelope(rest)?;

    let mut object = Map::new();
    object.insert("apiVersion".to_owned(), Json::String(api_version.clone()));
    object.insert("kind".to_owned(), Json::String(kind.clone()));

    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type {
        "" | "application/vnd.kubernetes.protobuf" => {}
        "application/json" => {
            let parsed: Json = serde_json::from_slice(raw).map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
            let Json::Object(members) = parsed else {
                return Err(EnvelopeError::InvalidJson("not an object".to_owned()).into());
            };
            for (key, value) in members {
                if key != "apiVersion" && key != "kind" {
                    object.insert(key, value);
                }
            }
            return Ok(Json::Object(object));
        }
        _ => return Err(EnvelopeError::UnsupportedContentType(content_type).into()),
    }

    let Some(schema) = schema::lookup_kind(&api_version, &kind) else {
        return Err(DecodeError::UnsupportedKind { api_version, kind });
    };
    let ctx = decode::Ctx { depth, embedded: decode_embedded };
    let decoded = decode::message(schema, raw, ctx).map_err(|failure| MessageError {
        api_version: api_version.clone(),
        kind: kind.clone(),
        path: failure.path(),
        error: failure.error,
    })?;
    if let Json::Object(members) = decoded {
        object.extend(members);
    }
    Ok(Json::Object(object))
}

/// Decodes an object nested (with its own envelope) inside a `RawExtension`.
fn decode_embedded(body: &[u8], depth: usize) -> Result<Json, WireError> {
    decode_at_depth(body, depth).map_err(|e| match e {
        DecodeError::Message(MessageError { error: WireError::TooDeep(max), .. }) => WireError::TooDeep(max),
        other => WireError::EmbeddedObject(other.to_string()),
    })
}
