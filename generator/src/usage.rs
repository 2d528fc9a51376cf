//! Which way each component schema travels: in what the client *sends* (request bodies and
//! parameters) or in what it *reads* (responses, error bodies and the JSONL lines a response
//! body carries). The tolerance rule ([`crate::tolerance`]) and the spec diff ([`crate::diff`])
//! both decide by it.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use crate::spec_walk;

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
    for op in spec_walk::operations(spec) {
        let mut request = BTreeSet::new();
        collect_refs(op.op.get("requestBody").unwrap_or(&Value::Null), spec, &mut request);
        collect_refs(op.op.get("parameters").unwrap_or(&Value::Null), spec, &mut request);
        collect_refs(op.item.get("parameters").unwrap_or(&Value::Null), spec, &mut request);
        let mut response = BTreeSet::new();
        collect_refs(op.op.get("responses").unwrap_or(&Value::Null), spec, &mut response);
        for name in request {
            out.entry(name).or_default().request = true;
        }
        for name in response {
            out.entry(name).or_default().response = true;
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
            if m.contains_key("$ref") {
                let first_visit = match spec_walk::schema_ref_name(v) {
                    Some(name) => out.insert(name),
                    None => true,
                };
                if first_visit && let Some((target, _)) = spec_walk::target(spec, v) {
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
