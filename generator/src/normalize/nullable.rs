//! Rule 2: nullable references in progenitor's form.
//!
//! OpenAPI 3.0 has no null type and `nullable` only works beside `type`, so the spec writes a
//! property that is a component or null as `oneOf: [{$ref: X}, {$ref: NullValue}]`, where the
//! `NullValue` component is `{type: object, nullable: true, enum: [null]}`. Progenitor would
//! make an enum of that; this rewrites it to `nullable: true` + `allOf: [{$ref: X}]`, which
//! progenitor turns into `Option<X>`, and removes null-only components from progenitor's view.

use serde_json::Value;

use crate::spec_walk::escape;

/// `{nullable: true, enum: [null]}`: a schema whose only value is `null`.
pub(crate) fn is_null_only(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true)) && schema.get("enum") == Some(&serde_json::json!([null]))
}

/// `oneOf`/`anyOf` of exactly one schema and a null-only schema becomes `nullable: true` +
/// `allOf: [schema]`; null-only components are removed.
pub(crate) fn rewrite_nullable_refs(spec: &mut Value) {
    let null_refs: Vec<String> = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| is_null_only(v))
                .map(|(k, _)| format!("#/components/schemas/{}", escape(k)))
                .collect()
        })
        .unwrap_or_default();
    let is_null = |v: &Value| {
        is_null_only(v)
            || v.get("$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| null_refs.iter().any(|n| n == r))
    };
    crate::spec_walk::for_each_schema_mut(spec, &mut |m, _| {
        for key in ["oneOf", "anyOf"] {
            let Some(Value::Array(members)) = m.get(key) else {
                continue;
            };
            if members.len() == 2 && members.iter().filter(|x| is_null(x)).count() == 1 {
                let other = members
                    .iter()
                    .find(|x| !is_null(x))
                    .cloned()
                    .expect("one member is not null");
                m.remove(key);
                m.insert("nullable".into(), Value::Bool(true));
                m.insert("allOf".into(), Value::Array(vec![other]));
            }
        }
    });
    if let Some(schemas) = spec
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|_, v| !is_null_only(v));
    }
}
