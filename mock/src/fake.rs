//! [`FakeApi`]: a stateful, in-memory Cerebras Batch and Files API on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// How a [`FakeApi`] behaves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FakeOptions {
    /// Retrieves per status step (default 1: each retrieve moves a batch one status on).
    pub polls_per_status: u32,
    /// Batches whose requests use this model end `failed`, with no output (default none).
    pub failing_model: Option<String>,
    /// Batches whose requests use this model end `expired`, with half their results (default
    /// none).
    pub expiring_model: Option<String>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            polls_per_status: 1,
            failing_model: None,
            expiring_model: None,
        }
    }
}

impl FakeOptions {
    /// See [`polls_per_status`](Self::polls_per_status) (at least 1).
    pub fn polls_per_status(mut self, polls: u32) -> Self {
        self.polls_per_status = polls.max(1);
        self
    }

    /// See [`failing_model`](Self::failing_model).
    pub fn failing_model(mut self, model: impl Into<String>) -> Self {
        self.failing_model = Some(model.into());
        self
    }

    /// See [`expiring_model`](Self::expiring_model).
    pub fn expiring_model(mut self, model: impl Into<String>) -> Self {
        self.expiring_model = Some(model.into());
        self
    }
}

/// A stored file.
struct StoredFile {
    json: Map<String, Value>,
    content: Arc<Vec<u8>>,
}

/// A batch and what the fake knows of it.
struct StoredBatch {
    json: Map<String, Value>,
    /// `(custom_id, last message content, fails)` of each request.
    requests: Vec<(String, String, bool)>,
    model: String,
    polls: u32,
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
}

/// A stateful, in-memory Cerebras Batch and Files API on 127.0.0.1, for tests
/// (and demos) that run whole workflows: any number of uploads, batches that move through their
/// statuses as they are polled and end with output and error files computed from their input,
/// cancels, deletes and listings. Where [`MockApi`](crate::MockApi) answers what a test scripts,
/// the fake behaves like the service.
///
/// Behaviour (each documented on [`FakeOptions`]):
/// - an upload stores the file (any purpose; its `filename` as sent) and returns it;
/// - a create checks the input file (10 to 50,000 lines, one model) and starts the batch in
///   `validating`; each retrieve moves it one status on (`validating` → `in_progress` →
///   `finalizing` → `completed`), or every [`FakeOptions::polls_per_status`] retrieves;
/// - a completed batch's output file holds, for each request, a success line in the Cerebras
///   shape whose completion says `echo: <the request's last message>`; requests whose
///   `custom_id` starts with `fail` go to the error file as failures instead;
/// - a batch of [`FakeOptions::failing_model`] ends `failed` with no output; one of
///   [`FakeOptions::expiring_model`] ends `expired` with the first half of its results;
/// - a cancel moves the batch to `cancelling`, and the next retrieve to `cancelled` with the
///   first half of its results;
/// - lists are newest first, paged by `limit` (default 20, at most 100) and `after` (an id);
/// - errors are vendor-shaped: 400 for a bad create, 401 without a bearer key, 404 for an
///   unknown id.
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

fn not_found(what: &str, id: &str) -> ResponseTemplate {
    error(
        404,
        &format!("No {what} with id {id}"),
        "invalid_request_error",
        "not_found",
    )
}

fn page(items: Vec<Map<String, Value>>, request: &Request) -> ResponseTemplate {
    let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let mut items: Vec<Map<String, Value>> = items.into_iter().rev().collect();
    if let Some(after) = query.get("after") {
        match items.iter().position(|i| i["id"] == after.as_str()) {
            Some(p) => {
                items.drain(..=p);
            }
            None => items.clear(),
        }
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": items, "has_more": has_more}))
}

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

    async fn mount(server: MockServer, options: FakeOptions) -> Self {
        let state = Arc::new(Mutex::new(State {
            options,
            ..State::default()
        }));
        let handlers: Vec<(&str, &str, bool, Handler)> = vec![
            ("POST", "/v1/files", false, upload),
            ("GET", "/v1/files", false, list_files),
            ("GET", r"^/v1/files/[^/]+$", true, retrieve_file),
            ("DELETE", r"^/v1/files/[^/]+$", true, delete_file),
            ("GET", r"^/v1/files/[^/]+/content$", true, file_content),
            ("POST", "/v1/batches", false, create_batch),
            ("GET", "/v1/batches", false, list_batches),
            ("GET", r"^/v1/batches/[^/]+$", true, retrieve_batch),
            ("DELETE", r"^/v1/batches/[^/]+$", true, cancel_batch),
        ];
        for (verb, route, regex, handler) in handlers {
            let state = state.clone();
            let mock = if regex {
                Mock::given(method(verb)).and(path_regex(route))
            } else {
                Mock::given(method(verb)).and(path(route))
            };
            mock.respond_with(move |request: &Request| {
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
                handler(&mut state, request)
            })
            .mount(&server)
            .await;
        }
        Mock::given(wiremock::matchers::any())
            .respond_with(error(404, "No such route", "invalid_request_error", "not_found"))
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        Self { server, state }
    }
}

type Handler = fn(&mut State, &Request) -> ResponseTemplate;

/// The path's segment `from_end` places before the last (percent-decoded).
fn segment(request: &Request, from_end: usize) -> String {
    let segments: Vec<&str> = request.url.path_segments().map(Iterator::collect).unwrap_or_default();
    let raw = segments
        .get(segments.len().saturating_sub(1 + from_end))
        .copied()
        .unwrap_or_default();
    percent_decode(raw)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn upload(state: &mut State, request: &Request) -> ResponseTemplate {
    let Some(fields) = crate::upload::fields(request) else {
        return error(
            400,
            "Expected a multipart/form-data body",
            "invalid_request_error",
            "invalid_body",
        );
    };
    let Some(file) = fields.iter().find(|f| f.name == "file") else {
        return error(400, "Missing file", "invalid_request_error", "missing_file");
    };
    let purpose = fields.iter().find(|f| f.name == "purpose").map_or_else(
        || "batch".to_owned(),
        |f| String::from_utf8_lossy(&f.bytes).into_owned(),
    );
    state.uploads += 1;
    let filename = file.filename.clone().unwrap_or_else(|| "upload".into());
    let json = state.store_file(&filename, &purpose, file.bytes.clone());
    ResponseTemplate::new(200).set_body_json(json)
}

fn list_files(state: &mut State, request: &Request) -> ResponseTemplate {
    page(state.files.iter().map(|f| f.json.clone()).collect(), request)
}

fn retrieve_file(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    match state.file(&id) {
        Some(f) => ResponseTemplate::new(200).set_body_json(&f.json),
        None => not_found("file", &id),
    }
}

fn delete_file(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    match state.files.iter().position(|f| f.json["id"] == id.as_str()) {
        Some(i) => {
            state.files.remove(i);
            ResponseTemplate::new(200).set_body_json(json!({"id": id, "object": "file", "deleted": true}))
        }
        None => not_found("file", &id),
    }
}

fn file_content(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 1);
    match state.file(&id) {
        Some(f) => ResponseTemplate::new(200).set_body_raw(f.content.as_ref().clone(), "application/x-ndjson"),
        None => not_found("file", &id),
    }
}

fn bad_request(message: &str) -> ResponseTemplate {
    error(400, message, "invalid_request_error", "invalid_request")
}

fn create_batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let Ok(body) = serde_json::from_slice::<Map<String, Value>>(&request.body) else {
        return bad_request("The body is not a JSON object");
    };
    let Some(input) = body.get("input_file_id").and_then(Value::as_str) else {
        return bad_request("input_file_id is required");
    };
    let Some(file) = state.file(input) else {
        return not_found("file", input);
    };
    let mut requests = Vec::new();
    let mut models = std::collections::BTreeSet::new();
    for (n, line) in file.content.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(line) = serde_json::from_slice::<Value>(line) else {
            return bad_request(&format!("Line {} of the input file is not JSON", n + 1));
        };
        let id = line["custom_id"].as_str().unwrap_or_default().to_owned();
        models.insert(line["body"]["model"].as_str().unwrap_or_default().to_owned());
        let prompt = line["body"]["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let fails = id.starts_with("fail");
        requests.push((id, prompt, fails));
    }
    if !(10..=50_000).contains(&requests.len()) {
        return bad_request(&format!(
            "A batch needs 10 to 50000 requests; the file has {}",
            requests.len()
        ));
    }
    if models.len() != 1 {
        return bad_request("Every request of a batch must use the same model");
    }
    let now = state.tick();
    state.creates += 1;
    let id = format!("batch_fake_{}", state.batches.len() + 1);
    let json = json!({
        "id": id, "object": "batch", "endpoint": body.get("endpoint").cloned().unwrap_or(json!("/v1/chat/completions")),
        "errors": null, "input_file_id": input,
        "completion_window": body.get("completion_window").cloned().unwrap_or(json!("24h")),
        "status": "validating", "output_file_id": null, "error_file_id": null, "created_at": now,
        "in_progress_at": null, "expires_at": now + 24 * 3600, "finalizing_at": null, "completed_at": null,
        "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": requests.len(), "completed": 0, "failed": 0},
        "metadata": body.get("metadata").cloned().unwrap_or(Value::Null),
    });
    let Value::Object(json) = json else {
        unreachable!("an object")
    };
    state.batches.push(StoredBatch {
        json: json.clone(),
        requests,
        model: models.into_iter().next().unwrap_or_default(),
        polls: 0,
    });
    ResponseTemplate::new(200).set_body_json(json)
}

fn list_batches(state: &mut State, request: &Request) -> ResponseTemplate {
    page(state.batches.iter().map(|b| b.json.clone()).collect(), request)
}

fn retrieve_batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    let Some(i) = state.batches.iter().position(|b| b.json["id"] == id.as_str()) else {
        return not_found("batch", &id);
    };
    advance(state, i);
    ResponseTemplate::new(200).set_body_json(&state.batches[i].json)
}

fn cancel_batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    let Some(i) = state.batches.iter().position(|b| b.json["id"] == id.as_str()) else {
        return not_found("batch", &id);
    };
    let now = state.tick();
    let batch = &mut state.batches[i];
    let status = batch.json["status"].as_str().unwrap_or_default().to_owned();
    if matches!(status.as_str(), "completed" | "failed" | "expired" | "cancelled") {
        return error(
            409,
            &format!("Batch {id} is already {status} and cannot be cancelled"),
            "invalid_request_error",
            "batch_not_cancellable",
        );
    }
    if status != "cancelling" {
        batch.json.insert("status".into(), json!("cancelling"));
        batch.json.insert("cancelling_at".into(), json!(now));
    }
    ResponseTemplate::new(200).set_body_json(&batch.json)
}

/// Moves batch `i` on by one poll.
fn advance(state: &mut State, i: usize) {
    let per = state.options.polls_per_status;
    let failing = state.options.failing_model.clone();
    let expiring = state.options.expiring_model.clone();
    let batch = &mut state.batches[i];
    let status = batch.json["status"].as_str().unwrap_or_default().to_owned();
    if status == "cancelling" {
        finish(state, i, "cancelled", "cancelled_at", true);
        return;
    }
    batch.polls += 1;
    if !batch.polls.is_multiple_of(per) {
        return;
    }
    let total = batch.requests.len();
    let model = batch.model.clone();
    let next = match status.as_str() {
        "validating" if failing.as_deref() == Some(model.as_str()) => {
            batch.json.insert(
                "errors".into(),
                json!({"object": "list", "data": [{"code": "model_unavailable", "message": format!("Model {model} is not available for batches"), "param": null, "line": null}]}),
            );
            finish(state, i, "failed", "failed_at", false);
            return;
        }
        "validating" => ("in_progress", "in_progress_at"),
        "in_progress" if expiring.as_deref() == Some(model.as_str()) => {
            finish(state, i, "expired", "expired_at", true);
            return;
        }
        "in_progress" => ("finalizing", "finalizing_at"),
        "finalizing" => {
            finish(state, i, "completed", "completed_at", false);
            return;
        }
        _ => return,
    };
    let now = state.tick();
    let batch = &mut state.batches[i];
    batch.json.insert("status".into(), json!(next.0));
    batch.json.insert(next.1.into(), json!(now));
    if next.0 == "finalizing" {
        let failed = batch.requests.iter().filter(|r| r.2).count();
        batch.json.insert(
            "request_counts".into(),
            json!({"total": total, "completed": total - failed, "failed": failed}),
        );
    }
}

/// Ends batch `i` with `status`, writing its output and error files (of the first half of its
/// requests when `partial`; none when it failed).
fn finish(state: &mut State, i: usize, status: &str, at: &str, partial: bool) {
    let now = state.tick();
    let (mut output, mut errors) = (Vec::new(), Vec::new());
    let (id, requests) = {
        let batch = &state.batches[i];
        (
            batch.json["id"].as_str().unwrap_or_default().to_owned(),
            batch.requests.clone(),
        )
    };
    let done = if status == "failed" {
        0
    } else if partial {
        requests.len() / 2
    } else {
        requests.len()
    };
    let model = state.batches[i].model.clone();
    for (n, (custom_id, prompt, fails)) in requests.iter().take(done).enumerate() {
        let line = if *fails {
            json!({"custom_id": custom_id, "status": "failed", "response": null,
                   "error": {"code": "invalid_request", "message": format!("Request {custom_id} was refused")}})
        } else {
            json!({"custom_id": custom_id, "status": "succeeded", "error": null, "response": {
                "id": format!("chatcmpl-{id}-{n}"), "object": "chat.completion", "created": now, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": format!("echo: {prompt}")}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}})
        };
        let target = if *fails { &mut errors } else { &mut output };
        serde_json::to_writer(&mut *target, &line).expect("JSON to memory");
        target.push(b'\n');
    }
    let failed = requests.iter().take(done).filter(|r| r.2).count();
    let output_id = (done > 0).then(|| state.store_file(&format!("{id}_output.jsonl"), "batch_output", output));
    let error_id = (failed > 0).then(|| state.store_file(&format!("{id}_errors.jsonl"), "batch_output", errors));
    let batch = &mut state.batches[i].json;
    batch.insert("status".into(), json!(status));
    batch.insert(at.into(), json!(now));
    batch.insert(
        "request_counts".into(),
        json!({"total": requests.len(), "completed": done - failed, "failed": failed}),
    );
    if let Some(f) = output_id {
        batch.insert("output_file_id".into(), f["id"].clone());
    }
    if let Some(f) = error_id {
        batch.insert("error_file_id".into(), f["id"].clone());
    }
}
