//! Every answer worth compressing goes out compressed in the encoding the browser
//! prefers: static assets compressed once at the best ratio, other routes on the
//! way out. (Rendered pages have their own test in `rendered_pages.rs`.)

mod common;

use std::io::Read;

use common::*;

async fn get(
    app: &TestApp,
    path: &str,
    accept: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app.http.get(app.url(path));
    if !accept.is_empty() {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "br" => brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        "" => out = bytes.to_vec(),
        other => panic!("unexpected encoding {other}"),
    }
    out
}

fn encoding_of(headers: &reqwest::header::HeaderMap) -> &str {
    headers
        .get("content-encoding")
        .map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn static_assets_are_compressed_once_in_the_preferred_encoding() {
    let demo = DemoApp::start(3).await;
    let app = &demo.app;
    let (_, _, home) = app.fetch("/").await;
    let css = attrs(&home, "link[rel=stylesheet]", "href").remove(0);
    let htmx = attrs(&home, "script[src*=htmx]", "src").remove(0);
    for path in [&css, &htmx] {
        let (status, headers, plain) = get(app, path, "").await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            encoding_of(&headers),
            "",
            "identity when nothing is accepted"
        );
        assert_eq!(header(&headers, "vary"), "accept-encoding");
        let mut sizes = Vec::new();
        for (accept, expected) in [
            ("gzip, deflate, br, zstd", "br"),
            ("gzip", "gzip"),
            ("br;q=0, gzip", "gzip"),
            ("identity", ""),
        ] {
            // Twice: the second answer is the copy kept from the first.
            for _ in 0..2 {
                let (status, headers, body) = get(app, path, accept).await;
                assert_eq!(status, 200);
                assert_eq!(encoding_of(&headers), expected, "{path} for {accept}");
                assert_eq!(header(&headers, "vary"), "accept-encoding");
                assert_eq!(
                    header(&headers, "cache-control"),
                    "public, max-age=31536000, immutable"
                );
                assert_eq!(decode(expected, &body), plain, "{path} in {expected}");
                sizes.push((expected, body.len()));
            }
        }
        let size = |e: &str| sizes.iter().find(|(x, _)| *x == e).unwrap().1;
        assert!(
            size("br") < size("gzip") && size("gzip") < size("") / 2,
            "{path}: {sizes:?}"
        );
    }
    // htmx at brotli's best: most of what a first visit downloads.
    let (_, _, packed) = get(app, &htmx, "br").await;
    assert!(
        packed.len() < 13_900,
        "htmx is {} bytes in br",
        packed.len()
    );
}

#[tokio::test]
async fn other_routes_are_compressed_on_the_way_out() {
    let demo = DemoApp::start(3).await;
    let app = &demo.app;
    let (status, _, plain) = get(app, "/live", "").await;
    assert_eq!(status, 200);
    for (accept, expected) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let (status, headers, body) = get(app, "/live", accept).await;
        assert_eq!(status, 200);
        assert_eq!(encoding_of(&headers), expected, "{accept}");
        assert!(body.len() < plain.len() / 2);
        assert_eq!(decode(expected, &body), plain);
    }
}

/// A browser's own header, as the benchmarks send it.
const BROWSER: &str = "gzip, deflate, br, zstd";

#[tokio::test]
async fn a_polled_fragment_is_compressed_once_for_the_crowd_and_still_revalidates() {
    let demo = DemoApp::start(3).await;
    let app = &demo.app;
    let (_, _, home) = app.fetch("/").await;
    let space = attrs(&home, "a[href^='/spaces/']", "href").remove(0);
    let fragment = format!("{space}/live");
    let (status, plain_headers, plain) = get(app, &fragment, "").await;
    assert!(status == 200 || status == 286, "{status}");
    assert_eq!(plain_headers["vary"], "accept-encoding");
    let (status_br, headers, first) = get(app, &fragment, BROWSER).await;
    assert_eq!(status_br, status);
    assert_eq!(encoding_of(&headers), "br");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        first.len().to_string()
    );
    assert_eq!(decode("br", &first), plain);
    assert_eq!(
        headers["etag"], plain_headers["etag"],
        "one tag for the answer"
    );
    // The next browser gets the very bytes kept for the tag.
    let (_, _, again) = get(app, &fragment, BROWSER).await;
    assert_eq!(again, first);
    let revalidated = app
        .http
        .get(app.url(&fragment))
        .header("accept-encoding", BROWSER)
        .header("if-none-match", headers["etag"].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
}

#[tokio::test]
async fn untagged_answers_are_compressed_and_tiny_ones_are_not() {
    let demo = DemoApp::start(3).await;
    let app = &demo.app;
    let (status, headers, plain) = get(app, "/users/not-a-number", "").await;
    assert_eq!(status, 404);
    assert!(headers.get("etag").is_none());
    let (status, headers, body) = get(app, "/users/not-a-number", BROWSER).await;
    assert_eq!(status, 404);
    assert_eq!(encoding_of(&headers), "br");
    assert_eq!(decode("br", &body), plain);
    let (status, headers, body) = get(app, "/healthz", BROWSER).await;
    assert_eq!(status, 200);
    assert!(body.len() < 256, "a tiny answer: {}", body.len());
    assert_eq!(encoding_of(&headers), "", "not worth compressing");
}
