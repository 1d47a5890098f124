//! What the build script and the server agree on: which files are compressed, their content types and
//! their ETags. The build script includes this file with `#[path]`, so it uses only `std`.

/// The `Content-Type` of a file, from its extension (the few kinds a Vite build emits, and common extras
/// from `web/public`); `application/octet-stream` for anything else.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Whether a file of this type is worth storing gzipped too (text formats; images and fonts are
/// compressed already).
pub fn compressible(path: &str) -> bool {
    let ct = content_type(path);
    ct.starts_with("text/")
        || ct == "image/svg+xml"
        || ct.starts_with("application/") && ct != "application/octet-stream"
}

/// A strong ETag (with its quotes) for a file's bytes: length and 64-bit FNV-1a hash. Stable across builds
/// and Rust versions, so an unchanged file keeps its ETag in a new binary.
pub fn etag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{:x}-{hash:016x}\"", bytes.len())
}
