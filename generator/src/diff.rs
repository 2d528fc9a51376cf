//! A semantic diff of two versions of the spec, for review: every change to operations,
//! parameters, fields, enum values, nullability, required-ness and types, each classified as
//! **breaking** or **compatible** for clients.
//!
//! The rules, from a client's point of view (one built from the older spec must keep working,
//! and code written against the generated client must keep compiling):
//! - Removing or renaming an operation, or moving it to another route: breaking. Adding one:
//!   compatible.
//! - Parameters: removing one, adding a required one, making one required: breaking. Adding an
//!   optional one, making one optional: compatible.
//! - A schema's type or format, a `$ref` target, or a composition (`oneOf`...) changing:
//!   breaking.
//! - Properties: removing one is breaking. Adding one is compatible, unless it is required in
//!   something the client sends.
//! - Required-ness and nullability depend on direction. In what the client *sends*
//!   (requests), new requirements and newly refused nulls are breaking. In what it *decodes*
//!   (responses), a field that may now be missing or null is breaking. Schemas used in both
//!   directions get both rules.
//! - Enum values: removing one is breaking; adding one is compatible (enums are open: an older
//!   client decodes a new value as `Unknown`).
//! - Descriptions and examples are not compared: they cannot break a client (examples are
//!   checked by the linter instead).

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One change between two versions of the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Whether a client built from the older spec, or code written against it, can break.
    pub breaking: bool,
    /// What changed, e.g. `schema File, property bytes`.
    pub location: String,
    /// How it changed.
    pub what: String,
}

/// Which way a schema travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Usage {
    request: bool,
    response: bool,
}

/// The semantic changes from `base` to `head` (both parsed specs), breaking ones first.
pub fn diff(base: &Value, head: &Value) -> Vec<Change> {
    let base = prepared(base);
    let head = prepared(head);
    let mut out = Vec::new();
    diff_operations(&base, &head, &mut out);
    let usage = usages(&base, &head);
    let empty = Map::new();
    let schemas = |s: &Value| {
        s.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (bs, hs) = (schemas(&base), schemas(&head));
    for (name, b) in &bs {
        let loc = format!("schema {name}");
        match hs.get(name) {
            None => out.push(change(true, &loc, "removed")),
            Some(h) => diff_schema(&loc, b, h, usage.get(name).copied().unwrap_or_default(), &mut out),
        }
    }
    for name in hs.keys().filter(|n| !bs.contains_key(*n)) {
        out.push(change(false, &format!("schema {name}"), "added"));
    }
    out.sort_by(|a, b| {
        b.breaking
            .cmp(&a.breaking)
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.what.cmp(&b.what))
    });
    out
}

/// A review report: one line per change, then the counts.
pub fn report(changes: &[Change], from: &str, to: &str) -> String {
    let mut out = format!("Spec changes from {from} to {to}:\n\n");
    if changes.is_empty() {
        out.push_str("No semantic changes (descriptions and examples are not compared).\n");
        return out;
    }
    for c in changes {
        let _ = writeln!(
            out,
            "{:<11} {}: {}",
            if c.breaking { "BREAKING" } else { "compatible" },
            c.location,
            c.what
        );
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let _ = writeln!(out, "\n{breaking} breaking, {} compatible.", changes.len() - breaking);
    out
}

fn change(breaking: bool, location: &str, what: impl Into<String>) -> Change {
    Change {
        breaking,
        location: location.to_owned(),
        what: what.into(),
    }
}

/// Both specs with the nullable-reference idiom rewritten (see [`crate::normalize`]).
fn prepared(spec: &Value) -> Value {
    let mut spec = spec.clone();
    crate::normalize::rewrite_nullable_refs(&mut spec);
    spec
}

struct Op<'a> {
    method: String,
    path: String,
    op: &'a Value,
    path_params: Option<&'a Value>,
}

fn operations(spec: &Value) -> BTreeMap<String, Op<'_>> {
    let mut out = BTreeMap::new();
    for (path, item) in spec.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in crate::normalize::METHODS {
            if let Some(op) = item.get(*method) {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("(no operationId)")
                    .to_owned();
                out.insert(
                    id,
                    Op {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        op,
                        path_params: item.get("parameters"),
                    },
                );
            }
        }
    }
    out
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => spec.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn params<'a>(spec: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), &'a Value> {
    let mut out = BTreeMap::new();
    for list in [op.path_params, op.op.get("parameters")].into_iter().flatten() {
        for p in list.as_array().into_iter().flatten() {
            let p = resolve(spec, p);
            let key = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            out.insert((key("in"), key("name")), p);
        }
    }
    out
}

fn diff_operations(base: &Value, head: &Value, out: &mut Vec<Change>) {
    let (bo, ho) = (operations(base), operations(head));
    let route = |o: &Op| format!("{} {}", o.method, o.path);
    for (id, b) in &bo {
        let loc = format!("operation {id}");
        let Some(h) = ho.get(id) else {
            match ho
                .iter()
                .find(|(hid, h)| route(h) == route(b) && !bo.contains_key(*hid))
            {
                Some((new_id, _)) => out.push(change(
                    true,
                    &loc,
                    format!("renamed to {new_id} (the Rust method is renamed)"),
                )),
                None => out.push(change(true, &loc, format!("removed ({})", route(b)))),
            }
            continue;
        };
        if route(b) != route(h) {
            out.push(change(true, &loc, format!("moved from {} to {}", route(b), route(h))));
        }
        let (bp, hp) = (params(base, b), params(head, h));
        for ((place, name), p) in &bp {
            let ploc = format!("{loc}, {place} parameter {name}");
            match hp.get(&(place.clone(), name.clone())) {
                None => out.push(change(true, &ploc, "removed")),
                Some(q) => {
                    let req = |v: &Value| v.get("required") == Some(&Value::Bool(true));
                    if req(p) != req(q) {
                        out.push(change(
                            req(q),
                            &ploc,
                            if req(q) { "became required" } else { "became optional" },
                        ));
                    }
                    let (ps, qs) = (
                        p.get("schema").unwrap_or(&Value::Null),
                        q.get("schema").unwrap_or(&Value::Null),
                    );
                    diff_schema(
                        &ploc,
                        ps,
                        qs,
                        Usage {
                            request: true,
                            response: false,
                        },
                        out,
                    );
                }
            }
        }
        for ((place, name), q) in &hp {
            if !bp.contains_key(&(place.clone(), name.clone())) {
                let required = q.get("required") == Some(&Value::Bool(true));
                out.push(change(
                    required,
                    &format!("{loc}, {place} parameter {name}"),
                    if required { "added, required" } else { "added, optional" },
                ));
            }
        }
        let body = |o: &Op| o.op.pointer("/requestBody/content").cloned().unwrap_or(Value::Null);
        diff_content(&format!("{loc}, request body"), &body(b), &body(h), true, out);
        let (br, hr) = (
            b.op.get("responses").and_then(Value::as_object),
            h.op.get("responses").and_then(Value::as_object),
        );
        for (code, resp) in br.into_iter().flatten() {
            let rloc = format!("{loc}, response {code}");
            match hr.and_then(|r| r.get(code)) {
                None => out.push(change(code.starts_with('2'), &rloc, "removed")),
                Some(hresp) => {
                    let content = |spec, r| resolve(spec, r).get("content").cloned().unwrap_or(Value::Null);
                    diff_content(&rloc, &content(base, resp), &content(head, hresp), false, out);
                }
            }
        }
        for code in hr
            .into_iter()
            .flatten()
            .map(|(c, _)| c)
            .filter(|c| !br.is_some_and(|b| b.contains_key(*c)))
        {
            out.push(change(false, &format!("{loc}, response {code}"), "added"));
        }
    }
    for (id, h) in &ho {
        let renamed = bo.iter().any(|(bid, b)| !ho.contains_key(bid) && route(b) == route(h));
        if !bo.contains_key(id) && !renamed {
            out.push(change(
                false,
                &format!("operation {id}"),
                format!("added ({})", route(h)),
            ));
        }
    }
}

fn diff_content(loc: &str, base: &Value, head: &Value, request: bool, out: &mut Vec<Change>) {
    let (b, h) = (base.as_object(), head.as_object());
    for (mt, bm) in b.into_iter().flatten() {
        match h.and_then(|h| h.get(mt)) {
            None => out.push(change(true, loc, format!("no longer {mt}"))),
            Some(hm) => {
                let s = |m: &Value| m.get("schema").cloned().unwrap_or(Value::Null);
                diff_schema(
                    &format!("{loc} ({mt})"),
                    &s(bm),
                    &s(hm),
                    Usage {
                        request,
                        response: !request,
                    },
                    out,
                );
            }
        }
    }
    for mt in h
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !b.is_some_and(|b| b.contains_key(*k)))
    {
        out.push(change(false, loc, format!("now also {mt}")));
    }
}

/// Which component schemas travel in requests and which in responses (transitively).
fn usages(base: &Value, head: &Value) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for spec in [base, head] {
        for op in operations(spec).values() {
            let mut req = BTreeSet::new();
            collect_refs(op.op.get("requestBody").unwrap_or(&Value::Null), spec, &mut req);
            collect_refs(op.op.get("parameters").unwrap_or(&Value::Null), spec, &mut req);
            let mut resp = BTreeSet::new();
            collect_refs(op.op.get("responses").unwrap_or(&Value::Null), spec, &mut resp);
            for n in req {
                out.entry(n).or_default().request = true;
            }
            for n in resp {
                out.entry(n).or_default().response = true;
            }
        }
    }
    out
}

/// Component schema names reachable from `v` through `$ref`s (responses and parameters are
/// followed too).
fn collect_refs(v: &Value, spec: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    if out.insert(name.to_owned())
                        && let Some(target) = spec.pointer(&format!(
                            "/components/schemas/{}",
                            name.replace('~', "~0").replace('/', "~1")
                        ))
                    {
                        collect_refs(target, spec, out);
                    }
                } else if let Some(target) = r.strip_prefix('#').and_then(|p| spec.pointer(p)) {
                    collect_refs(target, spec, out);
                }
            }
            m.iter()
                .filter(|(k, _)| !k.starts_with("x-") && *k != "examples" && *k != "example")
                .for_each(|(_, c)| collect_refs(c, spec, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, spec, out)),
        _ => {}
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn type_of(v: &Value) -> String {
    match (text(v, "type"), text(v, "format")) {
        (Some(t), Some(f)) => format!("{t} ({f})"),
        (Some(t), None) => t,
        (None, _) if v.get("$ref").is_some() => format!("$ref {}", text(v, "$ref").unwrap_or_default()),
        (None, _) => "untyped".to_owned(),
    }
}

fn diff_schema(loc: &str, b: &Value, h: &Value, usage: Usage, out: &mut Vec<Change>) {
    if type_of(b) != type_of(h) {
        out.push(change(
            true,
            loc,
            format!("type changed from {} to {}", type_of(b), type_of(h)),
        ));
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if b.get(key) != h.get(key) {
            let (bt, ht) = (b.get(key).map(refs_text), h.get(key).map(refs_text));
            out.push(change(
                true,
                loc,
                format!(
                    "{key} changed from {} to {}",
                    bt.unwrap_or_else(|| "none".into()),
                    ht.unwrap_or_else(|| "none".into())
                ),
            ));
        }
    }
    let nullable = |v: &Value| v.get("nullable") == Some(&Value::Bool(true));
    if nullable(b) != nullable(h) {
        if nullable(h) {
            out.push(change(usage.response, loc, "may now be null"));
        } else {
            out.push(change(usage.request, loc, "may no longer be null"));
        }
    }
    let values = |v: &Value| -> Vec<String> {
        v.get("enum")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default()
    };
    let (be, he) = (values(b), values(h));
    for v in be.iter().filter(|v| !he.contains(v)) {
        out.push(change(true, loc, format!("enum value {v} removed")));
    }
    for v in he.iter().filter(|v| !be.contains(v)) {
        out.push(change(
            false,
            loc,
            format!("enum value {v} added (enums are open: older clients decode it as Unknown)"),
        ));
    }
    for key in [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
    ] {
        if b.get(key) != h.get(key) {
            out.push(change(
                usage.request,
                loc,
                format!(
                    "{key} changed from {} to {}",
                    text(b, key).unwrap_or_else(|| "none".into()),
                    text(h, key).unwrap_or_else(|| "none".into())
                ),
            ));
        }
    }
    if b.get("additionalProperties") != h.get("additionalProperties")
        && h.get("additionalProperties") == Some(&Value::Bool(false))
    {
        out.push(change(true, loc, "no longer accepts additional properties"));
    }
    if let (Some(bi), Some(hi)) = (b.get("items"), h.get("items")) {
        diff_schema(&format!("{loc}, items"), bi, hi, usage, out);
    }
    let empty = Map::new();
    let props = |v: &Value| {
        v.get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let required = |v: &Value| -> BTreeSet<String> {
        v.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let (bp, hp, br, hr) = (props(b), props(h), required(b), required(h));
    for (name, bs) in &bp {
        let ploc = format!("{loc}, property {name}");
        match hp.get(name) {
            None => out.push(change(true, &ploc, "removed")),
            Some(hs) => {
                match (br.contains(name), hr.contains(name)) {
                    (false, true) => out.push(change(usage.request, &ploc, "became required")),
                    (true, false) => out.push(change(usage.response, &ploc, "became optional (it may now be missing)")),
                    _ => {}
                }
                diff_schema(&ploc, bs, hs, usage, out);
            }
        }
    }
    for name in hp.keys().filter(|n| !bp.contains_key(*n)) {
        let required = hr.contains(name);
        out.push(change(
            required && usage.request,
            &format!("{loc}, property {name}"),
            if required { "added, required" } else { "added, optional" },
        ));
    }
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
