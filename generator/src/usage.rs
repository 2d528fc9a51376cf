//! Which way each component schema travels: in what the client *sends* (request bodies and
//! parameters) or in what it *reads* (responses, error bodies and the JSONL lines a response
//! body carries). The tolerance rule ([`crate::tolerance`]) and the spec diff ([`crate::diff`])
//! both decide by it.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The ways a schema travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Reachable from a request body or a parameter.
    pub request: bool,
    /// Reachable from a response (success or error).
    pub response: bool,
}

/// The usage of every component schema reachable from an operation of `spec`, transitively
/// through `$ref`s and through `x-jsonl-line-schema` (the schema of each line of a JSONL
/// body). Schemas nothing reaches are absent.
pub fn usages(spec: &Value) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for item in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(_, v)| v)
    {
        let path_params = item.get("parameters").unwrap_or(&Value::Null);
        for method in crate::normalize::METHODS {
            let Some(op) = item.get(*method) else { continue };
            let mut request = BTreeSet::new();
            collect_refs(op.get("requestBody").unwrap_or(&Value::Null), spec, &mut request);
            collect_refs(op.get("parameters").unwrap_or(&Value::Null), spec, &mut request);
            collect_refs(path_params, spec, &mut request);
            let mut response = BTreeSet::new();
            collect_refs(op.get("responses").unwrap_or(&Value::Null), spec, &mut response);
            for name in request {
                out.entry(name).or_default().request = true;
            }
            for name in response {
                out.entry(name).or_default().response = true;
            }
        }
    }
    out
}

/// Component schema names reachable from `v` through `$ref`s (responses, parameters and request
/// bodies written as `$ref`s are followed too). Examples and extensions other than
/// `x-jsonl-line-schema` are not schemas and are skipped.
pub(crate) fn collect_refs(v: &Value, spec: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    let name = unescape(name);
                    if out.insert(name.clone())
                        && let Some(target) = spec
                            .get("components")
                            .and_then(|c| c.get("schemas"))
                            .and_then(|s| s.get(&name))
                    {
                        collect_refs(target, spec, out);
                    }
                } else if let Some(target) = r.strip_prefix('#').and_then(|p| spec.pointer(p)) {
                    collect_refs(target, spec, out);
                }
            }
            m.iter()
                .filter(|(k, _)| {
                    (!k.starts_with("x-") || *k == "x-jsonl-line-schema") && *k != "examples" && *k != "example"
                })
                .for_each(|(_, c)| collect_refs(c, spec, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, spec, out)),
        _ => {}
    }
}

/// Undoes JSON-pointer escaping of one token.
pub(crate) fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
