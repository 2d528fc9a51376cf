//! Custom headers: checking one, and parsing `CEREBRAS_CUSTOM_HEADERS`.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, ErrorKind, Result};

/// Headers that decide how a request is framed or routed; the client sets them itself.
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "expect",
    // Set per request by its body (JSON, or multipart with its boundary).
    "content-type",
];

/// Checks one custom header. The value is marked sensitive (it may be a credential).
pub(crate) fn custom_header(name: &str, value: &str) -> std::result::Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| "invalid header name".to_owned())?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(format!("`{name}` is set by the client and cannot be overridden"));
    }
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| format!("invalid value for header `{name}`"))?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// Parses `Name: value` lines (as in `CEREBRAS_CUSTOM_HEADERS`, like the vendor's SDKs) into
/// headers; a name may repeat. Headers are separated by line breaks only; blank lines are
/// skipped. A value that holds what looks like a second header (`X-Foo: bar; X-Baz: q`, or with
/// `,`) is refused as ambiguous, naming both headers. Errors name the variable, the line and the
/// header, never the value (it may be a credential).
pub(crate) fn parse_header_lines(variable: &str, text: &str) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| Error::new(ErrorKind::Config, format!("{variable} line {}: {what}", i + 1));
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("expected `Name: value` (one header per line)"))?;
        if let Some(second) = second_header(value) {
            return Err(bad(&format!(
                "the value of `{}` holds `{second}:`, which looks like a second header; put each header on a line of its own",
                name.trim()
            )));
        }
        let (name, value) = custom_header(name, value).map_err(|why| bad(&why))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// A `; Name:` or `, Name:` inside a header value: the name of what looks like another header.
fn second_header(value: &str) -> Option<&str> {
    value.match_indices([';', ',']).find_map(|(i, _)| {
        let rest = value[i + 1..].trim_start();
        let (name, _) = rest.split_once(':')?;
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (token && name.contains(|c: char| c.is_ascii_alphabetic())).then_some(name)
    })
}
