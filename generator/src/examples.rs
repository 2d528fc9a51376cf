//! Every example of the spec, found wherever a media type holds one (request bodies, responses,
//! and component responses) and on component schemas (`example`, such as the JSONL line
//! schemas'). Used by the snapshot tests, the audit and the fuzz corpus.

use serde_json::Value;

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
    /// The component each line of a JSONL example must match: the media type schema's
    /// `x-jsonl-line-schema` reference.
    pub jsonl_line_schema: Option<String>,
}

/// Every example of every media type in the spec, in document order, then every component
/// schema's `example`.
pub fn examples(spec: &Value) -> Vec<Example> {
    let mut out = Vec::new();
    walk(spec, "", &mut out);
    for (name, schema) in spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(value) = schema.get("example") {
            out.push(Example {
                pointer: format!("/components/schemas/{}/example", crate::spec_walk::escape(name)),
                media_type: "application/json".into(),
                schema_name: Some(name.clone()),
                schema: serde_json::json!({ "$ref": format!("#/components/schemas/{name}") }),
                value: value.clone(),
                verbatim: None,
                jsonl_line_schema: None,
            });
        }
    }
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
                            pointer: format!("{at}/content/{}/examples/{name}", crate::spec_walk::escape(media_type)),
                            media_type: media_type.clone(),
                            schema_name: schema_name.clone(),
                            schema: schema.clone(),
                            value: ex.get("value").cloned().unwrap_or(Value::Null),
                            verbatim: ex.get("x-docs-verbatim").and_then(Value::as_str).map(str::to_owned),
                            jsonl_line_schema: schema
                                .pointer("/x-jsonl-line-schema/$ref")
                                .and_then(Value::as_str)
                                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                                .map(str::to_owned),
                        });
                    }
                }
            }
            for (k, child) in m {
                walk(child, &format!("{at}/{}", crate::spec_walk::escape(k)), out);
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| walk(c, &format!("{at}/{i}"), out)),
        _ => {}
    }
}
