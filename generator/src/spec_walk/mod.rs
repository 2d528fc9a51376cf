//! The vocabulary for walking an OpenAPI 3.0 document, shared by the generator, the spec diff
//! ([`crate::diff`]) and the docs check (`docs-drift`): one list of HTTP methods, one JSON
//! pointer escaper, one `$ref` resolver, one way to list operations, one walk over every schema
//! ([`for_each_schema`]), and the one classification of the keywords that never reach
//! progenitor ([`VALIDATION_KEYWORDS`], [`ANNOTATION_KEYWORDS`]).
//!
//! Everything here reads the document as JSON (`serde_json::Value`), as written: it knows
//! nothing of progenitor or of the Rust it becomes, so every other module may import it and it
//! imports none of them.

mod schemas;

use serde_json::{Map, Value};

pub use schemas::{for_each_schema, for_each_schema_mut, walk_schema};

/// The HTTP methods an OpenAPI path item may hold, in the order they are reported.
pub const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Keywords that constrain the values a schema accepts without changing their JSON type. The
/// generator keeps them from progenitor (which would turn `minimum: 1` into a `NonZeroU64`,
/// `pattern` into a newtype, `uniqueItems` into a set, and panics on `not`), so they never
/// change a Rust type; the diff calls a change of one breaking in what the client sends (the
/// server may refuse what older code sends) and compatible in what it reads.
///
/// `not` is here: it says which values are refused (`not: {enum: [""]}`), which is
/// validation, although its value is a schema.
pub const VALIDATION_KEYWORDS: &[&str] = &[
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
    "not",
];

/// Keywords that describe a value without constraining it. Kept from progenitor as well
/// (`default` would make a non-`Option` field that decoding fills in, so absence would read as
/// made-up data), and never breaking: the client does not send a default, so a changed one
/// changes what the server assumes, not what the client does or may send. The diff reports
/// a change as compatible, with that note.
pub const ANNOTATION_KEYWORDS: &[&str] = &["default"];

/// Escapes one JSON-pointer token (RFC 6901): `~` as `~0`, `/` as `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape`].
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The pointer of the member `key` under the pointer `at`.
pub fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", escape(key))
}

/// How many `$ref`s [`resolve`] follows before it calls the chain a cycle.
const MAX_REF_CHAIN: usize = 32;

/// `v`, or what its `$ref` points at, following a chain of references. `None` when a reference
/// is not local (`#/...`), points at nothing, or the chain loops; callers that have already
/// checked references (the generator refuses such specs first) may fall back to `v`.
pub fn resolve<'a>(spec: &'a Value, v: &'a Value) -> Option<&'a Value> {
    resolve_at(spec, v, "").map(|(target, _)| target)
}

/// As [`resolve`], with the JSON pointer of what it found: `at` itself when `v` is no
/// reference, otherwise the pointer of the last target.
pub fn resolve_at<'a>(spec: &'a Value, v: &'a Value, at: &str) -> Option<(&'a Value, String)> {
    let mut here = (v, at.to_owned());
    for _ in 0..MAX_REF_CHAIN {
        if here.0.get("$ref").is_none() {
            return Some(here);
        }
        here = target(spec, here.0)?;
    }
    None
}

/// One step of [`resolve`]: what `v`'s own `$ref` points at, with its pointer; `None` when `v`
/// has no `$ref` or it cannot be followed. For walks that must see every schema of a chain.
pub fn target<'a>(spec: &'a Value, v: &Value) -> Option<(&'a Value, String)> {
    let pointer = v.get("$ref")?.as_str()?.strip_prefix('#')?;
    Some((spec.pointer(pointer)?, pointer.to_owned()))
}

/// The name of the component schema a `$ref` names (`#/components/schemas/Batch` gives
/// `Batch`), unescaped; `None` for anything else.
pub fn schema_ref_name(schema: &Value) -> Option<String> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .filter(|name| !name.contains('/'))
        .map(unescape)
}

/// One operation of a spec, as [`operations`] lists it.
#[derive(Clone, Copy, Debug)]
pub struct Operation<'a> {
    /// The path template (`/v1/batches/{batch_id}`).
    pub path: &'a str,
    /// The method, lower case, as written in the spec.
    pub method: &'static str,
    /// The operation object.
    pub op: &'a Value,
    /// The path item that holds it (for its `parameters`).
    pub item: &'a Value,
}

impl Operation<'_> {
    /// The `operationId`, if it is a string.
    pub fn id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }

    /// `/paths/<path>/<method>`.
    pub fn pointer(&self) -> String {
        format!("{}/{}", child("/paths", self.path), self.method)
    }

    /// `GET /v1/batches`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    /// The parameters that apply, path item's first, after following `$ref`s (an
    /// unresolvable one is left out: the generator refuses it first). An operation's own
    /// parameter replaces the path item's with the same name and place.
    pub fn parameters<'s>(&self, spec: &'s Value) -> Vec<Parameter<'s>>
    where
        Self: 's,
    {
        let mut out: Vec<Parameter> = Vec::new();
        let lists = [
            (self.item.get("parameters"), child("/paths", self.path) + "/parameters"),
            (self.op.get("parameters"), self.pointer() + "/parameters"),
        ];
        for (list, at) in lists {
            for (i, p) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
                let at = format!("{at}/{i}");
                let Some((value, defined_at)) = resolve_at(spec, p, &at) else {
                    continue;
                };
                let p = Parameter { value, at, defined_at };
                out.retain(|q| q.key() != p.key());
                out.push(p);
            }
        }
        out
    }
}

/// A parameter of an operation, as [`Operation::parameters`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter<'a> {
    /// The parameter object, after following `$ref`s.
    pub value: &'a Value,
    /// Where the operation or its path item lists it.
    pub at: String,
    /// Where it is defined: [`Self::at`], or the component a `$ref` there leads to.
    pub defined_at: String,
}

impl Parameter<'_> {
    /// `(in, name)`, which identify a parameter of an operation.
    pub fn key(&self) -> (String, String) {
        (text(self.value, "in"), text(self.value, "name"))
    }

    /// Whether a value must be given: `required: true`, or a path parameter.
    pub fn required(&self) -> bool {
        self.value.get("required") == Some(&Value::Bool(true)) || text(self.value, "in") == "path"
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The path items of `spec` (`/paths`), by path template, as the document holds them.
pub fn path_items(spec: &Value) -> impl Iterator<Item = (&String, &Value)> {
    spec.get("paths").and_then(Value::as_object).into_iter().flatten()
}

/// As [`path_items`], to change them.
pub fn path_items_mut(spec: &mut Value) -> impl Iterator<Item = (&String, &mut Value)> {
    spec.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
}

/// Every operation of `spec`, in path order (as the document holds them) then [`METHODS`]
/// order.
pub fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    for (path, item) in path_items(spec) {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                out.push(Operation { path, method, op, item });
            }
        }
    }
    out
}

/// The operations of one path item, to change: `(method, operation object)` in [`METHODS`]
/// order, as [`operations`] lists them. An operation that is not an object is passed over
/// (there is nothing in it to change; the generator refuses it first).
pub fn item_operations_mut(item: &mut Value) -> Vec<(&'static str, &mut Map<String, Value>)> {
    let mut out: Vec<(&'static str, &mut Map<String, Value>)> = item
        .as_object_mut()
        .into_iter()
        .flatten()
        .filter_map(|(key, op)| {
            let method = METHODS.iter().find(|m| **m == key.as_str())?;
            Some((*method, op.as_object_mut()?))
        })
        .collect();
    out.sort_by_key(|(method, _)| METHODS.iter().position(|m| m == method));
    out
}

/// Calls `f` with every operation object of `spec` to change, with its path and method, in
/// [`operations`] order.
pub fn for_each_operation_mut(spec: &mut Value, mut f: impl FnMut(&str, &'static str, &mut Map<String, Value>)) {
    for (path, item) in path_items_mut(spec) {
        for (method, op) in item_operations_mut(item) {
            f(path, method, op);
        }
    }
}

/// The component schemas of `spec` (`/components/schemas`), by name.
pub fn component_schemas(spec: &Value) -> impl Iterator<Item = (&String, &Value)> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_tokens_escape_and_unescape() {
        assert_eq!(escape("/v1/a~b"), "~1v1~1a~0b");
        assert_eq!(unescape("~1v1~1a~0b"), "/v1/a~b");
        // `~01` is `~` then `1`, never `/`.
        assert_eq!(unescape(&escape("~1")), "~1");
        assert_eq!(child("/paths", "/v1/files"), "/paths/~1v1~1files");
    }

    #[test]
    fn resolve_follows_chains_and_refuses_what_it_cannot_follow() {
        let spec = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
            "a/b": {"type": "integer"},
        }}});
        let a = json!({"$ref": "#/components/schemas/A"});
        assert_eq!(resolve(&spec, &a), Some(&json!({"type": "string"})));
        assert_eq!(
            resolve_at(&spec, &a, "/x").map(|(_, at)| at).as_deref(),
            Some("/components/schemas/B")
        );
        let plain = json!({"type": "boolean"});
        assert_eq!(resolve_at(&spec, &plain, "/x"), Some((&plain, "/x".to_owned())));
        for unresolvable in [
            json!({"$ref": "#/components/schemas/Missing"}),
            json!({"$ref": "other.yaml#/A"}),
            json!({"$ref": "#/components/schemas/Loop"}),
            json!({"$ref": 7}),
        ] {
            assert_eq!(resolve(&spec, &unresolvable), None, "{unresolvable}");
        }
        let escaped = json!({"$ref": "#/components/schemas/a~1b"});
        assert_eq!(resolve(&spec, &escaped), Some(&json!({"type": "integer"})));
        assert_eq!(schema_ref_name(&escaped).as_deref(), Some("a/b"));
    }

    /// `not` constrains values (validation); `default` only describes them (an annotation).
    /// Both stay away from progenitor; only validation can make a sent value refused.
    #[test]
    fn keywords_are_classified_once() {
        assert!(VALIDATION_KEYWORDS.contains(&"not"));
        assert!(!VALIDATION_KEYWORDS.contains(&"default"));
        assert_eq!(ANNOTATION_KEYWORDS, ["default"]);
        assert!(VALIDATION_KEYWORDS.iter().all(|k| !ANNOTATION_KEYWORDS.contains(k)));
    }

    #[test]
    fn operations_list_paths_then_methods_with_their_parameters() {
        let spec = json!({
            "components": {"parameters": {"Id": {"name": "id", "in": "path", "required": true}}},
            "paths": {"/a/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}, {"name": "q", "in": "query"}],
                "post": {"operationId": "make"},
                "get": {"operationId": "read", "parameters": [{"name": "q", "in": "query", "required": true}]}
            }}
        });
        let ops = operations(&spec);
        let ids: Vec<_> = ops.iter().map(|o| (o.id().unwrap(), o.route(), o.pointer())).collect();
        assert_eq!(
            ids,
            [
                ("read", "GET /a/{id}".to_owned(), "/paths/~1a~1{id}/get".to_owned()),
                ("make", "POST /a/{id}".to_owned(), "/paths/~1a~1{id}/post".to_owned()),
            ]
        );
        let params: Vec<_> = ops[0]
            .parameters(&spec)
            .into_iter()
            .map(|p| (p.key().1, p.required(), p.at, p.defined_at))
            .collect();
        assert_eq!(
            params,
            [
                (
                    "id".to_owned(),
                    true,
                    "/paths/~1a~1{id}/parameters/0".to_owned(),
                    "/components/parameters/Id".to_owned()
                ),
                (
                    "q".to_owned(),
                    true,
                    "/paths/~1a~1{id}/get/parameters/0".to_owned(),
                    "/paths/~1a~1{id}/get/parameters/0".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn operations_to_change_come_in_the_order_operations_lists_them() {
        // Methods written out of order, a non-operation key, and an operation that is no object.
        let mut spec = json!({"paths": {
            "/b": {"post": {"operationId": "b_post"}, "parameters": [], "get": {"operationId": "b_get"}},
            "/a": {"delete": {"operationId": "a_delete"}, "put": "not an operation"},
        }});
        let listed: Vec<_> = operations(&spec)
            .iter()
            .filter(|o| o.op.is_object())
            .map(|o| (o.path.to_owned(), o.method))
            .collect();
        let mut changed = Vec::new();
        for_each_operation_mut(&mut spec, |path, method, op| {
            op.insert("seen".into(), json!(true));
            changed.push((path.to_owned(), method));
        });
        assert_eq!(changed, listed);
        // Within a path item, METHODS order, whatever order the document writes them in.
        let b: Vec<_> = changed.iter().filter(|(p, _)| p == "/b").map(|(_, m)| *m).collect();
        assert_eq!(b, ["get", "post"]);
        assert_eq!(changed.len(), 3, "{changed:?}");
        assert_eq!(spec["paths"]["/b"]["get"]["seen"], json!(true));
        assert_eq!(spec["paths"]["/a"]["put"], json!("not an operation"));
        assert!(spec["paths"]["/b"]["parameters"].is_array());
    }
}
