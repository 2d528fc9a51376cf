//! Sending requests: auth headers, retries, path-segment checks and per-call records.
//!
//! Every request, generated or hand-written, goes through [`Transport::send`]. Progenitor's
//! generated client reaches it through its `exec` hook (`ClientHooks`), so the generated code
//! is used as is.
//!
//! # Retries
//!
//! A failed attempt is retried at most `max_retries` times (default 2), after a delay of
//! `min(0.5 s × 2ⁿ, 8 s)` scaled by a random 75–100 % (n = retries so far), or after the
//! server's `retry-after-ms` / `Retry-After` (integer or fractional seconds, or an HTTP date)
//! when that is more than 0 and at most 60 s. A header `x-should-retry: true` or `false` from the
//! server overrides the rules below, except that a success, a redirect or an informational
//! response is final: it is never repeated.
//!
//! - **Idempotent methods** (GET, DELETE, ...) are retried on 408, 409, 429, 5xx, timeouts and
//!   connection errors.
//! - **POST is retried only when the request certainly was not processed**: the connection
//!   could not be made (nothing was sent), or the server answered 429 (rate limits reject a
//!   request before processing). A 5xx, a timeout or a connection lost after sending may
//!   follow a batch that was created; repeating the POST could create a second batch, so the
//!   error is returned instead. (The API has no idempotency keys.)
//! - A request whose body is a stream (an upload) is sent once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Request, Response, StatusCode};

use crate::error::{Error, ErrorKind, Result};
use crate::generated::progenitor::Client as RawClient;

/// One operation of the spec: what the generated constants in [`crate::operations`] describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The `operationId`, e.g. `cancel_batch`.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, e.g. `/v1/batches/{batch_id}`.
    pub path: &'static str,
    /// The vendor's doc page for the operation.
    pub docs_url: Option<&'static str>,
    /// Whether the method was generated (otherwise it is implemented by hand).
    pub generated: bool,
}

/// The longest path parameter accepted, in bytes (ids are short; a URL has a length limit).
pub const MAX_PATH_SEGMENT_BYTES: usize = 4096;

/// Refuses a path parameter that would not arrive at the server as exactly one path segment.
///
/// Refused, with an [`ErrorKind::InvalidInput`] error naming the parameter: an empty value, a
/// value with a `.` or `..` piece between slashes (`..`, `../x`, `a/./b`), a backslash or a
/// control character, and a value over [`MAX_PATH_SEGMENT_BYTES`]; the same after one round of
/// percent-decoding (`%2e%2E`, `..%2F`, `%5C`, `%00`, ...), in case a server or proxy decodes
/// twice. Everything else is percent-encoded by the generated code and arrives unchanged.
pub fn check_path_segment(op: &Operation, name: &str, value: &str) -> Result<()> {
    let problem = segment_problem(value).or_else(|| {
        if !value.contains('%') {
            return None;
        }
        let decoded = percent_decode(value);
        (decoded != value)
            .then(|| segment_problem(&decoded).map(|p| format!("{p} once percent-decoded")))
            .flatten()
    });
    match problem {
        None => Ok(()),
        Some(p) => Err(Error::new(
            ErrorKind::InvalidInput,
            format!("`{name}` {p}; it must be one path segment"),
        )
        .with_operation(op.id)
        .with_request(op.method, op.path)),
    }
}

fn segment_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        Some("is empty".into())
    } else if value.len() > MAX_PATH_SEGMENT_BYTES {
        Some(format!(
            "is {} bytes long; the limit is {MAX_PATH_SEGMENT_BYTES}",
            value.len()
        ))
    } else if let Some(dot) = value.split('/').find(|piece| *piece == "." || *piece == "..") {
        Some(format!("has the dot segment {dot:?}"))
    } else if value.contains('\\') {
        Some("contains a backslash".into())
    } else {
        value
            .chars()
            .find(|c| c.is_control())
            .map(|c| format!("contains the control character U+{:04X}", c as u32))
    }
}

/// Decodes `%XX` escapes once; invalid escapes and non-UTF-8 results are kept as they are.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Settings shared by every request of a client.
pub(crate) struct Settings {
    /// The API key, kept only to redact it from errors.
    pub(crate) api_key: Box<str>,
    /// `Authorization: Bearer …`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    /// User agent and custom headers, added to every request.
    pub(crate) headers: HeaderMap,
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
    /// The base of the backoff delay; 0.5 s by default (tests shorten it).
    pub(crate) initial_retry_delay: Duration,
    /// The cap of the backoff delay; 8 s by default.
    pub(crate) max_retry_delay: Duration,
}

/// The state progenitor's raw client carries (its "inner" value): settings shared by every
/// request. Cheap to clone.
#[derive(Clone)]
pub struct Transport(pub(crate) Arc<Settings>);

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("authorization", &"[redacted]")
            .field("headers", &self.0.headers.keys().collect::<Vec<_>>())
            .field("max_retries", &self.0.max_retries)
            .finish()
    }
}

/// What one call saw, for errors raised after the transport returned (decode failures).
#[derive(Default)]
pub(crate) struct CallRecord {
    pub(crate) attempts: AtomicU32,
    pub(crate) last: std::sync::Mutex<Option<(StatusCode, HeaderMap)>>,
    /// The method and path of the request (with its ids).
    pub(crate) request: std::sync::Mutex<Option<(Method, String)>>,
    /// The method of the call (set first: a method copies without allocating); the path is
    /// added to `request` only when an error or a download needs it.
    pub(crate) method: std::sync::Mutex<Option<Method>>,
    /// A JSON success's body, read whole within its attempt (so that a body that breaks off is
    /// retried); `json_response` takes it from here.
    pub(crate) body: std::sync::Mutex<Option<bytes::Bytes>>,
}

thread_local! {
    /// The record of the call being polled on this thread, set by [`WithRecord`] around each
    /// poll (a task-local, without tokio's rewrapping of the output on every poll).
    static CALL: std::cell::RefCell<Option<Arc<CallRecord>>> = const { std::cell::RefCell::new(None) };
}

fn record(f: impl FnOnce(&CallRecord)) {
    CALL.with(|c| {
        if let Some(r) = c.borrow().as_ref() {
            f(r);
        }
    });
}

/// A call's future with its record, which is current while the future is polled.
pub(crate) struct WithRecord<F> {
    record: Option<Arc<CallRecord>>,
    future: F,
}

impl<F> WithRecord<F> {
    pub(crate) fn new(record: Arc<CallRecord>, future: F) -> Self {
        Self {
            record: Some(record),
            future,
        }
    }
}

impl<F: std::future::Future + Unpin> std::future::Future for WithRecord<F> {
    type Output = F::Output;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = &mut *self;
        // Swapped in for the poll and back out after, also when the poll panics.
        struct Restore<'a>(&'a mut Option<Arc<CallRecord>>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                CALL.with(|c| std::mem::swap(&mut *c.borrow_mut(), self.0));
            }
        }
        CALL.with(|c| std::mem::swap(&mut *c.borrow_mut(), &mut this.record));
        let restore = Restore(&mut this.record);
        let result = std::pin::Pin::new(&mut this.future).poll(cx);
        drop(restore);
        result
    }
}

impl Transport {
    /// Adds auth and default headers, and removes progenitor's `api-version` header (the
    /// vendor's API has no such header).
    fn prepare(&self, request: &mut Request) {
        let headers = request.headers_mut();
        headers.insert(reqwest::header::AUTHORIZATION, self.0.authorization.clone());
        // The client's headers replace a request's own of the same name, and keep every value.
        for name in self.0.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.0.headers {
            headers.append(name.clone(), value.clone());
        }
    }

    /// Sends `request` with the retry rules described at the top of this module.
    pub(crate) async fn send(
        &self,
        http: &reqwest::Client,
        mut request: Request,
        operation: &str,
    ) -> reqwest::Result<Response> {
        self.prepare(&mut request);
        let idempotent = request.method() != Method::POST && request.method() != Method::PATCH;
        let method = request.method().clone();
        let https = request.url().scheme() == "https";
        // A JSON answer is read whole within the attempt, so that a body that breaks off or
        // stalls is retried like any other failure; a download streams to the caller instead.
        let buffer = request
            .headers()
            .get(reqwest::header::ACCEPT)
            .is_some_and(|a| a.as_bytes().starts_with(b"application/json"));
        record(|r| *r.method.lock().expect("call record lock") = Some(method.clone()));
        let mut retries = 0u32;
        loop {
            let next = if retries < self.0.max_retries {
                request.try_clone()
            } else {
                None
            };
            let attempt = retries + 1;
            record(|r| {
                r.attempts.store(attempt, Ordering::Relaxed);
                if attempt > 1 {
                    // What a response of an earlier attempt said does not describe this one.
                    *r.last.lock().expect("call record lock") = None;
                }
            });
            // The fields are evaluated only when a subscriber listens; so is the clock read.
            let span = tracing::debug_span!("cerebras_batch.request", operation, method = %method, path = %request.url().path(), attempt, status = tracing::field::Empty, duration_ms = tracing::field::Empty);
            let started = (!span.is_disabled()).then(std::time::Instant::now);
            let result = tracing::Instrument::instrument(
                async {
                    let response = http.execute(request).await?;
                    if buffer && response.status().is_success() {
                        // The body is read here and kept for `json_response`; the response goes
                        // on as it is. Status and headers are recorded only if the body fails
                        // to arrive or to decode: no copy on the way to a success.
                        buffer_body(response).await
                    } else {
                        record_response(response.status(), response.headers().clone());
                        Ok(response)
                    }
                },
                span.clone(),
            )
            .await;
            if let Some(started) = started {
                span.record("duration_ms", started.elapsed().as_millis() as u64);
            }
            // The request, for an error or a download to name (not needed on the way to a
            // decoded success, so not copied for it).
            let url = match &result {
                Ok(resp) if !buffer || !resp.status().is_success() => Some(resp.url()),
                Ok(_) => None,
                Err(e) => e.url(),
            };
            if let Some(url) = url {
                record_request(url);
            }
            let decision = match &result {
                Ok(resp) => {
                    span.record("status", resp.status().as_u16());
                    retry_after_response(resp.status(), resp.headers(), idempotent)
                }
                Err(e) => retry_after_error(e, idempotent, https),
            };
            let (Some(again), true) = (next, decision.retry) else {
                return result;
            };
            let delay = decision
                .server_delay
                .unwrap_or_else(|| backoff(retries, self.0.initial_retry_delay, self.0.max_retry_delay));
            tracing::debug!(parent: &span, delay_ms = delay.as_millis() as u64, "retrying");
            if let Ok(resp) = result {
                drop(resp); // not read: the connection is not reused, which is fine for a retry
            }
            tokio::time::sleep(delay).await;
            request = again;
            retries += 1;
        }
    }
}

struct Decision {
    retry: bool,
    server_delay: Option<Duration>,
}

fn should_retry_header(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn retry_after_response(status: StatusCode, headers: &HeaderMap, idempotent: bool) -> Decision {
    let retry = match should_retry_header(headers) {
        // A success is final: repeating it (a POST above all) could act twice.
        _ if status.is_success() || status.is_redirection() || status.is_informational() => false,
        Some(explicit) => explicit,
        None if idempotent => matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error(),
        None => status == StatusCode::TOO_MANY_REQUESTS,
    };
    Decision {
        retry,
        server_delay: if retry {
            retry_after(headers, SystemTime::now())
        } else {
            None
        },
    }
}

fn retry_after_error(e: &reqwest::Error, idempotent: bool, https: bool) -> Decision {
    // A TLS handshake with a plain-HTTP server fails the same way every time.
    let retry = if https && tls_mismatch(e) {
        false
    } else if idempotent {
        e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode()
    } else {
        e.is_connect()
    };
    Decision {
        retry,
        server_delay: None,
    }
}

/// Whether an error is a TLS handshake that met something other than TLS (a plain-HTTP
/// server behind an `https://` URL): rustls reports the first bytes as a corrupt record.
pub(crate) fn tls_mismatch(e: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| {
        let text = e.to_string();
        text.contains("InvalidContentType") || text.contains("corrupt message") || text.contains("wrong version number")
    })
}

/// The response with its whole body read (2xx JSON answers only; they are read whole anyway).
/// Keeps the request's method and path for the error (or the download) of this call.
fn record_request(url: &reqwest::Url) {
    record(|r| {
        let method = r.method.lock().expect("call record lock").clone();
        if let Some(method) = method {
            *r.request.lock().expect("call record lock") = Some((method, url.path().to_owned()));
        }
    });
}

/// Keeps what a response said for the error of this call (see [`CallRecord`]).
fn record_response(status: StatusCode, headers: HeaderMap) {
    record(|r| *r.last.lock().expect("call record lock") = Some((status, headers)));
}

async fn buffer_body(mut response: Response) -> reqwest::Result<Response> {
    match read_all(&mut response).await {
        Ok(body) => {
            record(|r| *r.body.lock().expect("call record lock") = Some(body));
            Ok(response)
        }
        Err(e) => {
            record_request(response.url());
            record_response(response.status(), response.headers().clone());
            Err(e)
        }
    }
}

/// The body `buffer_body` kept for this call, if any.
pub(crate) fn take_body() -> Option<bytes::Bytes> {
    let mut body = None;
    record(|r| body = r.body.lock().expect("call record lock").take());
    body
}

/// The longest server-requested delay that is honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The server's requested delay: `retry-after-ms` (milliseconds), else `Retry-After` (seconds,
/// integer or fractional, or an HTTP date). Only a delay above 0 and at most
/// [`MAX_RETRY_AFTER`] counts; anything else (negative, NaN, huge, unparseable, a date in the
/// past) gives `None`, and the backoff applies.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    // The bounds apply to the Duration, not the float: `1e-20` s is positive but rounds to 0 ns.
    let from_secs = |secs: f64| {
        (secs.is_finite() && secs > 0.0 && secs <= MAX_RETRY_AFTER.as_secs_f64())
            .then(|| Duration::from_secs_f64(secs))
            .filter(|d| !d.is_zero())
    };
    if let Some(ms) = text("retry-after-ms").and_then(|t| t.parse::<f64>().ok()) {
        return from_secs(ms / 1000.0);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return from_secs(secs);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    from_secs(date.duration_since(now).ok()?.as_secs_f64())
}

/// `min(initial × 2^retries, max)` × a random factor in 75–100 %.
fn backoff(retries: u32, initial: Duration, max: Duration) -> Duration {
    let base = initial.saturating_mul(2u32.saturating_pow(retries.min(16))).min(max);
    base.mul_f64(1.0 - 0.25 * fastrand::f64())
}

/// The whole body, keeping the response (its URL names the request in an error): one chunk is
/// taken as is (a buffered body is one), more are joined.
async fn read_all(response: &mut Response) -> reqwest::Result<bytes::Bytes> {
    let Some(first) = response.chunk().await? else {
        return Ok(bytes::Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut all = bytes::BytesMut::with_capacity(first.len() + second.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await? {
        all.extend_from_slice(&chunk);
    }
    Ok(all.freeze())
}

/// Decodes a JSON success, as progenitor's `ResponseValue::from_response` does, but moving the
/// headers instead of copying them, and recording them when the body does not decode (the
/// error then keeps them). The generated code calls it (see `generator/src/lean.rs`).
pub(crate) async fn json_response<T: serde::de::DeserializeOwned, E>(
    mut response: Response,
) -> std::result::Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let read = match take_body() {
        Some(body) => Ok(body),
        None => read_all(&mut response).await,
    };
    let full = match read {
        Ok(full) => full,
        Err(e) => {
            record_request(response.url());
            record_response(status, headers);
            return Err(progenitor_client::Error::ResponseBodyError(e));
        }
    };
    match serde_json::from_slice(&full) {
        Ok(inner) => Ok(progenitor_client::ResponseValue::new(inner, status, headers)),
        Err(e) => {
            record_request(response.url());
            record_response(status, headers);
            Err(progenitor_client::Error::InvalidResponsePayload(full, e))
        }
    }
}

impl ClientHooks<Transport> for RawClient {
    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        self.inner().send(self.client(), request, info.operation_id).await
    }
}

/// Reads at most `limit` bytes of a body; returns the bytes and whether more were left.
pub(crate) async fn read_bounded(mut response: Response, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return (out, true);
        }
        out.extend_from_slice(&chunk);
    }
    (out, false)
}

/// Headers that decide how a request is framed or routed; the client sets them itself.
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "expect",
];

/// Checks one custom header. The value is marked sensitive (it may be a credential).
pub(crate) fn custom_header(name: &str, value: &str) -> std::result::Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| "invalid header name".to_owned())?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(format!("`{name}` is set by the client and cannot be overridden"));
    }
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| format!("invalid value for header `{name}`"))?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// Parses `Name: value` lines (as in `CEREBRAS_CUSTOM_HEADERS`, like the vendor's SDKs) into
/// headers; a name may repeat. Headers are separated by line breaks only; blank lines are
/// skipped. A value that holds what looks like a second header (`X-Foo: bar; X-Baz: q`, or with
/// `,`) is refused as ambiguous, naming both headers. Errors name the variable, the line and the
/// header, never the value (it may be a credential).
pub(crate) fn parse_header_lines(variable: &str, text: &str) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| Error::new(ErrorKind::Config, format!("{variable} line {}: {what}", i + 1));
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("expected `Name: value` (one header per line)"))?;
        if let Some(second) = second_header(value) {
            return Err(bad(&format!(
                "the value of `{}` holds `{second}:`, which looks like a second header; put each header on a line of its own",
                name.trim()
            )));
        }
        let (name, value) = custom_header(name, value).map_err(|why| bad(&why))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// A `; Name:` or `, Name:` inside a header value: the name of what looks like another header.
fn second_header(value: &str) -> Option<&str> {
    value.match_indices([';', ',']).find_map(|(i, _)| {
        let rest = value[i + 1..].trim_start();
        let (name, _) = rest.split_once(':')?;
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (token && name.contains(|c: char| c.is_ascii_alphabetic())).then_some(name)
    })
}
