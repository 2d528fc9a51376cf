//! [`Usage`]: the tokens result lines report, summed; and reading a result line's `custom_id`
//! and `usage` in one pass.
//!
//! A success reports what it used in its completion's `usage`: `response.usage` in the
//! Cerebras shape, `response.body.usage` in the OpenAI shape, with `prompt_tokens`,
//! `completion_tokens`, `total_tokens` and, for reasoning models,
//! `completion_tokens_details.reasoning_tokens`
//! (<https://inference-docs.cerebras.ai/api-reference/batch/retrieve-batch-results>; OpenAI's
//! batch guide). Reading them never fails a line: a count that is not a whole number, or a
//! `usage` that is not an object, counts as absent.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Tokens used, summed over result lines. Serialised with these field names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Result lines that reported a `usage` object.
    pub lines: usize,
    /// `prompt_tokens`, summed.
    pub prompt_tokens: u64,
    /// `completion_tokens`, summed.
    pub completion_tokens: u64,
    /// `total_tokens`, summed.
    pub total_tokens: u64,
    /// `completion_tokens_details.reasoning_tokens`, summed over the lines that report it;
    /// `None` when no line does (a model without reasoning, or a server that does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// Sums saturate at the integer's maximum: a server that reports absurd counts
/// (`18446744073709551615` tokens) cannot make the merge overflow.
impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.lines = self.lines.saturating_add(other.lines);
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(other.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.reasoning_tokens = match (self.reasoning_tokens, other.reasoning_tokens) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
    }
}

/// What the merge reads of a result line: its `custom_id` (as the result reader reads it: a
/// number is kept as its text; of a repeated key, the last) and its usage.
pub(super) struct LineHead {
    pub(super) custom_id: String,
    pub(super) usage: Usage,
}

/// Reads `text` (a JSON object) for its `custom_id` and usage; `None` when it is not an object
/// with a `custom_id`.
pub(super) fn read_head(text: &[u8]) -> Option<LineHead> {
    // Not an object with a custom_id: the merge keeps the line as unreadable, and counts it.
    let head = serde_json::from_slice::<Head>(text).ok()?;
    Some(LineHead {
        custom_id: head.custom_id?,
        usage: head.usage,
    })
}

struct Head {
    custom_id: Option<String>,
    usage: Usage,
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HeadVisitor;
        impl<'de> Visitor<'de> for HeadVisitor {
            type Value = Head;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a result line")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head {
                    custom_id: None,
                    usage: Usage::default(),
                };
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::CustomId => head.custom_id = Some(map.next_value::<Id>()?.0),
                        Key::Response => head.usage = map.next_value::<Response>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(HeadVisitor)
    }
}

/// A `custom_id`, read by the tolerance rule for strings.
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::tolerant::string(d).map(Id)
    }
}

/// The keys this module reads; every other key is skipped.
enum Key {
    CustomId,
    Response,
    Body,
    Usage,
    Prompt,
    Completion,
    Total,
    Details,
    Reasoning,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "custom_id" => Key::CustomId,
                    "response" => Key::Response,
                    "body" => Key::Body,
                    "usage" => Key::Usage,
                    "prompt_tokens" => Key::Prompt,
                    "completion_tokens" => Key::Completion,
                    "total_tokens" => Key::Total,
                    "completion_tokens_details" => Key::Details,
                    "reasoning_tokens" => Key::Reasoning,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Which object a [`Lenient`] visitor is in: it reads that object's keys, and takes any other
/// value (a string, a number, null, an array) as "nothing here", never as an error.
#[derive(Clone, Copy)]
enum Level {
    /// `response`: `usage` (Cerebras) or `body` (OpenAI).
    Response,
    /// `response.body`: `usage`.
    Body,
    /// `usage`: the counts and `completion_tokens_details`.
    Usage,
    /// `completion_tokens_details`: `reasoning_tokens`.
    Details,
}

/// What a [`Level`] found.
#[derive(Default)]
struct Found {
    usage: Option<Usage>,
    reasoning: Option<u64>,
}

struct Lenient(Level);

impl<'de> de::DeserializeSeed<'de> for Lenient {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Lenient {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found::default();
        let mut usage = Usage {
            lines: 1,
            ..Usage::default()
        };
        while let Some(key) = map.next_key::<Key>()? {
            match (self.0, key) {
                (Level::Response, Key::Usage) | (Level::Body, Key::Usage) => {
                    found.usage = map.next_value_seed(Lenient(Level::Usage))?.usage;
                }
                (Level::Response, Key::Body) => {
                    if let Some(u) = map.next_value_seed(Lenient(Level::Body))?.usage {
                        found.usage = Some(u);
                    }
                }
                (Level::Usage, Key::Prompt) => usage.prompt_tokens = map.next_value::<Count>()?.0.unwrap_or(0),
                (Level::Usage, Key::Completion) => {
                    usage.completion_tokens = map.next_value::<Count>()?.0.unwrap_or(0);
                }
                (Level::Usage, Key::Total) => usage.total_tokens = map.next_value::<Count>()?.0.unwrap_or(0),
                (Level::Usage, Key::Details) => {
                    usage.reasoning_tokens = map.next_value_seed(Lenient(Level::Details))?.reasoning;
                }
                (Level::Details, Key::Reasoning) => found.reasoning = map.next_value::<Count>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if matches!(self.0, Level::Usage) {
            found.usage = Some(usage);
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Found::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Found, E> {
        Ok(Found::default())
    }
}

/// `response`: the usage it holds, if any.
struct Response(Usage);

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let found = de::DeserializeSeed::deserialize(Lenient(Level::Response), d)?;
        // A response without `usage` reports no tokens (the spec does not require it).
        Ok(Response(found.usage.unwrap_or_default()))
    }
}

/// A token count: a whole number that fits in a `u64` (or a string holding one); anything else
/// is `None`.
struct Count(Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<u64>, E> {
                Ok(u64::try_from(v).ok())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<u64>, E> {
                Ok((v.fract() == 0.0 && (0.0..1.8e19).contains(&v)).then_some(v as u64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u64>, E> {
                Ok(v.trim().parse().ok())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<u64>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(CountVisitor).map(Count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(text: &str) -> Usage {
        read_head(text.as_bytes()).expect("a line").usage
    }

    #[test]
    fn usage_is_read_from_both_shapes() {
        let cerebras = r#"{"custom_id":"a","status":"succeeded","response":{"id":"c","choices":[{"message":{"content":"{\"usage\":1}"}}],"usage":{"prompt_tokens":120,"completion_tokens":80,"total_tokens":200}}}"#;
        let u = usage(cerebras);
        assert_eq!(
            (
                u.lines,
                u.prompt_tokens,
                u.completion_tokens,
                u.total_tokens,
                u.reasoning_tokens
            ),
            (1, 120, 80, 200, None)
        );
        let openai = r#"{"id":"r","custom_id":7,"response":{"status_code":200,"request_id":"q","body":{"usage":{"prompt_tokens":"3","completion_tokens":2.0,"total_tokens":5,"completion_tokens_details":{"reasoning_tokens":1}}}},"error":null}"#;
        let head = read_head(openai.as_bytes()).unwrap();
        assert_eq!(head.custom_id, "7");
        let u = head.usage;
        assert_eq!(
            (
                u.lines,
                u.prompt_tokens,
                u.completion_tokens,
                u.total_tokens,
                u.reasoning_tokens
            ),
            (1, 3, 2, 5, Some(1))
        );
    }

    #[test]
    fn odd_values_count_as_absent_and_never_lose_the_line() {
        for line in [
            r#"{"custom_id":"a","response":null}"#,
            r#"{"custom_id":"a","response":"text"}"#,
            r#"{"custom_id":"a","response":[{"usage":{"total_tokens":1}}]}"#,
            r#"{"custom_id":"a","response":{"body":"x","usage":7}}"#,
            r#"{"custom_id":"a"}"#,
        ] {
            assert_eq!(read_head(line.as_bytes()).unwrap().usage, Usage::default(), "{line}");
        }
        let u = usage(
            r#"{"response":{"usage":{"prompt_tokens":-1,"total_tokens":[1],"completion_tokens":{"a":1}}},"custom_id":"a"}"#,
        );
        assert_eq!((u.lines, u.prompt_tokens, u.total_tokens), (1, 0, 0));
        assert!(read_head(br#"{"status":"succeeded"}"#).is_none());
        assert!(read_head(b"[1]").is_none());
        // A repeated key: the last one counts, as the result reader reads it.
        assert_eq!(
            read_head(br#"{"custom_id":"a","custom_id":"b"}"#).unwrap().custom_id,
            "b"
        );
    }

    #[test]
    fn sums_keep_reasoning_absent_until_a_line_reports_it() {
        let mut total = Usage::default();
        total += usage(
            r#"{"custom_id":"a","response":{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}}"#,
        );
        assert_eq!(total.reasoning_tokens, None);
        total += usage(
            r#"{"custom_id":"b","response":{"usage":{"total_tokens":4,"completion_tokens_details":{"reasoning_tokens":3}}}}"#,
        );
        assert_eq!(
            (total.lines, total.total_tokens, total.reasoning_tokens),
            (2, 6, Some(3))
        );
    }

    #[test]
    fn absurd_counts_saturate_instead_of_overflowing() {
        let line = r#"{"custom_id":"r7","status":"succeeded","response":{"usage":{"completion_tokens":18446744073709551615,"total_tokens":1e19,"completion_tokens_details":{"reasoning_tokens":18446744073709551615}}}}"#;
        let mut total = usage(line);
        assert_eq!(total.completion_tokens, u64::MAX);
        total += usage(line);
        assert_eq!(
            (
                total.lines,
                total.completion_tokens,
                total.total_tokens,
                total.reasoning_tokens
            ),
            (2, u64::MAX, u64::MAX, Some(u64::MAX))
        );
    }
}
