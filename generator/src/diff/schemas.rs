//! Schemas: types, formats, compositions, enum values, validation and annotation keywords,
//! array items, and properties (added, removed, required, nullable), recursively.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

use super::{Cx, Place, Side};
use crate::naming::field_name;
use crate::spec_walk::{ANNOTATION_KEYWORDS, VALIDATION_KEYWORDS};
use crate::tolerance::IDENTITY_PROPERTIES;

/// Every change from `b` to `h`, the schema at `at`.
pub(super) fn diff_schema(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
    if type_of(b) != type_of(h) {
        cx.push(
            true,
            at,
            at.typed(),
            format!("type changed from {} to {}", type_of(b), type_of(h)),
        );
        return;
    }
    diff_format(at, b, h, side, cx);
    diff_compositions(at, b, h, cx);
    diff_enum(at, b, h, cx);
    diff_keywords(at, b, h, side, cx);
    if let (Some(bi), Some(hi)) = (b.get("items"), h.get("items")) {
        diff_schema(&at.child("items", "items"), bi, hi, side, cx);
    }
    diff_properties(at, b, h, side, cx);
}

fn diff_format(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
    let (bf, hf) = (text(b, "format"), text(h, "format"));
    if bf == hf {
        return;
    }
    let string = type_of(h) == "string" && bf.as_deref() != Some("binary") && hf.as_deref() != Some("binary");
    let what = format!(
        "format changed from {} to {}",
        bf.as_deref().unwrap_or("none"),
        hf.as_deref().unwrap_or("none")
    );
    if string {
        cx.push(
            side.sent,
            at,
            vec![at.rust.clone()],
            format!("{what} (every string is a Rust `String`)"),
        );
    } else {
        cx.push(true, at, at.typed(), format!("{what} (the Rust type changes)"));
    }
}

fn diff_compositions(at: &Place, b: &Value, h: &Value, cx: &mut Cx) {
    for key in ["oneOf", "anyOf", "allOf"] {
        if b.get(key) != h.get(key) {
            let (bt, ht) = (b.get(key).map(refs_text), h.get(key).map(refs_text));
            cx.push(
                true,
                at,
                at.typed(),
                format!(
                    "{key} changed from {} to {}",
                    bt.unwrap_or_else(|| "none".into()),
                    ht.unwrap_or_else(|| "none".into())
                ),
            );
        }
    }
}

/// Enum values added (compatible, with the caveat a reviewer needs) and removed (breaking).
fn diff_enum(at: &Place, b: &Value, h: &Value, cx: &mut Cx) {
    let values = |v: &Value| -> Option<Vec<Value>> { v.get("enum").and_then(Value::as_array).cloned() };
    let is_enum_schema = at.pointer.starts_with("/components/schemas/") && !at.pointer.contains("/properties/");
    let enum_type = if is_enum_schema {
        at.rust.clone()
    } else {
        format!("types::{}", at.enum_type)
    };
    match (values(b), values(h)) {
        (None, Some(_)) => cx.push(
            true,
            at,
            at.typed(),
            "became an enum (the Rust type changes to an enum)",
        ),
        (Some(_), None) => cx.push(true, at, at.typed(), "is no longer an enum (the Rust type changes)"),
        (Some(be), Some(he)) => {
            for v in be.iter().filter(|v| !he.contains(v)) {
                cx.push(
                    true,
                    at,
                    vec![format!("{enum_type}::{}", variant_name(b, v))],
                    format!("enum value {v} removed"),
                );
            }
            for v in he.iter().filter(|v| !be.contains(v)) {
                let variant = format!("{enum_type}::{}", variant_name(h, v));
                cx.push(false, at, vec![variant.clone()], enum_value_added(v, &variant));
            }
        }
        (None, None) => {}
    }
}

/// What an added enum value means, truthfully: compatible (the enum is open and
/// `#[non_exhaustive]`, so nothing stops compiling), but only binaries already built keep
/// decoding the value as `Unknown`; code recompiled against the new crate gets the new variant,
/// so a `match` that handled the value in its `Unknown(_)` arm no longer sees it there.
fn enum_value_added(value: &Value, variant: &str) -> String {
    format!(
        "enum value {value} added (enums are open and #[non_exhaustive], so nothing stops compiling; binaries \
         already built decode it as Unknown, but code recompiled against the new crate decodes it as \
         `{variant}`: review the matches that handle {value} in an `Unknown(_)` arm, which stops seeing it)"
    )
}

/// Validation keywords (breaking in what the client sends, compatible in what it reads),
/// annotations (never breaking) and `additionalProperties: false`.
fn diff_keywords(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
    let from_to = |key: &str| {
        format!(
            "{key} changed from {} to {}",
            text(b, key).unwrap_or_else(|| "none".into()),
            text(h, key).unwrap_or_else(|| "none".into()),
        )
    };
    for key in VALIDATION_KEYWORDS.iter().filter(|k| b.get(**k) != h.get(**k)) {
        let why = if side.sent {
            " (the server may refuse what older code sends)"
        } else {
            " (no Rust type changes)"
        };
        cx.push(side.sent, at, vec![at.rust.clone()], format!("{}{why}", from_to(key)));
    }
    for key in ANNOTATION_KEYWORDS.iter().filter(|k| b.get(**k) != h.get(**k)) {
        cx.push(
            false,
            at,
            vec![at.rust.clone()],
            format!(
                "{} (no Rust type changes and the client never sends a default: code that leaves the value out gets the server's new default)",
                from_to(key)
            ),
        );
    }
    if b.get("additionalProperties") != h.get("additionalProperties")
        && h.get("additionalProperties") == Some(&Value::Bool(false))
    {
        cx.push(
            side.sent,
            at,
            vec![at.rust.clone()],
            "no longer accepts additional properties",
        );
    }
}

/// The properties of an object schema, by name, and the names it requires.
fn properties(v: &Value) -> (Map<String, Value>, BTreeSet<String>) {
    let props = v
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let required = v
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    (props, required)
}

/// The Rust items of one property of the struct at `at`.
struct PropertyItems {
    field: String,
    constructor: String,
    setter: String,
}

impl PropertyItems {
    fn new(at: &Place, name: &str, field: String) -> Self {
        PropertyItems {
            field,
            constructor: format!("{}::new", at.rust),
            setter: format!("{}::with_{}", at.rust, field_name(name).trim_end_matches('_')),
        }
    }

    /// The field, and the constructor when the property is one of its parameters, else the
    /// setter: the items code that reads or builds the property uses.
    fn of(&self, in_constructor: bool) -> Vec<String> {
        let builds = if in_constructor {
            &self.constructor
        } else {
            &self.setter
        };
        vec![self.field.clone(), builds.clone()]
    }
}

fn diff_properties(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
    let ((bp, br), (hp, hr)) = (properties(b), properties(h));
    if bp.is_empty() && hp.is_empty() {
        return;
    }
    let owner = at.rust.rsplit("::").next().unwrap_or_default().to_owned();
    // Whether the Rust shape of a property depends on required-ness and nullability: always in
    // a sent type, only for identity properties in a read type.
    let shaped = |name: &str| !side.read_shape || IDENTITY_PROPERTIES.contains(&name);
    for (name, bs) in &bp {
        let pat = at.property(name, &owner);
        let items = PropertyItems::new(at, name, pat.rust.clone());
        match hp.get(name) {
            None => {
                let in_constructor = br.contains(name) && shaped(name) && !nullable(bs);
                cx.push(true, &pat, items.of(in_constructor), "removed");
            }
            Some(hs) => {
                // A change of the property's type changes its setter's (and the constructor's,
                // when it takes the property) too.
                let pat = Place {
                    also: items.of(hr.contains(name) && shaped(name) && !nullable(hs))[1..].to_vec(),
                    ..pat
                };
                let required = (br.contains(name), hr.contains(name));
                diff_required(&pat, &items, required, shaped(name), side, cx);
                diff_nullable(&pat, &items, (bs, hs), hr.contains(name) && shaped(name), side, cx);
                diff_schema(&pat, bs, hs, side, cx);
            }
        }
    }
    for name in hp.keys().filter(|n| !bp.contains_key(*n)) {
        let pat = at.property(name, &owner);
        let items = PropertyItems::new(at, name, pat.rust.clone());
        let required = hr.contains(name);
        let breaking = required && (shaped(name) || side.sent);
        cx.push(
            breaking,
            &pat,
            items.of(breaking),
            match (required, breaking) {
                (true, true) => "added, required (the constructor gains a parameter)",
                (true, false) => "added, required (read types make it an Option; no existing code changes)",
                _ => "added, optional (a new field and setter; the type is #[non_exhaustive])",
            },
        );
    }
}

fn diff_required(
    pat: &Place,
    items: &PropertyItems,
    (before, after): (bool, bool),
    shaped: bool,
    side: Side,
    cx: &mut Cx,
) {
    let all = vec![items.field.clone(), items.constructor.clone(), items.setter.clone()];
    match (before, after) {
        (false, true) => cx.push(
            shaped || side.sent,
            pat,
            all,
            if shaped {
                "became required (the field's type and the constructor change)"
            } else {
                "became required (read types keep it an Option; no Rust change)"
            },
        ),
        (true, false) => cx.push(
            shaped,
            pat,
            all,
            if shaped {
                "became optional (the field becomes an Option and leaves the constructor)"
            } else {
                "became optional (it may now be missing; read types already make it an Option)"
            },
        ),
        _ => {}
    }
}

/// `rust_change`: the property is required where nullability shapes its Rust type.
fn diff_nullable(
    pat: &Place,
    items: &PropertyItems,
    (bs, hs): (&Value, &Value),
    rust_change: bool,
    side: Side,
    cx: &mut Cx,
) {
    if nullable(bs) == nullable(hs) {
        return;
    }
    let field = vec![items.field.clone()];
    if nullable(hs) {
        cx.push(
            rust_change,
            pat,
            field,
            if rust_change {
                "may now be null (the field becomes an Option)"
            } else {
                "may now be null (already an Option; no Rust change)"
            },
        );
    } else {
        cx.push(rust_change || side.sent, pat, field, "may no longer be null");
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn type_of(v: &Value) -> String {
    match text(v, "type") {
        Some(t) => t,
        None if v.get("$ref").is_some() => format!("$ref {}", text(v, "$ref").unwrap_or_default()),
        None => "untyped".to_owned(),
    }
}

fn nullable(v: &Value) -> bool {
    v.get("nullable") == Some(&Value::Bool(true))
}

/// The Rust name of an enum value's variant (`x-enum-varnames`, else as the generator names it).
fn variant_name(schema: &Value, value: &Value) -> String {
    let values = schema.get("enum").and_then(Value::as_array);
    let names = schema.get("x-enum-varnames").and_then(Value::as_array);
    if let (Some(values), Some(names)) = (values, names)
        && let Some(i) = values.iter().position(|v| v == value)
        && let Some(n) = names.get(i).and_then(Value::as_str)
    {
        return n.to_owned();
    }
    crate::naming::variant_name(value.as_str().unwrap_or_default())
}

fn refs_text(v: &Value) -> String {
    match v.as_array() {
        Some(members) => format!(
            "[{}]",
            members
                .iter()
                .map(|m| text(m, "$ref").unwrap_or_else(|| type_of(m)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => v.to_string(),
    }
}
