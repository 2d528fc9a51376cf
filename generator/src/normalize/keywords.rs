//! Rule 3: validation and annotation keywords (classified once, in [`crate::spec_walk`]) never
//! reach progenitor, because progenitor turns them into other Rust types (`minimum: 1` into
//! `NonZeroU64`, `minimum: 0` into `u64`, `pattern` and `maxLength` into newtypes,
//! `uniqueItems` into a set, `default` into a non-`Option` field, `format: date-time` into a
//! `chrono` type, an integer `enum` into a closed Rust enum, and it panics on `not`), and such a
//! keyword must never change a public type. The spec keeps them, for the docs, the linters and
//! the diff.

use serde_json::Value;

use crate::spec_walk::{ANNOTATION_KEYWORDS, VALIDATION_KEYWORDS};

/// Removes the validation and annotation keywords ([`VALIDATION_KEYWORDS`],
/// [`ANNOTATION_KEYWORDS`]); every string `format` but `binary` (so every string is a
/// `String`); `enum` from schemas that are not strings (an integer enum is a plain integer);
/// and `additionalProperties: false` (a new field from the server must never fail decoding).
/// A schema with no `type` whose values are all strings is a string enum.
pub(super) fn strip(spec: &mut Value) {
    crate::spec_walk::for_each_schema_mut(spec, &mut |schema, _| {
        for key in VALIDATION_KEYWORDS.iter().chain(ANNOTATION_KEYWORDS) {
            schema.remove(*key);
        }
        let ty = schema.get("type").and_then(Value::as_str).map(str::to_owned);
        if ty.as_deref() == Some("string") && schema.get("format").and_then(Value::as_str) != Some("binary") {
            schema.remove("format");
        }
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            schema.remove("additionalProperties");
        }
        if let Some(Value::Array(values)) = schema.get("enum") {
            let nullable = schema.get("nullable") == Some(&Value::Bool(true));
            let strings = values.iter().all(|v| v.is_string() || (nullable && v.is_null()));
            let null_only = nullable && values.iter().all(Value::is_null);
            match ty.as_deref() {
                Some("string") => {}
                None if strings && !null_only && !values.is_empty() => {
                    schema.insert("type".into(), Value::String("string".into()));
                }
                _ if null_only => {}
                _ => {
                    schema.remove("enum");
                    schema.remove("x-enum-varnames");
                }
            }
        }
    });
}
