//! What the generated expectations build on: a request described by operation, method, path
//! template, path parameters, query parameters, headers and JSON body, turned into wiremock
//! matchers that match exactly what `cerebras_batch::Client` sends. The same matchers, one by
//! one, say why a request did not match (for [`MockApi::fail_on_unmatched`](crate::MockApi::fail_on_unmatched)).

use serde_json::Value;
use wiremock::{Match, Request, matchers};

use crate::unmatched::{Explain, Mismatch, Stage, arguments, shown};

/// A request to expect. The generated `when::*` builders fill one in; use them instead.
///
/// Its [`Display`](std::fmt::Display) is the name of the mocks it makes: the operation and the
/// parameters it pins, as `cancel_batch(batch_id = "b1")`, or `cancel_batch(..)` when it pins
/// none. Failure messages use that name.
#[derive(Clone, Debug)]
pub struct Expect {
    operation: Option<&'static str>,
    method: &'static str,
    template: &'static str,
    path: Vec<(&'static str, Option<String>)>,
    query: Vec<(&'static str, Value)>,
    headers: Vec<(&'static str, Value)>,
    body: Option<Value>,
}

/// One condition of an [`Expect`], as the wiremock matcher that decides it.
struct Check {
    stage: Stage,
    matcher: Box<dyn Match>,
    /// Why `request` fails it (only asked when it does).
    why: Box<dyn Fn(&Request) -> String + Send + Sync>,
}

impl Expect {
    /// A request with `method` to `template` (`/v1/batches/{batch_id}`).
    pub fn new(method: &'static str, template: &'static str) -> Self {
        Self {
            operation: None,
            method,
            template,
            path: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The operation this expectation stands for (its `operationId`, `cancel_batch`): the start
    /// of the mocks' name.
    #[must_use]
    pub fn operation(mut self, operation_id: &'static str) -> Self {
        self.operation = Some(operation_id);
        self
    }

    /// The path parameter `name` must be `value` (as given to the client: it is encoded here as
    /// the client encodes it); `None` matches any one segment.
    #[must_use]
    pub fn path_param(mut self, name: &'static str, value: Option<&str>) -> Self {
        self.path.push((name, value.map(str::to_owned)));
        self
    }

    /// The query parameter `name` must be present with `value` (as the client encodes it),
    /// when `value` is `Some`.
    #[must_use]
    pub fn query(mut self, name: &'static str, value: Option<&Value>) -> Self {
        if let Some(v) = value {
            self.query.push((name, v.clone()));
        }
        self
    }

    /// The header `name` must be `value`, when `value` is `Some`.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: Option<&Value>) -> Self {
        if let Some(v) = value {
            self.headers.push((name, v.clone()));
        }
        self
    }

    /// The body must be this JSON (compared as JSON, not as text), when `Some`.
    #[must_use]
    pub fn json_body(mut self, body: Option<Value>) -> Self {
        self.body = body;
        self
    }

    /// The wiremock builder with every matcher; answer it with `respond_with`. (Prefer
    /// [`respond_with`](Self::respond_with), which names the mock.)
    pub fn builder(&self) -> wiremock::MockBuilder {
        let mut checks = self.checks().into_iter().map(|c| c.matcher);
        let first = checks.next().expect("the method is always checked");
        let mut builder = wiremock::Mock::given(move |r: &Request| first.matches(r));
        for matcher in checks {
            builder = builder.and(move |r: &Request| matcher.matches(r));
        }
        builder
    }

    /// A mock of this expectation answered by `responder`, named after it (see the type's
    /// docs).
    pub fn respond_with(self, responder: impl wiremock::Respond + 'static) -> wiremock::Mock {
        self.builder().respond_with(responder).named(self.to_string())
    }

    /// Every condition, in the order they are checked: method, the path's form, each pinned
    /// path parameter, query parameters, headers, body.
    fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        let method = self.method;
        checks.push(Check {
            stage: Stage::Method,
            matcher: Box::new(matchers::method(method)),
            why: Box::new(move |r| format!("method is {}, the mock expects {method}", r.method)),
        });
        let template = self.template;
        checks.push(Check {
            stage: Stage::Path,
            matcher: Box::new(matchers::path_regex(self.path_regex(None))),
            why: Box::new(move |r| format!("path {} does not have the form {template}", r.url.path())),
        });
        for (position, name) in self.template_params().into_iter().enumerate() {
            let Some(value) = self.pinned(name) else { continue };
            let form = regex::Regex::new(&self.path_regex(None)).expect("a valid path pattern");
            let value = value.to_owned();
            checks.push(Check {
                stage: Stage::PathParam,
                matcher: Box::new(matchers::path_regex(self.path_regex(Some(name)))),
                why: Box::new(move |r| {
                    let sent = form.captures(r.url.path()).and_then(|c| c.get(position + 1)).map(|m| {
                        percent_encoding::percent_decode_str(m.as_str())
                            .decode_utf8_lossy()
                            .into_owned()
                    });
                    match sent {
                        Some(sent) => format!("path parameter {name} is {sent:?}, the mock expects {value:?}"),
                        None => format!("path parameter {name} is not in the path, the mock expects {value:?}"),
                    }
                }),
            });
        }
        for (name, value) in &self.query {
            let (name, want) = (*name, text(value));
            checks.push(Check {
                stage: Stage::Query,
                matcher: Box::new(matchers::query_param(name, want.as_str())),
                why: Box::new(move |r| {
                    let sent: Vec<String> = r
                        .url
                        .query_pairs()
                        .filter(|(k, _)| k == name)
                        .map(|(_, v)| format!("{v:?}"))
                        .collect();
                    match sent.as_slice() {
                        [] => format!("query parameter {name} is absent, the mock expects {want:?}"),
                        _ => format!(
                            "query parameter {name} is {}, the mock expects {want:?}",
                            sent.join(", ")
                        ),
                    }
                }),
            });
        }
        for (name, value) in &self.headers {
            let (name, want) = (*name, text(value));
            checks.push(Check {
                stage: Stage::Header,
                matcher: Box::new(matchers::header(name, want.as_str())),
                why: Box::new(move |r| match r.headers.get(name).map(|v| v.to_str()) {
                    None => format!("header {name} is absent, the mock expects {want:?}"),
                    Some(Ok(sent)) => format!("header {name} is {sent:?}, the mock expects {want:?}"),
                    Some(Err(_)) => format!("header {name} is not text, the mock expects {want:?}"),
                }),
            });
        }
        if let Some(body) = &self.body {
            let want = body.clone();
            checks.push(Check {
                stage: Stage::Body,
                matcher: Box::new(matchers::body_json(body)),
                why: Box::new(move |r| match serde_json::from_slice::<Value>(&r.body) {
                    Ok(sent) => json_difference("", &want, &sent)
                        .unwrap_or_else(|| "the body differs from the mock's".to_owned()),
                    Err(e) => format!("the body is not JSON ({e}), the mock expects {}", shown(&want)),
                }),
            });
        }
        checks
    }

    /// The template's parameter names, in order.
    fn template_params(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut rest = self.template;
        while let Some(start) = rest.find('{') {
            let end = start + rest[start..].find('}').expect("a closed template parameter");
            names.push(&rest[start + 1..end]);
            rest = &rest[end + 1..];
        }
        names
    }

    /// The value `name` is pinned to, if any.
    fn pinned(&self, name: &str) -> Option<&str> {
        self.path
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// `^...$` over the request's path as sent (percent-encoded). With `pin`, that parameter is
    /// its value as the client encodes it; every other parameter is any single segment.
    fn path_regex(&self, pin: Option<&str>) -> String {
        let mut out = String::from("^");
        let mut rest = self.template;
        while let Some(start) = rest.find('{') {
            let end = start + rest[start..].find('}').expect("a closed template parameter");
            out.push_str(&regex::escape(&rest[..start]));
            let name = &rest[start + 1..end];
            match self.pinned(name).filter(|_| pin == Some(name)) {
                Some(value) => out.push_str(&regex::escape(&encoded_segment(value))),
                None => out.push_str("([^/]+)"),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(&regex::escape(rest));
        out.push('$');
        out
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.operation {
            Some(id) => f.write_str(id)?,
            None => write!(f, "{} {}", self.method, self.template)?,
        }
        let mut parts: Vec<String> = Vec::new();
        for (name, value) in &self.path {
            if let Some(value) = value {
                parts.push(format!("{name} = {value:?}"));
            }
        }
        for (name, value) in self.query.iter().chain(&self.headers) {
            parts.push(format!("{name} = {}", shown(value)));
        }
        if let Some(body) = &self.body {
            parts.push(format!("body = {}", shown(body)));
        }
        f.write_str(&arguments(&parts))
    }
}

impl Explain for Expect {
    fn mismatches(&self, request: &Request) -> Vec<Mismatch> {
        self.checks()
            .into_iter()
            .filter(|c| !c.matcher.matches(request))
            .map(|c| Mismatch {
                stage: c.stage,
                reason: (c.why)(request),
            })
            .collect()
    }
}

/// The first place where `sent` differs from `want`, as `body field /a/b is X, the mock expects
/// Y`; `None` when they are equal. `at` is the JSON pointer of both.
fn json_difference(at: &str, want: &Value, sent: &Value) -> Option<String> {
    let field = |at: &str| {
        if at.is_empty() {
            "the body".to_owned()
        } else {
            format!("body field {at}")
        }
    };
    match (want, sent) {
        (Value::Object(w), Value::Object(s)) => {
            for (key, w_value) in w {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match s.get(key) {
                    Some(s_value) => {
                        if let Some(d) = json_difference(&here, w_value, s_value) {
                            return Some(d);
                        }
                    }
                    None => {
                        return Some(format!(
                            "{} is absent, the mock expects {}",
                            field(&here),
                            shown(w_value)
                        ));
                    }
                }
            }
            s.iter().find(|(key, _)| !w.contains_key(*key)).map(|(key, value)| {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                format!("{} is {}, which the mock does not expect", field(&here), shown(value))
            })
        }
        (Value::Array(w), Value::Array(s)) if w.len() == s.len() => w
            .iter()
            .zip(s)
            .enumerate()
            .find_map(|(i, (w, s))| json_difference(&format!("{at}/{i}"), w, s)),
        (Value::Array(w), Value::Array(s)) => Some(format!(
            "{} has {} items, the mock expects {}",
            field(at),
            s.len(),
            w.len()
        )),
        _ if want == sent => None,
        _ => Some(format!(
            "{} is {}, the mock expects {}",
            field(at),
            shown(sent),
            shown(want)
        )),
    }
}

/// A query or header value as the client sends it: strings as they are, numbers and booleans
/// as their JSON text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The path segment the client sends for `value`: percent-encoded as the client encodes it,
/// then normalised as the `url` crate normalises the request's URL.
pub fn encoded_segment(value: &str) -> String {
    let encoded = cerebras_batch::encode_path_segment(value);
    match url::Url::parse(&format!("http://mock.invalid/{encoded}")) {
        Ok(url) => url.path()[1..].to_owned(),
        Err(_) => encoded,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn segments_are_encoded_as_the_client_sends_them() {
        assert_eq!(encoded_segment("batch_1"), "batch_1");
        assert_eq!(encoded_segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(encoded_segment("100%"), "100%25");
        assert_eq!(encoded_segment("a b"), "a%20b");
        assert_eq!(encoded_segment("ünï"), "%C3%BCn%C3%AF");
    }

    #[test]
    fn the_path_regex_escapes_the_pinned_value_and_leaves_others_open() {
        let e = Expect::new("GET", "/v1/batches/{batch_id}/results").path_param("batch_id", Some("a.b+c"));
        assert_eq!(e.path_regex(Some("batch_id")), "^/v1/batches/a\\.b\\+c/results$");
        assert_eq!(e.path_regex(None), "^/v1/batches/([^/]+)/results$");
    }

    #[test]
    fn the_name_is_the_operation_and_what_it_pins() {
        let e = Expect::new("DELETE", "/v1/batches/{batch_id}").operation("cancel_batch");
        assert_eq!(e.to_string(), "cancel_batch(..)");
        assert_eq!(
            e.path_param("batch_id", Some("b1")).to_string(),
            r#"cancel_batch(batch_id = "b1")"#
        );
        let list = Expect::new("GET", "/v1/files")
            .operation("list_files")
            .query("limit", Some(&json!(2)))
            .query("after", Some(&json!("file_9")));
        assert_eq!(list.to_string(), r#"list_files(limit = 2, after = "file_9")"#);
        let anonymous = Expect::new("POST", "/v1/batches").json_body(Some(json!({"input_file_id": "f"})));
        assert_eq!(
            anonymous.to_string(),
            r#"POST /v1/batches(body = {"input_file_id":"f"})"#
        );
    }

    #[test]
    fn json_differences_name_the_first_differing_field() {
        let want = json!({"input_file_id": "file_up", "metadata": {"a/b": 1}, "list": [1, 2]});
        assert_eq!(json_difference("", &want, &want), None);
        let cases = [
            (
                json!({"input_file_id": "file_other", "metadata": {"a/b": 1}, "list": [1, 2]}),
                r#"body field /input_file_id is "file_other", the mock expects "file_up""#,
            ),
            (
                json!({"input_file_id": "file_up", "metadata": {}, "list": [1, 2]}),
                "body field /metadata/a~1b is absent, the mock expects 1",
            ),
            (
                json!({"input_file_id": "file_up", "metadata": {"a/b": 1}, "list": [1]}),
                "body field /list has 1 items, the mock expects 2",
            ),
            (
                json!({"input_file_id": "file_up", "metadata": {"a/b": 1}, "list": [1, 2], "x": true}),
                "body field /x is true, which the mock does not expect",
            ),
            (
                json!([]),
                r#"the body is [], the mock expects {"input_file_id":"file_up","list":[1,2],"metadata":{"a/b":1}}"#,
            ),
        ];
        for (sent, reason) in cases {
            assert_eq!(json_difference("", &want, &sent).as_deref(), Some(reason));
        }
    }
}
