//! Static assets, embedded in the binary and served under content-hashed names.
//!
//! `/static/app.3f9c1a2b.css` is immutable and cached for a year; the plain name
//! (`/static/app.css`) also answers, briefly cached, for hand-written links.

use std::sync::{LazyLock, OnceLock};

use crate::web::extract::SitePath;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::encoding::{AcceptEncoding, Encoding};
use crate::web::error::AppError;

struct Asset {
    /// The name in `static/`.
    name: &'static str,
    /// The name with a content hash, as linked from pages.
    hashed: String,
    bytes: &'static [u8],
    content_type: &'static str,
    /// Compressed at the best ratio when first asked for; `None` when it saves
    /// nothing.
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
}

impl Asset {
    /// The bytes to send for a request preferring `encoding`, and their encoding.
    fn body(&self, encoding: Encoding) -> (Bytes, Option<HeaderValue>) {
        let cell = match encoding {
            Encoding::Identity => None,
            Encoding::Gzip => Some(&self.gzip),
            Encoding::Brotli => Some(&self.brotli),
        };
        match cell.and_then(|c| c.get_or_init(|| encoding.compress_best(self.bytes)).clone()) {
            Some(packed) => (packed, encoding.header()),
            None => (Bytes::from_static(self.bytes), None),
        }
    }
}

macro_rules! asset {
    ($name:literal, $ty:literal) => {
        (
            $name,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $name)).as_slice(),
            $ty,
        )
    };
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        asset!("app.css", "text/css; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("htmx-4.0.1.min.js", "text/javascript; charset=utf-8"),
        asset!("htmx-4.0.1.LICENSE.txt", "text/plain; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
        asset!("embed.css", "text/css; charset=utf-8"),
        asset!("embed-frame.js", "text/javascript; charset=utf-8"),
        asset!("embed.js", "text/javascript; charset=utf-8"),
    ]
    .into_iter()
    .map(|(name, bytes, content_type)| Asset {
        name,
        hashed: hashed_name(name, bytes),
        bytes,
        content_type,
        gzip: OnceLock::new(),
        brotli: OnceLock::new(),
    })
    .collect()
});

/// `app.css` → `app.1a2b3c4d.css`: a hash of the content before the extension. xxh3 is
/// a specified algorithm, so a name changes only when the bytes do, not with the
/// compiler that built the binary.
/// Vendored files already carry their version (`htmx-4.0.1.min.js`) and keep their name.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    if name.starts_with("htmx-") {
        return name.to_owned();
    }
    let hash = format!("{:08x}", xxhash_rust::xxh3::xxh3_64(bytes) as u32);
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// The URL pages link to for an asset.
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/static/{}", a.hashed))
        .unwrap_or_else(|| format!("/static/{name}"))
}

/// The asset URLs every page needs, computed once.
pub struct AssetUrls {
    pub css: String,
    pub app_js: String,
    pub htmx: String,
    pub favicon: String,
    pub embed_css: String,
    pub embed_frame_js: String,
    /// For host pages: a stable URL, since pasted snippets cannot follow hashes.
    pub embed_js: &'static str,
}

pub static URLS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
    css: url("app.css"),
    app_js: url("app.js"),
    htmx: url("htmx-4.0.1.min.js"),
    favicon: url("favicon.svg"),
    embed_css: url("embed.css"),
    embed_frame_js: url("embed-frame.js"),
    embed_js: "/static/embed.js",
});

/// Serves an asset, compressed as the request allows: each asset is compressed
/// once, at the best ratio, not on every request.
pub async fn serve(
    SitePath(file): SitePath<String>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> Result<Response, AppError> {
    let (asset, immutable) = ASSETS
        .iter()
        .find_map(|a| {
            if a.hashed == file {
                Some((a, true))
            } else if a.name == file {
                Some((a, false))
            } else {
                None
            }
        })
        .ok_or(AppError::NotFound("file"))?;
    let policy = if immutable {
        CachePolicy::Immutable
    } else if asset.name == "embed.js" {
        // Other sites link this name for good; a day keeps fixes flowing to them.
        CachePolicy::Public(86_400)
    } else {
        CachePolicy::Public(300)
    };
    let (body, content_encoding) = asset.body(encoding);
    let mut response = (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        body,
    )
        .into_response();
    if let Some(value) = content_encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, value);
    }
    Ok(with_policy(policy, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_an_xxh3_of_the_content() {
        // The low 32 bits of XXH3_64bits(""), 0x2d06800538d394c2.
        assert_eq!(hashed_name("app.css", b""), "app.38d394c2.css");
        assert_eq!(hashed_name("LICENSE", b""), "LICENSE.38d394c2");
        assert_eq!(hashed_name("htmx-4.0.1.min.js", b"x"), "htmx-4.0.1.min.js");
    }
}
