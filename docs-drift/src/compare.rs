//! Comparing the spec with the pages: for each operation of the spec, its page (named by the
//! operation's `externalDocs.url`): the method and path; each parameter's name, place, type and
//! required-ness; each response field's name, type and nullability, nested fields included; and
//! every example, JSON-equal to one of the spec's. Plus the guide: every endpoint its cURL
//! commands call must be in the spec.

use std::collections::BTreeMap;

use cerebras_batch_generator::spec_walk::{self, escape};
use serde_json::Value;

use crate::page::{Code, Page};

/// One difference between a page and the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// Whether a client generated from the spec would be wrong about the API (a method, path,
    /// type or required-ness differs), rather than incomplete (a field or example differs).
    pub breaking: bool,
    /// The page's file name.
    pub page: String,
    /// The page's line (0 when the page is missing).
    pub line: usize,
    /// A JSON pointer into the spec.
    pub pointer: String,
    /// What differs, in words; the known-differences list names differences by this text.
    pub what: String,
}

/// The file name of the page at `url`: an API reference page by its last segment
/// (`.../api-reference/batch/cancel-batch` → `cancel-batch.md`), any other page by its whole
/// path (`.../capabilities/batch` → `capabilities-batch.md`), as `../shared/reference` names
/// its copies.
pub fn page_name(url: &str) -> String {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let segments: Vec<&str> = path
        .trim_end_matches('/')
        .trim_end_matches(".md")
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let stem = match segments.as_slice() {
        [] => "index".to_owned(),
        ["api-reference", .., last] => (*last).to_owned(),
        all => all.join("-"),
    };
    format!("{stem}.md")
}

/// A schema's types (`string`, `integer`, `object`, ...) and whether it may be null.
fn types_of(spec: &Value, schema: &Value) -> (Vec<String>, bool) {
    let s = spec_walk::resolve(spec, schema).unwrap_or(schema);
    if s.get("nullable") == Some(&Value::Bool(true)) && s.get("enum") == Some(&serde_json::json!([null])) {
        return (Vec::new(), true);
    }
    let mut nullable = s.get("nullable") == Some(&Value::Bool(true));
    let mut types: Vec<String> = Vec::new();
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        types.push(t.to_owned());
    } else {
        for key in ["allOf", "oneOf", "anyOf"] {
            for m in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                let (t, n) = types_of(spec, m);
                nullable |= n;
                for t in t {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
            }
        }
        if types.is_empty() && s.get("properties").is_some() {
            types.push("object".into());
        }
    }
    (types, nullable)
}

/// The types a page writes (`integer | null`), normalised: `file` is a binary string.
fn page_types(ty: &str) -> (Vec<String>, bool) {
    let mut nullable = false;
    let mut types = Vec::new();
    for t in ty
        .split('|')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
    {
        match t.as_str() {
            "null" => nullable = true,
            "file" => types.push("string".to_owned()),
            _ => types.push(t),
        }
    }
    (types, nullable)
}

fn show(types: &[String], nullable: bool) -> String {
    let mut all = types.to_vec();
    if nullable {
        all.push("null".into());
    }
    if all.is_empty() {
        "untyped".into()
    } else {
        all.join(" | ")
    }
}

/// A field of the spec: types, nullability, required-ness, pointer.
struct SpecField {
    types: Vec<String>,
    nullable: bool,
    required: bool,
    pointer: String,
}

/// Every property below `schema`, by dotted name (`request_counts.total`, `data[].id`).
fn fields(spec: &Value, schema: &Value, at: &str, prefix: &str, out: &mut BTreeMap<String, SpecField>, depth: usize) {
    if depth > 6 {
        return;
    }
    let Some((s, at)) = spec_walk::resolve_at(spec, schema, at) else {
        return;
    };
    // A composition (a nullable wrapper, `oneOf: [X, NullValue]`, `oneOf: [string, X]`): the
    // fields are those of its members.
    if s.get("properties").is_none() && s.get("items").is_none() {
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, member) in s.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
                fields(spec, member, &format!("{at}/{key}/{i}"), prefix, out, depth + 1);
            }
        }
    }
    if let Some(items) = s.get("items") {
        let p = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}[]")
        };
        return fields(spec, items, &format!("{at}/items"), &p, out, depth + 1);
    }
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in s.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let p_at = format!("{at}/properties/{}", escape(name));
        let (types, nullable) = types_of(spec, prop);
        out.insert(
            full.clone(),
            SpecField {
                types,
                nullable,
                required: required.contains(&name.as_str()),
                pointer: p_at.clone(),
            },
        );
        fields(spec, prop, &p_at, &full, out, depth + 1);
    }
}

/// One operation of the spec.
struct Op<'a> {
    id: String,
    method: String,
    path: String,
    walk: spec_walk::Operation<'a>,
    op: &'a Value,
    pointer: String,
    page: Option<String>,
}

fn operations(spec: &Value) -> Vec<Op<'_>> {
    spec_walk::operations(spec)
        .into_iter()
        .map(|walk| Op {
            id: walk.id().unwrap_or("?").to_owned(),
            method: walk.method.to_uppercase(),
            path: walk.path.to_owned(),
            op: walk.op,
            pointer: walk.pointer(),
            page: walk
                .op
                .pointer("/externalDocs/url")
                .and_then(Value::as_str)
                .map(page_name),
            walk,
        })
        .collect()
}

/// Whether a concrete path from a page (`/v1/batches/batch_abc123`, `/v1/batches/${BATCH_ID}`)
/// is the spec's template (`/v1/batches/{batch_id}`).
fn path_matches(template: &str, concrete: &str) -> bool {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let c: Vec<&str> = concrete.trim_end_matches('/').split('/').collect();
    t.len() == c.len()
        && t.iter()
            .zip(&c)
            .all(|(t, c)| t == c || (t.starts_with('{') && t.ends_with('}')))
}

/// Every difference between the spec and the pages (by file name). Pages that could not be
/// read are not given here; an operation whose page is absent is a difference.
pub fn compare(spec: &Value, pages: &BTreeMap<String, Page>) -> Vec<Difference> {
    let mut out = Vec::new();
    for op in operations(spec) {
        let Some(name) = &op.page else {
            out.push(Difference {
                breaking: false,
                page: "(none)".into(),
                line: 0,
                pointer: op.pointer.clone(),
                what: format!("operation {} names no page (no externalDocs.url)", op.id),
            });
            continue;
        };
        let Some(page) = pages.get(name) else {
            out.push(Difference {
                breaking: false,
                page: name.clone(),
                line: 0,
                pointer: op.pointer.clone(),
                what: format!("operation {}: no page was given", op.id),
            });
            continue;
        };
        compare_op(spec, &op, page, &mut out);
    }
    out.sort();
    out.sort_by_key(|d| !d.breaking);
    out
}

fn push(out: &mut Vec<Difference>, page: &Page, line: usize, pointer: &str, breaking: bool, what: String) {
    out.push(Difference {
        breaking,
        page: page.name.clone(),
        line,
        pointer: pointer.to_owned(),
        what,
    });
}

fn compare_op(spec: &Value, op: &Op, page: &Page, out: &mut Vec<Difference>) {
    // Method and path.
    match &page.api {
        Some((method, path, line)) => {
            if *method != op.method {
                push(
                    out,
                    page,
                    *line,
                    &op.pointer,
                    true,
                    format!("method: the page says {method}, the spec {}", op.method),
                );
            }
            if !path_matches(&op.path, path) {
                push(
                    out,
                    page,
                    *line,
                    &op.pointer,
                    true,
                    format!("path: the page says {path}, the spec {}", op.path),
                );
            }
        }
        None => push(
            out,
            page,
            1,
            &op.pointer,
            false,
            "the page shows no method and URL (no cURL example)".into(),
        ),
    }

    // Parameters: the spec's (path item's and operation's) and the request body's fields.
    let mut spec_params: BTreeMap<(String, String), SpecField> = BTreeMap::new();
    for p in op.walk.parameters(spec) {
        let (types, nullable) = types_of(spec, p.value.get("schema").unwrap_or(&Value::Null));
        spec_params.insert(
            p.key(),
            SpecField {
                types,
                nullable,
                required: p.value.get("required") == Some(&Value::Bool(true)),
                pointer: p.defined_at,
            },
        );
    }
    let body = op.op.get("requestBody").and_then(|b| spec_walk::resolve(spec, b));
    if let Some(content) = body.and_then(|b| b.get("content")).and_then(Value::as_object) {
        let chosen = content
            .iter()
            .find(|(m, _)| m.starts_with("application/json"))
            .or_else(|| content.iter().next());
        if let Some((media, mt)) = chosen {
            let mut body_fields = BTreeMap::new();
            let at = format!("{}/requestBody/content/{}/schema", op.pointer, escape(media));
            fields(
                spec,
                mt.get("schema").unwrap_or(&Value::Null),
                &at,
                "",
                &mut body_fields,
                0,
            );
            for (name, f) in body_fields {
                spec_params.insert(("body".into(), name), f);
            }
        }
    }
    compare_fields(page, &op.pointer, &page.params, &spec_params, out);

    // Response fields, when the page lists them.
    let ok = op
        .op
        .get("responses")
        .and_then(Value::as_object)
        .and_then(|r| r.iter().find(|(c, _)| c.starts_with('2')))
        .and_then(|(c, r)| Some((c.clone(), spec_walk::resolve(spec, r)?)));
    if !page.response.is_empty()
        && let Some((code, resp)) = &ok
        && let Some(schema) = resp.pointer("/content/application~1json/schema")
    {
        let mut spec_fields = BTreeMap::new();
        let at = format!("{}/responses/{code}/content/application~1json/schema", op.pointer);
        fields(spec, schema, &at, "", &mut spec_fields, 0);
        let spec_fields = spec_fields
            .into_iter()
            .map(|(name, f)| (("response".to_owned(), name), f))
            .collect();
        compare_fields(page, &op.pointer, &page.response, &spec_fields, out);
    }

    // Examples.
    for code in &page.code {
        compare_example(spec, op, page, code, ok.as_ref().map(|(c, r)| (c.as_str(), *r)), out);
    }
}

/// Compares the fields a page shows (its parameters, or its response fields) with the spec's,
/// both keyed by `(location, name)`: each field's presence, type, required-ness (parameters) and
/// nullability (response fields); then the spec's fields the page leaves out, at the levels it
/// shows.
fn compare_fields(
    page: &Page,
    op_pointer: &str,
    shown: &[crate::page::Field],
    spec_fields: &BTreeMap<(String, String), SpecField>,
    out: &mut Vec<Difference>,
) {
    let label = |location: &str, name: &str| match location {
        "response" => format!("response field {name}"),
        _ => format!("parameter {location} {name}"),
    };
    for f in shown {
        let response = f.location == "response";
        let label = label(&f.location, &f.name);
        let Some(s) = spec_fields.get(&(f.location.clone(), f.name.clone())) else {
            // A parameter the page requires and the spec lacks breaks every call.
            let breaking = !response && f.required;
            push(
                out,
                page,
                f.line,
                op_pointer,
                breaking,
                format!("{label}: in the page, not in the spec"),
            );
            continue;
        };
        let (types, nullable) = page_types(&f.ty);
        if !types.is_empty() && types != s.types {
            let spec_types = show(&s.types, response && s.nullable);
            let what = format!("{label}: type: the page says {}, the spec {spec_types}", f.ty);
            push(out, page, f.line, &s.pointer, true, what);
        } else if response && nullable != s.nullable {
            // A field the page says may be null, and the spec says may not, fails decoding.
            let what = format!(
                "{label}: the page says {}, the spec {}",
                f.ty,
                show(&s.types, s.nullable)
            );
            push(out, page, f.line, &s.pointer, nullable, what);
        }
        if !response && f.required != s.required {
            let what = format!(
                "{label}: {} in the page, {} in the spec",
                req(f.required),
                req(s.required)
            );
            push(out, page, f.line, &s.pointer, true, what);
        }
    }
    let names: Vec<&str> = shown.iter().map(|f| f.name.as_str()).collect();
    for ((location, name), s) in spec_fields {
        let on_page = shown.iter().any(|f| f.location == *location && f.name == *name);
        if !on_page && shown_level(name, &names) {
            let what = format!("{}: in the spec, not in the page", label(location, name));
            push(out, page, page.section_line(location), &s.pointer, false, what);
        }
    }
}

/// Whether the page shows the level a field is at: the top level, or its parent expanded
/// (some field of the page is a child of the same parent).
fn shown_level(name: &str, page_fields: &[&str]) -> bool {
    let parent = match (name.rfind('.'), name.rfind("[].")) {
        (Some(i), Some(j)) if j + 2 == i => &name[..j],
        (Some(i), _) => &name[..i],
        (None, _) => return true,
    };
    page_fields
        .iter()
        .any(|f| f.starts_with(&format!("{parent}.")) || f.starts_with(&format!("{parent}[].")))
}

fn req(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

/// Every example value of a media type map, with its pointer.
fn example_values(content: &Value, at: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (media, mt) in content.as_object().into_iter().flatten() {
        for (name, ex) in mt.get("examples").and_then(Value::as_object).into_iter().flatten() {
            if let Some(v) = ex.get("value") {
                out.push((format!("{at}/{}/examples/{}", escape(media), escape(name)), v.clone()));
            }
        }
    }
    out
}

/// JSONL text as one JSON array.
fn jsonl(text: &str) -> Option<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).ok())
        .collect::<Option<Vec<Value>>>()
        .map(Value::Array)
}

/// The first JSON pointer where `a` and `b` differ, with both values.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<(String, Value, Value)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{at}/{}", escape(k)),
                )
                .or_else(|| {
                    (x.contains_key(k) != y.contains_key(k)).then(|| {
                        (
                            format!("{at}/{}", escape(k)),
                            x.get(k).cloned().unwrap_or(Value::Null),
                            y.get(k).cloned().unwrap_or(Value::Null),
                        )
                    })
                })
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some((
            if at.is_empty() {
                "(the whole value)".into()
            } else {
                at.to_owned()
            },
            a.clone(),
            b.clone(),
        )),
    }
}

fn compare_example(
    spec: &Value,
    op: &Op,
    page: &Page,
    code: &Code,
    ok: Option<(&str, &Value)>,
    out: &mut Vec<Difference>,
) {
    let (value, candidates) = match code.kind {
        "response" => {
            let value = match code.lang.as_str() {
                "json" => serde_json::from_str::<Value>(&code.text).ok(),
                "jsonl" | "ndjson" => jsonl(&code.text),
                _ => None,
            };
            let Some((c, resp)) = ok else { return };
            let at = format!("{}/responses/{c}/content", op.pointer);
            let mut candidates = example_values(resp.get("content").unwrap_or(&Value::Null), &at);
            // A JSONL example is held by the spec as text.
            for (_, v) in candidates.iter_mut() {
                if let Value::String(text) = v
                    && let Some(lines) = jsonl(text)
                {
                    *v = lines;
                }
            }
            (value, candidates)
        }
        "request" => {
            let Some(data) = crate::page::curl_data(&code.text) else {
                return;
            };
            let value = serde_json::from_str::<Value>(&data).ok();
            let body = op.op.get("requestBody").and_then(|b| spec_walk::resolve(spec, b));
            let at = format!("{}/requestBody/content", op.pointer);
            (
                value,
                example_values(body.and_then(|b| b.get("content")).unwrap_or(&Value::Null), &at),
            )
        }
        _ => return,
    };
    let Some(value) = value else {
        if code.kind == "response" && matches!(code.lang.as_str(), "json" | "jsonl" | "ndjson") {
            push(
                out,
                page,
                code.line,
                &op.pointer,
                false,
                format!("{} example: not valid JSON", code.kind),
            );
        }
        return;
    };
    if candidates.iter().any(|(_, v)| *v == value) {
        return;
    }
    match candidates.first() {
        None => push(
            out,
            page,
            code.line,
            &op.pointer,
            false,
            format!("{} example: the spec has none to compare with", code.kind),
        ),
        Some((pointer, spec_value)) => {
            let (at, p, s) = first_difference(&value, spec_value, "").unwrap_or_default();
            push(
                out,
                page,
                code.line,
                pointer,
                false,
                format!(
                    "{} example: differs from the spec's at {at}: the page has {p}, the spec {s}",
                    code.kind
                ),
            );
        }
    }
}

/// The endpoints a guide's cURL commands call that the spec lacks.
pub fn compare_guide(spec: &Value, page: &Page) -> Vec<Difference> {
    let ops = operations(spec);
    let mut out = Vec::new();
    for code in &page.code {
        let Some((method, path)) = crate::page::curl_route(&code.text) else {
            continue;
        };
        let known = ops.iter().any(|o| o.method == method && path_matches(&o.path, &path));
        if !known {
            push(
                &mut out,
                page,
                code.line,
                "/paths",
                true,
                format!("the guide calls {method} {path}, which the spec lacks"),
            );
        }
    }
    out
}
