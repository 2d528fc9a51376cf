//! [`MockApi`]: a fake Cerebras Batch API on 127.0.0.1, and a client pointed at it.

use std::time::Duration;

use wiremock::{Mock, MockServer, ResponseTemplate};

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
pub struct MockApi {
    server: MockServer,
}

impl std::fmt::Debug for MockApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApi").field("uri", &self.server.uri()).finish()
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
    /// wiremock's empty 404 (see [`answer_the_rest_not_found`](Self::answer_the_rest_not_found)).
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// Starts a mock on `listener` (a fixed port, for a server others connect to).
    pub async fn start_on(listener: std::net::TcpListener) -> Self {
        Self {
            server: MockServer::builder().listener(listener).start().await,
        }
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
