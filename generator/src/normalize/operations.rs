//! Rule 7: operations, their responses and their request bodies, in progenitor's terms.
//!
//! - Every operation needs a unique snake_case `operationId`: it is the Rust method name.
//! - Error responses leave progenitor's view. Progenitor decodes an error body into the declared
//!   type and loses the raw text (and, when decoding fails, the status too). Without declared
//!   error responses it hands back the whole `reqwest::Response`, and the runtime keeps status,
//!   headers and raw body, then decodes `ErrorBody` itself. The declared error responses stay in
//!   the spec and are listed in each method's docs.
//! - With no 2xx response, `default` is the success response (every 2xx status); with neither,
//!   the operation is refused.
//! - Progenitor panics when an operation's 2xx responses have different bodies: they must agree,
//!   compared after following `$ref`s.
//! - Media types are compared without their parameters and case, and any `+json` type is JSON:
//!   `application/json; charset=utf-8` and `application/problem+json` are `application/json`.
//!   Where a request or response offers several media types, progenitor sees the one it handles
//!   best (JSON first); the choice is noted.
//! - An operation whose request body progenitor cannot send at all (it has no
//!   `multipart/form-data`) is left out and reported; the client crate implements it by hand.

use serde_json::{Map, Value};

use super::{OperationSpec, ParamSpec, Problems};
use crate::spec_walk::{Operation, child, operations, resolve};

/// Request content types progenitor 0.15.1 can send (`progenitor-impl` `method.rs`), best first.
const SUPPORTED_REQUEST_TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "text/plain",
    "text/x-markdown",
];

/// A media type without parameters, lowercase; `+json` types are `application/json`.
pub(crate) fn media_type(raw: &str) -> String {
    let bare = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if bare.ends_with("+json") {
        "application/json".to_owned()
    } else {
        bare
    }
}

/// Rewrites the operations of the spec copy for progenitor and describes each.
pub(super) fn rewrite(spec: &mut Value, problems: &mut Problems) -> Vec<OperationSpec> {
    let mut ops = Vec::new();
    let whole = spec.clone();
    let mut ids: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut left_out_ops = Vec::new();
    for o in operations(&whole) {
        let at = o.pointer();
        let Some(op) = spec.pointer_mut(&at).and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(id) = operation_id(op, &at, &mut ids, problems) else {
            continue;
        };
        let mut notes = Vec::new();
        let left_out = request_body(op, &at, &whole, &mut notes);
        let error_responses = responses(op, &at, &whole, &mut notes, problems);
        let text = |k: &str| op.get(k).and_then(Value::as_str).map(|s| s.trim_end().to_owned());
        if left_out.is_some() {
            left_out_ops.push((child("/paths", o.path), o.method));
        }
        ops.push(OperationSpec {
            id,
            method: o.method.to_uppercase(),
            path: o.path.to_owned(),
            summary: text("summary"),
            description: text("description"),
            docs_url: op
                .get("externalDocs")
                .and_then(|d| d.get("url"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            path_params: super::validate::template_params(o.path).unwrap_or_default(),
            params: params(&o, &whole),
            error_responses,
            left_out,
            notes,
        });
    }
    // Left-out operations leave progenitor's view.
    for (item_at, method) in left_out_ops {
        if let Some(item) = spec.pointer_mut(&item_at).and_then(Value::as_object_mut) {
            item.remove(method);
        }
    }
    ops
}

/// The operationId, checked: present, snake_case, unique.
fn operation_id(
    op: &Map<String, Value>,
    at: &str,
    ids: &mut std::collections::BTreeMap<String, String>,
    problems: &mut Problems,
) -> Option<String> {
    let Some(id) = op.get("operationId").and_then(Value::as_str) else {
        problems.push(
            at,
            "an operation without `operationId`",
            "every operation needs a snake_case `operationId` in the vendor's terms (it is the Rust method name)",
        );
        return None;
    };
    let snake = crate::naming::field_name(id);
    if snake != id
        || id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        problems.push(
            format!("{at}/operationId"),
            format!("operationId {id:?} is not a snake_case Rust method name"),
            format!("write `operationId: {snake}`"),
        );
        return None;
    }
    if let Some(first) = ids.get(id) {
        problems.push(
            format!("{at}/operationId"),
            format!("a second operation with id `{id}` (the first is {first})"),
            "operationIds must be unique: they are the Rust method names",
        );
        return None;
    }
    ids.insert(id.to_owned(), at.to_owned());
    Some(id.to_owned())
}

/// Chooses the request media type progenitor sees; `Some(reason)` when the operation must be
/// left out (no media type progenitor can send).
fn request_body(op: &mut Map<String, Value>, at: &str, whole: &Value, notes: &mut Vec<String>) -> Option<String> {
    let body = op.get_mut("requestBody")?;
    if body.get("$ref").is_some() {
        *body = resolve(whole, body)?.clone();
    }
    let content = body.get_mut("content").and_then(Value::as_object_mut)?;
    let raw: Vec<String> = content.keys().cloned().collect();
    if raw.is_empty() {
        return None;
    }
    let best = SUPPORTED_REQUEST_TYPES
        .iter()
        .find_map(|t| raw.iter().find(|r| media_type(r) == *t).map(|r| (r.clone(), *t)));
    let Some((chosen, bare)) = best else {
        return Some(format!(
            "request body is {} (progenitor 0.15.1 cannot send it)",
            raw.join(", ")
        ));
    };
    let mut mt = content.get(&chosen).cloned().expect("listed above");
    // `encoding` describes multipart parts; progenitor panics on it for JSON and forms.
    if let Some(m) = mt.as_object_mut() {
        m.remove("encoding");
    }
    if raw.len() > 1 {
        notes.push(format!(
            "sends its request body as {bare}; the spec also allows {} ({at}/requestBody)",
            raw.iter()
                .filter(|r| **r != chosen)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    content.clear();
    content.insert(bare.to_owned(), mt);
    None
}

/// Splits the responses: returns the declared error responses and leaves progenitor the
/// success ones, in one media type.
fn responses(
    op: &mut Map<String, Value>,
    at: &str,
    whole: &Value,
    notes: &mut Vec<String>,
    problems: &mut Problems,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        problems.push(
            at,
            "an operation without `responses`",
            "declare at least its success response",
        );
        return errors;
    };
    let has_success = responses.keys().any(|c| c.starts_with('2'));
    let codes_declared = !responses.is_empty();
    let codes: Vec<String> = responses.keys().cloned().collect();
    let mut bodies: Vec<(String, String)> = Vec::new();
    for code in codes {
        let resp = responses.remove(&code).expect("key listed above");
        let resp = resolve(whole, &resp).cloned().unwrap_or(resp);
        let success = code.starts_with('2') || (code == "default" && !has_success);
        if !success {
            let description = resp
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            errors.push((code, description));
            continue;
        }
        let mut resp = resp;
        if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
            let raw: Vec<String> = content.keys().cloned().collect();
            // JSON first, then the first media type as written.
            let chosen = raw
                .iter()
                .find(|r| media_type(r) == "application/json")
                .or_else(|| raw.first())
                .cloned();
            if let Some(chosen) = chosen {
                if raw.len() > 1 {
                    notes.push(format!(
                        "reads its {code} response as {}; the spec also allows {}",
                        media_type(&chosen),
                        raw.iter()
                            .filter(|r| **r != chosen)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                let mt = content.get(&chosen).cloned().expect("listed above");
                content.clear();
                content.insert(media_type(&chosen), mt);
            }
        }
        let body = resp
            .get("content")
            .and_then(Value::as_object)
            .map(|c| {
                c.iter()
                    .map(|(t, mt)| format!("{t}: {}", mt.get("schema").cloned().unwrap_or(Value::Null)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "no body".to_owned());
        let key = if code == "default" {
            notes.push(format!(
                "takes `default` as its success response ({at}/responses/default): it declares no 2xx"
            ));
            "2XX".to_owned()
        } else {
            code.clone()
        };
        bodies.push((code, body));
        responses.insert(key, resp);
    }
    // No responses at all means "undocumented": progenitor hands back the raw body.
    if bodies.is_empty() && !codes_declared {
        return errors;
    }
    if bodies.is_empty() {
        problems.push(
            format!("{at}/responses"),
            "an operation with no success response (no 2xx, no `default`)",
            "declare the response it answers with when it succeeds",
        );
    }
    let kinds: std::collections::BTreeSet<&String> = bodies.iter().map(|(_, b)| b).collect();
    if kinds.len() > 1 {
        problems.push(
            format!("{at}/responses"),
            format!(
                "success responses with different bodies ({})",
                bodies.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
            ),
            "give every 2xx response of an operation the same content and schema (progenitor panics otherwise)",
        );
    }
    errors
}

/// The parameters of `o`, as the Rust method takes them (an operation's own parameter replaces
/// the path item's with the same name and place).
fn params(o: &Operation<'_>, whole: &Value) -> Vec<ParamSpec> {
    o.parameters(whole)
        .iter()
        .map(|p| {
            let field = |k: &str| {
                p.value
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .trim_end()
                    .to_owned()
            };
            ParamSpec {
                name: field("name"),
                location: field("in"),
                required: p.required(),
                description: field("description"),
            }
        })
        .collect()
}
