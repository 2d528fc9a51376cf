//! Support for the snapshot and end-to-end tests in `tests/all/`: loading the spec, finding
//! every example in it, validating examples against their schemas, and the spec audit.

use serde_json::{Value, json};

pub mod audit;
pub mod fake;

/// The spec's YAML text, as checked in.
pub fn spec_text() -> String {
    std::fs::read_to_string(workspace_root().join("spec/openapi.yaml")).expect("spec/openapi.yaml is readable")
}

/// The spec as JSON.
pub fn spec_json() -> Value {
    cerebras_batch_generator::parse_spec(&spec_text()).expect("the spec parses")
}

/// The workspace root.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// One example of the spec.
#[derive(Debug, Clone)]
pub struct Example {
    /// JSON pointer of the example object.
    pub pointer: String,
    /// The media type it belongs to, e.g. `application/json`.
    pub media_type: String,
    /// The component schema the media type refers to (`Batch`), or `None` for inline schemas.
    pub schema_name: Option<String>,
    /// The media type's schema, as written.
    pub schema: Value,
    /// The example's `value`.
    pub value: Value,
    /// `x-docs-verbatim`: the vendor's text exactly as printed.
    pub verbatim: Option<String>,
    /// `x-jsonl-line-schema`: the component each line of a JSONL example must match.
    pub jsonl_line_schema: Option<String>,
}

/// Every example of every media type in the spec, in document order.
pub fn examples(spec: &Value) -> Vec<Example> {
    let mut out = Vec::new();
    walk(spec, "", &mut out);
    out
}

fn walk(v: &Value, at: &str, out: &mut Vec<Example>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(content)) = m.get("content") {
                for (media_type, mt) in content {
                    let schema = mt.get("schema").cloned().unwrap_or(Value::Null);
                    let schema_name = schema
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                        .map(str::to_owned);
                    for (name, ex) in mt.get("examples").and_then(Value::as_object).into_iter().flatten() {
                        out.push(Example {
                            pointer: format!("{at}/content/{}/examples/{name}", token(media_type)),
                            media_type: media_type.clone(),
                            schema_name: schema_name.clone(),
                            schema: schema.clone(),
                            value: ex.get("value").cloned().unwrap_or(Value::Null),
                            verbatim: ex.get("x-docs-verbatim").and_then(Value::as_str).map(str::to_owned),
                            jsonl_line_schema: ex
                                .get("x-jsonl-line-schema")
                                .and_then(Value::as_str)
                                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                                .map(str::to_owned),
                        });
                    }
                }
            }
            for (k, child) in m {
                walk(child, &format!("{at}/{}", token(k)), out);
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| walk(c, &format!("{at}/{i}"), out)),
        _ => {}
    }
}

fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Rewrites OpenAPI 3.0 schemas into JSON Schema: `nullable: true` becomes a `null` type (or
/// an `anyOf` with `null` when the schema has no `type`).
pub fn oas30_to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut m: serde_json::Map<String, Value> =
                m.iter().map(|(k, c)| (k.clone(), oas30_to_json_schema(c))).collect();
            if m.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(t) = m.get("type").cloned() {
                    m.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(e)) = m.get_mut("enum") {
                        e.push(Value::Null);
                    }
                } else {
                    return json!({ "anyOf": [{ "type": "null" }, Value::Object(m)] });
                }
            }
            Value::Object(m)
        }
        Value::Array(a) => Value::Array(a.iter().map(oas30_to_json_schema).collect()),
        other => other.clone(),
    }
}

/// Validates `instance` against `schema` (an OpenAPI 3.0 schema that may `$ref` the spec's
/// components); returns one line per violation: `instance path: message`.
pub fn schema_violations(spec: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = oas30_to_json_schema(schema);
    if let Value::Object(m) = &mut root {
        m.insert("components".into(), oas30_to_json_schema(&spec["components"]));
    }
    let validator = jsonschema::draft4::new(&root).expect("the spec's schemas are valid JSON Schema");
    let mut out: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!("{}: {e}", if path.is_empty() { "(root)" } else { &path })
        })
        .collect();
    out.sort();
    out
}
