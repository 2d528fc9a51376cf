//! A semantic diff of two versions of the spec, for review: every change to operations,
//! parameters, fields, enum values, nullability, required-ness, validation and types, each
//! classified as **breaking** or **compatible**, with its spec location (a JSON pointer) and
//! the Rust items it changes.
//!
//! *Compatible* promises two things: code written against the client generated from the older
//! spec still compiles against the newer one and behaves the same, and the requests it sends
//! are still accepted. The compile proof in `tests/suite/semver.rs` checks the first promise
//! for every fixture, by compiling a consumer that touches every item of the older API
//! against the newer client. The rules, each with the Rust guarantee it rests on (the API
//! shape is described in [`crate::model`] and [`crate::shape`]; read and sent types in
//! [`crate::tolerance`]):
//!
//! - **Operations.** Added: compatible (a new method and builder; no existing call changes).
//!   Removed or renamed: breaking (the method disappears). Moved to another route: breaking,
//!   although it still compiles (calls reach another URL). Two operations with one
//!   `operationId`: breaking, and `cargo xtask regen` refuses the spec.
//! - **Parameters.** An optional one added: compatible (a new setter on the request builder;
//!   existing calls do not name it). A required one added, one removed, or one changing
//!   between required and optional: breaking (the method's arguments change: required
//!   parameters are arguments, optional ones are setters).
//! - **Properties of sent types** (request bodies): an optional one added: compatible (the
//!   struct is `#[non_exhaustive]`, built with `new` and setters, so a new field breaks no
//!   literal and no constructor call). A required one added, or one changing between required
//!   and optional or between nullable and not when required: breaking (the constructor's
//!   parameters or the field's type change, and the server may refuse older requests).
//! - **Properties of read types** (responses): only identity properties (`id`, `custom_id`)
//!   are plain values; every other field is an `Option` whatever the spec says. So adding a
//!   property, required or not, and making one optional, required, nullable or not, are
//!   compatible (the Rust type does not change, and decoding accepts absence and null); the
//!   same changes to an identity property are breaking.
//! - **Removing a property** is breaking (the field disappears).
//! - **Types.** A property's or parameter's type, a `$ref` target, an integer or number
//!   `format`, a plain string becoming an enum (or back), or a composition (`oneOf`, `anyOf`,
//!   `allOf`) changing: breaking (the Rust type changes). A string `format` changing:
//!   compatible in what the client reads (every string is a `String`), breaking in what it
//!   sends (the server may refuse older values).
//! - **Enum values.** Added: compatible (enums are `#[non_exhaustive]` and keep unknown values
//!   opaque, so no match breaks and no match on a raw string silently changes meaning).
//!   Removed: breaking (the variant disappears).
//! - **Validation keywords** (`minimum`, `maxLength`, `pattern`, ...): they never change
//!   Rust types (the generator does not pass them to progenitor). Changed in what the client
//!   reads: compatible. In what it sends: breaking (the server may refuse what older code
//!   sends). `additionalProperties: false` likewise.
//! - **Responses.** A success response or media type removed: breaking. Added: compatible.
//!   Error responses come and go compatibly (every error keeps its status whatever is
//!   declared).
//! - Descriptions and examples are not compared: they cannot break a client (examples are
//!   checked by the linter instead).

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::naming::{field_name, type_name};
use crate::normalize::{METHODS, ptr_token};
use crate::tolerance::IDENTITY_PROPERTIES;
use crate::usage::Usage;

/// One change between two versions of the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Change {
    /// Whether code or requests written against the older spec can break.
    pub breaking: bool,
    /// What changed, in words, e.g. `schema File, property bytes`.
    pub location: String,
    /// Where, as a JSON pointer into the newer spec (the older one for a removal).
    pub pointer: String,
    /// The Rust items it changes, e.g. `types::File::bytes`.
    pub rust: Vec<String>,
    /// How it changed.
    pub what: String,
}

/// How [`report`] writes the changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per change, for a terminal.
    Text,
    /// A Markdown report for a pull request: breaking changes first, each with its spec
    /// location and Rust items.
    Markdown,
    /// One JSON document, for tools: `{"from", "to", "breaking", "compatible", "changes": [...]}`.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown format {other:?}: use text, markdown or json")),
        }
    }
}

/// The semantic changes from `base` to `head` (both parsed specs), breaking ones first.
pub fn diff(base: &Value, head: &Value) -> Vec<Change> {
    let base = prepared(base);
    let head = prepared(head);
    let mut out = Vec::new();
    let usage = merged_usages(&base, &head);
    let mut cx = Cx { out: &mut out };
    diff_operations(&base, &head, &mut cx);
    let empty = Map::new();
    let schemas = |s: &Value| {
        s.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (bs, hs) = (schemas(&base), schemas(&head));
    for (name, b) in &bs {
        let at = Place {
            location: format!("schema {name}"),
            pointer: format!("/components/schemas/{}", ptr_token(name)),
            rust: format!("types::{}", type_name(name)),
            enum_type: type_name(name),
        };
        match hs.get(name) {
            None => cx.push(true, &at, vec![at.rust.clone()], "removed"),
            Some(h) => {
                let u = usage.get(name).copied().unwrap_or_default();
                diff_schema(&at, b, h, Side::of(u), &mut cx);
            }
        }
    }
    for name in hs.keys().filter(|n| !bs.contains_key(*n)) {
        let at = Place {
            location: format!("schema {name}"),
            pointer: format!("/components/schemas/{}", ptr_token(name)),
            rust: format!("types::{}", type_name(name)),
            enum_type: type_name(name),
        };
        cx.push(false, &at, vec![at.rust.clone()], "added");
    }
    out.sort_by(|a, b| {
        b.breaking
            .cmp(&a.breaking)
            .then_with(|| a.location.cmp(&b.location))
            .then_with(|| a.what.cmp(&b.what))
    });
    out.dedup();
    out
}

/// A report of the changes from `from` to `to` in `format`.
pub fn report(changes: &[Change], from: &str, to: &str, format: Format) -> String {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let compatible = changes.len() - breaking;
    let mut out = String::new();
    match format {
        Format::Text => {
            let _ = writeln!(out, "Spec changes from {from} to {to}:\n");
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
            let _ = writeln!(out, "\n{breaking} breaking, {compatible} compatible.");
        }
        Format::Markdown => {
            let _ = writeln!(out, "## Spec changes from `{from}` to `{to}`\n");
            if changes.is_empty() {
                out.push_str("No semantic changes (descriptions and examples are not compared).\n");
                return out;
            }
            let _ = writeln!(out, "**{breaking} breaking, {compatible} compatible.**\n");
            for (title, want) in [("Breaking", true), ("Compatible", false)] {
                let group: Vec<&Change> = changes.iter().filter(|c| c.breaking == want).collect();
                if group.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "### {title}\n");
                out.push_str("| change | spec location | Rust items |\n|---|---|---|\n");
                for c in group {
                    let rust = c.rust.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
                    let _ = writeln!(
                        out,
                        "| {}: {} | `{}` | {} |",
                        cell(&c.location),
                        cell(&c.what),
                        cell(&c.pointer),
                        cell(&rust)
                    );
                }
                out.push('\n');
            }
            if breaking > 0 {
                out.push_str(
                    "A breaking change lands only with a `Spec-Breaking-Change: <why>` line in its commit message, \
                     and a CHANGELOG entry saying what users must change.\n",
                );
            }
        }
        Format::Json => {
            let doc = serde_json::json!({
                "from": from,
                "to": to,
                "breaking": breaking,
                "compatible": compatible,
                "changes": changes,
            });
            out = serde_json::to_string_pretty(&doc).expect("changes serialise");
            out.push('\n');
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Both specs with the nullable-reference idiom rewritten (see [`crate::normalize`]).
fn prepared(spec: &Value) -> Value {
    let mut spec = spec.clone();
    crate::normalize::rewrite_nullable_refs(&mut spec);
    spec
}

/// Where a schema sits: its words, pointer, Rust path, and the Rust name its inline enum
/// would get.
#[derive(Clone)]
struct Place {
    location: String,
    pointer: String,
    rust: String,
    enum_type: String,
}

impl Place {
    fn property(&self, name: &str, owner: &str) -> Place {
        Place {
            location: format!("{}, property {name}", self.location),
            pointer: format!("{}/properties/{}", self.pointer, ptr_token(name)),
            rust: format!("types::{owner}::{}", field_name(name)),
            enum_type: format!("{owner}{}", crate::normalize::pascal(name)),
        }
    }
    fn child(&self, words: &str, key: &str) -> Place {
        Place {
            location: format!("{}, {words}", self.location),
            pointer: format!("{}/{key}", self.pointer),
            rust: self.rust.clone(),
            enum_type: format!("{}Item", self.enum_type),
        }
    }
}

struct Cx<'a> {
    out: &'a mut Vec<Change>,
}

impl Cx<'_> {
    fn push(&mut self, breaking: bool, at: &Place, rust: Vec<String>, what: impl Into<String>) {
        self.out.push(Change {
            breaking,
            location: at.location.clone(),
            pointer: at.pointer.clone(),
            rust,
            what: what.into(),
        });
    }
}

/// How the schema being compared travels, and so which rules apply.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// In requests: the server may refuse what older clients send.
    sent: bool,
    /// Generated as a read type (tolerant, see [`crate::tolerance`]).
    read_shape: bool,
}

impl Side {
    fn of(u: Usage) -> Self {
        Side {
            sent: u.request,
            read_shape: crate::tolerance::is_read(Some(&u).filter(|u| u.request || u.response)),
        }
    }
    fn parameter() -> Self {
        Side {
            sent: true,
            read_shape: false,
        }
    }
}

fn merged_usages(base: &Value, head: &Value) -> BTreeMap<String, Usage> {
    let mut out = crate::usage::usages(base);
    for (name, u) in crate::usage::usages(head) {
        let e = out.entry(name).or_default();
        e.request |= u.request;
        e.response |= u.response;
    }
    out
}

struct Op<'a> {
    id: String,
    method: String,
    path: String,
    op: &'a Value,
    path_params: Option<&'a Value>,
}

impl Op<'_> {
    fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
    fn pointer(&self) -> String {
        format!("/paths/{}/{}", ptr_token(&self.path), self.method.to_lowercase())
    }
    fn rust(&self) -> Vec<String> {
        vec![
            format!("Client::{}", self.id),
            format!("builder::{}", type_name(&self.id)),
        ]
    }
}

fn operations(spec: &Value) -> Vec<Op<'_>> {
    let mut out = Vec::new();
    for (path, item) in spec.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                out.push(Op {
                    id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or("(no operationId)")
                        .to_owned(),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    op,
                    path_params: item.get("parameters"),
                });
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

/// The parameters of an operation by `(in, name)`, each with its JSON pointer.
fn params<'a>(spec: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), (&'a Value, String)> {
    let mut out = BTreeMap::new();
    let path_at = format!("/paths/{}/parameters", ptr_token(&op.path));
    let op_at = format!("{}/parameters", op.pointer());
    for (list, at) in [(op.path_params, path_at), (op.op.get("parameters"), op_at)] {
        for (i, p) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
            let p = resolve(spec, p);
            let key = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            out.insert((key("in"), key("name")), (p, format!("{at}/{i}")));
        }
    }
    out
}

fn diff_operations(base: &Value, head: &Value, cx: &mut Cx) {
    let (bl, hl) = (operations(base), operations(head));
    // Duplicated operationIds in the head: progenitor and the generator refuse them.
    let mut seen: BTreeMap<&str, &Op> = BTreeMap::new();
    for h in &hl {
        if let Some(first) = seen.get(h.id.as_str()) {
            let at = Place {
                location: format!("operation {}", h.id),
                pointer: h.pointer(),
                rust: String::new(),
                enum_type: String::new(),
            };
            cx.push(
                true,
                &at,
                h.rust(),
                format!(
                    "operationId used twice ({} and {}); cargo xtask regen refuses the spec",
                    first.route(),
                    h.route()
                ),
            );
        } else {
            seen.insert(&h.id, h);
        }
    }
    // A duplicated id is reported once, above; its operations are not compared further.
    let duplicated: BTreeSet<&str> = hl
        .iter()
        .filter(|h| hl.iter().filter(|o| o.id == h.id).count() > 1)
        .map(|h| h.id.as_str())
        .collect();
    let bo: BTreeMap<&str, &Op> = bl.iter().map(|o| (o.id.as_str(), o)).collect();
    let ho: BTreeMap<&str, &Op> = hl
        .iter()
        .filter(|o| !duplicated.contains(o.id.as_str()))
        .map(|o| (o.id.as_str(), o))
        .collect();
    for (id, b) in &bo {
        if duplicated.contains(id) {
            continue;
        }
        let at = Place {
            location: format!("operation {id}"),
            pointer: b.pointer(),
            rust: String::new(),
            enum_type: String::new(),
        };
        let Some(h) = ho.get(id) else {
            match hl.iter().find(|h| {
                h.route() == b.route() && (!bo.contains_key(h.id.as_str()) || duplicated.contains(h.id.as_str()))
            }) {
                Some(h) => {
                    let mut rust = b.rust();
                    rust.extend(h.rust());
                    cx.push(
                        true,
                        &at,
                        rust,
                        format!("renamed to {} (the Rust method is renamed)", h.id),
                    );
                }
                None => cx.push(true, &at, b.rust(), format!("removed ({})", b.route())),
            }
            continue;
        };
        let at = Place {
            pointer: h.pointer(),
            ..at
        };
        if b.route() != h.route() {
            cx.push(
                true,
                &at,
                h.rust(),
                format!(
                    "moved from {} to {} (it still compiles, but calls reach another route)",
                    b.route(),
                    h.route()
                ),
            );
        }
        let (bp, hp) = (params(base, b), params(head, h));
        let req = |v: &Value| {
            v.get("required") == Some(&Value::Bool(true)) || v.get("in").and_then(Value::as_str) == Some("path")
        };
        let param_rust = |name: &str, required: bool| {
            if required {
                format!("Client::{id} (argument {})", field_name(name))
            } else {
                format!("builder::{}::{}", type_name(id), field_name(name))
            }
        };
        for ((place, name), (p, pointer)) in &bp {
            let pat = Place {
                location: format!("operation {id}, {place} parameter {name}"),
                pointer: hp
                    .get(&(place.clone(), name.clone()))
                    .map_or(pointer, |(_, q)| q)
                    .clone(),
                rust: param_rust(name, req(p)),
                enum_type: format!("{}{}", type_name(id), crate::normalize::pascal(name)),
            };
            match hp.get(&(place.clone(), name.clone())) {
                None => cx.push(true, &pat, vec![pat.rust.clone()], "removed"),
                Some((q, _)) => {
                    if req(p) != req(q) {
                        cx.push(
                            true,
                            &pat,
                            vec![param_rust(name, req(p)), param_rust(name, req(q))],
                            if req(q) {
                                "became required (a builder setter becomes a method argument)"
                            } else {
                                "became optional (a method argument becomes a builder setter)"
                            },
                        );
                    }
                    let s = |v: &Value| v.get("schema").cloned().unwrap_or(Value::Null);
                    diff_schema(&pat, &s(p), &s(q), Side::parameter(), cx);
                }
            }
        }
        for ((place, name), (q, pointer)) in &hp {
            if !bp.contains_key(&(place.clone(), name.clone())) {
                let required = req(q);
                let pat = Place {
                    location: format!("operation {id}, {place} parameter {name}"),
                    pointer: pointer.clone(),
                    rust: param_rust(name, required),
                    enum_type: String::new(),
                };
                cx.push(
                    required,
                    &pat,
                    vec![pat.rust.clone()],
                    if required {
                        "added, required (the method gains an argument)"
                    } else {
                        "added, optional (a new builder setter)"
                    },
                );
            }
        }
        let body = |o: &Op| o.op.pointer("/requestBody/content").cloned().unwrap_or(Value::Null);
        let bat = Place {
            location: format!("operation {id}, request body"),
            pointer: format!("{}/requestBody/content", at.pointer),
            rust: format!("Client::{id}"),
            enum_type: format!("{}Body", type_name(id)),
        };
        diff_content(&bat, &body(b), &body(h), true, cx);
        let (br, hr) = (
            b.op.get("responses").and_then(Value::as_object),
            h.op.get("responses").and_then(Value::as_object),
        );
        for (code, resp) in br.into_iter().flatten() {
            let rat = Place {
                location: format!("operation {id}, response {code}"),
                pointer: format!("{}/responses/{}", at.pointer, ptr_token(code)),
                rust: format!("builder::{}::send", type_name(id)),
                enum_type: format!("{}Response", type_name(id)),
            };
            match hr.and_then(|r| r.get(code)) {
                None => {
                    let success = code.starts_with('2');
                    cx.push(success, &rat, vec![rat.rust.clone()], "removed");
                }
                Some(hresp) => {
                    let content = |spec, r| resolve(spec, r).get("content").cloned().unwrap_or(Value::Null);
                    diff_content(&rat, &content(base, resp), &content(head, hresp), false, cx);
                }
            }
        }
        for code in hr
            .into_iter()
            .flatten()
            .map(|(c, _)| c)
            .filter(|c| !br.is_some_and(|b| b.contains_key(*c)))
        {
            let rat = Place {
                location: format!("operation {id}, response {code}"),
                pointer: format!("{}/responses/{}", at.pointer, ptr_token(code)),
                rust: format!("builder::{}::send", type_name(id)),
                enum_type: String::new(),
            };
            cx.push(false, &rat, vec![rat.rust.clone()], "added");
        }
    }
    for (id, h) in &ho {
        let renamed = bo
            .iter()
            .any(|(bid, b)| !ho.contains_key(bid) && b.route() == h.route());
        if !bo.contains_key(id) && !renamed {
            let at = Place {
                location: format!("operation {id}"),
                pointer: h.pointer(),
                rust: String::new(),
                enum_type: String::new(),
            };
            cx.push(false, &at, h.rust(), format!("added ({})", h.route()));
        }
    }
}

fn diff_content(at: &Place, base: &Value, head: &Value, request: bool, cx: &mut Cx) {
    let (b, h) = (base.as_object(), head.as_object());
    let side = Side {
        sent: request,
        read_shape: !request,
    };
    for (mt, bm) in b.into_iter().flatten() {
        match h.and_then(|h| h.get(mt)) {
            None => cx.push(true, at, vec![at.rust.clone()], format!("no longer {mt}")),
            Some(hm) => {
                let s = |m: &Value| m.get("schema").cloned().unwrap_or(Value::Null);
                let mat = Place {
                    location: format!("{} ({mt})", at.location),
                    pointer: format!("{}/{}/schema", at.pointer, ptr_token(mt)),
                    ..at.clone()
                };
                diff_schema(&mat, &s(bm), &s(hm), side, cx);
            }
        }
    }
    for mt in h
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !b.is_some_and(|b| b.contains_key(*k)))
    {
        cx.push(false, at, vec![at.rust.clone()], format!("now also {mt}"));
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

/// The Rust name of an enum value's variant (`x-enum-varnames`, else PascalCase).
fn variant_name(schema: &Value, value: &Value) -> String {
    let values = schema.get("enum").and_then(Value::as_array);
    let names = schema.get("x-enum-varnames").and_then(Value::as_array);
    if let (Some(values), Some(names)) = (values, names)
        && let Some(i) = values.iter().position(|v| v == value)
        && let Some(n) = names.get(i).and_then(Value::as_str)
    {
        return n.to_owned();
    }
    crate::normalize::variant_name(value.as_str().unwrap_or_default())
}

const VALIDATION: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

fn diff_schema(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
    let here = vec![at.rust.clone()];
    if type_of(b) != type_of(h) {
        cx.push(
            true,
            at,
            here,
            format!("type changed from {} to {}", type_of(b), type_of(h)),
        );
        return;
    }
    let (bf, hf) = (text(b, "format"), text(h, "format"));
    if bf != hf {
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
                here.clone(),
                format!("{what} (every string is a Rust `String`)"),
            );
        } else {
            cx.push(true, at, here.clone(), format!("{what} (the Rust type changes)"));
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if b.get(key) != h.get(key) {
            let (bt, ht) = (b.get(key).map(refs_text), h.get(key).map(refs_text));
            cx.push(
                true,
                at,
                here.clone(),
                format!(
                    "{key} changed from {} to {}",
                    bt.unwrap_or_else(|| "none".into()),
                    ht.unwrap_or_else(|| "none".into())
                ),
            );
        }
    }
    let values = |v: &Value| -> Option<Vec<Value>> { v.get("enum").and_then(Value::as_array).cloned() };
    let (be, he) = (values(b), values(h));
    let is_enum_schema = at.pointer.starts_with("/components/schemas/") && !at.pointer.contains("/properties/");
    let enum_path = if is_enum_schema {
        at.rust.clone()
    } else {
        format!("types::{}", at.enum_type)
    };
    match (&be, &he) {
        (None, Some(_)) => cx.push(
            true,
            at,
            here.clone(),
            "became an enum (the Rust type changes to an enum)",
        ),
        (Some(_), None) => cx.push(true, at, here.clone(), "is no longer an enum (the Rust type changes)"),
        (Some(be), Some(he)) => {
            for v in be.iter().filter(|v| !he.contains(v)) {
                cx.push(
                    true,
                    at,
                    vec![format!("{enum_path}::{}", variant_name(b, v))],
                    format!("enum value {v} removed"),
                );
            }
            for v in he.iter().filter(|v| !be.contains(v)) {
                cx.push(
                    false,
                    at,
                    vec![format!("{enum_path}::{}", variant_name(h, v))],
                    format!(
                        "enum value {v} added (enums are open and #[non_exhaustive]: older code decodes it as Unknown)"
                    ),
                );
            }
        }
        (None, None) => {}
    }
    for key in VALIDATION {
        if b.get(*key) != h.get(*key) {
            cx.push(
                side.sent,
                at,
                here.clone(),
                format!(
                    "{key} changed from {} to {}{}",
                    text(b, key).unwrap_or_else(|| "none".into()),
                    text(h, key).unwrap_or_else(|| "none".into()),
                    if side.sent {
                        " (the server may refuse what older code sends)"
                    } else {
                        " (no Rust type changes)"
                    }
                ),
            );
        }
    }
    if b.get("additionalProperties") != h.get("additionalProperties")
        && h.get("additionalProperties") == Some(&Value::Bool(false))
    {
        cx.push(side.sent, at, here.clone(), "no longer accepts additional properties");
    }
    if let (Some(bi), Some(hi)) = (b.get("items"), h.get("items")) {
        diff_schema(&at.child("items", "items"), bi, hi, side, cx);
    }
    diff_properties(at, b, h, side, cx);
}

fn diff_properties(at: &Place, b: &Value, h: &Value, side: Side, cx: &mut Cx) {
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
    if bp.is_empty() && hp.is_empty() {
        return;
    }
    let owner = at.rust.rsplit("::").next().unwrap_or_default().to_owned();
    let ctor = format!("{}::new", at.rust);
    // Whether the Rust shape of a property depends on required-ness and nullability: always in
    // a sent type, only for identity properties in a read type.
    let shaped = |name: &str| !side.read_shape || IDENTITY_PROPERTIES.contains(&name);
    for (name, bs) in &bp {
        let pat = at.property(name, &owner);
        let field = pat.rust.clone();
        match hp.get(name) {
            None => cx.push(true, &pat, vec![field], "removed"),
            Some(hs) => {
                let setter = format!("{}::with_{}", at.rust, field_name(name).trim_end_matches('_'));
                match (br.contains(name), hr.contains(name)) {
                    (false, true) => cx.push(
                        shaped(name) || side.sent,
                        &pat,
                        vec![field.clone(), ctor.clone(), setter.clone()],
                        if shaped(name) {
                            "became required (the field's type and the constructor change)"
                        } else {
                            "became required (read types keep it an Option; no Rust change)"
                        },
                    ),
                    (true, false) => cx.push(
                        shaped(name),
                        &pat,
                        vec![field.clone(), ctor.clone(), setter.clone()],
                        if shaped(name) {
                            "became optional (the field becomes an Option and leaves the constructor)"
                        } else {
                            "became optional (it may now be missing; read types already make it an Option)"
                        },
                    ),
                    _ => {}
                }
                if nullable(bs) != nullable(hs) {
                    let required_here = hr.contains(name);
                    let rust_change = shaped(name) && required_here;
                    if nullable(hs) {
                        cx.push(
                            rust_change,
                            &pat,
                            vec![field.clone()],
                            if rust_change {
                                "may now be null (the field becomes an Option)"
                            } else {
                                "may now be null (already an Option; no Rust change)"
                            },
                        );
                    } else {
                        cx.push(
                            rust_change || side.sent,
                            &pat,
                            vec![field.clone()],
                            "may no longer be null",
                        );
                    }
                }
                diff_schema(&pat, bs, hs, side, cx);
            }
        }
    }
    for name in hp.keys().filter(|n| !bp.contains_key(*n)) {
        let pat = at.property(name, &owner);
        let required = hr.contains(name);
        let breaking = required && (shaped(name) || side.sent);
        let mut rust = vec![pat.rust.clone()];
        if breaking {
            rust.push(ctor.clone());
        } else {
            rust.push(format!("{}::with_{}", at.rust, field_name(name).trim_end_matches('_')));
        }
        cx.push(
            breaking,
            &pat,
            rust,
            match (required, breaking) {
                (true, true) => "added, required (the constructor gains a parameter)",
                (true, false) => "added, required (read types make it an Option; no existing code changes)",
                _ => "added, optional (a new field and setter; the type is #[non_exhaustive])",
            },
        );
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
