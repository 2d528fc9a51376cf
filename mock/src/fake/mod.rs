//! [`FakeApi`]: a stateful, in-memory Cerebras Batch and Files API on 127.0.0.1.
//!
//! `options.rs` holds its knobs, `handlers.rs` answers each route, `batches.rs` moves batches
//! through their statuses and writes their result files.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cerebras_batch::Operation;
use cerebras_batch::operations as ops;
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

mod batches;
mod handlers;
mod options;

pub use options::{FakeOptions, LineFailure};

/// A stored file.
struct StoredFile {
    json: Map<String, Value>,
    content: Arc<Vec<u8>>,
}

/// One request of a batch, as the fake needs it to answer.
#[derive(Clone)]
struct StoredRequest {
    custom_id: String,
    /// The content of its last message (echoed in its completion).
    prompt: String,
    /// Why it fails, when it does.
    failure: Option<LineFailure>,
}

/// A batch and what the fake knows of it.
struct StoredBatch {
    json: Map<String, Value>,
    requests: Vec<StoredRequest>,
    model: String,
    /// Answers (the create's and retrieves') that showed the current status.
    answers: u32,
    /// Some request of it is run for the first time (see `FakeOptions::failures_heal`).
    first_run: bool,
}

#[derive(Default)]
struct State {
    options: FakeOptions,
    /// Newest last.
    files: Vec<StoredFile>,
    batches: Vec<StoredBatch>,
    uploads: usize,
    creates: usize,
    /// Files ever stored (uploads, outputs, error files): ids are never reused after a delete.
    files_made: usize,
    clock: i64,
    /// Every `custom_id` a batch was created with.
    seen: std::collections::HashSet<String>,
    /// Every request received, on any route.
    received: usize,
}

impl State {
    /// The time: the real Unix time, plus a second per call so that every event is ordered.
    fn tick(&mut self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.clock = (self.clock + 1).max(now);
        self.clock
    }

    fn file(&self, id: &str) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.json["id"] == id)
    }

    fn store_file(&mut self, filename: &str, purpose: &str, content: Vec<u8>) -> Map<String, Value> {
        let now = self.tick();
        self.files_made += 1;
        let id = format!("file-fake-{}", self.files_made);
        let json = json!({
            "id": id, "object": "file", "bytes": content.len(), "created_at": now,
            "expires_at": now + 7 * 24 * 3600, "filename": filename, "purpose": purpose,
        });
        let Value::Object(json) = json else {
            unreachable!("an object")
        };
        self.files.push(StoredFile {
            json: json.clone(),
            content: Arc::new(content),
        });
        json
    }

    /// The error that replaces this answer to `operation`, if a fault is armed for it.
    fn fault(&mut self, operation: &str) -> Option<ResponseTemplate> {
        let fault = self
            .options
            .faults
            .iter_mut()
            .find(|f| f.operation == operation && f.remaining > 0)?;
        fault.remaining -= 1;
        let status = fault.status;
        Some(error(
            status,
            &format!("The fake fails this {operation} request with {status}, as asked"),
            if status >= 500 {
                "server_error"
            } else {
                "invalid_request_error"
            },
            "injected_fault",
        ))
    }

    fn delay(&self, operation: &str) -> Option<Duration> {
        self.options
            .delays
            .iter()
            .find(|(op, _)| *op == operation)
            .map(|(_, d)| *d)
    }
}

/// A stateful, in-memory Cerebras Batch and Files API on 127.0.0.1, for tests
/// (and demos) that run whole workflows: any number of uploads, batches that move through their
/// statuses as they are polled and end with output and error files computed from their input,
/// cancels, deletes and listings. Where [`MockApi`](crate::MockApi) answers what a test scripts,
/// the fake behaves like the service.
///
/// Behaviour (each knob documented on [`FakeOptions`]):
/// - an upload stores the file (any purpose; its `filename` as sent) and returns it;
/// - a create checks the input file (10 to 50,000 lines, one model) and starts the batch in
///   `validating`; each retrieve moves it one status on (`validating` → `in_progress` →
///   `finalizing` → `completed`), or every [`FakeOptions::polls_per_status`] answers;
///   [`FakeOptions::finalizing_polls`] keeps it longer in `finalizing`;
/// - a completed batch's output file holds, for each request, a success line in the Cerebras
///   shape whose completion says `echo: <the request's last message>` (with `usage` of 3
///   prompt, 2 completion and 5 total tokens); a request that fails
///   ([`FakeOptions::fail_lines`]; by default those whose `custom_id` starts with `fail`) goes
///   to the error file instead, in the shape its [`LineFailure`] names;
/// - a batch of [`FakeOptions::failing_model`] ends `failed` with no output; one of
///   [`FakeOptions::expiring_model`] ends `expired` with the first half of its results;
/// - a cancel moves the batch to `cancelling`, and the next retrieve to `cancelled` with the
///   first half of its results;
/// - lists are newest first, paged by `limit` (default 20, at most 100) and `after` (an id);
/// - errors are vendor-shaped: 400 for a bad create, 401 without a bearer key, 404 for an
///   unknown id, 409 for cancelling a finished batch; [`FakeApi::fail_next`] injects others;
///   [`FakeApi::set_delay`] slows a route down.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cerebras_batch::types::CreateBatchRequest;
/// use std::time::Duration;
/// use cerebras_batch::{UploadFile, WaitOptions};
/// use cerebras_batch_mock::FakeApi;
///
/// let fake = FakeApi::start().await;
/// let client = fake.client();
/// let lines: String = (0..10)
///     .map(|i| format!(r#"{{"custom_id":"q{i}","method":"POST","url":"/v1/chat/completions","body":{{"model":"llama3.1-8b","messages":[{{"role":"user","content":"hi {i}"}}]}}}}"#) + "\n")
///     .collect();
/// let length = lines.len() as u64;
/// let upload = UploadFile::from_reader(std::io::Cursor::new(lines.into_bytes()), "in.jsonl", Some(length));
/// let file = client.upload_file(upload).await.unwrap();
/// let batch = client.create_batch(CreateBatchRequest::chat_completions(file.id)).await.unwrap();
/// let fast = WaitOptions::default().intervals(Duration::from_millis(100), Duration::from_millis(100));
/// let done = client.wait_for_batch(&batch.id, fast).await.unwrap();
/// assert_eq!(done.status_text(), "completed");
/// assert_eq!(fake.counts(), (2, 1)); // the input and the output file; one batch
/// # }
/// ```
pub struct FakeApi {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").field("uri", &self.server.uri()).finish()
    }
}

fn error(status: u16, message: &str, kind: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"message": message, "type": kind, "param": null, "code": code}))
}

type Handler = fn(&mut State, &Request) -> ResponseTemplate;

/// Every route: its operation, its path (a regex when it has a parameter) and its handler.
const ROUTES: &[(&Operation, &str, bool, Handler)] = &[
    (&ops::UPLOAD_FILE, "/v1/files", false, handlers::upload),
    (&ops::LIST_FILES, "/v1/files", false, handlers::list_files),
    (&ops::RETRIEVE_FILE, r"^/v1/files/[^/]+$", true, handlers::retrieve_file),
    (&ops::DELETE_FILE, r"^/v1/files/[^/]+$", true, handlers::delete_file),
    (
        &ops::RETRIEVE_FILE_CONTENT,
        r"^/v1/files/[^/]+/content$",
        true,
        handlers::file_content,
    ),
    (&ops::CREATE_BATCH, "/v1/batches", false, handlers::create_batch),
    (&ops::LIST_BATCHES, "/v1/batches", false, handlers::list_batches),
    (
        &ops::RETRIEVE_BATCH,
        r"^/v1/batches/[^/]+$",
        true,
        handlers::retrieve_batch,
    ),
    (&ops::CANCEL_BATCH, r"^/v1/batches/[^/]+$", true, handlers::cancel_batch),
];

impl FakeApi {
    /// Starts a fake with [`FakeOptions::default`] on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        Self::start_with(FakeOptions::default()).await
    }

    /// Starts a fake with `options` on a free port of 127.0.0.1.
    pub async fn start_with(options: FakeOptions) -> Self {
        Self::mount(MockServer::builder().disable_request_recording().start().await, options).await
    }

    /// Starts a fake with `options` on `listener` (a fixed port, for a server others connect to).
    pub async fn start_on(listener: std::net::TcpListener, options: FakeOptions) -> Self {
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        Self::mount(server, options).await
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client pointed at the fake (with [`TEST_KEY`](crate::TEST_KEY) and millisecond retry
    /// delays).
    pub fn client(&self) -> cerebras_batch::Client {
        cerebras_batch::Client::builder()
            .api_key(crate::TEST_KEY)
            .base_url(self.uri())
            .retry_delays(
                std::time::Duration::from_millis(1),
                std::time::Duration::from_millis(10),
            )
            .build()
            .expect("a client for the fake builds")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `(files created, batches created)` so far: uploads (and the output and error files the
    /// fake writes) and creates. A test asserts that nothing was created twice with it.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.files.len(), state.creates)
    }

    /// How many requests were received, on any route (a dry run must send none).
    pub fn received(&self) -> usize {
        self.lock().received
    }

    /// How many uploads were received.
    pub fn uploads(&self) -> usize {
        self.lock().uploads
    }

    /// Every batch, oldest first, as the fake would answer a retrieve now (without moving it on).
    pub fn batches(&self) -> Vec<Value> {
        self.lock()
            .batches
            .iter()
            .map(|b| Value::Object(b.json.clone()))
            .collect()
    }

    /// Every file, oldest first.
    pub fn files(&self) -> Vec<Value> {
        self.lock()
            .files
            .iter()
            .map(|f| Value::Object(f.json.clone()))
            .collect()
    }

    /// The bytes of file `id`.
    pub fn file_content(&self, id: &str) -> Option<Vec<u8>> {
        self.lock().file(id).map(|f| f.content.as_ref().clone())
    }

    /// The next `times` requests to `operation` get `status`, from now on (see
    /// [`FakeOptions::fail_next`]); replaces what was armed for that operation.
    pub fn fail_next(&self, operation: &Operation, status: u16, times: u32) {
        let mut state = self.lock();
        state.options.faults.retain(|f| f.operation != operation.id);
        state.options.faults.push(options::RouteFault {
            operation: operation.id,
            status,
            remaining: times,
        });
    }

    /// How many injected failures armed by [`fail_next`](Self::fail_next) (or
    /// [`FakeOptions::fail_next`]) for `operation` are still to come.
    pub fn pending_faults(&self, operation: &Operation) -> u32 {
        self.lock()
            .options
            .faults
            .iter()
            .filter(|f| f.operation == operation.id)
            .map(|f| f.remaining)
            .sum()
    }

    /// Delays every answer to `operation` by `delay` from now on (`None`: no delay; see
    /// [`FakeOptions::delay`]).
    pub fn set_delay(&self, operation: &Operation, delay: Option<Duration>) {
        let mut state = self.lock();
        state.options.delays.retain(|(op, _)| *op != operation.id);
        if let Some(delay) = delay {
            state.options.delays.push((operation.id, delay));
        }
    }

    async fn mount(server: MockServer, options: FakeOptions) -> Self {
        let state = Arc::new(Mutex::new(State {
            options,
            ..State::default()
        }));
        for &(operation, route, regex, handler) in ROUTES {
            let state = state.clone();
            let mock = if regex {
                Mock::given(method(operation.method)).and(path_regex(route))
            } else {
                Mock::given(method(operation.method)).and(path(route))
            };
            mock.respond_with(move |request: &Request| {
                state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).received += 1;
                if !request
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7)
                {
                    return error(
                        401,
                        "Missing or invalid API key",
                        "authentication_error",
                        "invalid_api_key",
                    );
                }
                let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let answer = match state.fault(operation.id) {
                    Some(fault) => fault,
                    None => handler(&mut state, request),
                };
                match state.delay(operation.id) {
                    Some(delay) => answer.set_delay(delay),
                    None => answer,
                }
            })
            .mount(&server)
            .await;
        }
        let counted = state.clone();
        Mock::given(wiremock::matchers::any())
            .respond_with(move |_: &Request| {
                counted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .received += 1;
                error(404, "No such route", "invalid_request_error", "not_found")
            })
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        Self { server, state }
    }
}
