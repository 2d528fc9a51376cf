//! When and how long to wait before trying a request again.
//!
//! A failed attempt is retried at most `max_retries` times (default 2), after a delay of
//! `min(0.5 s × 2ⁿ, 8 s)` scaled by a random 75–100 % (n = retries so far), or after the
//! server's `retry-after-ms` / `Retry-After` (integer or fractional seconds, or an HTTP date)
//! when that is more than 0 and at most 60 s. Only a failure that another try can heal is
//! retried.
//!
//! **Retried** (transient failures):
//!
//! - a response `408 Request Timeout`, `429 Too Many Requests` or any `5xx`, for idempotent
//!   methods (GET, DELETE, ...); for POST only `429` (rate limits reject a request before it is
//!   processed);
//! - a connection that could not be made for a reason of I/O: refused, reset, unreachable, a
//!   DNS lookup that failed, the connect timeout (nothing was sent, so POST too). A proxy that
//!   cannot be reached is such a failure;
//! - for idempotent methods, a connection lost after sending, a timeout, and a body that
//!   breaks off, stalls or arrives corrupt (a JSON answer is read whole within its attempt);
//! - any response with the header `x-should-retry: true` but a success, a redirect or an
//!   informational response.
//!
//! **Not retried** (another try fails the same way, or could act twice):
//!
//! - a success, a redirect or an informational response, whatever `x-should-retry` says;
//! - every other `4xx`, `409 Conflict` included. The vendor's SDKs (Stainless-generated)
//!   retry 409 "on lock timeouts", a meaning OpenAI gives it; for this API a 409 reports a
//!   state conflict, such as cancelling a batch that is already cancelled, which no second try
//!   changes. `x-should-retry: true` on a 409 still has it retried;
//! - a POST that may have been processed: a `5xx`, a timeout, or a connection lost after
//!   sending may follow a batch that was created, and the API has no idempotency keys;
//! - a TLS handshake that failed: a certificate the client does not trust (unknown issuer,
//!   wrong name, expired), a server that speaks no TLS behind an `https://` URL;
//! - a proxy that refuses the tunnel (answers `CONNECT` with anything but 200, 407 included)
//!   or does not speak HTTP;
//! - an answer that is not HTTP/1.1 (the server, or a proxy, speaks another protocol);
//! - a response in a content encoding the client did not decode, and a success whose body
//!   does not decode into the expected type;
//! - a request whose body is a stream (an upload): it is sent once;
//! - any response with `x-should-retry: false`.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

struct Decision {
    retry: bool,
    server_delay: Option<Duration>,
}

/// `x-should-retry: true` or `false`; any other value (not ASCII included) is no instruction,
/// as in the vendor's SDKs: the status decides.
fn should_retry_header(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn retry_after_response(status: StatusCode, headers: &HeaderMap, idempotent: bool) -> Decision {
    // A success is final: repeating it (a POST above all) could act twice. (Checked before any
    // header is looked at: this is every call's path.)
    if status.is_success() || status.is_redirection() || status.is_informational() {
        return Decision {
            retry: false,
            server_delay: None,
        };
    }
    let retry = match should_retry_header(headers) {
        Some(explicit) => explicit,
        None if idempotent => matches!(status.as_u16(), 408 | 429) || status.is_server_error(),
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

fn retry_after_error(e: &reqwest::Error, idempotent: bool) -> Decision {
    let retry = if unrecoverable(e) {
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

/// The errors that led to `e`, `e` first. An [`std::io::Error`] that wraps another error
/// reports that error's source as its own, skipping the error itself, so the chain goes on
/// from an I/O error to the error it wraps (reqwest's connector wraps a TLS failure, itself
/// an I/O error of kind `InvalidData`, in an I/O error of kind `Other`).
fn chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
        None => e.source(),
    })
}

/// Whether a failure without a response fails the same way on every try: the TLS handshake
/// failed, a proxy refused the tunnel or spoke no HTTP, or the answer was not HTTP/1.1.
///
/// Decided by the error's structure, not its text: hyper reports an answer it cannot parse
/// as a parse error; the TLS layer (rustls, through tokio-rustls) reports its failures as an
/// I/O error of kind `InvalidData`; a connection that failed on I/O (refused, reset,
/// unreachable, a failed DNS lookup) carries an I/O error of its kind; the other TLS backend
/// and hyper-util's proxy tunnel ("tunnel error: unsuccessful", ...; private types) report
/// their failures without any I/O error.
pub(crate) fn unrecoverable(e: &reqwest::Error) -> bool {
    if e.is_timeout() {
        return false;
    }
    let mut io = false;
    for cause in chain(e) {
        if cause.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
            return true;
        }
        if let Some(cause) = cause.downcast_ref::<std::io::Error>() {
            if e.is_connect() && cause.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
            io = true;
        }
    }
    e.is_connect() && !io
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

/// How often, and after what delays, a client tries a call again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
    /// The base of the backoff delay; 0.5 s by default (tests shorten it).
    pub(crate) initial_delay: Duration,
    /// The cap of the backoff delay; 8 s by default.
    pub(crate) max_delay: Duration,
}

/// What an attempt ended with, as the rules above see it.
pub(crate) enum Seen<'a> {
    /// A response: its status and headers (a success's body was read whole).
    Response(StatusCode, &'a HeaderMap),
    /// No response, or a body that broke off or did not arrive in time.
    Failure(&'a reqwest::Error),
}

/// The delay before trying again after attempt number `attempt` (1 for the first), which
/// ended with `seen`; `None` when the call ends here: the rules above say no, the request's
/// body cannot be sent again (`repeatable` is false for a stream), or the retries are used up.
/// The server's delay (`Retry-After`, `retry-after-ms`) when it gave one, else the backoff.
pub(crate) fn next_delay(
    seen: Seen<'_>,
    idempotent: bool,
    repeatable: bool,
    attempt: u32,
    policy: &Policy,
) -> Option<Duration> {
    let decision = match seen {
        Seen::Response(status, headers) => retry_after_response(status, headers, idempotent),
        Seen::Failure(e) => retry_after_error(e, idempotent),
    };
    if !decision.retry || !repeatable || attempt > policy.max_retries {
        return None;
    }
    Some(
        decision
            .server_delay
            .unwrap_or_else(|| backoff(attempt - 1, policy.initial_delay, policy.max_delay)),
    )
}
