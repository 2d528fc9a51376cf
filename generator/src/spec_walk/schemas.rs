//! Visits every schema object of a spec, wherever OpenAPI 3.0 allows one, with its JSON
//! pointer: component schemas, parameters, request bodies, responses and headers (in
//! components and in operations), and inside a schema its `properties`, `items`,
//! `additionalProperties`, `allOf`/`oneOf`/`anyOf` members and `not`. Example values and
//! extensions are never visited, so example data that happens to look like a schema (a literal
//! `"$ref"` key, say) is left alone.

use serde_json::{Map, Value};

use super::{METHODS, escape};

/// Calls `f` on every schema object of `spec`, a parent before its children, in document
/// order. `f` may rewrite the schema it is given (wrap it in `allOf`, say); the children of the
/// rewritten schema are visited.
pub fn for_each_schema_mut(spec: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    if let Some(components) = spec.get_mut("components").and_then(Value::as_object_mut) {
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            for (name, schema) in schemas.iter_mut() {
                walk_schema(schema, &format!("/components/schemas/{}", escape(name)), f);
            }
        }
        for (kind, visit) in [
            ("parameters", parameter as Visit),
            ("responses", response),
            ("requestBodies", body),
            ("headers", parameter),
        ] {
            if let Some(map) = components.get_mut(kind).and_then(Value::as_object_mut) {
                for (name, v) in map.iter_mut() {
                    visit(v, &format!("/components/{kind}/{}", escape(name)), f);
                }
            }
        }
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let at = format!("/paths/{}", escape(path));
            parameters(item.get_mut("parameters"), &format!("{at}/parameters"), f);
            for method in METHODS {
                let Some(op) = item.get_mut(*method) else { continue };
                let op_at = format!("{at}/{method}");
                parameters(op.get_mut("parameters"), &format!("{op_at}/parameters"), f);
                if let Some(b) = op.get_mut("requestBody") {
                    body(b, &format!("{op_at}/requestBody"), f);
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for (code, r) in responses.iter_mut() {
                        response(r, &format!("{op_at}/responses/{}", escape(code)), f);
                    }
                }
            }
        }
    }
}

type Visit = fn(&mut Value, &str, &mut dyn FnMut(&mut Map<String, Value>, &str));

fn parameters(list: Option<&mut Value>, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    for (i, p) in list.and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
        parameter(p, &format!("{at}/{i}"), f);
    }
}

fn parameter(p: &mut Value, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    if let Some(schema) = p.get_mut("schema") {
        walk_schema(schema, &format!("{at}/schema"), f);
    }
    content(p.get_mut("content"), &format!("{at}/content"), f);
}

fn body(b: &mut Value, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    content(b.get_mut("content"), &format!("{at}/content"), f);
}

fn response(r: &mut Value, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    content(r.get_mut("content"), &format!("{at}/content"), f);
    if let Some(headers) = r.get_mut("headers").and_then(Value::as_object_mut) {
        for (name, h) in headers.iter_mut() {
            parameter(h, &format!("{at}/headers/{}", escape(name)), f);
        }
    }
}

fn content(c: Option<&mut Value>, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    for (media, mt) in c.and_then(Value::as_object_mut).into_iter().flatten() {
        if let Some(schema) = mt.get_mut("schema") {
            walk_schema(schema, &format!("{at}/{}/schema", escape(media)), f);
        }
    }
}

/// Visits `schema` and every schema nested in it.
pub fn walk_schema(schema: &mut Value, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    let Some(obj) = schema.as_object_mut() else { return };
    f(obj, at);
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, p) in props.iter_mut() {
            walk_schema(p, &format!("{at}/properties/{}", escape(name)), f);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = obj.get_mut(key) {
            walk_schema(child, &format!("{at}/{key}"), f);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(members) = obj.get_mut(key).and_then(Value::as_array_mut) {
            for (i, m) in members.iter_mut().enumerate() {
                walk_schema(m, &format!("{at}/{key}/{i}"), f);
            }
        }
    }
}

/// As [`for_each_schema_mut`], reading only.
pub fn for_each_schema(spec: &Value, f: &mut dyn FnMut(&Map<String, Value>, &str)) {
    let mut copy = spec.clone();
    for_each_schema_mut(&mut copy, &mut |s, at| f(s, at));
}
