//! Shapes of the generated schema tables (see `generated.rs` and `tools/gen_schema.py`).

use crate::generated::{KINDS, MESSAGES};

/// The Go field is a pointer: a zero value present on the wire is meaningful and kept.
pub(crate) const POINTER: u8 = 1;
/// The Go JSON tag has `omitempty`: a zero scalar of a non-pointer field is left out.
pub(crate) const OMITEMPTY: u8 = 2;
/// An embedded Go struct whose fields are merged into the parent JSON object.
pub(crate) const INLINE: u8 = 4;
/// A `repeated` protobuf field (a JSON array).
pub(crate) const REPEATED: u8 = 8;

/// The protobuf type of a field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// `string`
    Str,
    /// `bytes`, base64 in JSON
    Bytes,
    /// `bool`
    Bool,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `uint32` (no current Kubernetes message uses the unsigned or floating-point types;
    /// they are kept so that regenerated tables still compile if one appears)
    #[allow(dead_code)]
    U32,
    /// `uint64`
    #[allow(dead_code)]
    U64,
    /// `float`
    #[allow(dead_code)]
    F32,
    /// `double`
    #[allow(dead_code)]
    F64,
    /// A message, by index into `MESSAGES`.
    Msg(u16),
    /// `map<string, V>`
    Map(&'static Ty),
}

/// How a message maps to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// A struct: a JSON object with one member per field.
    Plain,
    /// `metav1.Time`: RFC 3339 with second precision.
    Time,
    /// `metav1.MicroTime`: RFC 3339 with microsecond precision.
    MicroTime,
    /// `metav1.Duration`: a Go duration string.
    Duration,
    /// `resource.Quantity`: its canonical string.
    Quantity,
    /// `intstr.IntOrString`: a JSON number or string.
    IntOrString,
    /// `runtime.RawExtension` and `metav1.FieldsV1`: embedded raw JSON.
    RawJson,
    /// A named Go slice type (such as `ExtraValue`) wrapped in a message with one `items` field.
    List,
}

/// One field of a message.
#[derive(Debug)]
pub(crate) struct FieldSchema {
    /// The protobuf field number.
    pub(crate) tag: u32,
    /// The JSON member name.
    pub(crate) json: &'static str,
    /// The protobuf type.
    pub(crate) ty: Ty,
    /// `POINTER | OMITEMPTY | INLINE | REPEATED`.
    pub(crate) flags: u8,
}

impl FieldSchema {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Builds a [`FieldSchema`]; keeps the generated tables short.
pub(crate) const fn f(tag: u32, json: &'static str, ty: Ty, flags: u8) -> FieldSchema {
    FieldSchema { tag, json, ty, flags }
}

/// One protobuf message.
#[derive(Debug)]
pub(crate) struct MessageSchema {
    /// The full protobuf name, such as `k8s.io.api.apps.v1.Deployment`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) name: &'static str,
    /// How it maps to JSON.
    pub(crate) special: Special,
    /// Its fields, in Go struct order.
    pub(crate) fields: &'static [FieldSchema],
}

impl MessageSchema {
    /// The field with protobuf number `tag`, with its position in `fields`.
    pub(crate) fn field(&self, tag: u32) -> Option<(usize, &'static FieldSchema)> {
        self.fields.iter().enumerate().find(|(_, field)| field.tag == tag)
    }
}

/// A top-level kind and the message that encodes it.
#[derive(Debug)]
pub(crate) struct Kind {
    /// `group/version`, or `version` for the core group.
    pub(crate) api_version: &'static str,
    /// The kind name.
    pub(crate) kind: &'static str,
    /// Index into `MESSAGES`.
    pub(crate) message: u16,
}

/// The message at `index` in the generated table.
pub(crate) fn message(index: u16) -> Option<&'static MessageSchema> {
    MESSAGES.get(usize::from(index))
}

/// The message for a full protobuf name.
#[cfg(test)]
pub(crate) fn message_named(name: &str) -> Option<&'static MessageSchema> {
    MESSAGES.binary_search_by(|m| m.name.cmp(name)).ok().and_then(|i| MESSAGES.get(i))
}

/// The kinds `meta.k8s.io/v1` registers into every group version (options, `Status`, `WatchEvent`).
const META_KINDS: &[&str] = &[
    "CreateOptions",
    "DeleteOptions",
    "GetOptions",
    "ListOptions",
    "PatchOptions",
    "UpdateOptions",
    "Status",
    "WatchEvent",
];

fn find_kind(api_version: &str, kind: &str) -> Option<&'static MessageSchema> {
    KINDS
        .binary_search_by(|k| (k.api_version, k.kind).cmp(&(api_version, kind)))
        .ok()
        .and_then(|i| KINDS.get(i))
        .and_then(|k| message(k.message))
}

/// The message that encodes `kind` in `api_version`, if the tables know it.
pub(crate) fn lookup_kind(api_version: &str, kind: &str) -> Option<&'static MessageSchema> {
    find_kind(api_version, kind)
        .or_else(|| if META_KINDS.contains(&kind) { find_kind("meta.k8s.io/v1", kind) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_consistent() {
        assert!(MESSAGES.windows(2).all(|w| w[0].name < w[1].name), "MESSAGES must be sorted");
        assert!(
            KINDS.windows(2).all(|w| (w[0].api_version, w[0].kind) < (w[1].api_version, w[1].kind)),
            "KINDS must be sorted"
        );
        for m in MESSAGES {
            for field in m.fields {
                let mut ty = field.ty;
                if let Ty::Map(value) = ty {
                    ty = *value;
                }
                if let Ty::Msg(i) = ty {
                    assert!(message(i).is_some(), "{}.{} points past the table", m.name, field.json);
                }
            }
        }
        for k in KINDS {
            assert!(message(k.message).is_some());
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup_kind("apps/v1", "Deployment").map(|m| m.name), Some("k8s.io.api.apps.v1.Deployment"));
        assert_eq!(lookup_kind("v1", "Pod").map(|m| m.name), Some("k8s.io.api.core.v1.Pod"));
        assert_eq!(
            lookup_kind("policy/v1", "DeleteOptions").map(|m| m.name),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert!(lookup_kind("v1", "NoSuchKind").is_none());
        assert!(lookup_kind("apps/v1", "PodSpec").is_none());
        assert_eq!(message_named("k8s.io.apimachinery.pkg.apis.meta.v1.Time").map(|m| m.special), Some(Special::Time));
    }
}
