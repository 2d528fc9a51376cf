//! The decoders behind the tolerance rule for the types the client reads. The rule itself, and
//! which field gets which decoder, is decided in the generator (`generator/src/tolerance.rs`);
//! the generated types name these functions in `#[serde(deserialize_with = ...)]`.
//!
//! - a string accepts a number or a boolean, kept as its JSON text;
//! - an integer accepts a string or a float that holds a whole number;
//! - an object with a `message` accepts a bare string, read as `{"message": <string>}`;
//! - an optional id that is an empty string is absent.
//!
//! Everything else (a string where a number is expected, a fractional number, an object where a
//! string is expected) is still a decode error: tolerance covers what servers are seen to send,
//! it does not make up values.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string (or a number or boolean, kept as its text)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json prints whole floats with a `.0`, as the server wrote them.
        Ok(Some(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
        ))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A required string that may arrive as a number or boolean.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Text)?
        .ok_or_else(|| de::Error::invalid_type(de::Unexpected::Unit, &"a string"))
}

/// An optional string that may arrive as a number or boolean; `null` is `None`.
pub(crate) fn option_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Text)
}

struct Whole<T>(PhantomData<T>);

impl<T: TryFrom<i128>> Whole<T> {
    fn fit<E: de::Error>(v: i128) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Other("an integer out of range"), &"an integer in range"))
    }
}

impl<'de, T: TryFrom<i128>> Visitor<'de> for Whole<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer (or a string or float holding a whole number)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::fit(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::fit(v.into())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Self::fit(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Whole numbers within i64's range only: beyond 2^53 a float is not exact anyway.
        if v.fract() == 0.0 && v.abs() < 9.2e18 {
            Self::fit(v as i128)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &"a whole number"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        match t.parse::<i128>() {
            Ok(n) => Self::fit(n),
            Err(_) => match t.parse::<f64>() {
                Ok(f) if f.is_finite() => self.visit_f64(f),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &"a whole number")),
            },
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional id that may arrive as a number; `null` and the empty string are `None` (an empty
/// id names nothing).
pub(crate) fn option_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(d.deserialize_any(Text)?.filter(|id| !id.is_empty()))
}

/// A required integer that may arrive as a string or a whole float (for a read type whose
/// identity is an integer; this spec has none today).
#[allow(dead_code)]
pub(crate) fn integer<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(Whole(PhantomData))?
        .ok_or_else(|| de::Error::invalid_type(de::Unexpected::Unit, &"an integer"))
}

/// An optional integer that may arrive as a string or a whole float; `null` is `None`.
pub(crate) fn option_integer<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(Whole(PhantomData))
}

/// An optional object with a `message` field that may arrive as a bare string, read as the
/// object with only `message` set; `null` is `None`.
pub(crate) fn option_message_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(message) => serde_json::from_value(serde_json::json!({ "message": message }))
            .map(Some)
            .map_err(de::Error::custom),
        other => serde_json::from_value(other).map(Some).map_err(de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "super::option_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "super::option_integer")]
        n: Option<i32>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn strings_and_integers_accept_the_other_forms() {
        assert_eq!(
            t(r#"{"s": 404, "n": "429"}"#).unwrap(),
            T {
                s: Some("404".into()),
                n: Some(429)
            }
        );
        assert_eq!(
            t(r#"{"s": true, "n": 429.0}"#).unwrap(),
            T {
                s: Some("true".into()),
                n: Some(429)
            }
        );
        assert_eq!(t(r#"{"s": 1.5}"#).unwrap().s.as_deref(), Some("1.5"));
        assert_eq!(t(r#"{"s": null, "n": null}"#).unwrap(), T { s: None, n: None });
        assert_eq!(t("{}").unwrap(), T { s: None, n: None });
        assert!(t(r#"{"n": 1.5}"#).is_err());
        assert!(t(r#"{"n": "x"}"#).is_err());
        assert!(t(r#"{"n": 3000000000}"#).is_err(), "out of i32's range");
        assert!(t(r#"{"s": {"a": 1}}"#).is_err());
    }
}
