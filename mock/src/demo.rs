//! The demo API: a whole batch workflow on a [`MockApi`], for the README's walkthrough (the
//! `fake-server` binary) and for tests that need every step.

use cerebras_batch::types::{BatchStatus, File};
use serde_json::{Value, json};

use crate::{BatchLifecycle, MockApi, Reply};

/// The id of the file the demo returns for any upload.
pub const INPUT_FILE_ID: &str = "file-input-1";
/// The batch every create returns; it runs `validating` → `in_progress` → `finalizing` →
/// `completed`, with the 12 result lines of [`result_lines`].
pub const BATCH_ID: &str = "batch_fake1";
/// Its output file.
pub const OUTPUT_FILE_ID: &str = "file-output-1";
/// A running batch: cancelling it goes `cancelling` → `cancelled`, with 3 partial results.
pub const CANCEL_BATCH_ID: &str = "batch_cancel1";
/// Its output file after the cancel.
pub const PARTIAL_FILE_ID: &str = "file-partial-1";

/// Result lines for `custom_id`s `req-01` .. `req-NN`: successes in the Cerebras shape, one in
/// the OpenAI shape (`req-02`), one failed (`req-03`) and one expired (`req-04`).
pub fn result_lines(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            let id = format!("req-{i:02}");
            let completion = json!({"id": format!("cmpl_{i}"), "object": "chat.completion", "created": 1699999999, "model": "llama-3.3-70b",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Answer {i}")}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}});
            match i {
                2 => json!({"id": "batch_req_2", "custom_id": id, "response": {"status_code": 200, "request_id": "req_abc", "body": completion}, "error": null}),
                3 => json!({"custom_id": id, "status": "failed", "error": {"code": "invalid_request", "message": "Prompt length exceeds model limit."}}),
                4 => json!({"custom_id": id, "status": "expired", "error": {"code": "timeout", "message": "Batch expired before this request completed."}}),
                _ => json!({"custom_id": id, "status": "succeeded", "response": completion}),
            }
        })
        .collect()
}

/// Mounts the demo on `api`: any upload, [`BATCH_ID`]'s and [`CANCEL_BATCH_ID`]'s lives, and a
/// vendor-shaped 404 for everything else.
pub async fn mount(api: &MockApi) {
    let uploaded = File::new(INPUT_FILE_ID)
        .with_object("file")
        .with_filename("requests.jsonl")
        .with_bytes(0)
        .with_purpose("batch")
        .with_created_at(1_766_003_270)
        .with_expires_at(1_766_608_070);
    api.upload_file().respond(Reply::ok(uploaded)).mount(api).await;
    BatchLifecycle::new(BATCH_ID)
        .input_file_id(INPUT_FILE_ID)
        .output_file_id(OUTPUT_FILE_ID)
        .on_create(BatchStatus::Validating)
        .output_lines(result_lines(12))
        .mount(api)
        .await;
    BatchLifecycle::new(CANCEL_BATCH_ID)
        .input_file_id(INPUT_FILE_ID)
        .output_file_id(PARTIAL_FILE_ID)
        .statuses([BatchStatus::InProgress])
        .output_lines(result_lines(12))
        .partial_after_cancel(3)
        .mount(api)
        .await;
    api.answer_the_rest_not_found().await;
}
