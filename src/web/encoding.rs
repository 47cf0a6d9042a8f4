//! Content negotiation for pages compressed once and sent many times.
//!
//! Rendered pages are compressed when first asked for in an encoding and the result
//! kept with the page (see `page_cache`), so a crowd of browsers costs one compression
//! per page per second, not one per request. Static assets are compressed once for
//! the life of the process, at the best ratio. Everything else is compressed on the
//! way out (`compress`): once per ETag where it has one.

use std::convert::Infallible;
use std::io::Write;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The best encoding an `Accept-Encoding` value allows: brotli, then gzip, else
    /// none. `q=0` refuses an encoding; `*` stands for any not named.
    pub fn preferred(accept: Option<&HeaderValue>) -> Self {
        let Some(list) = accept.and_then(|v| v.to_str().ok()) else {
            return Self::Identity;
        };
        let mut br = None;
        let mut gzip = None;
        let mut any = None;
        for item in list.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let accepted = q > 0.0;
            if name.eq_ignore_ascii_case("br") {
                br = Some(accepted);
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(accepted);
            } else if name == "*" {
                any = Some(accepted);
            }
        }
        if br.or(any).unwrap_or(false) {
            Self::Brotli
        } else if gzip.or(any).unwrap_or(false) {
            Self::Gzip
        } else {
            Self::Identity
        }
    }

    /// A small index per encoding, for things kept once per encoding.
    pub fn index(self) -> usize {
        match self {
            Self::Identity => 0,
            Self::Gzip => 1,
            Self::Brotli => 2,
        }
    }

    /// The `Content-Encoding` value, if any.
    pub fn header(self) -> Option<HeaderValue> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some(HeaderValue::from_static("gzip")),
            Self::Brotli => Some(HeaderValue::from_static("br")),
        }
    }

    /// `bytes` in this encoding, for a page; `None` for identity or if compressing
    /// failed. Brotli's quality 6 is close to its best ratio for pages this size at a
    /// fraction of the cost of 11; it runs once per page per second.
    pub fn compress(self, bytes: &[u8]) -> Option<Bytes> {
        self.compress_at(bytes, 6, 6)
    }

    /// `bytes` in this encoding at a fast level, for what is compressed for one
    /// request only; `None` for identity or if compressing failed.
    pub fn compress_fast(self, bytes: &[u8]) -> Option<Bytes> {
        self.compress_at(bytes, 4, 4)
    }

    /// `bytes` in this encoding at the best ratio, for what is compressed once for
    /// the life of the process (static assets); `None` for identity, if compressing
    /// failed, or if it saved nothing.
    pub fn compress_best(self, bytes: &[u8]) -> Option<Bytes> {
        self.compress_at(bytes, 9, 11)
            .filter(|packed| packed.len() < bytes.len())
    }

    fn compress_at(self, bytes: &[u8], gzip_level: u32, brotli_quality: i32) -> Option<Bytes> {
        match self {
            Self::Identity => None,
            Self::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 3),
                    flate2::Compression::new(gzip_level),
                );
                encoder.write_all(bytes).ok()?;
                encoder.finish().ok().map(Bytes::from)
            }
            Self::Brotli => {
                let mut out = Vec::with_capacity(bytes.len() / 3);
                // A window no bigger than the input: the encoder's set-up is sized by
                // it, and for a 1 KB fragment a 1 MB window was most of the cost.
                let needed = usize::BITS - bytes.len().max(1).leading_zeros();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: brotli_quality,
                    lgwin: i32::try_from(needed.clamp(10, 20)).unwrap_or(20),
                    size_hint: bytes.len(),
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
                Some(Bytes::from(out))
            }
        }
    }
}

/// The encoding a request prefers, read from `Accept-Encoding` alone (the `HeaderMap`
/// extractor would copy every header).
pub struct AcceptEncoding(pub Encoding);

impl<S: Send + Sync> FromRequestParts<S> for AcceptEncoding {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(Encoding::preferred(
            parts.headers.get(header::ACCEPT_ENCODING),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Encoding {
        Encoding::preferred(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    #[test]
    fn negotiates_like_browsers_expect() {
        assert_eq!(Encoding::preferred(None), Encoding::Identity);
        assert_eq!(pick("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(pick("gzip"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(pick("identity"), Encoding::Identity);
        assert_eq!(pick("*"), Encoding::Brotli);
        assert_eq!(pick("*;q=0, gzip"), Encoding::Gzip);
        assert_eq!(pick("deflate"), Encoding::Identity);
        assert_eq!(pick(";;,,q=2"), Encoding::Identity);
    }

    #[test]
    fn compressed_bytes_decode_to_the_original() {
        use std::io::Read;
        let page = "<p>hello, Spaces</p>".repeat(200);
        let gz = Encoding::Gzip.compress(page.as_bytes()).unwrap();
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, page);
        let br = Encoding::Brotli.compress(page.as_bytes()).unwrap();
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, page.as_bytes());
        assert!(br.len() < page.len() / 10);
        assert_eq!(Encoding::Identity.compress(page.as_bytes()), None);
    }
}
