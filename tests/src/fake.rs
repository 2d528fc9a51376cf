//! A fake Cerebras Batch API on 127.0.0.1 (wiremock) that plays the whole batch workflow:
//! upload, create, a status sequence, results, and a cancellation with partial results.
//!
//! Used by the end-to-end tests and by `cargo run -p cerebras-batch-tests --bin fake-server`,
//! which the README's walkthrough runs the examples against.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The id of the file [`start`]'s server returns for any upload.
pub const INPUT_FILE_ID: &str = "file-input-1";
/// The id of the batch it creates; it runs `in_progress` → `finalizing` → `completed`.
pub const BATCH_ID: &str = "batch_fake1";
/// A batch that is running: cancelling it goes `cancelling` → `cancelled`, with partial results.
pub const CANCEL_BATCH_ID: &str = "batch_cancel1";
/// The output file of [`BATCH_ID`]: 12 result lines.
pub const OUTPUT_FILE_ID: &str = "file-output-1";
/// The output file of [`CANCEL_BATCH_ID`]: 3 result lines.
pub const PARTIAL_FILE_ID: &str = "file-partial-1";

/// A batch object as the API returns it.
pub fn batch(id: &str, status: &str, extra: Value) -> Value {
    let mut b = json!({
        "id": id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
        "input_file_id": INPUT_FILE_ID, "completion_window": "24h", "status": status,
        "output_file_id": null, "error_file_id": null, "created_at": 1766003277,
        "in_progress_at": null, "expires_at": null, "finalizing_at": null, "completed_at": null,
        "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": 12, "completed": 0, "failed": 0}, "metadata": null
    });
    if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
        b.extend(extra);
    }
    b
}

/// Result lines for `custom_id`s `req-01` .. `req-NN`: mostly successes in the Cerebras shape,
/// one in the OpenAI shape, one failed and one expired.
pub fn result_lines(n: usize) -> String {
    let mut out = String::new();
    for i in 1..=n {
        let id = format!("req-{i:02}");
        let completion = json!({"id": format!("cmpl_{i}"), "object": "chat.completion", "created": 1699999999, "model": "llama-3.3-70b",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Answer {i}")}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}});
        let line = match i {
            2 => {
                json!({"id": "batch_req_2", "custom_id": id, "response": {"status_code": 200, "request_id": "req_abc", "body": completion}, "error": null})
            }
            3 => {
                json!({"custom_id": id, "status": "failed", "error": {"code": "invalid_request", "message": "Prompt length exceeds model limit."}})
            }
            4 => {
                json!({"custom_id": id, "status": "expired", "error": {"code": "timeout", "message": "Batch expired before this request completed."}})
            }
            _ => json!({"custom_id": id, "status": "succeeded", "response": completion}),
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn json_response(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Mounts the workflow on `server`.
pub async fn mount_workflow(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/files"))
        .respond_with(json_response(json!({"id": INPUT_FILE_ID, "object": "file", "filename": "requests.jsonl", "bytes": 0, "purpose": "batch", "created_at": 1766003270, "expires_at": 1766608070})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/batches"))
        .respond_with(json_response(batch(BATCH_ID, "validating", json!({}))))
        .mount(server)
        .await;

    // The created batch: in_progress, finalizing, then completed for good.
    let get = |id: &str| Mock::given(method("GET")).and(path(format!("/v1/batches/{id}")));
    get(BATCH_ID)
        .respond_with(json_response(batch(
            BATCH_ID,
            "in_progress",
            json!({"in_progress_at": 1766003300, "request_counts": {"total": 12, "completed": 5, "failed": 0}}),
        )))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    get(BATCH_ID)
        .respond_with(json_response(batch(
            BATCH_ID,
            "finalizing",
            json!({"in_progress_at": 1766003300, "finalizing_at": 1766003400}),
        )))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(server)
        .await;
    get(BATCH_ID)
        .respond_with(json_response(batch(
            BATCH_ID,
            "completed",
            json!({
            "in_progress_at": 1766003300, "finalizing_at": 1766003400, "completed_at": 1766003500,
            "output_file_id": OUTPUT_FILE_ID, "request_counts": {"total": 12, "completed": 10, "failed": 2}}),
        )))
        .with_priority(3)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/files/{OUTPUT_FILE_ID}/content")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(result_lines(12), "application/x-ndjson"))
        .mount(server)
        .await;

    // The batch to cancel: cancelling (from the DELETE and one poll), then cancelled.
    Mock::given(method("DELETE"))
        .and(path(format!("/v1/batches/{CANCEL_BATCH_ID}")))
        .respond_with(json_response(batch(
            CANCEL_BATCH_ID,
            "cancelling",
            json!({"in_progress_at": 1766003300, "cancelling_at": 1766003350}),
        )))
        .mount(server)
        .await;
    get(CANCEL_BATCH_ID)
        .respond_with(json_response(batch(
            CANCEL_BATCH_ID,
            "cancelling",
            json!({"in_progress_at": 1766003300, "cancelling_at": 1766003350}),
        )))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    get(CANCEL_BATCH_ID)
        .respond_with(json_response(batch(
            CANCEL_BATCH_ID,
            "cancelled",
            json!({
            "in_progress_at": 1766003300, "cancelling_at": 1766003350, "cancelled_at": 1766003420,
            "output_file_id": PARTIAL_FILE_ID, "request_counts": {"total": 12, "completed": 3, "failed": 0}}),
        )))
        .with_priority(2)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/files/{PARTIAL_FILE_ID}/content")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(result_lines(3), "application/x-ndjson"))
        .mount(server)
        .await;
}

/// A Create batch body for the input file `input_file_id`.
pub fn create_request(input_file_id: &str) -> cerebras_batch::types::CreateBatchRequest {
    cerebras_batch::types::CreateBatchRequest::chat_completions(input_file_id)
}

/// How many requests `server` has received.
pub async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
        .len()
}

/// Starts a fake API with the workflow mounted, on a free port of 127.0.0.1.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    mount_workflow(&server).await;
    mount_not_found(&server).await;
    server
}

/// Answers every request no other mock matches with a vendor-shaped 404, so that the fake
/// shows the real error path (`retrieve_batch (GET /v1/batches/batch_nope): not found ...`).
pub async fn mount_not_found(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "No such object", "type": "invalid_request_error", "code": "not_found"}
        })))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}
