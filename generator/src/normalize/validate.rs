//! Rule 1: everything the generator refuses, found before anything is rewritten, each with its
//! JSON pointer and what to write instead. Progenitor would panic on most of these with no
//! location, or generate code that does not compile.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::Problems;
use crate::naming::field_name;
use crate::spec_walk::{self, child, escape, path_items};

/// The version, checked first: a 3.1 or Swagger 2.0 document fails every other check too.
pub(super) fn version(spec: &Value, problems: &mut Problems) {
    match spec.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0.") => {}
        Some(Value::String(v)) => problems.push(
            "/openapi",
            format!("OpenAPI version {v}"),
            "write the spec as OpenAPI 3.0.x (progenitor 0.15.1 rejects 3.1: turn `type: [X, \"null\"]` into `type: X` + `nullable: true`, `examples` arrays in schemas into `example`, and so on)",
        ),
        Some(other) => problems.push(
            "/openapi",
            format!("an `openapi` version that is not a string: {other}"),
            "write it as a string, e.g. `openapi: 3.0.3`",
        ),
        None if spec.get("swagger").is_some() => problems.push(
            "/swagger",
            "a Swagger 2.0 document",
            "convert it to OpenAPI 3.0.x first (for example with swagger2openapi)",
        ),
        None => problems.push(
            "",
            "no `openapi` version field: this is not an OpenAPI document",
            "start the document with `openapi: 3.0.3`",
        ),
    }
}

/// Every other check.
pub(super) fn all(spec: &Value, problems: &mut Problems) {
    references(spec, "", spec, false, problems);
    crate::spec_walk::for_each_schema(spec, &mut |schema, at| {
        schema_types(schema, at, problems);
        property_names(schema, at, problems);
    });
    nullable_components(spec, problems);
    component_names(spec, problems);
    media_types(spec, problems);
    operations(spec, problems);
}

/// Every `$ref` is local, resolves, and has no siblings that OpenAPI 3.0 would ignore.
/// Examples and extensions are data, not references, and are not looked into.
fn references(v: &Value, at: &str, spec: &Value, in_properties: bool, problems: &mut Problems) {
    match v {
        Value::Object(m) => {
            // In a `properties` map, `$ref` is the name of a property, not a reference.
            if let Some(r) = m.get("$ref").filter(|_| !in_properties) {
                match r.as_str() {
                    Some(r) if r.starts_with("#/") => {
                        if spec.pointer(&r[1..]).is_none() {
                            problems.push(
                                format!("{at}/$ref"),
                                format!("`$ref: {r}` points at nothing"),
                                "define the target, or fix the reference",
                            );
                        }
                    }
                    Some(r) => problems.push(
                        format!("{at}/$ref"),
                        format!("`$ref: {r}` is not a local reference"),
                        "bundle the spec into one file, so that every reference starts with `#/`",
                    ),
                    None => problems.push(
                        format!("{at}/$ref"),
                        "a `$ref` that is not a string",
                        "write the reference as a string",
                    ),
                }
                let siblings: Vec<&str> = m
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != "$ref" && !k.starts_with("x-") && *k != "summary" && *k != "description")
                    .collect();
                if !siblings.is_empty() {
                    problems.push(
                        at,
                        format!("`$ref` with sibling keys {siblings:?}, which OpenAPI 3.0 ignores"),
                        "wrap it: `allOf: [{$ref: ...}]` plus the other keys",
                    );
                }
            }
            for (k, child) in m {
                // `properties` maps names to schemas: there, `example` or `x-rate` is a property.
                if !in_properties && (k == "example" || k == "examples" || k.starts_with("x-")) {
                    continue;
                }
                references(
                    child,
                    &format!("{at}/{}", escape(k)),
                    spec,
                    !in_properties && k == "properties",
                    problems,
                );
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                references(c, &format!("{at}/{i}"), spec, false, problems);
            }
        }
        _ => {}
    }
}

fn schema_types(schema: &Map<String, Value>, at: &str, problems: &mut Problems) {
    match schema.get("type") {
        None => {}
        Some(Value::String(t)) if t == "null" => problems.push(
            format!("{at}/type"),
            "`type: null`, which OpenAPI 3.0 does not have",
            "give the schema its real type with `nullable: true`, or drop `type` for a value that may be anything",
        ),
        Some(Value::String(t))
            if ["string", "integer", "number", "boolean", "object", "array"].contains(&t.as_str()) => {}
        Some(Value::String(t)) => problems.push(
            format!("{at}/type"),
            format!("unknown type {t:?}"),
            "use one of string, integer, number, boolean, object, array",
        ),
        Some(Value::Array(_)) => problems.push(
            format!("{at}/type"),
            "a list of types (OpenAPI 3.1 syntax) in a 3.0 spec",
            "write one type; for `[T, \"null\"]` write `type: T` and `nullable: true`",
        ),
        Some(other) => problems.push(
            format!("{at}/type"),
            format!("a `type` that is not a string: {other}"),
            "write one type name",
        ),
    }
}

/// Two properties whose Rust field names coincide (`x-rate` and `x_rate`).
fn property_names(schema: &Map<String, Value>, at: &str, problems: &mut Problems) {
    let Some(Value::Object(props)) = schema.get("properties") else {
        return;
    };
    let mut by_field: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in props.keys() {
        by_field.entry(field_name(name)).or_default().push(name);
    }
    if let Some(names) = by_field.get(crate::tolerance::EXTRA_FIELD) {
        problems.push(
            format!("{at}/properties/{}", escape(names[0])),
            format!(
                "the property `{}` would be the Rust field `{}`, which every read type uses for the fields the spec does not define",
                names[0],
                crate::tolerance::EXTRA_FIELD
            ),
            "rename it in the spec (the wire name must stay as the server sends it, so this needs a spec the server agrees with)",
        );
    }
    for (field, names) in by_field.into_iter().filter(|(_, n)| n.len() > 1) {
        problems.push(
            format!("{at}/properties/{}", escape(names[1])),
            format!(
                "the properties {} would all be the Rust field `{field}`",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ")
            ),
            "rename one of them in the spec (the wire name must stay as the server sends it, so this needs a spec the server agrees with)",
        );
    }
}

/// Two component schemas whose Rust type names coincide (`batch_list` and `BatchList`).
fn component_names(spec: &Value, problems: &mut Problems) {
    let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) else {
        return;
    };
    let mut by_type: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in schemas.keys() {
        by_type.entry(crate::naming::type_name(name)).or_default().push(name);
    }
    for (ty, names) in by_type.into_iter().filter(|(_, n)| n.len() > 1) {
        problems.push(
            format!("/components/schemas/{}", escape(names[1])),
            format!(
                "the component schemas {} would all be the Rust type `{ty}`",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ")
            ),
            "rename one of them",
        );
    }
}

fn is_null_only(schema: &Value) -> bool {
    super::nullable::is_null_only(schema)
}

/// Rule: components are never nullable (null-only components aside). Progenitor turns a
/// nullable component into a newtype around `Option` (a name clash for `oneOf`, a double
/// `Option` elsewhere).
fn nullable_components(spec: &Value, problems: &mut Problems) {
    let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) else {
        return;
    };
    for (name, schema) in schemas {
        if schema.get("nullable") == Some(&Value::Bool(true)) && !is_null_only(schema) {
            problems.push(
                format!("/components/schemas/{}/nullable", escape(name)),
                "a nullable component schema",
                "make the component non-nullable and write each property that may be null as `oneOf: [{$ref: Component}, {$ref: NullValue}]` or `nullable: true` + `allOf: [{$ref: Component}]`",
            );
        }
    }
}

/// Every media type of a request body or response has a schema.
fn media_types(spec: &Value, problems: &mut Problems) {
    let mut check = |content: Option<&Value>, at: &str| {
        for (media, mt) in content.and_then(Value::as_object).into_iter().flatten() {
            if mt.get("schema").is_none() {
                problems.push(
                    format!("{at}/content/{}", escape(media)),
                    format!("the media type `{media}` has no schema"),
                    "give it one: `schema: {}` for any JSON, `{type: string, format: binary}` for bytes",
                );
            }
        }
    };
    for kind in ["responses", "requestBodies"] {
        for (name, v) in spec
            .pointer(&format!("/components/{kind}"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            check(v.get("content"), &format!("/components/{kind}/{}", escape(name)));
        }
    }
    for o in spec_walk::operations(spec) {
        let at = o.pointer();
        if let Some(body) = o.op.get("requestBody").filter(|b| b.get("$ref").is_none()) {
            check(body.get("content"), &format!("{at}/requestBody"));
        }
        for (code, r) in o.op.get("responses").and_then(Value::as_object).into_iter().flatten() {
            if r.get("$ref").is_none() {
                check(r.get("content"), &format!("{at}/responses/{}", escape(code)));
            }
        }
    }
}

/// Path templates, parameter names and websockets.
fn operations(spec: &Value, problems: &mut Problems) {
    let mut templates = BTreeMap::new();
    for (path, _) in path_items(spec) {
        match template_params(path) {
            Ok(t) => {
                templates.insert(path.as_str(), t);
            }
            Err(()) => problems.push(
                child("/paths", path),
                format!("the path {path:?} has an unclosed `{{`"),
                "close every `{` with a `}`",
            ),
        }
    }
    for o in spec_walk::operations(spec) {
        let Some(template) = templates.get(o.path) else {
            continue;
        };
        let at = o.pointer();
        if o.op.get("x-dropshot-websocket").is_some() {
            problems.push(
                format!("{at}/x-dropshot-websocket"),
                "a websocket operation",
                "the generated client has no websockets: leave the operation out of this spec",
            );
        }
        // Parameters by (in, name), each with where the operation or its path item lists it.
        let params: BTreeMap<(String, String), String> =
            o.parameters(spec).into_iter().map(|p| (p.key(), p.at)).collect();
        parameters_match_template(&params, template, o.path, &at, problems);
        parameters_have_distinct_names(&params, problems);
    }
}

/// Every path parameter is in the path template and every `{name}` of it is declared; no
/// cookie parameters.
fn parameters_match_template(
    params: &BTreeMap<(String, String), String>,
    template: &[String],
    path: &str,
    at: &str,
    problems: &mut Problems,
) {
    for ((place, name), p_at) in params {
        if place == "cookie" {
            problems.push(
                p_at,
                format!("the cookie parameter `{name}`"),
                "the generated client cannot send cookies: leave the parameter out, and set a `Cookie` header with `ClientBuilder::header` if the server needs one",
            );
        }
        if place == "path" && !template.contains(name) {
            problems.push(
                p_at,
                format!("the path parameter `{name}` is not in the path {path:?}"),
                format!("add `{{{name}}}` to the path, or remove the parameter"),
            );
        }
    }
    for name in template {
        if !params.contains_key(&("path".to_owned(), name.clone())) {
            problems.push(
                at,
                format!("the path parameter `{{{name}}}` is not declared"),
                format!(
                    "add `- {{name: {name}, in: path, required: true, schema: {{type: string}}}}` to the parameters"
                ),
            );
        }
    }
}

/// No two parameters become the same Rust argument.
fn parameters_have_distinct_names(params: &BTreeMap<(String, String), String>, problems: &mut Problems) {
    // Rust argument name → the (place, name) keys and pointers that give it.
    type Params<'a> = Vec<(&'a (String, String), &'a String)>;
    let mut by_field: BTreeMap<String, Params> = BTreeMap::new();
    for (key, p_at) in params {
        by_field.entry(field_name(&key.1)).or_default().push((key, p_at));
    }
    for (field, ps) in by_field.into_iter().filter(|(_, p)| p.len() > 1) {
        problems.push(
            ps[1].1.clone(),
            format!(
                "the parameters {} would all be the Rust argument `{field}`",
                ps.iter()
                    .map(|(k, _)| format!("`{}` ({})", k.1, k.0))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            "parameters of one operation need distinct names once made snake_case",
        );
    }
}

/// The `{name}`s of a path template, in order.
pub(crate) fn template_params(path: &str) -> Result<Vec<String>, ()> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map(|e| start + e).ok_or(())?;
        out.push(rest[start + 1..end].to_owned());
        rest = &rest[end + 1..];
    }
    Ok(out)
}
