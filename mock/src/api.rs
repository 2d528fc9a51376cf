//! [`MockApi`]: a fake Cerebras Batch API on 127.0.0.1, and a client pointed at it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::unmatched::{Fallback, Registry};

/// A mock of the Cerebras Batch API: a [`wiremock::MockServer`] on 127.0.0.1 (it derefs to
/// one, so everything wiremock offers works on it) with one expectation builder per operation
/// of the spec: `api.cancel_batch()`, `api.list_files()`, ..., each in [`crate::when`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cerebras_batch::types::{Batch, BatchStatus};
/// use cerebras_batch_mock::{MockApi, Reply};
///
/// let api = MockApi::start().await;
/// api.cancel_batch()
///     .batch_id("batch_1")
///     .respond(Reply::ok(Batch::new("batch_1").with_status(BatchStatus::Cancelling)))
///     .expect(1)
///     .mount(&api)
///     .await;
/// let batch = api.client().cancel_batch("batch_1").await.unwrap();
/// assert_eq!(batch.status, Some(BatchStatus::Cancelling));
/// # }
/// ```
///
/// Each mock is named after its operation and the parameters it pins, so that a failed
/// expectation says which: `cancel_batch(batch_id = "b1")`, expected 1 request, matched 0.
/// With [`fail_on_unmatched`](Self::fail_on_unmatched), a request no mock matches is answered
/// with an error naming it and the closest mock, and fails the test.
pub struct MockApi {
    server: MockServer,
    /// The mocks built by this `MockApi`'s operation methods, for the fallback to explain.
    registry: Registry,
    /// The fallback's report of every request no mock matched.
    unmatched: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for MockApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApi").field("uri", &self.server.uri()).finish()
    }
}

/// Fails the test when [`fail_on_unmatched`](MockApi::fail_on_unmatched) answered a request,
/// unless the test is failing already.
impl Drop for MockApi {
    fn drop(&mut self) {
        let reports = std::mem::take(&mut *self.unmatched.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !reports.is_empty() && !std::thread::panicking() {
            panic!(
                "{} request(s) to the MockApi matched no mock (fail_on_unmatched):\n- {}",
                reports.len(),
                reports.join("\n- ")
            );
        }
    }
}

impl std::ops::Deref for MockApi {
    type Target = MockServer;
    fn deref(&self) -> &MockServer {
        &self.server
    }
}

/// The API key [`MockApi::client`] sends (the mock accepts any).
pub const TEST_KEY: &str = "test-key";

impl MockApi {
    /// Starts a mock on a free port of 127.0.0.1. Nothing is mounted: unmatched requests get
    /// wiremock's empty 404 (see [`fail_on_unmatched`](Self::fail_on_unmatched) and
    /// [`answer_the_rest_not_found`](Self::answer_the_rest_not_found)).
    pub async fn start() -> Self {
        Self::on(MockServer::start().await)
    }

    /// Starts a mock on `listener` (a fixed port, for a server others connect to).
    pub async fn start_on(listener: std::net::TcpListener) -> Self {
        Self::on(MockServer::builder().listener(listener).start().await)
    }

    fn on(server: MockServer) -> Self {
        Self {
            server,
            registry: Registry::new(),
            unmatched: Arc::default(),
        }
    }

    /// Where the operation methods (`api.cancel_batch()`, ...) record the mocks they build.
    pub(crate) fn registry(&self) -> Registry {
        self.registry.clone()
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A [`cerebras_batch::ClientBuilder`] pointed at the mock, with [`TEST_KEY`] and retry
    /// delays of milliseconds instead of seconds (retries stay on: 2, as by default).
    pub fn client_builder(&self) -> cerebras_batch::ClientBuilder {
        cerebras_batch::Client::builder()
            .api_key(TEST_KEY)
            .base_url(self.uri())
            .retry_delays(Duration::from_millis(1), Duration::from_millis(10))
    }

    /// A client pointed at the mock (see [`client_builder`](Self::client_builder)).
    pub fn client(&self) -> cerebras_batch::Client {
        self.client_builder().build().expect("a client for the mock builds")
    }

    /// Every request received so far.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// How many requests were received so far.
    pub async fn request_count(&self) -> usize {
        self.requests().await.len()
    }

    /// Answers every request no other mock matches with an error that says so, and makes the
    /// test fail when this `MockApi` is dropped (unless the test is failing already): a
    /// request the test did not foresee is a failure, not a quiet 404.
    ///
    /// The answer is a 404 whose vendor-shaped body (`{"message", "type": "mock_error",
    /// "param": null, "code": "no_mock_matched"}`) names the request (method, path, query and a
    /// summary of the body) and, of the mocks built with this `MockApi`'s operation methods,
    /// the closest one and the first of its conditions the request fails: the method, the path,
    /// a path parameter, a query parameter, a header or a body field. The client's error shows
    /// that message:
    ///
    /// ```text
    /// no mock matched DELETE /v1/batches/b2; the closest mock, cancel_batch(batch_id = "b1"), differs: path parameter batch_id is "b2", the mock expects "b1"
    /// ```
    ///
    /// The same report goes to stderr at once, and is kept for the drop; a test that expects
    /// the failure takes the reports with [`take_unmatched_requests`](Self::take_unmatched_requests).
    /// It is a catch-all mock at wiremock's lowest priority (255): mount it once, and not with
    /// [`answer_the_rest_not_found`](Self::answer_the_rest_not_found) (the one mounted first
    /// would answer).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use cerebras_batch::types::Batch;
    /// use cerebras_batch_mock::{MockApi, Reply};
    ///
    /// let api = MockApi::start().await;
    /// api.fail_on_unmatched().await;
    /// api.cancel_batch().batch_id("b1").respond(Reply::ok(Batch::new("b1"))).mount(&api).await;
    /// let error = api.client().cancel_batch("b2").await.unwrap_err();
    /// assert!(error.message().contains(r#"path parameter batch_id is "b2", the mock expects "b1""#));
    /// // Taken, the report no longer fails the drop.
    /// assert_eq!(api.take_unmatched_requests().len(), 1);
    /// # }
    /// ```
    pub async fn fail_on_unmatched(&self) {
        Mock::given(wiremock::matchers::any())
            .respond_with(Fallback {
                registry: self.registry(),
                reports: self.unmatched.clone(),
            })
            .with_priority(u8::MAX)
            .named("fail_on_unmatched (the catch-all)")
            .mount(&self.server)
            .await;
    }

    /// The report of every request [`fail_on_unmatched`](Self::fail_on_unmatched) answered since
    /// the last call, in order (none without it). Taken, they no longer fail the drop: for a
    /// test that checks what was not matched.
    pub fn take_unmatched_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.unmatched.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Answers every request no other mock matches with a vendor-shaped 404
    /// (`{"error": {"message": "No such object", "type": "invalid_request_error", "code": "not_found"}}`),
    /// as the real API does for an unknown id.
    pub async fn answer_the_rest_not_found(&self) {
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
                "error": {"message": "No such object", "type": "invalid_request_error", "code": "not_found"}
            })))
            .with_priority(u8::MAX)
            .mount(&self.server)
            .await;
    }
}
