//! Lone UTF-16 surrogate escapes in JSON text.
//!
//! JSON text may escape a lone surrogate (`"\ud800"` with no trailing `\udc00`-`\udfff` after
//! it, or a trailing one on its own): valid JSON, but not valid Unicode. serde_json refuses it
//! when it decodes a string (into `String` or `Value`), and accepts it when it only skips the
//! string (`RawValue`, `IgnoredAny`). The result reader gives such text one meaning on every
//! path: each lone surrogate escape reads as U+FFFD, as `String::from_utf16_lossy` would
//! read the UTF-16 code units.

/// `text` with each lone surrogate escape (`\uD800`-`\uDFFF` not part of a pair) replaced by
/// `\ufffd`, or `None` when it has none. The replacement has the same length, so a byte offset
/// (an error's column) means the same in both texts.
///
/// Any backslash in valid JSON starts an escape inside a string, and escapes are read left to
/// right, two bytes at a time or six for `\u`; so `\\ud800` (an escaped backslash, then text)
/// is left alone. Text that is not valid JSON stays invalid: only the four hex digits of a
/// well-formed `\u` escape change.
pub(crate) fn replace_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut at = 0;
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let escape = at + found;
        if bytes.get(escape + 1) != Some(&b'u') {
            // A two-byte escape (`\"`, `\\`, `\n`, ...), or an invalid one the parser refuses.
            at = escape + 2;
            continue;
        }
        at = escape + 6;
        let Some(unit) = hex4(bytes, escape + 2) else {
            // Not four hex digits: the parser refuses it.
            at = escape + 2;
            continue;
        };
        let lone = match unit {
            0xD800..=0xDBFF => {
                let trailing = bytes.get(escape + 6) == Some(&b'\\')
                    && bytes.get(escape + 7) == Some(&b'u')
                    && hex4(bytes, escape + 8).is_some_and(|next| (0xDC00..=0xDFFF).contains(&next));
                if trailing {
                    at = escape + 12;
                }
                !trailing
            }
            0xDC00..=0xDFFF => true,
            _ => false,
        };
        if lone {
            let out = out.get_or_insert_with(|| bytes.to_vec());
            out[escape + 2..escape + 6].copy_from_slice(b"fffd");
        }
    }
    // Only ASCII hex digits were replaced by ASCII hex digits: still UTF-8.
    out.map(|bytes| String::from_utf8(bytes).expect("ASCII replaced by ASCII"))
}

/// The four hex digits at `at`, as a UTF-16 code unit.
fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at + 4)?;
    digits
        .iter()
        .try_fold(0u16, |n, d| Some(n * 16 + (*d as char).to_digit(16)? as u16))
}

#[cfg(test)]
mod tests {
    use super::replace_lone_surrogates as replace;

    #[test]
    fn only_lone_surrogates_change() {
        let cases = [
            (r#""\ud800""#, Some(r#""\ufffd""#)),
            (r#""\uDC00x""#, Some(r#""\ufffdx""#)),
            (r#""\ud83d\ude00""#, None),
            (r#""\ud83d\ud83d\ude00""#, Some(r#""\ufffd\ud83d\ude00""#)),
            (r#""\ud800\u0041""#, Some(r#""\ufffd\u0041""#)),
            (r#""\ud800\n""#, Some(r#""\ufffd\n""#)),
            (r#""\\ud800""#, None),
            (r#""\\\ud800""#, Some(r#""\\\ufffd""#)),
            (r#""\ud800"#, Some(r#""\ufffd"#)),
            (r#""\ud80""#, None),
            (r#""\uzzzz\udfff""#, Some(r#""\uzzzz\ufffd""#)),
            (r#""é\udbff""#, Some(r#""é\ufffd""#)),
            ("plain", None),
            ("\\", None),
        ];
        for (text, expected) in cases {
            assert_eq!(replace(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn the_result_reads_as_lossy_utf16() {
        for units in [
            vec![0xD800u16],
            vec![0x41, 0xDC00, 0x42],
            vec![0xD83D, 0xDE00, 0xD83D],
            vec![0xDBFF, 0xDBFF, 0xDFFF],
        ] {
            let escaped: String = units.iter().map(|u| format!("\\u{u:04x}")).collect();
            let json = format!("\"{escaped}\"");
            let fixed = replace(&json).unwrap_or(json);
            let read: String = serde_json::from_str(&fixed).unwrap();
            assert_eq!(read, String::from_utf16_lossy(&units), "{units:x?}");
        }
    }
}
