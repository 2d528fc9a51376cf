//! How a downstream crate tests its batch code with `cerebras-batch-mock`: only the public APIs
//! of the client and the mock crate, everything on 127.0.0.1.

use std::time::Duration;

use cerebras_batch::types::{BatchStatus, ErrorBody, File, FileList};
use cerebras_batch::{ErrorKind, MIN_POLL_INTERVAL, WaitOptions};
use cerebras_batch_mock::{BatchLifecycle, DOCUMENTED_ERROR_STATUSES, MockApi, Reply};
use cerebras_batch_mock_example::{PartialResults, cancel_and_count, count_files};
use serde_json::json;

/// As fast as the client polls: it never polls closer than `MIN_POLL_INTERVAL` (100 ms).
fn fast() -> WaitOptions {
    WaitOptions::default().intervals(MIN_POLL_INTERVAL, MIN_POLL_INTERVAL)
}

fn line(i: usize, status: &str) -> serde_json::Value {
    json!({"custom_id": format!("r{i}"), "status": status, "response": {"id": format!("c{i}")}})
}

#[tokio::test]
async fn cancel_and_wait_then_count_partial_results() {
    let api = MockApi::start().await;
    let batch = BatchLifecycle::new("batch_42")
        .statuses([BatchStatus::InProgress])
        .output_lines((1..=10).map(|i| line(i, if i == 3 { "failed" } else { "succeeded" })))
        .partial_after_cancel(4)
        .mount(&api)
        .await;
    let counted = cancel_and_count(&api.client(), "batch_42", fast())
        .await
        .expect("cancels");
    assert_eq!(
        counted,
        PartialResults {
            status: "cancelled".into(),
            succeeded: 3,
            failed: 1
        }
    );
    assert!(batch.was_cancelled());
    assert_eq!(batch.last_status(), Some(BatchStatus::Cancelled));
}

#[tokio::test]
async fn a_batch_that_completed_before_the_cancel_keeps_all_its_results() {
    let api = MockApi::start().await;
    BatchLifecycle::new("batch_done")
        .statuses([BatchStatus::Completed])
        .output_lines((1..=5).map(|i| line(i, "succeeded")))
        .mount(&api)
        .await;
    // The first retrieve makes it completed; the cancel is then refused ("already completed").
    api.client().retrieve_batch("batch_done").await.unwrap();
    let counted = cancel_and_count(&api.client(), "batch_done", fast())
        .await
        .expect("returns it");
    assert_eq!((counted.status.as_str(), counted.succeeded), ("completed", 5));
}

#[tokio::test]
async fn a_429_is_retried() {
    let api = MockApi::start().await;
    api.list_files()
        .limit(100)
        .respond(Reply::too_many_requests(ErrorBody::new().with_message("slow down")).retry_after(0))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&api)
        .await;
    let page = FileList::new()
        .with_data(vec![File::new("file_1"), File::new("file_2")])
        .with_has_more(false);
    api.list_files()
        .limit(100)
        .respond(Reply::ok(page))
        .expect(1)
        .mount(&api)
        .await;
    assert_eq!(count_files(&api.client()).await.expect("retried"), 2);
}

#[tokio::test]
async fn the_results_of_a_completed_batch_download_end_to_end() {
    let api = MockApi::start().await;
    BatchLifecycle::new("batch_ok")
        .output_lines((1..=12).map(|i| line(i, "succeeded")))
        .mount(&api)
        .await;
    let client = api.client();
    let batch = client.wait_for_batch("batch_ok", fast()).await.expect("completes");
    assert_eq!(batch.request_counts.as_ref().and_then(|c| c.completed), Some(12));
    let bytes = client
        .download_output(&batch)
        .await
        .unwrap()
        .expect("an output")
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 12);
}

#[tokio::test]
async fn ids_are_matched_exactly_as_the_client_sends_them() {
    let api = MockApi::start().await;
    let ids = ["a/b?c", "100%", "with space", "ünïcødé", "a+b&c=d", "x#y"];
    for id in ids {
        api.retrieve_batch()
            .batch_id(id)
            .respond(Reply::ok(cerebras_batch::types::Batch::new(id)))
            .expect(1)
            .mount(&api)
            .await;
    }
    for id in ids {
        let batch = api
            .client()
            .retrieve_batch(id)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(batch.id, id);
    }
    // An id nobody mounted is not matched by any of them.
    assert_eq!(
        api.client().retrieve_batch("a").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn every_documented_error_status_can_be_mocked_with_a_typed_body() {
    let api = MockApi::start().await;
    let client = api.client_builder().max_retries(0).build().unwrap();
    for (i, status) in DOCUMENTED_ERROR_STATUSES.iter().enumerate() {
        let id = format!("batch_{status}");
        api.cancel_batch()
            .batch_id(&id)
            .respond(Reply::error(
                *status,
                ErrorBody::new()
                    .with_message(format!("status {status}"))
                    .with_code(i.to_string()),
            ))
            .mount(&api)
            .await;
        let err = client.cancel_batch(&id).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(*status));
        assert_eq!(err.kind(), ErrorKind::from_status(*status));
        assert_eq!(err.message(), format!("status {status}"));
        assert_eq!(err.body().and_then(|b| b.code.clone()), Some(i.to_string()));
    }
    assert_eq!(DOCUMENTED_ERROR_STATUSES, [400, 401, 402, 403, 404, 422, 429, 500, 503]);
    // The named constructors are the same replies.
    let named: Reply<cerebras_batch::types::Batch> = Reply::service_unavailable(ErrorBody::new());
    assert_eq!(named.status(), 503);
}

#[tokio::test]
async fn odd_replies_raw_bodies_headers_and_delays() {
    let api = MockApi::start().await;
    api.retrieve_batch()
        .batch_id("b502")
        .respond(
            Reply::raw(502, "<html><title>502 Bad Gateway</title></html>", "text/html").header("x-request-id", "req_9"),
        )
        .mount(&api)
        .await;
    let client = api.client_builder().max_retries(0).build().unwrap();
    let err = client.retrieve_batch("b502").await.unwrap_err();
    assert_eq!(err.message(), "502 Bad Gateway");
    assert_eq!(err.request_id(), Some("req_9"));

    // The docs' own cancel example, as printed: `calling` decodes as an unknown status.
    api.cancel_batch()
        .batch_id("b_calling")
        .respond(Reply::ok(
            cerebras_batch::types::Batch::new("b_calling").with_status("calling"),
        ))
        .mount(&api)
        .await;
    let batch = client.cancel_batch("b_calling").await.unwrap();
    assert_eq!(batch.status_text(), "calling");

    api.retrieve_batch()
        .batch_id("slow")
        .respond(Reply::ok(cerebras_batch::types::Batch::new("slow")).delay(Duration::from_millis(300)))
        .mount(&api)
        .await;
    let impatient = api
        .client_builder()
        .max_retries(0)
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    assert_eq!(
        impatient.retrieve_batch("slow").await.unwrap_err().kind(),
        ErrorKind::Timeout
    );
}

#[tokio::test]
async fn uploads_and_creates_are_matched_by_their_content() {
    let api = MockApi::start().await;
    api.upload_file()
        .filename("requests.jsonl")
        .expires_after(3600)
        .file_content(b"{}\n".to_vec())
        .respond(Reply::ok(File::new("file_up")))
        .expect(1)
        .mount(&api)
        .await;
    let request = cerebras_batch::types::CreateBatchRequest::chat_completions("file_up");
    api.create_batch()
        .body(request.clone())
        .respond(Reply::ok(cerebras_batch::types::Batch::new("batch_new")))
        .expect(1)
        .mount(&api)
        .await;
    let client = api.client();
    let upload =
        cerebras_batch::UploadFile::from_reader(std::io::Cursor::new(b"{}\n".to_vec()), "requests.jsonl", Some(3))
            .expires_after(3600);
    let file = client.upload_file(upload).await.expect("matched");
    let batch = client.create_batch(request).await.expect("matched");
    assert_eq!((file.id.as_str(), batch.id.as_str()), ("file_up", "batch_new"));
    // Another body is not matched.
    let other = client
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions(
            "file_other",
        ))
        .await
        .unwrap_err();
    assert_eq!(other.kind(), ErrorKind::NotFound);
}
