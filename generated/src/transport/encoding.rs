//! The content encodings of a response that the client did not decode.
//!
//! With the `compression` feature, reqwest (through tower-http's `Decompression`) decodes a
//! body whose `Content-Encoding` is exactly `gzip` or `deflate`, then removes the header (and
//! `Content-Length`); any other value (`br`, `zstd`, `x-gzip`, `GZIP`, a stacked `gzip, br`)
//! is left as it came, body and header alike. Without the feature nothing is decoded. So a
//! `Content-Encoding` still on a response names what nobody decoded, whatever the build, and
//! such a body is never handed on as if it were the plain one.
//!
//! One case escapes the check: codings sent as two header lines, `gzip` first. tower-http reads
//! the first line only, decodes gzip and removes both; the bytes of the other coding then fail
//! the gzip decoder while the body is read, so the call still fails (a body error, and no file
//! from `save()`), but without naming the coding. (Tested in `tests/suite/download.rs`.)

use reqwest::header::{CONTENT_ENCODING, HeaderMap};

/// The codings of `headers`' `Content-Encoding` that were not decoded, as sent (`"br"`,
/// `"gzip, br"`), or `None` when there are none: no header, or only `identity` and empty list
/// elements.
pub(crate) fn undecoded(headers: &HeaderMap) -> Option<String> {
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let Ok(text) = value.to_str() else {
            // Not text: surely not a coding anybody decoded.
            codings.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
            continue;
        };
        codings.extend(
            text.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
                .map(str::to_owned),
        );
    }
    (!codings.is_empty()).then(|| codings.join(", "))
}

/// What this build decodes, for messages.
pub(crate) const DECODED: &str = if cfg!(feature = "compression") {
    "the client decodes gzip and deflate only"
} else {
    "this build decodes none (the `compression` feature adds gzip and deflate)"
};

#[cfg(test)]
mod tests {
    use super::undecoded;
    use reqwest::header::{CONTENT_ENCODING, HeaderMap, HeaderValue};

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(CONTENT_ENCODING, HeaderValue::from_bytes(v).unwrap());
        }
        headers
    }

    #[test]
    fn codings_left_on_a_response_are_named() {
        let cases: &[(&[&[u8]], Option<&str>)] = &[
            (&[], None),
            (&[b"identity"], None),
            (&[b"IDENTITY"], None),
            (&[b""], None),
            (&[b" , identity ,"], None),
            (&[b"br"], Some("br")),
            (&[b"zstd"], Some("zstd")),
            (&[b"gzip, br"], Some("gzip, br")),
            (&[b"gzip", b"br"], Some("gzip, br")),
            (&[b"identity, x-custom"], Some("x-custom")),
            (&[b"GZIP"], Some("GZIP")),
            (&[b"caf\xe9"], Some("caf\u{fffd}")),
        ];
        for (values, expected) in cases {
            assert_eq!(undecoded(&with(values)).as_deref(), *expected, "{values:?}");
        }
    }
}
