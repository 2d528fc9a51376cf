//! Operations: added, removed, renamed, moved, or with a duplicated `operationId`; and for
//! each operation in both specs, its parameters, request body and responses.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::schemas::diff_schema;
use super::{Cx, Place, Side};
use crate::naming::{field_name, pascal, type_name};
use crate::spec_walk::{self, escape};

/// An operation of one side, with what the report says of it.
struct Op<'a> {
    id: String,
    walk: spec_walk::Operation<'a>,
}

impl Op<'_> {
    fn route(&self) -> String {
        self.walk.route()
    }
    fn pointer(&self) -> String {
        self.walk.pointer()
    }
    /// The method and the request builder.
    fn rust(&self) -> Vec<String> {
        vec![
            format!("Client::{}", self.id),
            format!("builder::{}", type_name(&self.id)),
        ]
    }
    fn place(&self) -> Place {
        Place {
            location: format!("operation {}", self.id),
            pointer: self.pointer(),
            rust: String::new(),
            enum_type: String::new(),
            also: Vec::new(),
        }
    }
}

fn operations(spec: &Value) -> Vec<Op<'_>> {
    spec_walk::operations(spec)
        .into_iter()
        .map(|walk| Op {
            id: walk.id().unwrap_or("(no operationId)").to_owned(),
            walk,
        })
        .collect()
}

/// Every change to the operations from `base` to `head`.
pub(super) fn diff_operations(base: &Value, head: &Value, cx: &mut Cx) {
    let (bl, hl) = (operations(base), operations(head));
    let duplicated = duplicated_ids(&hl, cx);
    let bo: BTreeMap<&str, &Op> = bl.iter().map(|o| (o.id.as_str(), o)).collect();
    let ho: BTreeMap<&str, &Op> = hl
        .iter()
        .filter(|o| !duplicated.contains(o.id.as_str()))
        .map(|o| (o.id.as_str(), o))
        .collect();
    for (id, b) in bo.iter().filter(|(id, _)| !duplicated.contains(*id)) {
        match ho.get(id) {
            Some(h) => diff_operation(base, head, b, h, cx),
            None => removed_or_renamed(b, &hl, &bo, &duplicated, cx),
        }
    }
    for (id, h) in &ho {
        let renamed = bo
            .iter()
            .any(|(bid, b)| !ho.contains_key(bid) && b.route() == h.route());
        if !bo.contains_key(id) && !renamed {
            cx.push(false, &h.place(), h.rust(), format!("added ({})", h.route()));
        }
    }
}

/// Reports every second use of an `operationId` in the head (the generator refuses the spec)
/// and returns the duplicated ids, whose operations are not compared further.
fn duplicated_ids<'a>(hl: &'a [Op], cx: &mut Cx) -> BTreeSet<&'a str> {
    let mut seen: BTreeMap<&str, &Op> = BTreeMap::new();
    for h in hl {
        match seen.get(h.id.as_str()) {
            Some(first) => cx.push(
                true,
                &h.place(),
                h.rust(),
                format!(
                    "operationId used twice ({} and {}); cargo xtask regen refuses the spec",
                    first.route(),
                    h.route()
                ),
            ),
            None => {
                seen.insert(&h.id, h);
            }
        }
    }
    hl.iter()
        .filter(|h| hl.iter().filter(|o| o.id == h.id).count() > 1)
        .map(|h| h.id.as_str())
        .collect()
}

/// An operation of the base that the head lacks: renamed when the head has an operation with
/// a new id on the same route, otherwise removed.
fn removed_or_renamed(b: &Op, hl: &[Op], bo: &BTreeMap<&str, &Op>, duplicated: &BTreeSet<&str>, cx: &mut Cx) {
    let successor = hl
        .iter()
        .find(|h| h.route() == b.route() && (!bo.contains_key(h.id.as_str()) || duplicated.contains(h.id.as_str())));
    match successor {
        Some(h) => {
            let mut rust = b.rust();
            rust.extend(h.rust());
            cx.push(
                true,
                &b.place(),
                rust,
                format!("renamed to {} (the Rust method is renamed)", h.id),
            );
        }
        None => cx.push(true, &b.place(), b.rust(), format!("removed ({})", b.route())),
    }
}

/// One operation in both specs: its route, parameters, request body and responses.
fn diff_operation(base: &Value, head: &Value, b: &Op, h: &Op, cx: &mut Cx) {
    let at = h.place();
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
    diff_parameters(base, head, b, h, cx);
    let body = |o: &Op| {
        o.walk
            .op
            .pointer("/requestBody/content")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let id = &h.id;
    let body_at = Place {
        location: format!("operation {id}, request body"),
        pointer: format!("{}/requestBody/content", at.pointer),
        rust: format!("Client::{id}"),
        enum_type: format!("{}Body", type_name(id)),
        also: Vec::new(),
    };
    diff_content(&body_at, &body(b), &body(h), true, cx);
    diff_responses(base, head, b, h, cx);
}

/// The parameters of an operation by `(in, name)`.
fn params<'a>(spec: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), spec_walk::Parameter<'a>> {
    op.walk.parameters(spec).into_iter().map(|p| (p.key(), p)).collect()
}

/// Where a parameter shows in Rust: an argument of the method when required, a setter of the
/// builder otherwise.
fn param_rust(id: &str, name: &str, required: bool) -> String {
    if required {
        format!("Client::{id} (argument {})", field_name(name))
    } else {
        format!("builder::{}::{}", type_name(id), field_name(name))
    }
}

fn diff_parameters(base: &Value, head: &Value, b: &Op, h: &Op, cx: &mut Cx) {
    let id = h.id.as_str();
    let (bp, hp) = (params(base, b), params(head, h));
    for (key @ (place, name), p) in &bp {
        let pat = Place {
            location: format!("operation {id}, {place} parameter {name}"),
            pointer: hp.get(key).unwrap_or(p).at.clone(),
            rust: param_rust(id, name, p.required()),
            enum_type: format!("{}{}", type_name(id), pascal(name)),
            also: Vec::new(),
        };
        let Some(q) = hp.get(key) else {
            cx.push(true, &pat, vec![pat.rust.clone()], "removed");
            continue;
        };
        if p.required() != q.required() {
            cx.push(
                true,
                &pat,
                vec![param_rust(id, name, p.required()), param_rust(id, name, q.required())],
                if q.required() {
                    "became required (a builder setter becomes a method argument)"
                } else {
                    "became optional (a method argument becomes a builder setter)"
                },
            );
        }
        let s = |p: &spec_walk::Parameter| p.value.get("schema").cloned().unwrap_or(Value::Null);
        diff_schema(&pat, &s(p), &s(q), Side::parameter(), cx);
    }
    for ((place, name), q) in hp.iter().filter(|(k, _)| !bp.contains_key(*k)) {
        let required = q.required();
        let pat = Place {
            location: format!("operation {id}, {place} parameter {name}"),
            pointer: q.at.clone(),
            rust: param_rust(id, name, required),
            enum_type: String::new(),
            also: Vec::new(),
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

fn diff_responses(base: &Value, head: &Value, b: &Op, h: &Op, cx: &mut Cx) {
    let id = h.id.as_str();
    let responses = |o: &Op<'_>| o.walk.op.get("responses").and_then(Value::as_object).cloned();
    let (br, hr) = (responses(b), responses(h));
    let place = |code: &str, enum_type: String| Place {
        location: format!("operation {id}, response {code}"),
        pointer: format!("{}/responses/{}", h.pointer(), escape(code)),
        rust: format!("builder::{}::send", type_name(id)),
        enum_type,
        also: Vec::new(),
    };
    for (code, resp) in br.iter().flatten() {
        let rat = place(code, format!("{}Response", type_name(id)));
        match hr.as_ref().and_then(|r| r.get(code)) {
            None => cx.push(code.starts_with('2'), &rat, vec![rat.rust.clone()], "removed"),
            Some(hresp) => {
                let content = |spec: &Value, r: &Value| {
                    spec_walk::resolve(spec, r)
                        .and_then(|r| r.get("content"))
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                diff_content(&rat, &content(base, resp), &content(head, hresp), false, cx);
            }
        }
    }
    for code in hr.iter().flatten().map(|(c, _)| c) {
        if !br.as_ref().is_some_and(|b| b.contains_key(code)) {
            let rat = place(code, String::new());
            cx.push(false, &rat, vec![rat.rust.clone()], "added");
        }
    }
}

/// A request body's or response's media types and their schemas.
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
                    pointer: format!("{}/{}/schema", at.pointer, escape(mt)),
                    ..at.clone()
                };
                diff_schema(&mat, &s(bm), &s(hm), side, cx);
            }
        }
    }
    for mt in h.into_iter().flatten().map(|(k, _)| k) {
        if !b.is_some_and(|b| b.contains_key(mt)) {
            cx.push(false, at, vec![at.rust.clone()], format!("now also {mt}"));
        }
    }
}
