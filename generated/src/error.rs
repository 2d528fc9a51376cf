//! The client's one error type.
//!
//! Every failure is an [`Error`] with an [`ErrorKind`] to match on. When a response arrived,
//! the error always keeps its HTTP status, its headers and its raw body text (the first
//! [`MAX_ERROR_BODY`] bytes), plus the body decoded as [`ErrorBody`] when it is one of the
//! vendor's JSON error shapes. The API key is never part of an error: requests are not stored,
//! and response headers cannot contain it.

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::types::ErrorBody;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many bytes of a response body an [`Error`] keeps (64 KiB).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// What went wrong, in the classes of the vendor's Python and Node SDKs and its error page
/// (<https://inference-docs.cerebras.ai/support/error>): every status the spec declares has its
/// kind (503 is a [`Server`](Self::Server) error).
///
/// The kind of a response comes from its HTTP status, or from an integer `status_code` in its
/// JSON body when there is one (the vendor's SDKs do the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HTTP 400.
    BadRequest,
    /// HTTP 401: the API key is missing or wrong.
    Authentication,
    /// HTTP 402: payment required (listed by the vendor's error page).
    PaymentRequired,
    /// HTTP 403.
    PermissionDenied,
    /// HTTP 404.
    NotFound,
    /// HTTP 409.
    Conflict,
    /// HTTP 422.
    UnprocessableEntity,
    /// HTTP 429: a rate limit or quota.
    RateLimit,
    /// HTTP 500 and above.
    Server,
    /// Any other status the operation does not declare as a success (405, 413, an
    /// undocumented 2xx, ...).
    OtherStatus,
    /// No response: the connection could not be made or broke, or a body could not be read.
    Connection,
    /// No response within the configured timeout.
    Timeout,
    /// A success response whose body does not decode into the expected type.
    Decode,
    /// Input refused before any request was sent (for example an id that would leave its path
    /// segment).
    InvalidInput,
    /// The client's configuration is unusable (missing API key, bad base URL, bad header).
    Config,
    /// A local file or stream could not be read or written.
    Io,
    /// The server broke the API's contract in a way no single response shows (for example, a
    /// list that hands back a cursor it already gave).
    Protocol,
    /// A wait ended at its deadline before the batch reached a final status;
    /// [`Error::last_batch`] holds the last state seen.
    DeadlineExceeded,
    /// Another batch job (`job::Job`) holds the state this one would use; the message names
    /// the holder (process, host and start time).
    Locked,
}

impl ErrorKind {
    /// The kind for an HTTP status (which should not be a declared success).
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Authentication,
            402 => Self::PaymentRequired,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::Conflict,
            422 => Self::UnprocessableEntity,
            429 => Self::RateLimit,
            500..=599 => Self::Server,
            _ => Self::OtherStatus,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::BadRequest => "bad request",
            Self::Authentication => "authentication failed",
            Self::PaymentRequired => "payment required",
            Self::PermissionDenied => "permission denied",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::UnprocessableEntity => "unprocessable entity",
            Self::RateLimit => "rate limited",
            Self::Server => "server error",
            Self::OtherStatus => "unexpected status",
            Self::Connection => "connection failed",
            Self::Timeout => "timed out",
            Self::Decode => "response did not decode",
            Self::InvalidInput => "invalid input",
            Self::Config => "invalid configuration",
            Self::Io => "I/O error",
            Self::Protocol => "protocol violation",
            Self::DeadlineExceeded => "deadline exceeded",
            Self::Locked => "locked",
        }
    }
}

/// The response an [`Error`] came from (read through [`Error::status`], [`Error::headers`],
/// [`Error::body_text`] and [`Error::body`]).
#[derive(Clone, Debug)]
pub(crate) struct ErrorResponse {
    status: StatusCode,
    headers: HeaderMap,
    body_text: String,
    body_truncated: bool,
    body: Option<ErrorBody>,
}

impl ErrorResponse {
    /// Builds one from a response's parts; `body` is the raw body, of which the first
    /// [`MAX_ERROR_BODY`] bytes are kept (as lossy UTF-8).
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: &[u8], truncated: bool) -> Self {
        let kept = &body[..body.len().min(MAX_ERROR_BODY)];
        Self {
            status,
            headers,
            body_text: String::from_utf8_lossy(kept).into_owned(),
            body_truncated: truncated || body.len() > MAX_ERROR_BODY,
            body: vendor_error_body(kept),
        }
    }
}

/// `body` decoded as the vendor's error JSON: an object with at least one of its fields
/// (`message`, `code`, `error`, `status_code`, ...), flat or wrapped in `error`. Anything else
/// (not JSON, a JSON array or string, an object of other fields only, a body cut at
/// [`MAX_ERROR_BODY`]) is `None`. That is no error turned into an absence: the body is not the
/// vendor's JSON, [`Error::body`] says so, and the body itself stays in [`Error::body_text`].
fn vendor_error_body(body: &[u8]) -> Option<ErrorBody> {
    let decoded = serde_json::from_slice::<ErrorBody>(body).ok()?;
    let known = ErrorBody {
        extra: serde_json::Map::new(),
        ..decoded.clone()
    };
    (known != ErrorBody::default()).then_some(decoded)
}

/// A failed call: an [`ErrorKind`] to match on, the operation, a message, the number of
/// attempts and, when a response arrived, its status, headers and raw body (see
/// [`status`](Self::status), [`headers`](Self::headers), [`body_text`](Self::body_text) and
/// [`body`](Self::body)). The API key is never part of it.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    /// The request's method and path (the path template when nothing was sent).
    request: Option<(String, String)>,
    message: String,
    response: Option<ErrorResponse>,
    attempts: u32,
    line: Option<usize>,
    last_batch: Option<crate::types::Batch>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            operation: None,
            request: None,
            message: message.into(),
            response: None,
            attempts: 0,
            line: None,
            last_batch: None,
            source: None,
        }))
    }

    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.0.operation = Some(operation);
        self
    }

    pub(crate) fn with_request(mut self, method: impl Into<String>, path: impl Into<String>) -> Self {
        self.0.request = Some((method.into(), path.into()));
        self
    }

    pub(crate) fn with_response(mut self, response: ErrorResponse) -> Self {
        self.0.response = Some(response);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.0.attempts = attempts;
        self
    }

    pub(crate) fn with_line(mut self, line: usize) -> Self {
        self.0.line = Some(line);
        self
    }

    /// Adds `context` to the message: `"<message>; <context>"`.
    pub(crate) fn with_context(mut self, context: impl AsRef<str>) -> Self {
        self.0.message = format!("{}; {}", self.0.message, context.as_ref());
        self
    }

    pub(crate) fn with_last_batch(mut self, batch: crate::types::Batch) -> Self {
        self.0.last_batch = Some(batch);
        self
    }

    /// Replaces `secret` (the API key) wherever the server echoed it: message, body and
    /// header values.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        const MARK: &str = "[redacted]";
        if secret.is_empty() {
            return self;
        }
        if self.0.message.contains(secret) {
            self.0.message = self.0.message.replace(secret, MARK);
        }
        if let Some(r) = &mut self.0.response {
            if r.body_text.contains(secret) {
                r.body_text = r.body_text.replace(secret, MARK);
                r.body = vendor_error_body(r.body_text.as_bytes());
            }
            for value in r.headers.values_mut() {
                if value.to_str().is_ok_and(|v| v.contains(secret)) {
                    *value = reqwest::header::HeaderValue::from_static(MARK);
                }
            }
        }
        // The sources too: a decode error quotes what the server sent (a key echoed in a field
        // that does not decode). A source whose chain names the key gives way to its text,
        // redacted (its type is lost: no one can downcast to the secret).
        if let Some(source) = &self.0.source {
            let chain: Vec<String> =
                std::iter::successors(Some(source.as_ref() as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .map(|e| e.to_string())
                .collect();
            if chain.iter().any(|text| text.contains(secret)) {
                self.0.source = Some(Box::new(RedactedSource(chain.join(": ").replace(secret, MARK))));
            }
        }
        self
    }

    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// An error for a response outside the operation's declared successes. The kind follows the
    /// body's integer `status_code` when it has one, else the HTTP status.
    pub(crate) fn from_response(response: ErrorResponse) -> Self {
        // A body status outside 400..=599 (or outside u16) is no error status: the HTTP status
        // decides, as in the vendor's SDK; the body keeps the number (`Error::body`).
        let body_status = response
            .body
            .as_ref()
            .and_then(|b| b.status_code.or_else(|| b.error.as_ref().and_then(|e| e.status_code)))
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..=599).contains(s));
        let kind = ErrorKind::from_status(body_status.unwrap_or(response.status.as_u16()));
        let message = response
            .body
            .as_ref()
            .and_then(|b| {
                b.message
                    .clone()
                    .or_else(|| b.error.as_ref().and_then(|e| e.message.clone()))
            })
            // No vendor message: the body's own words, which stay whole in `body_text`.
            .unwrap_or_else(|| summarize(&response.body_text));
        Self::new(kind, message).with_response(response)
    }

    /// The error the client makes of a non-2xx response with these parts: the kind from the
    /// status (or the body's integer `status_code`), the vendor's message when the body is
    /// their error JSON, and the first [`MAX_ERROR_BODY`] bytes of the body as text. Useful to
    /// build errors in your own tests.
    pub fn from_response_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Self {
        Self::from_response(ErrorResponse::new(status, headers, body, false))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The `operationId` of the call that failed, e.g. `cancel_batch`.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// The HTTP method of the request that failed (`DELETE`), when the error is about one.
    pub fn method(&self) -> Option<&str> {
        self.0.request.as_ref().map(|(m, _)| m.as_str())
    }

    /// The path of the request that failed, with its ids (`/v1/batches/batch_nope`), or the
    /// operation's path template when the request was refused before sending.
    pub fn path(&self) -> Option<&str> {
        self.0.request.as_ref().map(|(_, p)| p.as_str())
    }

    /// A one-line description: the vendor's error message when the body had one.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.response.as_ref().map(|r| r.status)
    }

    /// The response headers, when a response arrived.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.0.response.as_ref().map(|r| &r.headers)
    }

    /// The raw response body as text (lossy UTF-8, at most [`MAX_ERROR_BODY`] bytes), when a
    /// response arrived.
    pub fn body_text(&self) -> Option<&str> {
        self.0.response.as_ref().map(|r| r.body_text.as_str())
    }

    /// Whether [`body_text`](Self::body_text) is not the whole body: the body was longer than
    /// what it keeps, or broke off while it was read.
    pub fn body_truncated(&self) -> bool {
        self.0.response.as_ref().is_some_and(|r| r.body_truncated)
    }

    /// The body decoded as the vendor's error JSON (flat or wrapped in `error`), when it is one:
    /// a JSON object with at least one of [`ErrorBody`]'s fields. An array, a string or an object
    /// of other fields only is not (its fields are never guessed by position); its text is in
    /// [`body_text`](Self::body_text).
    pub fn body(&self) -> Option<&ErrorBody> {
        self.0.response.as_ref().and_then(|r| r.body.as_ref())
    }

    /// The request id the server sent in `x-request-id` (or `request-id`), if any. The vendor
    /// does not document one.
    pub fn request_id(&self) -> Option<&str> {
        let headers = self.headers()?;
        // A value that is not visible ASCII is not shown as an id; it stays in `headers()`.
        ["x-request-id", "request-id"]
            .iter()
            .find_map(|h| headers.get(*h)?.to_str().ok())
    }

    /// How many HTTP attempts were made (0 when the call was refused before sending).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// The 1-based line of a JSONL file the error is about, for JSONL checks and result lines.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }

    /// The last state of the batch that was seen: for [`ErrorKind::DeadlineExceeded`], and for
    /// a cancel the server refused (see [`Client::cancel_and_wait`](crate::Client::cancel_and_wait)).
    pub fn last_batch(&self) -> Option<&crate::types::Batch> {
        self.0.last_batch.as_ref()
    }
}

/// A body in a few words, for messages: an HTML page's `<title>` (or its text without tags),
/// otherwise the first non-empty line, cut to 200 characters.
fn summarize(text: &str) -> String {
    let trimmed = text.trim_start();
    let lower = trimmed.to_ascii_lowercase();
    let line = if trimmed.starts_with('<')
        && (lower.contains("<html") || lower.contains("<title") || lower.contains("<!doctype"))
    {
        let title = lower.find("<title").and_then(|start| {
            let open_end = start + lower[start..].find('>')? + 1;
            let close = open_end + lower[open_end..].find("</title")?;
            Some(trimmed[open_end..close].to_owned())
        });
        // A page without a title: its text instead.
        let text = title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| strip_tags(trimmed));
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        trimmed
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            // Only blank lines: said below as "(empty body)".
            .unwrap_or_default()
            .to_owned()
    };
    if line.is_empty() {
        return "(empty body)".into();
    }
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// The text of an HTML page without its tags, scripts and styles.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let after = &rest[start..];
        let lower = after.to_ascii_lowercase();
        let skip_to = ["script", "style"].iter().find_map(|tag| {
            lower
                .starts_with(&format!("<{tag}"))
                .then(|| lower.find(&format!("</{tag}>")).map(|e| e + tag.len() + 3))
                .flatten()
        });
        match skip_to.or_else(|| after.find('>').map(|e| e + 1)) {
            Some(end) => rest = &after[end..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `cancel_batch (DELETE /v1/batches/batch_nope): not found (HTTP 404): No batch found
/// (request id req_1)`: the operation and the request with its ids, what went wrong, the
/// vendor's message (or the page's title, for HTML), the request id, and the attempts when
/// there were several.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.operation, &self.0.request) {
            (Some(op), Some((method, path))) => write!(f, "{op} ({method} {path}): ")?,
            (Some(op), None) => write!(f, "{op}: ")?,
            (None, Some((method, path))) => write!(f, "{method} {path}: ")?,
            (None, None) => {}
        }
        if let Some(line) = self.0.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(self.0.kind.describe())?;
        if let Some(status) = self.status() {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if !self.0.message.is_empty() {
            write!(f, ": {}", self.0.message)?;
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        if self.0.attempts > 1 {
            write!(f, " (after {} attempts)", self.0.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind)
            .field("operation", &self.0.operation)
            .field("request", &self.0.request)
            .field("message", &self.0.message);
        if let Some(r) = &self.0.response {
            d.field("status", &r.status)
                .field("headers", &r.headers)
                .field("body_text", &r.body_text)
                .field("body", &r.body);
        }
        d.field("attempts", &self.0.attempts);
        if let Some(line) = self.0.line {
            d.field("line", &line);
        }
        if let Some(b) = &self.0.last_batch {
            d.field("last_batch", &format_args!("{} ({})", b.id, b.status_text()));
        }
        if let Some(s) = &self.0.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// What the error of a call that was sent names: its operation, the request (its method, and
/// its path with the ids, as sent) and the attempts made.
#[derive(Clone, Debug)]
pub(crate) struct CallInfo {
    pub(crate) operation: &'static crate::Operation,
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) attempts: u32,
}

impl CallInfo {
    /// `err`, naming this call.
    pub(crate) fn name(&self, err: Error) -> Error {
        err.with_operation(self.operation.id)
            .with_request(self.method.as_str(), self.path.as_str())
            .with_attempts(self.attempts)
    }
}

/// A failure on the local side of an upload (reading the file, or a length that does not match
/// the declared one). It travels through the HTTP body as the stream's error; [`from_reqwest`]
/// reports it as [`ErrorKind::Io`].
#[derive(Debug)]
pub(crate) struct LocalReadError(pub(crate) String);

impl fmt::Display for LocalReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocalReadError {}

/// An error for a local I/O failure (a file to read or write).
pub(crate) fn io_error(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, e.to_string()).with_source(e)
}

/// An error for a transport failure with no response (or a body that broke off).
pub(crate) fn from_reqwest(source: reqwest::Error) -> Error {
    // A failure to read a local file that was being uploaded is an I/O error, not a network one.
    let local = std::iter::successors(Some(&source as &dyn std::error::Error), |e| e.source())
        .find_map(|e| e.downcast_ref::<LocalReadError>());
    if let Some(local) = local {
        return Error::new(ErrorKind::Io, local.to_string()).with_source(source);
    }
    let kind = if source.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connection
    };
    let message = std::iter::successors(Some(&source as &dyn std::error::Error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    let message = if crate::transport::retry::unrecoverable(&source) {
        unrecoverable_message(&source, message)
    } else {
        message
    };
    Error::new(kind, message).with_source(source)
}

/// The message of a failure that another try would repeat (see the retry rules), with what to
/// check. The cause is told by the error's text here; whether it is retried is decided by its
/// structure ([`crate::transport::retry::unrecoverable`]).
fn unrecoverable_message(source: &reqwest::Error, chain: String) -> String {
    if tls_mismatch(source) {
        return format!(
            "the TLS handshake failed ({chain}); the server may speak plain HTTP: if so, use http:// in the base URL (not retried)"
        );
    }
    if chain.contains("certificate") {
        return format!(
            "the TLS handshake failed ({chain}); the client does not trust the server's certificate: for a private CA, point SSL_CERT_FILE or SSL_CERT_DIR at it (not retried)"
        );
    }
    let what = if chain.contains("tunnel error") {
        "the proxy refused to open a tunnel to the server, or does not speak HTTP (check HTTPS_PROXY and ALL_PROXY)"
    } else if source.is_connect() {
        "the connection could not be made, and would fail the same way again"
    } else {
        "the answer is not HTTP/1.1 (is the base URL, or the proxy, an HTTP server?)"
    };
    format!("{what}: {chain} (not retried)")
}

/// Whether an error is a TLS handshake that met something other than TLS (a plain-HTTP
/// server behind an `https://` URL): rustls reports the first bytes as a corrupt record.
/// (For the message only: [`crate::transport::retry::unrecoverable`] decides the retry.)
fn tls_mismatch(e: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| {
        let text = e.to_string();
        text.contains("InvalidContentType") || text.contains("corrupt message") || text.contains("wrong version number")
    })
}

/// The first bytes of a response body, for an error to keep.
pub(crate) struct Prefix {
    pub(crate) bytes: Vec<u8>,
    /// Whether the body had more than the bytes kept.
    pub(crate) truncated: bool,
    /// Why the body ended before its end, if it did (the connection broke, say).
    pub(crate) error: Option<reqwest::Error>,
}

impl Prefix {
    /// The first [`MAX_ERROR_BODY`] bytes of a body read whole.
    pub(crate) fn of(body: &[u8]) -> Self {
        Self {
            bytes: body[..body.len().min(MAX_ERROR_BODY)].to_vec(),
            truncated: body.len() > MAX_ERROR_BODY,
            error: None,
        }
    }
}

/// The error for a response the operation does not declare as a success (an error status, a
/// redirect, an undocumented success), or a success whose body is in a content encoding nobody
/// decoded: from its status, headers and the first bytes of its body.
pub(crate) fn response_error(status: StatusCode, headers: HeaderMap, prefix: Prefix) -> Error {
    let undecoded = crate::transport::encoding::undecoded(&headers);
    // For the message only: a Location that is not visible ASCII stays in the headers.
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    // A body that broke off is not the whole body: marked cut, like one over the limit.
    let cut = prefix.truncated || prefix.error.is_some();
    let parts = ErrorResponse::new(status, headers, &prefix.bytes, cut);
    let err = if let Some(coding) = undecoded {
        undecoded_error(status, &coding, parts)
    } else if status.is_redirection() {
        let to = location.as_deref().unwrap_or("(no Location)");
        Error::new(
            ErrorKind::OtherStatus,
            format!("the server redirected to {to}; redirects are not followed"),
        )
        .with_response(parts)
    } else if status.is_success() {
        Error::new(ErrorKind::OtherStatus, format!("undocumented success status {status}")).with_response(parts)
    } else {
        Error::from_response(parts)
    };
    match prefix.error {
        Some(e) => err.with_context(format!(
            "the connection closed before the whole answer arrived (after {} bytes of its body: {})",
            prefix.bytes.len(),
            from_reqwest(e).message()
        )),
        None => err,
    }
}

/// The error for a response whose body is in the content encoding `coding`, which nobody
/// decoded: [`ErrorKind::Decode`] for a success (its body is not the results), the kind of its
/// status otherwise.
fn undecoded_error(status: StatusCode, coding: &str, parts: ErrorResponse) -> Error {
    let kind = if status.is_success() {
        ErrorKind::Decode
    } else {
        ErrorKind::from_status(status.as_u16())
    };
    let message = format!(
        "the response's body is in the content encoding `{coding}`, which was not decoded ({})",
        crate::transport::encoding::DECODED
    );
    Error::new(kind, message).with_response(parts)
}

/// The error for a success whose body does not decode into the operation's type.
pub(crate) fn decode_error(status: StatusCode, headers: HeaderMap, body: &[u8], source: serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("the response body does not match the expected type: {source}"),
    )
    .with_source(source)
    .with_response(ErrorResponse::new(status, headers, body, false))
}

/// An error's source whose text named the API key: the text of its chain, redacted.
#[derive(Debug)]
struct RedactedSource(String);

impl std::fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedSource {}
