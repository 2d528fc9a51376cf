//! The fake's answer to each route.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::{State, StoredBatch, StoredRequest, batches, error};

fn not_found(what: &str, id: &str) -> ResponseTemplate {
    error(
        404,
        &format!("No {what} with id {id}"),
        "invalid_request_error",
        "not_found",
    )
}

fn bad_request(message: &str) -> ResponseTemplate {
    error(400, message, "invalid_request_error", "invalid_request")
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

/// The path's segment `from_end` places before the last (percent-decoded).
fn segment(request: &Request, from_end: usize) -> String {
    let segments: Vec<&str> = request.url.path_segments().map(Iterator::collect).unwrap_or_default();
    let raw = segments
        .get(segments.len().saturating_sub(1 + from_end))
        .copied()
        .unwrap_or_default();
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

pub(super) fn upload(state: &mut State, request: &Request) -> ResponseTemplate {
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

pub(super) fn list_files(state: &mut State, request: &Request) -> ResponseTemplate {
    page(state.files.iter().map(|f| f.json.clone()).collect(), request)
}

pub(super) fn retrieve_file(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    match state.file(&id) {
        Some(f) => ResponseTemplate::new(200).set_body_json(&f.json),
        None => not_found("file", &id),
    }
}

pub(super) fn delete_file(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    match state.files.iter().position(|f| f.json["id"] == id.as_str()) {
        Some(i) => {
            state.files.remove(i);
            ResponseTemplate::new(200).set_body_json(json!({"id": id, "object": "file", "deleted": true}))
        }
        None => not_found("file", &id),
    }
}

pub(super) fn file_content(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 1);
    match state.file(&id) {
        Some(f) => ResponseTemplate::new(200).set_body_raw(f.content.as_ref().clone(), "application/x-ndjson"),
        None => not_found("file", &id),
    }
}

pub(super) fn create_batch(state: &mut State, request: &Request) -> ResponseTemplate {
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
        let custom_id = line["custom_id"].as_str().unwrap_or_default().to_owned();
        models.insert(line["body"]["model"].as_str().unwrap_or_default().to_owned());
        let prompt = line["body"]["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let healed = state.options.failures_heal && state.seen.contains(&custom_id);
        let failure = match state.options.failure_of(&custom_id) {
            Some(_) if healed && !custom_id.starts_with("fail") => None,
            other => other,
        };
        requests.push(StoredRequest {
            custom_id,
            prompt,
            failure,
        });
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
    let first_run = requests.iter().any(|r| !state.seen.contains(&r.custom_id));
    state.seen.extend(requests.iter().map(|r| r.custom_id.clone()));
    let now = state.tick();
    state.creates += 1;
    let id = format!("batch_fake_{}", state.batches.len() + 1);
    let total = if state.options.hide_request_counts {
        0
    } else {
        requests.len()
    };
    let json = json!({
        "id": id, "object": "batch", "endpoint": body.get("endpoint").cloned().unwrap_or(json!("/v1/chat/completions")),
        "errors": null, "input_file_id": input,
        "completion_window": body.get("completion_window").cloned().unwrap_or(json!("24h")),
        "status": "validating", "output_file_id": null, "error_file_id": null, "created_at": now,
        "in_progress_at": null, "expires_at": now + 24 * 3600, "finalizing_at": null, "completed_at": null,
        "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": total, "completed": 0, "failed": 0},
        "metadata": body.get("metadata").cloned().unwrap_or(Value::Null),
    });
    let Value::Object(json) = json else {
        unreachable!("an object")
    };
    state.batches.push(StoredBatch {
        json: json.clone(),
        requests,
        model: models.into_iter().next().unwrap_or_default(),
        answers: 1,
        first_run,
    });
    ResponseTemplate::new(200).set_body_json(json)
}

pub(super) fn list_batches(state: &mut State, request: &Request) -> ResponseTemplate {
    page(state.batches.iter().map(|b| b.json.clone()).collect(), request)
}

pub(super) fn retrieve_batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    let Some(i) = state.batches.iter().position(|b| b.json["id"] == id.as_str()) else {
        return not_found("batch", &id);
    };
    batches::advance(state, i);
    ResponseTemplate::new(200).set_body_json(&state.batches[i].json)
}

pub(super) fn cancel_batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let id = segment(request, 0);
    let Some(i) = state.batches.iter().position(|b| b.json["id"] == id.as_str()) else {
        return not_found("batch", &id);
    };
    let now = state.tick();
    let hide_counts = state.options.hide_request_counts;
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
    let mut answer = batch.json.clone();
    if hide_counts {
        // As the vendor's Cancel batch example answers.
        answer.insert("request_counts".into(), Value::Null);
    }
    ResponseTemplate::new(200).set_body_json(answer)
}
