//! Sending requests: auth headers, retries ([`retry`]), path-segment checks ([`path`]) and the
//! per-call record ([`record`]).
//!
//! Every request, generated or hand-written, goes through [`Transport::send`]. Progenitor's
//! generated client reaches it through its `exec` hook (`ClientHooks`), so the generated code
//! is used as is.

pub(crate) mod path;
pub(crate) mod record;
pub(crate) mod retry;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Request, Response};

use crate::generated::progenitor::Client as RawClient;
use record::{record, record_request, record_response};
use retry::{backoff, retry_after_error, retry_after_response};

pub(crate) use path::PathSegment;
pub use path::{MAX_PATH_SEGMENT_BYTES, check_path_segment};
pub(crate) use record::{CallRecord, WithRecord, take_body};
pub use retry::{MAX_RETRY_AFTER, retry_after};
// For the generated code of an operation with a raw request body (this spec has none today).
#[allow(unused_imports)]
pub(crate) use retry::RepeatableBody;
pub(crate) use retry::tls_mismatch;

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

impl Transport {
    /// Adds auth and default headers, and removes progenitor's `api-version` header (the
    /// vendor's API has no such header).
    fn prepare(&self, request: &mut Request) {
        let headers = request.headers_mut();
        headers.insert(reqwest::header::AUTHORIZATION, self.0.authorization.clone());
        // The client's headers replace a request's own of the same name, and keep every value.
        for name in self.0.headers.keys() {
            let mut values = self.0.headers.get_all(name).iter();
            if let Some(first) = values.next() {
                headers.insert(name.clone(), first.clone());
            }
            for value in values {
                headers.append(name.clone(), value.clone());
            }
        }
    }

    /// Sends `request` once, and decides by the rules in [`retry`] whether another attempt is
    /// due: when it is, the delay before it is left in the call record
    /// ([`CallRecord::retry`]) for [`crate::Client`]'s call loop, which rebuilds the request
    /// through the generated code (so that no request is copied in case it fails) and sends it
    /// again.
    ///
    /// What can be done before sending is done when this is called (the caller polls the
    /// future at once), so that the future holds only what the attempt needs after it: every
    /// call's future moves through several layers, and a large one is copied at each.
    pub(crate) fn send<'a>(
        &'a self,
        http: &reqwest::Client,
        mut request: Request,
        operation: &str,
    ) -> impl Future<Output = reqwest::Result<Response>> + 'a {
        // A JSON answer is read whole within the attempt, so that a body that breaks off or
        // stalls is retried like any other failure; a download streams to the caller instead.
        // Decided by the operation's own `Accept`, before the client's custom headers (which
        // may name `Accept` too) are added.
        let buffer = request
            .headers()
            .get(reqwest::header::ACCEPT)
            .is_some_and(|a| a.as_bytes().starts_with(b"application/json"));
        self.prepare(&mut request);
        let idempotent = request.method() != Method::POST && request.method() != Method::PATCH;
        let https = request.url().scheme() == "https";
        // A streamed body (an upload) cannot be sent again.
        let repeatable = request.body().is_none_or(|b| b.as_bytes().is_some());
        let mut attempt = 1;
        record(|r| {
            *r.method.lock().expect("call record lock") = Some(request.method().clone());
            attempt = r.attempts.fetch_add(1, Ordering::Relaxed) + 1;
            *r.retry.lock().expect("call record lock") = None;
            if attempt > 1 {
                // What a response of an earlier attempt said does not describe this one.
                *r.last.lock().expect("call record lock") = None;
            }
        });
        // The fields are evaluated only when a subscriber listens; so is the clock read.
        let span = tracing::debug_span!("cerebras_batch.request", operation, method = %request.method(), path = %request.url().path(), attempt, status = tracing::field::Empty, duration_ms = tracing::field::Empty);
        let started = (!span.is_disabled()).then(std::time::Instant::now);
        let pending = {
            let _entered = span.enter();
            http.execute(request)
        };
        async move {
            let attempt_future = async {
                let response = pending.await?;
                if buffer && response.status().is_success() {
                    // The body is read here and kept for `json_response`; the response goes on
                    // as it is. Status and headers are recorded only if the body fails to
                    // arrive or to decode: no copy on the way to a success.
                    buffer_body(response).await
                } else {
                    record_response(response.status(), response.headers().clone());
                    Ok(response)
                }
            };
            // Entered on every poll only when a subscriber listens.
            let result = if span.is_disabled() {
                attempt_future.await
            } else {
                tracing::Instrument::instrument(attempt_future, span.clone()).await
            };
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
            if decision.retry && repeatable && attempt <= self.0.max_retries {
                let delay = decision
                    .server_delay
                    .unwrap_or_else(|| backoff(attempt - 1, self.0.initial_retry_delay, self.0.max_retry_delay));
                tracing::debug!(parent: &span, delay_ms = delay.as_millis() as u64, "retrying");
                record(|r| *r.retry.lock().expect("call record lock") = Some(delay));
            }
            result
        }
    }
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
/// error then keeps them). The generated code calls it (see `generator/src/lean.rs`), within
/// the call's poll: the body `buffer_body` kept is taken at once, and the future holds no more
/// than the response and that body.
pub(crate) fn json_response<T: serde::de::DeserializeOwned, E>(
    mut response: Response,
) -> impl Future<Output = std::result::Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>> {
    let kept = take_body();
    async move {
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let read = match kept {
            Some(body) => Ok(body),
            // Boxed: only a body that was not read within the attempt takes this way.
            None => Box::pin(read_all(&mut response)).await,
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
}

impl ClientHooks<Transport> for RawClient {
    // Not `async`: the transport's future is returned as is, one layer less to move it through.
    fn exec(&self, request: Request, info: &OperationInfo) -> impl Future<Output = reqwest::Result<Response>> {
        self.inner().send(self.client(), request, info.operation_id)
    }
}

/// Reads at most `limit` bytes of a body; returns the bytes and whether they are not the whole
/// body: more were left, or the body broke off (a read error; the bytes read until then are
/// kept, and the error's response says it is cut rather than pass a part for the whole).
pub(crate) async fn read_bounded(mut response: Response, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return (out, false),
            Err(_) => return (out, true),
        };
        let room = limit - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return (out, true);
        }
        out.extend_from_slice(&chunk);
    }
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
