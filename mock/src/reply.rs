//! [`Reply`]: what a mocked operation answers, typed by the operation's success type.

use std::marker::PhantomData;
use std::time::Duration;

use cerebras_batch::types::ErrorBody;
use wiremock::ResponseTemplate;

/// The body of a file download (`retrieve_file_content`, `retrieve_batch_results`): bytes with a
/// content type, not JSON. The `T` of their [`Reply`]s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileContent;

/// An answer to a mocked request: a status, headers, a body and an optional delay. `T` is the
/// success type of the operation it answers (`types::Batch` for `cancel_batch`), so a test
/// cannot answer one operation with another's type; [`raw`](Self::raw) is the escape hatch for
/// bodies the types cannot hold (an HTML 502, the vendor's own odd examples).
///
/// The constructor per documented error status (`Reply::not_found(..)`, ...) is generated from
/// the spec; see also [`DOCUMENTED_ERROR_STATUSES`](crate::DOCUMENTED_ERROR_STATUSES).
#[derive(Clone, Debug)]
pub struct Reply<T> {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    content_type: Option<String>,
    delay: Option<Duration>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Reply<T> {
    fn new(status: u16, body: Vec<u8>, content_type: Option<&str>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
            content_type: content_type.map(str::to_owned),
            delay: None,
            _type: PhantomData,
        }
    }

    /// An error `status` with a vendor-shaped JSON body: the flat `{"message", "type", "param",
    /// "code"}` the API sends (`{"message": "Requests per minute limit exceeded - too many
    /// requests sent.", "type": "too_many_requests_error", "param": "quota", "code":
    /// "request_quota_exceeded"}` for a 429, in the reference). The fields `body` leaves unset
    /// are filled in: `message` with the status's reason phrase (`Payment Required`), `type`
    /// with a class fitting the status (`invalid_request_error` for 400, 404 and 422,
    /// `authentication_error`, `payment_required_error`, `permission_denied_error`,
    /// `too_many_requests_error`, else `server_error`), `param` and `code` with `null`. A body in
    /// the wrapped form (`error` set) is sent as it is.
    pub fn error(status: u16, body: ErrorBody) -> Self {
        let bytes = serde_json::to_vec(&vendor_shaped(status, &body)).expect("an error body encodes");
        Self::new(status, bytes, Some("application/json"))
    }

    /// An error `status` whose body carries `message` (and the defaults of [`error`](Self::error)).
    pub fn error_message(status: u16, message: impl Into<String>) -> Self {
        Self::error(status, ErrorBody::new().with_message(message))
    }

    /// Any status and body, verbatim: for what the types cannot say (an HTML 502, a truncated
    /// body, the docs' own examples as printed).
    pub fn raw(status: u16, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        Self::new(status, body.into(), Some(content_type))
    }

    /// Adds a response header (`Retry-After`, `x-request-id`, ...).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds `Retry-After: <seconds>`.
    #[must_use]
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("retry-after", &seconds.to_string())
    }

    /// Answers only after `delay` (to test timeouts and deadlines).
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// `body` as JSON, with the flat fields it leaves unset filled in for `status` (see
/// [`Reply::error`]).
fn vendor_shaped(status: u16, body: &ErrorBody) -> serde_json::Value {
    let mut value = serde_json::to_value(body).expect("an error body encodes");
    let Some(fields) = value.as_object_mut().filter(|f| !f.contains_key("error")) else {
        return value;
    };
    let message = cerebras_batch::reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("HTTP {status}"), str::to_owned);
    let kind = match status {
        400 | 404 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "payment_required_error",
        403 => "permission_denied_error",
        429 => "too_many_requests_error",
        _ => "server_error",
    };
    let defaults = [
        ("message", message.into()),
        ("type", kind.into()),
        ("param", serde_json::Value::Null),
        ("code", serde_json::Value::Null),
    ];
    for (name, default) in defaults {
        fields.entry(name).or_insert(default);
    }
    value
}

impl<T: serde::Serialize> Reply<T> {
    /// `200` with `value` as JSON.
    pub fn ok(value: T) -> Self {
        Self::with_status(200, value)
    }

    /// `status` (a 2xx) with `value` as JSON.
    pub fn with_status(status: u16, value: T) -> Self {
        let bytes = serde_json::to_vec(&value).expect("a generated type encodes");
        Self::new(status, bytes, Some("application/json"))
    }
}

impl Reply<FileContent> {
    /// `200` with a file's bytes, as `application/x-ndjson` (what the API serves for JSONL).
    pub fn file(bytes: impl Into<Vec<u8>>) -> Self {
        Self::new(200, bytes.into(), Some("application/x-ndjson"))
    }

    /// `200` with JSONL: one line per value.
    pub fn jsonl<I: IntoIterator<Item = serde_json::Value>>(lines: I) -> Self {
        let mut out = Vec::new();
        for line in lines {
            out.extend(serde_json::to_vec(&line).expect("JSON encodes"));
            out.push(b'\n');
        }
        Self::file(out)
    }
}

impl<T> wiremock::Respond for Reply<T> {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        ResponseTemplate::from(self)
    }
}

impl<T> From<&Reply<T>> for ResponseTemplate {
    fn from(reply: &Reply<T>) -> Self {
        let mut t = ResponseTemplate::new(reply.status);
        for (name, value) in &reply.headers {
            t = t.insert_header(name.as_str(), value.as_str());
        }
        t = match &reply.content_type {
            Some(ct) => t.set_body_raw(reply.body.clone(), ct),
            None => t.set_body_bytes(reply.body.clone()),
        };
        match reply.delay {
            Some(d) => t.set_delay(d),
            None => t,
        }
    }
}
