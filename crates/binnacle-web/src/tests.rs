//! The serving rules, on in-memory sites (so they do not depend on npm having run), and the embedded build.

use super::*;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

const INDEX: &str = r#"<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>"#;
const SCRIPT: &str = "console.log('the app');";

fn site() -> Site {
    Site::new([
        Asset::new("index.html", INDEX),
        Asset::new("assets/index-abc123.js", SCRIPT).with_gzip(&b"gzipped script"[..]),
        Asset::new("assets/index-def456.css", "body{}"),
        Asset::new("robots.txt", "User-agent: *\n"),
    ])
    .expect("a valid site")
}

fn get(site: &Site, path: &str) -> Response<Body> {
    site.respond(&Method::GET, path, &HeaderMap::new())
}

fn with(site: &Site, method: Method, path: &str, headers: &[(&'static str, &str)]) -> Response<Body> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(*k, HeaderValue::from_str(v).expect("a header value"));
    }
    site.respond(&method, path, &map)
}

fn header<'a>(res: &'a Response<Body>, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn body(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("a body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn index_html_has_the_security_headers_and_is_revalidated() {
    let site = site();
    for path in ["/", "/index.html"] {
        let res = get(&site, path);
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&res, "cache-control"), "no-cache");
        assert_eq!(header(&res, "content-security-policy"), CONTENT_SECURITY_POLICY);
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        assert_eq!(header(&res, "etag"), shared::etag(INDEX.as_bytes()));
        assert_eq!(header(&res, "content-length"), INDEX.len().to_string());
        assert_eq!(body(res).await, INDEX);
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_with_their_content_type() {
    let site = site();
    let res = get(&site, "/assets/index-abc123.js");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(header(&res, "content-security-policy"), "", "only HTML gets the CSP");
    assert_eq!(header(&res, "vary"), "accept-encoding");
    assert_eq!(body(res).await, SCRIPT);
    let res = get(&site, "/assets/index-def456.css");
    assert_eq!(header(&res, "content-type"), "text/css; charset=utf-8");
    assert_eq!(header(&res, "vary"), "", "nothing varies without a gzip copy");
    // Files outside assets/ (from web/public) are not content-hashed: revalidated.
    let res = get(&site, "/robots.txt");
    assert_eq!(header(&res, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(&res, "cache-control"), "no-cache");
}

#[tokio::test]
async fn deep_links_load_the_app_and_missing_assets_do_not() {
    let site = site();
    for path in
        ["/conversations/0192f5d0-aaaa-7bbb-8ccc-123456789abc", "/admin/users", "/approvals/", "/apiary", "/x.y"]
    {
        let res = get(&site, path);
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8", "{path}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&res, "content-security-policy"), CONTENT_SECURITY_POLICY);
        assert_eq!(body(res).await, INDEX, "{path}");
    }
    let res = get(&site, "/assets/index-old999.js");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&res, "content-type"), "text/plain; charset=utf-8", "never HTML in place of a script");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn api_paths_get_the_api_json_404_never_the_app() {
    let site = site();
    for (method, path) in [
        (Method::GET, "/api"),
        (Method::GET, "/api/"),
        (Method::GET, "/api/v2/conversations"),
        (Method::POST, "/api/nope"),
        (Method::DELETE, "/api/v1/x\"y"),
        (Method::GET, "/metrics/extra"),
    ] {
        let res = site.respond(&method, path, &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(header(&res, "content-type"), "application/json");
        let text = body(res).await;
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(json["error"]["code"], "not_found", "{text}");
        assert!(json["error"]["message"].as_str().is_some_and(|m| m.contains(path)), "{text}");
    }
}

#[tokio::test]
async fn other_methods_are_refused() {
    let res = with(&site(), Method::POST, "/conversations", &[]);
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&res, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn head_answers_the_headers_without_the_body() {
    let res = with(&site(), Method::HEAD, "/", &[]);
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-length"), INDEX.len().to_string());
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    assert_eq!(body(res).await, "");
}

#[tokio::test]
async fn a_matching_etag_answers_304() {
    let site = site();
    let etag = header(&get(&site, "/assets/index-abc123.js"), "etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    for inm in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_string()] {
        let res = with(&site, Method::GET, "/assets/index-abc123.js", &[("if-none-match", &inm)]);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{inm}");
        assert_eq!(header(&res, "etag"), etag);
        assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
        assert_eq!(body(res).await, "");
    }
    let res = with(&site, Method::GET, "/assets/index-abc123.js", &[("if-none-match", "\"stale\"")]);
    assert_eq!(res.status(), StatusCode::OK);
    // index.html, also for a deep link: its ETag revalidates.
    let index_etag = header(&get(&site, "/"), "etag").to_string();
    let res = with(&site, Method::GET, "/conversations/abc", &[("if-none-match", &index_etag)]);
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&res, "content-security-policy"), CONTENT_SECURITY_POLICY);
}

#[tokio::test]
async fn gzip_is_sent_to_clients_that_accept_it() {
    let site = site();
    let path = "/assets/index-abc123.js";
    let plain_etag = header(&get(&site, path), "etag").to_string();
    for accept in ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"] {
        let res = with(&site, Method::GET, path, &[("accept-encoding", accept)]);
        assert_eq!(header(&res, "content-encoding"), "gzip", "{accept}");
        assert_eq!(header(&res, "vary"), "accept-encoding");
        assert_eq!(header(&res, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(header(&res, "content-length"), "14");
        assert_ne!(header(&res, "etag"), plain_etag, "each representation has its own ETag");
        assert_eq!(body(res).await, "gzipped script");
    }
    for accept in ["gzip;q=0", "br", "identity", "*;q=0", "gzip;q=0, *"] {
        let res = with(&site, Method::GET, path, &[("accept-encoding", accept)]);
        assert_eq!(header(&res, "content-encoding"), "", "{accept}");
        assert_eq!(body(res).await, SCRIPT, "{accept}");
    }
    // Either ETag revalidates.
    let gz_etag = header(&with(&site, Method::GET, path, &[("accept-encoding", "gzip")]), "etag").to_string();
    let res = with(&site, Method::GET, path, &[("accept-encoding", "gzip"), ("if-none-match", &plain_etag)]);
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&res, "etag"), gz_etag);
}

#[tokio::test]
async fn the_placeholder_says_why_and_how_to_build() {
    let site = Site::placeholder("npm was not found <when> this binary was built");
    assert_eq!(site.not_built_reason(), Some("npm was not found <when> this binary was built"));
    for path in ["/", "/conversations/abc"] {
        let res = get(&site, path);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&res, "content-security-policy"), CONTENT_SECURITY_POLICY);
        let html = body(res).await;
        assert!(html.contains("was not built"), "{html}");
        assert!(html.contains("npm was not found &lt;when&gt; this binary was built"), "escaped: {html}");
        assert!(html.contains("npm ci") && html.contains("npm run build") && html.contains("cargo build"), "{html}");
        assert!(!html.contains("<script"), "the placeholder needs no script");
    }
    assert_eq!(get(&site, "/assets/index-abc123.js").status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&site, "/api/v1/nope").status(), StatusCode::NOT_FOUND);
    assert_eq!(site.file("index.html").map(|f| f.path()), Some("index.html"));
}

#[test]
fn a_site_needs_an_index_and_clean_paths() {
    assert!(matches!(Site::new([Asset::new("app.js", "x")]), Err(WebError::MissingIndex)));
    for bad in ["", "/index.html", "assets//a.js", "assets/../secret", "./a"] {
        let r = Site::new([Asset::new("index.html", "x"), Asset::new(bad, "y")]);
        assert!(matches!(r, Err(WebError::InvalidPath(ref p)) if p == bad), "{bad}: {r:?}");
    }
}

#[test]
fn content_types() {
    for (path, ct) in [
        ("a.HTML", "text/html; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.svg", "image/svg+xml"),
        ("a.woff2", "font/woff2"),
        ("a.webmanifest", "application/manifest+json"),
        ("LICENSE", "application/octet-stream"),
    ] {
        assert_eq!(shared::content_type(path), ct, "{path}");
    }
    assert!(shared::compressible("a.js") && shared::compressible("a.svg") && shared::compressible("a.json"));
    assert!(!shared::compressible("a.png") && !shared::compressible("a.woff2") && !shared::compressible("a.bin"));
}

/// The build this binary embeds: the app (every asset its index.html names is served, immutable, with
/// a gzip copy that unpacks to the file) or the placeholder.
#[tokio::test]
async fn the_embedded_build_is_served() {
    let site = Site::embedded();
    assert_eq!(site.not_built_reason(), not_built_reason());
    let res = get(&site, "/");
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(html.to_ascii_lowercase().starts_with("<!doctype html>"), "{html}");
    let Some(_) = not_built_reason().is_none().then_some(()) else {
        assert!(html.contains("was not built"));
        return;
    };
    let assets: Vec<&str> = html.split('"').filter(|s| s.starts_with("/assets/")).collect();
    assert!(!assets.is_empty(), "index.html loads its script from /assets/: {html}");
    assert!(!html.contains("<script>") && !html.contains("<script type=\"module\">"), "no inline scripts (CSP)");
    for path in assets {
        let res = get(&site, path);
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control"), IMMUTABLE, "{path}");
        assert_ne!(header(&res, "content-type"), "application/octet-stream", "{path}");
        let file = site.file(path.trim_start_matches('/')).expect("listed");
        if let Some(gz) = &file.gzip {
            let mut unpacked = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unpacked).expect("gzip");
            assert_eq!(unpacked, &file.body()[..], "{path}: the gzip copy unpacks to the file");
        }
    }
}

/// As wired by `binnacle serve`: the API's nested router keeps its own JSON 404, the web app answers the rest.
#[tokio::test]
async fn as_the_fallback_of_an_api_router() {
    let api = Router::new()
        .nest(
            "/api/v1",
            Router::new()
                .route("/health", axum::routing::get(|| async { "ok" }))
                .fallback(|| async { (StatusCode::NOT_FOUND, "the API's own 404") }),
        )
        .route("/metrics", axum::routing::get(|| async { "# metrics" }));
    let app = api.fallback_service(site().router());
    let call = |uri: &'static str| {
        let app = app.clone();
        async move {
            let res = app.oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("infallible");
            (res.status(), body(res).await)
        }
    };
    assert_eq!(call("/api/v1/health").await, (StatusCode::OK, "ok".into()));
    assert_eq!(call("/api/v1/nope").await, (StatusCode::NOT_FOUND, "the API's own 404".into()));
    assert_eq!(call("/metrics").await, (StatusCode::OK, "# metrics".into()));
    assert_eq!(call("/").await, (StatusCode::OK, INDEX.into()));
    assert_eq!(call("/conversations/abc?tab=1").await, (StatusCode::OK, INDEX.into()));
    assert_eq!(call("/assets/index-abc123.js").await, (StatusCode::OK, SCRIPT.into()));
    let (status, text) = call("/api/v9/x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text.starts_with(r#"{"error":{"code":"not_found""#), "{text}");
}
