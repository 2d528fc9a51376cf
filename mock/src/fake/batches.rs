//! How the fake's batches move through their statuses, and the result files they end with.

use serde_json::{Value, json};

use super::{LineFailure, State, StoredRequest};

/// Moves batch `i` on by one retrieve: every status is answered
/// [`polls_per_status`](super::FakeOptions::polls_per_status) times (`finalizing`
/// [`finalizing_polls`](super::FakeOptions::finalizing_polls) times), then the next comes.
pub(super) fn advance(state: &mut State, i: usize) {
    let per = state.options.polls_per_status;
    let failing = state.options.failing_model.clone();
    let expiring = state.options.expiring_model.clone();
    let hide_counts = state.options.hide_request_counts;
    let heal = state.options.failures_heal;
    let batch = &mut state.batches[i];
    let status = batch.json["status"].as_str().unwrap_or_default().to_owned();
    if status == "cancelling" {
        finish(state, i, "cancelled", "cancelled_at", true);
        return;
    }
    let needed = match status.as_str() {
        "finalizing" => state.options.finalizing_polls.unwrap_or(per),
        _ => per,
    };
    if batch.answers < needed {
        batch.answers += 1;
        return;
    }
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
        "in_progress" if expiring.as_deref() == Some(model.as_str()) && (batch.first_run || !heal) => {
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
    batch.answers = 1;
    batch.json.insert("status".into(), json!(next.0));
    batch.json.insert(next.1.into(), json!(now));
    if next.0 == "finalizing" && !hide_counts {
        let total = batch.requests.len();
        let failed = batch.requests.iter().filter(|r| r.failure.is_some()).count();
        batch.json.insert(
            "request_counts".into(),
            json!({"total": total, "completed": total - failed, "failed": failed}),
        );
    }
}

/// The result line of request `n` of batch `batch_id`, and whether it goes to the error file.
fn result_line(batch_id: &str, n: usize, request: &StoredRequest, model: &str, now: i64) -> (Value, bool) {
    let custom_id = &request.custom_id;
    match &request.failure {
        None => (
            json!({"custom_id": custom_id, "status": "succeeded", "error": null, "response": {
                "id": format!("chatcmpl-{batch_id}-{n}"), "object": "chat.completion", "created": now, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": format!("echo: {}", request.prompt)}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}}),
            false,
        ),
        Some(LineFailure::Expired) => (
            json!({"custom_id": custom_id, "status": "expired", "response": null,
                   "error": {"code": "timeout", "message": "Batch expired before this request completed."}}),
            false,
        ),
        Some(LineFailure::Unreadable) => (json!({"custom_id": custom_id, "status": ["odd"], "response": 7}), true),
        Some(LineFailure::Code(code)) => (
            json!({"custom_id": custom_id, "status": "failed", "response": null,
                   "error": {"code": code, "message": format!("Request {custom_id} was refused")}}),
            true,
        ),
        Some(LineFailure::Status(status)) => {
            let kind = match status {
                429 => "rate_limit_error",
                500.. => "server_error",
                _ => "invalid_request_error",
            };
            (
                json!({"id": format!("batch_req_{batch_id}_{n}"), "custom_id": custom_id, "error": null, "response": {
                    "status_code": status, "request_id": format!("req_{batch_id}_{n}"),
                    "body": {"error": {"message": format!("Request {custom_id} failed with HTTP {status}"), "type": kind, "param": null, "code": null}}}}),
                true,
            )
        }
    }
}

/// Ends batch `i` with `status`, writing its output and error files (of the first half of its
/// requests when `partial`; none when it failed).
fn finish(state: &mut State, i: usize, status: &str, at: &str, partial: bool) {
    let now = state.tick();
    let (mut output, mut errors) = (Vec::new(), Vec::new());
    let batch = &state.batches[i];
    let id = batch.json["id"].as_str().unwrap_or_default().to_owned();
    let done = if status == "failed" {
        0
    } else if partial {
        batch.requests.len() / 2
    } else {
        batch.requests.len()
    };
    let (mut failed, mut to_error_file) = (0, 0);
    for (n, request) in batch.requests.iter().take(done).enumerate() {
        let (line, to_errors) = result_line(&id, n, request, &batch.model, now);
        let target = if to_errors { &mut errors } else { &mut output };
        serde_json::to_writer(&mut *target, &line).expect("JSON to memory");
        target.push(b'\n');
        failed += usize::from(request.failure.is_some());
        to_error_file += usize::from(to_errors);
    }
    let total = batch.requests.len() + usize::from(state.options.inconsistent_counts);
    let output_id = (done > 0).then(|| state.store_file(&format!("{id}_output.jsonl"), "batch_output", output));
    let error_id = (to_error_file > 0).then(|| state.store_file(&format!("{id}_errors.jsonl"), "batch_output", errors));
    let batch = &mut state.batches[i].json;
    batch.insert("status".into(), json!(status));
    batch.insert(at.into(), json!(now));
    batch.insert(
        "request_counts".into(),
        json!({"total": total, "completed": done - failed, "failed": failed}),
    );
    if let Some(f) = output_id {
        batch.insert("output_file_id".into(), f["id"].clone());
    }
    if let Some(f) = error_id {
        batch.insert("error_file_id".into(), f["id"].clone());
    }
}
