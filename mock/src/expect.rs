//! What the generated expectations build on: a request described by method, path template,
//! path parameters, query parameters, headers and JSON body, turned into wiremock matchers that
//! match exactly what `cerebras_batch::Client` sends.

use serde_json::Value;
use wiremock::matchers;

/// A request to expect. The generated `when::*` builders fill one in; use them instead.
#[derive(Clone, Debug)]
pub struct Expect {
    method: &'static str,
    template: &'static str,
    path: Vec<(&'static str, Option<String>)>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Expect {
    /// A request with `method` to `template` (`/v1/batches/{batch_id}`).
    pub fn new(method: &'static str, template: &'static str) -> Self {
        Self {
            method,
            template,
            path: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
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
            self.query.push((name, text(v)));
        }
        self
    }

    /// The header `name` must be `value`, when `value` is `Some`.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: Option<&Value>) -> Self {
        if let Some(v) = value {
            self.headers.push((name, text(v)));
        }
        self
    }

    /// The body must be this JSON (compared as JSON, not as text), when `Some`.
    #[must_use]
    pub fn json_body(mut self, body: Option<Value>) -> Self {
        self.body = body;
        self
    }

    /// The wiremock builder with every matcher; answer it with `respond_with`.
    pub fn builder(&self) -> wiremock::MockBuilder {
        let mut b = wiremock::Mock::given(matchers::method(self.method)).and(matchers::path_regex(self.path_regex()));
        for (name, value) in &self.query {
            b = b.and(matchers::query_param(*name, value.as_str()));
        }
        for (name, value) in &self.headers {
            b = b.and(matchers::header(*name, value.as_str()));
        }
        if let Some(body) = &self.body {
            b = b.and(matchers::body_json(body));
        }
        b
    }

    /// `^...$` over the request's path as sent (percent-encoded): each given parameter as the
    /// client encodes it, each other one as any single segment.
    fn path_regex(&self) -> String {
        let mut out = String::from("^");
        let mut rest = self.template;
        while let Some(start) = rest.find('{') {
            let end = start + rest[start..].find('}').expect("a closed template parameter");
            out.push_str(&regex::escape(&rest[..start]));
            let name = &rest[start + 1..end];
            match self
                .path
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v.as_deref())
            {
                Some(value) => out.push_str(&regex::escape(&encoded_segment(value))),
                None => out.push_str("[^/]+"),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(&regex::escape(rest));
        out.push('$');
        out
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

/// The path segment the client sends for `value`: percent-encoded by progenitor's rules, then
/// normalised as the `url` crate normalises the request's URL.
pub fn encoded_segment(value: &str) -> String {
    let encoded = progenitor_client::encode_path(value);
    match url::Url::parse(&format!("http://mock.invalid/{encoded}")) {
        Ok(url) => url.path()[1..].to_owned(),
        Err(_) => encoded,
    }
}

#[cfg(test)]
mod tests {
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
    fn the_path_regex_escapes_given_values_and_leaves_others_open() {
        let e = Expect::new("GET", "/v1/batches/{batch_id}/results").path_param("batch_id", Some("a.b+c"));
        assert_eq!(e.path_regex(), "^/v1/batches/a\\.b\\+c/results$");
        let any = Expect::new("GET", "/v1/batches/{batch_id}");
        assert_eq!(any.path_regex(), "^/v1/batches/[^/]+$");
    }
}
