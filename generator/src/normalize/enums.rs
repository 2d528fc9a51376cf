//! Rule 6: every string enum becomes an open enum.
//!
//! Progenitor's enums are closed: one unknown value from the server fails the whole response.
//! So every string enum must be a named component schema, which [`crate::open_enum`] generates
//! instead of progenitor. Inline enums are hoisted into components wherever they are, under a
//! name derived from their place, as progenitor names inline types:
//!
//! | where | name |
//! |---|---|
//! | property `p` of `Parent` | `ParentP` |
//! | array items of `Parent` | `ParentItem` |
//! | map values of `Parent` | `ParentValue` |
//! | member `i` of a `oneOf`/`anyOf` of `Parent` | `ParentVariant{i}` (an `allOf` of one member keeps `Parent`) |
//! | parameter `p` of operation `op` | `OpP` |
//! | inline request body of `op` | `OpBody` |
//! | inline response body of `op` | `OpResponse` |
//! | component parameter, response or request body `K` | `K` |
//!
//! A `null` among the values, or `nullable: true`, makes the reference nullable instead
//! (`Option<Enum>`). A derived name that is already taken is refused, naming both places.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

use super::{EnumSpec, METHODS, Problems, pascal, ptr_token};
use crate::naming::type_name;

fn is_string_enum(schema: &Value) -> bool {
    schema.get("enum").is_some() && schema.get("type").and_then(Value::as_str) == Some("string")
}

struct Hoister<'a> {
    taken: BTreeSet<String>,
    hoisted: Vec<(String, Value)>,
    origin: BTreeMap<String, String>,
    problems: &'a mut Problems,
}

impl Hoister<'_> {
    /// Walks the schema at `at`, named `name`, hoisting every string enum below it. The schema
    /// itself is hoisted too unless it is a component root (`root`).
    fn walk(&mut self, schema: &mut Value, name: &str, at: &str, root: bool) {
        if is_string_enum(schema) {
            drop_null_value(schema);
            if !root {
                self.hoist(schema, name, at);
            }
            return;
        }
        let Some(obj) = schema.as_object_mut() else { return };
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for (prop, sub) in props.iter_mut() {
                let child = type_name(&format!("{name}_{}", pascal(prop)));
                self.walk(sub, &child, &format!("{at}/properties/{}", ptr_token(prop)), false);
            }
        }
        if let Some(items) = obj.get_mut("items") {
            self.walk(items, &format!("{name}Item"), &format!("{at}/items"), false);
        }
        if let Some(values) = obj.get_mut("additionalProperties").filter(|v| v.is_object()) {
            self.walk(
                values,
                &format!("{name}Value"),
                &format!("{at}/additionalProperties"),
                false,
            );
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(members)) = obj.get_mut(key) {
                let single = members.len() == 1;
                for (i, m) in members.iter_mut().enumerate() {
                    let child = if single && key == "allOf" {
                        name.to_owned()
                    } else {
                        format!("{name}Variant{i}")
                    };
                    self.walk(m, &child, &format!("{at}/{key}/{i}"), false);
                }
            }
        }
    }

    fn hoist(&mut self, schema: &mut Value, name: &str, at: &str) {
        // The same values under the same name are one enum (a parameter component and the
        // property it filters, say).
        let same = self
            .hoisted
            .iter()
            .any(|(n, h)| n == name && h.get("enum") == schema.get("enum"));
        if same {
            self.replace_with_ref(schema, name);
            return;
        }
        if let Some(other) = self.origin.get(name) {
            self.problems.push(
                at,
                format!("the inline enum here would be the component `{name}`, which {other} already is"),
                "make one of the enums a named component schema yourself and `$ref` it",
            );
            return;
        }
        if self.taken.contains(name) {
            self.problems.push(
                at,
                format!(
                    "the inline enum here would be the component `{name}`, which /components/schemas/{name} already is"
                ),
                "make the inline enum a named component schema with another name and `$ref` it",
            );
            return;
        }
        let mut hoisted = schema.clone();
        let obj = hoisted.as_object_mut().expect("an enum schema is an object");
        obj.remove("nullable");
        obj.insert("x-hoisted-from".into(), Value::String(at.to_owned()));
        self.replace_with_ref(schema, name);
        self.origin.insert(name.to_owned(), at.to_owned());
        self.hoisted.push((name.to_owned(), hoisted));
    }

    /// Replaces an inline enum by a reference to the component `name` (nullable if it was).
    fn replace_with_ref(&mut self, schema: &mut Value, name: &str) {
        let nullable = schema.get("nullable") == Some(&Value::Bool(true));
        let description = schema.get("description").cloned();
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        *schema = if nullable {
            let mut wrapper = Map::new();
            wrapper.insert("nullable".into(), Value::Bool(true));
            wrapper.insert("allOf".into(), Value::Array(vec![reference]));
            if let Some(d) = description {
                wrapper.insert("description".into(), d);
            }
            Value::Object(wrapper)
        } else {
            reference
        };
    }
}

/// `null` among an enum's values means "nullable"; it is not a variant.
fn drop_null_value(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else { return };
    if let Some(Value::Array(values)) = obj.get_mut("enum")
        && values.iter().any(Value::is_null)
    {
        values.retain(|v| !v.is_null());
        obj.insert("nullable".into(), Value::Bool(true));
    }
}

/// Hoists every inline string enum of the spec copy into a component (see the module docs).
pub(super) fn hoist(spec: &mut Value, problems: &mut Problems) {
    let taken: BTreeSet<String> = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut h = Hoister {
        taken,
        hoisted: Vec::new(),
        origin: BTreeMap::new(),
        problems,
    };
    if let Some(components) = spec.get_mut("components").and_then(Value::as_object_mut) {
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            for (name, schema) in schemas.iter_mut() {
                h.walk(schema, name, &format!("/components/schemas/{}", ptr_token(name)), true);
            }
        }
        if let Some(params) = components.get_mut("parameters").and_then(Value::as_object_mut) {
            for (name, p) in params.iter_mut() {
                if let Some(schema) = p.get_mut("schema") {
                    let at = format!("/components/parameters/{}/schema", ptr_token(name));
                    h.walk(schema, &type_name(name), &at, false);
                }
            }
        }
        for kind in ["responses", "requestBodies"] {
            if let Some(map) = components.get_mut(kind).and_then(Value::as_object_mut) {
                for (name, r) in map.iter_mut() {
                    for (media, mt) in r
                        .get_mut("content")
                        .and_then(Value::as_object_mut)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(schema) = mt.get_mut("schema") {
                            let at = format!(
                                "/components/{kind}/{}/content/{}/schema",
                                ptr_token(name),
                                ptr_token(media)
                            );
                            h.walk(schema, &type_name(name), &at, false);
                        }
                    }
                }
            }
        }
    }
    for (path, item) in spec
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        let path_at = format!("/paths/{}", ptr_token(path));
        let first_op = METHODS
            .iter()
            .find_map(|m| {
                item.get(*m)
                    .and_then(|op| op.get("operationId"))
                    .and_then(Value::as_str)
            })
            .map(type_name)
            .unwrap_or_else(|| type_name(path));
        for (i, p) in item
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = format!(
                "{first_op}{}",
                type_name(p.get("name").and_then(Value::as_str).unwrap_or("param"))
            );
            if let Some(schema) = p.get_mut("schema") {
                h.walk(schema, &name, &format!("{path_at}/parameters/{i}/schema"), false);
            }
        }
        for method in METHODS {
            let Some(op) = item.get_mut(*method) else { continue };
            let at = format!("{path_at}/{method}");
            let op_name = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(type_name)
                .unwrap_or_else(|| type_name(&format!("{method}_{path}")));
            for (i, p) in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let name = format!(
                    "{op_name}{}",
                    type_name(p.get("name").and_then(Value::as_str).unwrap_or("param"))
                );
                if let Some(schema) = p.get_mut("schema") {
                    h.walk(schema, &name, &format!("{at}/parameters/{i}/schema"), false);
                }
            }
            for (media, mt) in op
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_object_mut)
                .into_iter()
                .flatten()
            {
                if let Some(schema) = mt.get_mut("schema") {
                    let sat = format!("{at}/requestBody/content/{}/schema", ptr_token(media));
                    h.walk(schema, &format!("{op_name}Body"), &sat, false);
                }
            }
            for (code, r) in op
                .get_mut("responses")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flatten()
            {
                let name = if code.starts_with('2') {
                    format!("{op_name}Response")
                } else {
                    format!("{op_name}Response{}", type_name(code))
                };
                for (media, mt) in r
                    .get_mut("content")
                    .and_then(Value::as_object_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(schema) = mt.get_mut("schema") {
                        let sat = format!("{at}/responses/{}/content/{}/schema", ptr_token(code), ptr_token(media));
                        h.walk(schema, &name, &sat, false);
                    }
                }
            }
        }
    }
    let hoisted = std::mem::take(&mut h.hoisted);
    if hoisted.is_empty() {
        return;
    }
    let components = spec
        .as_object_mut()
        .expect("a spec is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    let schemas = components
        .as_object_mut()
        .expect("components is an object")
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("schemas is an object");
    for (name, schema) in hoisted {
        schemas.insert(name, schema);
    }
}

/// The Rust variant of an enum value, as typify names variants (`in_progress` → `InProgress`,
/// `+1` → `Plus1`, `2fa` → `X2fa`); empty for the empty string, which has no sensible name.
pub(crate) fn variant_name(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        type_name(value)
    }
}

/// Every string-enum component of the spec copy (after hoisting), with its variants.
pub(super) fn collect(spec: &Value, problems: &mut Problems) -> BTreeMap<String, EnumSpec> {
    let mut out = BTreeMap::new();
    let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) else {
        return out;
    };
    for (name, schema) in schemas {
        if !is_string_enum(schema) {
            continue;
        }
        let location = schema
            .get("x-hoisted-from")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("/components/schemas/{}", ptr_token(name)));
        let mut ok = true;
        let values: Vec<String> = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| !v.is_null())
            .filter_map(|v| match v.as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    problems.push(
                        format!("{location}/enum"),
                        format!("the value {v} in a string enum"),
                        "quote it: every value of a `type: string` enum is a string",
                    );
                    ok = false;
                    None
                }
            })
            .collect();
        let names: Vec<String> = match schema.get("x-enum-varnames") {
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                a.iter().filter_map(Value::as_str).map(str::to_owned).collect()
            }
            Some(_) => {
                problems.push(
                    format!("{location}/x-enum-varnames"),
                    "`x-enum-varnames` that is not a list of strings",
                    "list one identifier per value",
                );
                continue;
            }
            None => values.iter().map(|v| variant_name(v)).collect(),
        };
        if names.len() != values.len() {
            problems.push(
                format!("{location}/x-enum-varnames"),
                format!(
                    "`x-enum-varnames` with {} names for {} values",
                    names.len(),
                    values.len()
                ),
                format!("give exactly {} names", values.len()),
            );
            continue;
        }
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (value, variant) in values.iter().zip(&names) {
            let valid =
                variant.chars().next().is_some_and(char::is_uppercase) && syn::parse_str::<syn::Ident>(variant).is_ok();
            if !valid || variant == "Unknown" {
                problems.push(
                    format!("{location}/enum"),
                    format!("enum value {value:?}, whose variant name would be {variant:?}"),
                    "name the variants with `x-enum-varnames` (PascalCase identifiers, not `Unknown`)",
                );
                ok = false;
            } else if let Some(first) = seen.insert(variant.clone(), value.clone()) {
                problems.push(
                    format!("{location}/enum"),
                    format!("enum values {first:?} and {value:?} would both be the variant `{variant}`"),
                    "name the variants with `x-enum-varnames`",
                );
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let description = schema.get("description").and_then(Value::as_str).map(str::to_owned);
        let rust = type_name(name);
        out.insert(
            rust.clone(),
            EnumSpec {
                name: rust,
                location,
                description,
                variants: values.into_iter().zip(names).collect(),
            },
        );
    }
    out
}
