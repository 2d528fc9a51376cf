//! Path-segment checks: an id sent in a path must stay one segment, whatever it holds.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::operation::Operation;

/// The longest path parameter accepted, in bytes (ids are short; a URL has a length limit).
pub const MAX_PATH_SEGMENT_BYTES: usize = 4096;

/// Refuses a path parameter that would not arrive at the server as exactly one path segment.
///
/// Refused, with an [`ErrorKind::InvalidInput`] error naming the parameter: an empty value, a
/// value with a `.` or `..` piece between slashes (`..`, `../x`, `a/./b`), a backslash or a
/// control character, and a value over [`MAX_PATH_SEGMENT_BYTES`]; the same after one round of
/// percent-decoding (`%2e%2E`, `..%2F`, `%5C`, `%00`, ...), in case a server or proxy decodes
/// twice. Everything else is percent-encoded by the generated code and arrives unchanged.
pub fn check_path_segment(op: &Operation, name: &str, value: &str) -> Result<()> {
    let problem = segment_problem(value).or_else(|| {
        if !value.contains('%') {
            return None;
        }
        let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        (decoded != value)
            .then(|| segment_problem(&decoded).map(|p| format!("{p} once percent-decoded")))
            .flatten()
    });
    match problem {
        None => Ok(()),
        Some(p) => Err(Error::new(
            ErrorKind::InvalidInput,
            format!("`{name}` {p}; it must be one path segment"),
        )
        .with_operation(op.id)
        .with_request(op.method, op.path)),
    }
}

/// The bytes of a plain id: ASCII letters and digits, `_` and `-`.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

fn segment_problem(value: &str) -> Option<String> {
    // The common case, an id such as `batch_abc123`: letters, digits, `_` and `-` only, none of
    // which the checks below can object to.
    if !value.is_empty() && value.len() <= MAX_PATH_SEGMENT_BYTES && value.bytes().all(|b| PLAIN[usize::from(b)]) {
        return None;
    }
    if value.is_empty() {
        Some("is empty".into())
    } else if value.len() > MAX_PATH_SEGMENT_BYTES {
        Some(format!(
            "is {} bytes long; the limit is {MAX_PATH_SEGMENT_BYTES}",
            value.len()
        ))
    } else if let Some(dot) = value.split('/').find(|piece| *piece == "." || *piece == "..") {
        Some(format!("has the dot segment {dot:?}"))
    } else if value.contains('\\') {
        Some("contains a backslash".into())
    } else {
        value
            .chars()
            .find(|c| c.is_control())
            .map(|c| format!("contains the control character U+{:04X}", c as u32))
    }
}

/// A path parameter as the generated code writes it into a URL: its text percent-encoded
/// (controls, space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`, `}`, `/`, `%` and every byte that is
/// not ASCII: the set progenitor's `encode_path` used), written straight into the URL being
/// formatted instead of into a string of its own.
pub(crate) struct PathSegment<'a, T: fmt::Display + ?Sized>(pub(crate) &'a T);

/// A path parameter's value as the client sends it (percent-encoded as above), for the mock crate's
/// matchers.
pub fn encode_path_segment(value: &str) -> String {
    PathSegment(value).to_string()
}

/// The bytes [`PathSegment`] encodes besides the non-ASCII ones.
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value's text arrives in pieces; each is encoded as it comes (the set works byte
        // by byte, so where the pieces split does not matter).
        struct Encode<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Encode<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                for piece in percent_encoding::utf8_percent_encode(s, PATH_SET) {
                    self.0.write_str(piece)?;
                }
                Ok(())
            }
        }
        fmt::write(&mut Encode(f), format_args!("{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::PathSegment;

    /// As progenitor 0.15.1's `encode_path` encoded them (the client's paths were built with
    /// it before the generator wrote its own request code).
    #[test]
    fn a_segment_is_encoded_as_progenitor_encodes_it() {
        for (value, sent) in [
            ("batch_abc123", "batch_abc123"),
            ("a/b?c#d%e f", "a%2Fb%3Fc%23d%25e%20f"),
            ("ü\u{7f}\"{`}<>", "%C3%BC%7F%22%7B%60%7D%3C%3E"),
            ("", ""),
            ("..", ".."),
            ("%2F", "%252F"),
            ("a;b+c&d=e[f]", "a;b+c&d=e[f]"),
        ] {
            assert_eq!(PathSegment(value).to_string(), sent, "{value:?}");
        }
        assert_eq!(PathSegment(&42u64).to_string(), "42");
    }
}
