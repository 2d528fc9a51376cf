//! The answer to a request no mock matched, for [`MockApi::fail_on_unmatched`]: which request
//! it was, the closest of the mocks the `MockApi` built, and the first condition of that mock
//! the request fails. wiremock decides what matches; this module only explains.
//!
//! [`MockApi::fail_on_unmatched`]: crate::MockApi::fail_on_unmatched

use std::sync::{Arc, Mutex};

use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

/// The status of the fallback's answer: no route, as wiremock answers by default, but with a
/// body that says so.
pub(crate) const STATUS: u16 = 404;

/// The `code` of the fallback's error body.
pub(crate) const CODE: &str = "no_mock_matched";

/// What kind of condition a request fails, in the order a mock checks them: a mock that fails
/// later got closer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Method,
    Path,
    PathParam,
    Query,
    Header,
    Body,
}

/// One condition of a mock that a request fails, and why, in words.
#[derive(Clone, Debug)]
pub(crate) struct Mismatch {
    pub(crate) stage: Stage,
    pub(crate) reason: String,
}

/// A mock as the fallback explains it; its `Display` is its name, the operation and the
/// parameters it pins (`cancel_batch(batch_id = "b1")`).
pub(crate) trait Explain: std::fmt::Display + Send + Sync {
    /// Every condition `request` fails, in the order the mock checks them; none when it
    /// matches.
    fn mismatches(&self, request: &Request) -> Vec<Mismatch>;
}

/// The mocks a [`MockApi`](crate::MockApi) built (with `api.cancel_batch()`, ...), shared with
/// its fallback. A builder made without a `MockApi` (`when::CancelBatch::new()`) has none, and
/// its mocks are not compared.
#[derive(Clone, Default)]
pub(crate) struct Registry(Option<Arc<Mutex<Mocks>>>);

type Mocks = Vec<Arc<dyn Explain>>;

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(mocks) => write!(f, "Registry({} mocks)", lock(mocks).len()),
            None => f.write_str("Registry(none)"),
        }
    }
}

impl Registry {
    /// A registry of its own (a `MockApi`'s).
    pub(crate) fn new() -> Self {
        Self(Some(Arc::default()))
    }

    /// Adds `mock` (a mock being built) to the ones the fallback compares a request with.
    pub(crate) fn add(&self, mock: impl Explain + 'static) {
        if let Some(mocks) = &self.0 {
            lock(mocks).push(Arc::new(mock));
        }
    }

    /// The mock of `expect`, answered by `responder`, named after it and added to the
    /// registry.
    pub(crate) fn respond_with(&self, expect: crate::Expect, responder: impl Respond + 'static) -> wiremock::Mock {
        let mock = expect.clone().respond_with(responder);
        self.add(expect);
        mock
    }

    fn mocks(&self) -> Mocks {
        self.0.as_ref().map(|m| lock(m).clone()).unwrap_or_default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not hide its reports.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The catch-all mock's responder: records a report per request and answers it with a
/// vendor-shaped error whose message is the report.
pub(crate) struct Fallback {
    pub(crate) registry: Registry,
    pub(crate) reports: Arc<Mutex<Vec<String>>>,
}

impl Respond for Fallback {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let report = report(request, &self.registry.mocks());
        eprintln!("cerebras-batch-mock: {report}");
        lock(&self.reports).push(report.clone());
        ResponseTemplate::new(STATUS).set_body_json(serde_json::json!({
            "message": report,
            "type": "mock_error",
            "param": null,
            "code": CODE,
        }))
    }
}

/// `no mock matched <request>; the closest mock, <name>, differs: <reason>`.
pub(crate) fn report(request: &Request, mocks: &[Arc<dyn Explain>]) -> String {
    let what = describe(request);
    let closest = mocks
        .iter()
        .map(|m| (m, m.mismatches(request)))
        .min_by_key(|(_, misses)| {
            // Fewest conditions failed; then the one that failed latest; then the first mounted.
            let first = misses.first().map(|m| m.stage);
            (misses.len(), std::cmp::Reverse(first))
        });
    match closest {
        None => format!("no mock matched {what}; this MockApi has built no mock to compare it with"),
        Some((mock, misses)) => match misses.first() {
            Some(first) => format!(
                "no mock matched {what}; the closest mock, {}, differs: {}",
                mock, first.reason
            ),
            None => format!(
                "no mock matched {what}; the mock {} matches it, but no longer answers: its `up_to_n_times` is used up, or it was unmounted",
                mock
            ),
        },
    }
}

/// `METHOD /path?query` and a summary of the body.
fn describe(request: &Request) -> String {
    let mut out = format!("{} {}", request.method, request.url.path());
    if let Some(query) = request.url.query() {
        out.push('?');
        out.push_str(query);
    }
    if request.body.is_empty() {
        return out;
    }
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type");
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(json) => out.push_str(&format!(" with the JSON body {}", shown(&json))),
        Err(_) => out.push_str(&format!(
            " with a body of {} bytes ({content_type})",
            request.body.len()
        )),
    }
    out
}

/// The parenthesised part of a mock's name: `(a = 1, b = "x")`, or `(..)` when it pins nothing.
pub(crate) fn arguments(parts: &[String]) -> String {
    if parts.is_empty() {
        "(..)".to_owned()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// A JSON value on one line, cut after 200 characters.
pub(crate) fn shown(value: &Value) -> String {
    const MAX: usize = 200;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
