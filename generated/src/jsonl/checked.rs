//! The result reader's first pass: a line's fields read without building its `response`, every
//! byte of it parsed as strictly as a full decode into `serde_json::Value` would.
//!
//! serde_json skips a value it is told to ignore (`IgnoredAny`, `RawValue`, a struct's unknown
//! fields) without the checks it makes when it decodes one: a lone surrogate escape, a number
//! out of `f64`'s range (`1e400`) and nesting deeper than 128 all pass a skip and fail a
//! decode. A line the first pass accepted must never fail later, when its map is built; so
//! nothing here is skipped: [`Checked`] decodes every value with `deserialize_any` (the path
//! `Value` takes) and drops it, and [`Fast`] refuses unknown fields (a line with any takes the
//! full decode).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::types::{BatchResultError, BatchResultStatus};

/// The fields of a result line every caller needs, decoded as the spec's `BatchResultLine`
/// decodes them, and what `response` says of the line's shape. Only a line with no field but
/// these five, and a `response` that is an object or null, is read this way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Fast {
    #[serde(deserialize_with = "crate::tolerant::string")]
    pub(super) custom_id: String,
    #[serde(default, deserialize_with = "crate::tolerant::option_message_object")]
    pub(super) error: Option<BatchResultError>,
    #[serde(default, deserialize_with = "crate::tolerant::option_id")]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) response: Option<ResponseHead>,
    #[serde(default)]
    pub(super) status: Option<BatchResultStatus>,
}

/// What an object `response` says of the line's shape: whether it has the keys `status_code`
/// and `body` (the OpenAI shape), and `status_code` as an HTTP status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ResponseHead {
    pub(super) has_status_code: bool,
    pub(super) has_body: bool,
    /// `status_code`, read by the tolerance rule for integers (`"200"` is 200); `None` when it
    /// is absent or null.
    pub(super) http_status: Option<u16>,
}

/// `response.status_code`: an integer, or a string or whole float holding one (the tolerance
/// rule), that fits in a `u16`; `null` is `None`.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct HttpStatus(#[serde(deserialize_with = "crate::tolerant::option_integer")] pub(super) Option<u16>);

impl<'de> Deserialize<'de> for ResponseHead {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct HeadVisitor;
        impl<'de> Visitor<'de> for HeadVisitor {
            type Value = ResponseHead;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResponseHead, A::Error> {
                let mut head = ResponseHead::default();
                // A repeated key: the last one counts, as in a `serde_json::Map`.
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::StatusCode => {
                            head.http_status = map.next_value::<HttpStatus>()?.0;
                            head.has_status_code = true;
                        }
                        Key::Body => {
                            map.next_value::<Checked>()?;
                            head.has_body = true;
                        }
                        Key::Other => {
                            map.next_value::<Checked>()?;
                        }
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(HeadVisitor)
    }
}

/// Any JSON value, decoded (strings, numbers, nesting) and dropped.
pub(super) struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Key>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// An object key: `status_code`, `body` or another. One of serde_json's private keys
/// (`$serde_json::private::RawValue`, `$serde_json::private::Number`) is refused: with
/// serde_json's `raw_value` or `arbitrary_precision` feature, which any crate of a build may
/// turn on, a `Value` gives an object whose first key is one of these a meaning of its own.
/// Such a line takes the full decode, which says what `Value` makes of it.
enum Key {
    StatusCode,
    Body,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "status_code" => Key::StatusCode,
            "body" => Key::Body,
            _ if key.starts_with("$serde_json::private::") => {
                return Err(E::custom(format!("the key {key:?} is serde_json's own")));
            }
            _ => Key::Other,
        })
    }
}
