//! Bodies written byte by byte, in the shape Go's protobuf marshaller (and so kubectl)
//! produces, with no protobuf library involved; plus malformed and truncated input.

#![allow(clippy::unwrap_used)]

use binnacle_protobuf::{DecodeError, EnvelopeError, decode};
use serde_json::json;

/// `kubectl auth can-i list pods -n default` as kubectl 1.32 sends it: Go writes every
/// non-pointer field of the object, so the empty ObjectMeta and the zero status are present.
fn can_i_body() -> Vec<u8> {
    let resource_attributes: Vec<u8> = [
        &[0x0a, 0x07][..],
        b"default", // 1: namespace
        &[0x12, 0x04],
        b"list",       // 2: verb
        &[0x1a, 0x00], // 3: group ""
        &[0x22, 0x00], // 4: version ""
        &[0x2a, 0x04],
        b"pods",       // 5: resource
        &[0x32, 0x00], // 6: subresource ""
        &[0x3a, 0x00], // 7: name ""
    ]
    .concat();
    assert_eq!(resource_attributes.len(), 0x1d);
    let spec: Vec<u8> = [&[0x0a, 0x1d][..], &resource_attributes].concat(); // 1: resourceAttributes
    assert_eq!(spec.len(), 0x1f);
    // ObjectMeta: name, generateName, namespace, selfLink, uid, resourceVersion all "",
    // generation 0, creationTimestamp as an empty (zero) Time.
    let metadata = [0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00];
    // SubjectAccessReviewStatus: allowed false, reason "", evaluationError "", denied false.
    let status = [0x08, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x20, 0x00];
    let raw: Vec<u8> = [&[0x0a, 0x10][..], &metadata, &[0x12, 0x1f], &spec, &[0x1a, 0x08], &status].concat();
    assert_eq!(raw.len(), 0x3d);
    let type_meta: Vec<u8> =
        [&[0x0a, 0x17][..], b"authorization.k8s.io/v1", &[0x12, 0x17], b"SelfSubjectAccessReview"].concat();
    assert_eq!(type_meta.len(), 0x32);
    [
        &b"k8s\0"[..],
        &[0x0a, 0x32],
        &type_meta, // 1: typeMeta
        &[0x12, 0x3d],
        &raw,          // 2: raw
        &[0x1a, 0x00], // 3: contentEncoding ""
        &[0x22, 0x00], // 4: contentType ""
    ]
    .concat()
}

#[test]
fn hand_built_self_subject_access_review() {
    assert_eq!(
        decode(&can_i_body()).unwrap(),
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "resource": "pods"}},
            "status": {"allowed": false}
        })
    );
}

#[test]
fn fields_in_any_order_and_unknown_fields_are_skipped() {
    let mut body = can_i_body();
    // An unknown field 15 (varint) and field 9 (fixed64) appended to the envelope.
    body.extend([0x78, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(decode(&body).unwrap()["spec"]["resourceAttributes"]["verb"], "list");
}

#[test]
fn every_truncation_is_an_error_or_a_clean_prefix() {
    let body = can_i_body();
    assert_eq!(body.len(), 123);
    for len in 0..=body.len() {
        let result = decode(&body[..len]);
        // The only prefixes that are themselves valid end exactly on an envelope field
        // boundary after typeMeta: without raw (56), or before/after the trailing strings.
        let clean = matches!(len, 56 | 119 | 121 | 123);
        assert_eq!(result.is_ok(), clean, "prefix of {len} bytes gave {result:?}");
    }
    assert!(matches!(decode(&body[..4]), Err(DecodeError::Envelope(EnvelopeError::MissingKind))));
    assert!(matches!(decode(&body[..3]), Err(DecodeError::NotProtobuf)));
    assert!(matches!(decode(&body[..70]), Err(DecodeError::Envelope(EnvelopeError::Wire(_)))));
}

#[test]
fn garbage_never_panics() {
    let fixed: [&[u8]; 6] = [
        b"k8s\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"k8s\0\x0a\xff\xff\xff\xff\x0f",
        b"k8s\0\x0a\x02\x0a\x80",
        b"k8s\0\x0b\x0c",
        b"k8s\0garbage that is not protobuf at all",
        b"\0\0\0\0",
    ];
    for body in fixed {
        assert!(decode(body).is_err(), "{body:?} should not decode");
    }

    // Deterministic mutations of a valid body: flipped bytes must never panic.
    let original = can_i_body();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let mut body = original.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = 4 + (next() as usize) % (body.len() - 4);
            body[at] = next() as u8;
        }
        let _ = decode(&body);
    }
    for _ in 0..2_000 {
        let len = (next() % 64) as usize;
        let mut body = b"k8s\0".to_vec();
        body.extend((0..len).map(|_| next() as u8));
        let _ = decode(&body);
    }
}
