//! **The tolerance rule**: how every type the client *reads* decodes what real servers send.
//! This is the one place the rule is decided; the spec keeps saying what the docs promise.
//!
//! A type is *read* when a response reaches it (a success or error body, or the lines of a JSONL
//! body through `x-jsonl-line-schema`; see [`crate::usage`]), or when nothing reaches it at all.
//! For every read type:
//!
//! 1. **Only what identifies the object is mandatory**: a property named in
//!    [`IDENTITY_PROPERTIES`] (`id`, `custom_id`) that the spec marks required. Every other
//!    property is an `Option`, `None` when the server leaves it out *or* sends `null`, whatever
//!    the docs promise. Absence never reads as made-up data: no empty string, no zero, no empty
//!    list. (The spec is relaxed this way for progenitor only, by `relax_read_schemas`.)
//! 2. **A string accepts a number or a boolean**, kept as its JSON text (`404` reads as
//!    `"404"`): error codes are documented as strings and sent as numbers.
//! 3. **An integer accepts a string or a float holding a whole number** (`"429"`, `429.0`).
//! 4. **An object with a `message` string accepts a bare string**, read as the object with only
//!    its `message` set: `"error": "request timed out"` keeps its message.
//! 5. **An optional id that is an empty string is absent**: `"output_file_id": ""` reads as
//!    `None` (a property named `id` or ending in `_id`), so no request is ever sent for an id
//!    that names nothing.
//! 6. **Unknown properties are kept**, in each read struct's flattened map `extra`
//!    ([`crate::shape`]), and `additionalProperties: false` is not enforced, so a new field never
//!    fails a response and is never lost. Unknown enum values are kept (see
//!    [`crate::open_enum`]).
//! 7. **An object is read only from a JSON object**: serde's derived struct decoders also read
//!    a JSON array by position (`["bad", 400]` as `{message, code}`), which makes up fields the
//!    server never sent. The flattened `extra` map turns that off: such a struct decodes through
//!    `deserialize_map` alone, and an array is a decode error.
//!
//! Types the client only *sends* keep the spec's required fields as plain values, so a request
//! cannot be built without them. Rules 2–5 are applied by the decoders of the client crate's
//! `tolerant` module, named in `#[serde(deserialize_with)]` attributes by `deserializer_for`.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::usage::Usage;

/// The properties that identify an object: mandatory in read types when the spec requires
/// them. `id` names objects (batches, files); `custom_id` names a request and its result line.
pub const IDENTITY_PROPERTIES: &[&str] = &["id", "custom_id"];

/// The field of every read struct that keeps the fields the spec does not define (rule 6,
/// added by [`crate::shape`]). The spec may not use it as a property name
/// (`normalize/validate.rs` refuses it).
pub const EXTRA_FIELD: &str = "extra";

/// Whether a component schema with this usage is read (rule above).
pub fn is_read(usage: Option<&Usage>) -> bool {
    usage.is_none_or(|u| u.response || !u.request)
}

/// Rule 1 applied to the spec progenitor sees: in every read component schema and every inline
/// response schema, `required` keeps only identity properties and every other property becomes
/// nullable, so that progenitor makes it an `Option` that accepts both absence and `null`.
pub(crate) fn relax_read_schemas(spec: &mut Value, usage: &BTreeMap<String, Usage>) {
    if let Some(schemas) = spec
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if is_read(usage.get(name)) {
                crate::spec_walk::walk_schema(schema, "", &mut |s, _| relax_object(s));
            }
        }
    }
    let relax_content = |content: Option<&mut Value>| {
        for (_, mt) in content.and_then(Value::as_object_mut).into_iter().flatten() {
            if let Some(schema) = mt.get_mut("schema") {
                crate::spec_walk::walk_schema(schema, "", &mut |s, _| relax_object(s));
            }
        }
    };
    if let Some(responses) = spec
        .get_mut("components")
        .and_then(|c| c.get_mut("responses"))
        .and_then(Value::as_object_mut)
    {
        for (_, r) in responses.iter_mut() {
            relax_content(r.get_mut("content"));
        }
    }
    for (_, item) in spec
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        for method in crate::spec_walk::METHODS {
            let Some(responses) = item
                .get_mut(*method)
                .and_then(|op| op.get_mut("responses"))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            for (_, r) in responses.iter_mut() {
                relax_content(r.get_mut("content"));
            }
        }
    }
}

fn relax_object(schema: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return;
    };
    let required: BTreeSet<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| IDENTITY_PROPERTIES.contains(name) && props.contains_key(*name))
        .map(str::to_owned)
        .collect();
    if required.is_empty() {
        schema.remove("required");
    } else {
        schema.insert("required".into(), json!(required));
    }
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if !required.contains(name) {
                make_nullable(prop);
            }
        }
    }
}

/// Makes a property schema accept `null`: `nullable: true` beside a `type` or an `allOf`,
/// otherwise (a `$ref`, a `oneOf`, ...) the schema wrapped as `nullable: true` + `allOf`.
fn make_nullable(prop: &mut Value) {
    let Some(obj) = prop.as_object_mut() else { return };
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    if obj.contains_key("type") || obj.contains_key("allOf") || obj.is_empty() {
        obj.insert("nullable".into(), Value::Bool(true));
        return;
    }
    let description = obj.remove("description");
    let inner = Value::Object(std::mem::take(obj));
    obj.insert("nullable".into(), Value::Bool(true));
    obj.insert("allOf".into(), Value::Array(vec![inner]));
    if let Some(d) = description {
        obj.insert("description".into(), d);
    }
}

/// Rules 2–5: the decoder of the client crate's `tolerant` module for the field `field` of a
/// read type, by its Rust type, or `None` when serde's own decoding is right. `message_types`
/// are the read structs with a `message: Option<String>` field (rule 4).
pub(crate) fn deserializer_for(field: &str, ty: &syn::Type, message_types: &BTreeSet<String>) -> Option<&'static str> {
    if let Some(inner) = option_inner(ty) {
        let name = last_ident(inner)?;
        let id = field == "id" || field.ends_with("_id");
        return if name == "String" && id {
            Some("crate::tolerant::option_id")
        } else if name == "String" {
            Some("crate::tolerant::option_string")
        } else if INTEGERS.contains(&name.as_str()) {
            Some("crate::tolerant::option_integer")
        } else if message_types.contains(&name) {
            Some("crate::tolerant::option_message_object")
        } else {
            None
        };
    }
    let name = last_ident(ty)?;
    if name == "String" {
        Some("crate::tolerant::string")
    } else if INTEGERS.contains(&name.as_str()) {
        Some("crate::tolerant::integer")
    } else {
        None
    }
}

const INTEGERS: &[&str] = &["i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128"];

/// `T` of `Option<T>` (any path ending in `Option`).
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != "Option" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The last identifier of a plain path type without generic arguments (`::std::string::String`
/// gives `String`).
pub(crate) fn last_ident(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    matches!(seg.arguments, syn::PathArguments::None).then(|| seg.ident.to_string())
}
