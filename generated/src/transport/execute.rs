//! The call path: how every call of every operation goes to the wire and back.
//!
//! A generated `send()` describes its request as a [`Request`] (the operation-specific part:
//! method, path with its ids, query, headers, body, success statuses) and calls [`json`],
//! [`empty`] or [`download`]; the hand-written upload calls [`execute`] and [`decode`]. Each
//! runs [`execute`], which reads top to bottom:
//!
//! 1. **Start**: the request's URL, from the client's base URL, the path and the query.
//! 2. **An attempt** ([`attempt`]): its `reqwest::Request` (the operation's headers, the API
//!    key, the client's headers, the body: sent again from its bytes on a retry), sent through
//!    the reqwest client, whose timeout bounds the attempt (see `ClientBuilder::timeout`). A
//!    declared success has its body read by the caller's `read_body` within the attempt: a
//!    JSON answer whole, so that a body that breaks off or stalls is retried like any other
//!    failure; a download not at all.
//! 3. **The retry decision**: [`retry::next_delay`] is asked with what the attempt saw; the
//!    delay it gives (the server's `Retry-After`, or the backoff) is waited here, and the next
//!    attempt starts at 2.
//! 4. **The end**: a declared success goes back as an [`Answer`]; any other status, or a
//!    failure, becomes the [`Error`] that names the operation, the request as sent (its method
//!    and its path with the ids: `DELETE /v1/batches/batch_abc`), the response's status,
//!    headers and first bytes of body, and the attempts; the API key redacted.
//!
//! The call's state is one value, [`Call`], passed by `&mut` from phase to phase.

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::request::{Body, Request};
use super::{encoding, retry};
use crate::client::{Client, Settings};
use crate::error::{
    CallInfo, Error, ErrorKind, ErrorResponse, MAX_ERROR_BODY, Prefix, Result, decode_error, from_reqwest,
    response_error,
};

/// A call of an operation answered in JSON: its answer decoded into `T`.
pub(crate) async fn json<T: DeserializeOwned>(client: &Client, mut request: Request) -> Result<T> {
    request.accept_json();
    let http = if request.body.streams() {
        client.http_stream()?
    } else {
        client.http()
    };
    let answer = execute(client, http, request, read_all).await?;
    decode(client, answer)
}

/// A call of an operation whose success has no body.
#[allow(dead_code)] // This spec has no such operation today.
pub(crate) async fn empty(client: &Client, request: Request) -> Result<()> {
    let http = if request.body.streams() {
        client.http_stream()?
    } else {
        client.http()
    };
    execute(client, http, request, read_all).await.map(drop)
}

/// A call of an operation whose success is a file: its body streamed to the caller through the
/// client for transfers (its timeout bounds each wait for the next bytes).
pub(crate) async fn download(client: &Client, request: Request) -> Result<crate::Download> {
    let http = client.http_stream()?;
    let answer = execute(client, http, request, |response| async { Ok(response) }).await?;
    // Never handed on as the file: a body in an encoding nobody decoded.
    if encoding::undecoded(&answer.headers).is_some() {
        let prefix = read_prefix(answer.body).await;
        return Err(fail(
            client,
            &answer.call,
            response_error(answer.status, answer.headers, prefix),
        ));
    }
    Ok(crate::Download::new(
        answer.status,
        answer.headers,
        answer.body,
        answer.call,
    ))
}

/// A declared success: its status, its headers, its body as the caller's `read_body` gave it,
/// and what an error about it must name.
pub(crate) struct Answer<B> {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: B,
    pub(crate) call: CallInfo,
}

/// The JSON body of a success, decoded into `T`. A body in a content encoding nobody decoded
/// is not decoded as JSON.
///
/// # Errors
///
/// [`ErrorKind::Decode`] with the status, headers and body, naming the call.
pub(crate) fn decode<T: DeserializeOwned>(client: &Client, answer: Answer<Bytes>) -> Result<T> {
    let Answer {
        status,
        headers,
        body,
        call,
    } = answer;
    if encoding::undecoded(&headers).is_some() {
        return Err(fail(client, &call, response_error(status, headers, Prefix::of(&body))));
    }
    serde_json::from_slice(&body).map_err(|e| fail(client, &call, decode_error(status, headers, &body, e)))
}

/// One call as it runs: the request, its URL and the attempts made so far.
pub(crate) struct Call {
    request: Request,
    url: reqwest::Url,
    attempts: u32,
}

/// What an attempt ended with.
enum Outcome<B> {
    /// A declared success, its body read by `read_body`.
    Success(StatusCode, HeaderMap, B),
    /// Any other status (an error, a redirect, an undeclared success): the response, its body
    /// unread.
    Status(reqwest::Response),
    /// No response; or a success whose body could not be read, with its status and headers.
    Failed(reqwest::Error, Option<(StatusCode, HeaderMap)>),
}

/// Runs `request` to its end (see the module docs): attempts through `http`, a declared
/// success's body read by `read_body` within its attempt, retries as the rules of [`retry`]
/// say.
///
/// # Errors
///
/// Every failure of the call, as an [`Error`] naming it (see the module docs).
pub(crate) async fn execute<B, Fut>(
    client: &Client,
    http: &reqwest::Client,
    request: Request,
    read_body: impl Fn(reqwest::Response) -> Fut,
) -> Result<Answer<B>>
where
    Fut: Future<Output = reqwest::Result<B>>,
{
    let settings = client.settings();
    // 1. Start.
    let mut call = Call::start(client.base_url(), request)?;
    loop {
        // 2. An attempt.
        call.attempts += 1;
        let outcome = attempt(http, settings, &mut call, &read_body).await;
        // 3. The retry decision.
        let seen = match &outcome {
            Outcome::Success(status, headers, _) => retry::Seen::Response(*status, headers),
            Outcome::Status(response) => retry::Seen::Response(response.status(), response.headers()),
            Outcome::Failed(e, _) => retry::Seen::Failure(e),
        };
        let idempotent = !matches!(call.request.method, reqwest::Method::POST | reqwest::Method::PATCH);
        let repeatable = call.request.body.repeatable();
        if let Some(delay) = retry::next_delay(seen, idempotent, repeatable, call.attempts, &settings.retry) {
            tracing::debug!(
                operation = call.request.op.id,
                path = %call.url.path(),
                attempt = call.attempts,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            // An answer not read: its connection is not reused, which is fine for a retry.
            drop(outcome);
            tokio::time::sleep(delay).await;
            continue;
        }
        // 4. The end.
        let info = CallInfo {
            operation: call.request.op,
            method: call.request.method.clone(),
            path: call.url.path().to_owned(),
            attempts: call.attempts,
        };
        return match outcome {
            Outcome::Success(status, headers, body) => Ok(Answer {
                status,
                headers,
                body,
                call: info,
            }),
            Outcome::Status(response) => {
                let (status, headers) = (response.status(), response.headers().clone());
                let prefix = read_prefix(response).await;
                Err(fail(client, &info, response_error(status, headers, prefix)))
            }
            Outcome::Failed(e, response) => {
                let mut err = from_reqwest(e);
                if let Some((status, headers)) = response {
                    err = err.with_response(ErrorResponse::new(status, headers, &[], false));
                }
                Err(fail(client, &info, err))
            }
        };
    }
}

impl Call {
    /// The call of `request`, on the client's base URL, before its first attempt.
    fn start(base_url: &str, request: Request) -> Result<Self> {
        let mut url = format!("{base_url}{}", request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let url = reqwest::Url::parse(&url).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("the request's URL is not valid: {e}"))
                .with_operation(request.op.id)
                .with_request(request.op.method, request.op.path)
        })?;
        Ok(Self {
            request,
            url,
            attempts: 0,
        })
    }

    /// The next attempt's request: the operation's headers, the API key and the client's
    /// headers, and the body (from its bytes again on a retry).
    fn next_request(&mut self, http: &reqwest::Client, settings: &Settings) -> reqwest::Result<reqwest::Request> {
        let builder = http.request(self.request.method.clone(), self.url.clone());
        let builder = match &mut self.request.body {
            Body::None => builder,
            Body::Bytes(bytes) => builder.body(bytes.clone()),
            Body::Raw(raw) => builder.body(raw.next()),
            // reqwest sets the form's `Content-Type` (with its boundary) and, when it knows it,
            // its `Content-Length`. A form is sent once (it is not repeatable).
            Body::Multipart(form) => match form.take() {
                Some(form) => builder.multipart(form),
                None => builder.body(super::request::sent_once()),
            },
        };
        let mut request = builder.build()?;
        let headers = request.headers_mut();
        for (name, value) in &self.request.headers {
            headers.append(name, value.clone());
        }
        headers.insert(reqwest::header::AUTHORIZATION, settings.authorization.clone());
        // The client's headers replace the request's own of the same name, and keep every value.
        for name in settings.headers.keys() {
            let mut values = settings.headers.get_all(name).iter();
            if let Some(first) = values.next() {
                headers.insert(name, first.clone());
            }
            for value in values {
                headers.append(name, value.clone());
            }
        }
        Ok(request)
    }

    /// Whether the operation declares `status` as its success.
    fn declares(&self, status: StatusCode) -> bool {
        let status = status.as_u16();
        self.request
            .success
            .iter()
            .any(|(low, high)| (*low..=*high).contains(&status))
    }
}

/// One attempt (phase 2 of the module docs), in a `cerebras_batch.request` span that records
/// the operation, method, path, attempt, status and duration.
async fn attempt<B, Fut>(
    http: &reqwest::Client,
    settings: &Settings,
    call: &mut Call,
    read_body: impl Fn(reqwest::Response) -> Fut,
) -> Outcome<B>
where
    Fut: Future<Output = reqwest::Result<B>>,
{
    let span = tracing::debug_span!(
        "cerebras_batch.request",
        operation = call.request.op.id,
        method = %call.request.method,
        path = %call.url.path(),
        attempt = call.attempts,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let request = match call.next_request(http, settings) {
        Ok(request) => request,
        Err(e) => return Outcome::Failed(e, None),
    };
    let outcome = tracing::Instrument::instrument(
        async {
            let mut response = match http.execute(request).await {
                Ok(response) => response,
                Err(e) => return Outcome::Failed(e, None),
            };
            if !call.declares(response.status()) {
                return Outcome::Status(response);
            }
            let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
            match read_body(response).await {
                Ok(body) => Outcome::Success(status, headers, body),
                Err(e) => Outcome::Failed(e, Some((status, headers))),
            }
        },
        span.clone(),
    )
    .await;
    match &outcome {
        Outcome::Success(status, ..) => span.record("status", status.as_u16()),
        Outcome::Status(response) => span.record("status", response.status().as_u16()),
        Outcome::Failed(_, Some((status, _))) => span.record("status", status.as_u16()),
        Outcome::Failed(_, None) => &span,
    };
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    outcome
}

/// `err`, naming the call, the API key redacted.
fn fail(client: &Client, call: &CallInfo, err: Error) -> Error {
    call.name(err).redact(&client.settings().api_key)
}

/// The whole body (one chunk is taken as is, more are joined).
pub(crate) async fn read_all(mut response: reqwest::Response) -> reqwest::Result<Bytes> {
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
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

/// The first [`MAX_ERROR_BODY`] bytes of a body, for its error.
async fn read_prefix(mut response: reqwest::Response) -> Prefix {
    let mut bytes = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                return Prefix {
                    bytes,
                    truncated: false,
                    error: Some(e),
                };
            }
        };
        let room = MAX_ERROR_BODY - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Prefix {
                bytes,
                truncated: true,
                error: None,
            };
        }
        bytes.extend_from_slice(&chunk);
    }
    Prefix {
        bytes,
        truncated: false,
        error: None,
    }
}
