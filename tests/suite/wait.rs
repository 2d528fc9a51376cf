//! Waiting and cancelling: polling through unknown statuses, deadlines (a poll in flight included),
//! the poll interval's floor, huge durations, and cancels the server refuses.

use cerebras_batch::ErrorKind;
use cerebras_batch::WaitOptions;
use cerebras_batch::types;
use cerebras_batch::types::BatchStatus;
use cerebras_batch_tests::batch_json;
use cerebras_batch_tests::batch_response;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::test_client;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::method;
use wiremock::matchers::path;

fn fast() -> WaitOptions {
    WaitOptions::default().intervals(Duration::from_millis(1), Duration::from_millis(5))
}

/// A cancel the server refuses: the batch is retrieved, and what it says decides.
async fn refused_cancel(retrieved: &[&str]) -> (MockServer, Result<types::Batch, cerebras_batch::Error>) {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/batches/b1"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "message": "batch is already cancelling", "type": "invalid_request_error"
        })))
        .mount(&server)
        .await;
    for (i, status) in retrieved.iter().enumerate() {
        let last = i + 1 == retrieved.len();
        let mock = Mock::given(method("GET"))
            .and(path("/v1/batches/b1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(batch_json("b1", status, json!({}))))
            .with_priority(1 + i as u8);
        let mock = if last { mock } else { mock.up_to_n_times(1) };
        mock.mount(&server).await;
    }
    let result = test_client(&server.uri(), 0).cancel_and_wait("b1", fast()).await;
    (server, result)
}

#[tokio::test]
async fn waits_with_huge_durations_do_not_panic() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch_response("in_progress"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(batch_response("completed"))
        .with_priority(2)
        .mount(&server)
        .await;
    let done = test_client(&server.uri(), 2)
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::MAX)
                .intervals(Duration::ZERO, Duration::ZERO),
        )
        .await;
    assert_eq!(done.expect("completes").status, Some(types::BatchStatus::Completed));

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch_response("in_progress"))
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 2)
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::from_millis(50))
                .intervals(Duration::MAX, Duration::MAX),
        )
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
}

#[tokio::test]
async fn the_deadline_bounds_a_poll_in_flight() {
    // A slow server that would answer `completed`: past the deadline, the wait must not take it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch_response("completed").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 2)
        .wait_for_batch("b1", WaitOptions::default().deadline(Duration::from_millis(200)))
        .await
        .expect_err("deadline first");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    assert!(err.last_batch().is_none());

    // A server that asks to retry in 4 s: the wait ends at its deadline, not after the retries.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "4"))
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 2)
        .wait_for_batch("b1", WaitOptions::default().deadline(Duration::from_millis(200)))
        .await
        .expect_err("deadline first");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
}

#[tokio::test]
async fn a_zero_interval_has_a_floor() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch_response("in_progress"))
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 2)
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::from_millis(350))
                .intervals(Duration::ZERO, Duration::ZERO),
        )
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    assert!(
        request_count(&server).await <= 5,
        "at most one poll per MIN_POLL_INTERVAL: {}",
        request_count(&server).await
    );
}

#[tokio::test]
async fn waiting_goes_on_through_unknown_statuses() {
    let server = MockServer::start().await;
    let get = || Mock::given(method("GET")).and(path("/v1/batches/b1"));
    get()
        .respond_with(ResponseTemplate::new(200).set_body_json(batch_json("b1", "calling", json!({}))))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    get()
        .respond_with(ResponseTemplate::new(200).set_body_json(batch_json(
            "b1",
            "expired",
            json!({"expired_at": 1766090000}),
        )))
        .mount(&server)
        .await;
    let batch = test_client(&server.uri(), 0)
        .wait_for_batch("b1", fast())
        .await
        .expect("ends");
    assert_eq!(batch.status, Some(BatchStatus::Expired));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn waiting_past_the_deadline_returns_the_last_batch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch_json("b1", "in_progress", json!({}))))
        .mount(&server)
        .await;
    // The deadline leaves room for the first poll's answer on a loaded machine (30 ms did not,
    // under a load of 11 on 2 cores): the batch is then never final, so the wait always ends
    // at the deadline, with a batch seen.
    let err = test_client(&server.uri(), 0)
        .wait_for_batch("b1", fast().deadline(Duration::from_secs(2)))
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    let last = err.last_batch().expect("the last batch seen");
    assert_eq!(
        (last.id.as_str(), last.status.clone()),
        ("b1", Some(BatchStatus::InProgress))
    );
}

#[tokio::test]
async fn cancel_and_wait_reaches_cancelled_with_partial_results() {
    let server = cerebras_batch_tests::demo().await;
    let c = test_client(&server.uri(), 0);
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let seen = statuses.clone();
    let batch = c
        .cancel_and_wait(
            cerebras_batch_mock::demo::CANCEL_BATCH_ID,
            fast().on_poll(move |b| seen.lock().unwrap().push(b.status.clone())),
        )
        .await
        .expect("cancelled");
    assert_eq!(batch.status, Some(BatchStatus::Cancelled));
    assert_eq!(
        *statuses.lock().unwrap(),
        [BatchStatus::Cancelling, BatchStatus::Cancelling, BatchStatus::Cancelled].map(Some)
    );
    let partial: Vec<_> = c
        .download_output(&batch)
        .await
        .unwrap()
        .unwrap()
        .results()
        .collect()
        .await;
    assert_eq!(partial.iter().filter(|l| l.is_ok()).count(), 3);
    let methods: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["DELETE", "GET", "GET", "GET"]);
}

#[tokio::test]
async fn cancelling_a_batch_that_is_already_cancelling_keeps_waiting() {
    let (_server, result) = refused_cancel(&["cancelling", "cancelling", "cancelled"]).await;
    assert_eq!(
        result.expect("waits for cancelled").status,
        Some(BatchStatus::Cancelled)
    );
}

#[tokio::test]
async fn cancelling_a_batch_that_already_finished_returns_it() {
    let (server, result) = refused_cancel(&["completed"]).await;
    assert_eq!(result.expect("the batch as it is").status, Some(BatchStatus::Completed));
    assert_eq!(request_count(&server).await, 2, "one DELETE, one GET");
}

#[tokio::test]
async fn a_refused_cancel_of_a_running_batch_is_an_error_holding_the_batch() {
    let (_server, result) = refused_cancel(&["in_progress"]).await;
    let err = result.expect_err("the refusal");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(
        err.message(),
        "batch is already cancelling; the batch is in_progress, and the server refused to cancel it"
    );
    assert_eq!(
        err.last_batch().and_then(|b| b.status.clone()),
        Some(BatchStatus::InProgress)
    );
}

#[tokio::test]
async fn a_refused_cancel_of_a_missing_batch_is_the_refusal() {
    let server = cerebras_batch_tests::demo().await;
    let err = test_client(&server.uri(), 0)
        .cancel_and_wait("batch_nope", fast())
        .await
        .expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.operation(), Some("cancel_batch"));
    // The retrieve's failure is not dropped: it follows the refusal's message.
    assert!(
        err.message().contains(
            "; retrieving the batch then failed too: retrieve_batch (GET /v1/batches/batch_nope): not found (HTTP 404)"
        ),
        "{err}"
    );
}

/// A poll that fails after the client's retries (503) is tried again later, not the end of the
/// wait; with no patience, it ends the wait at once; a 404 ends it whatever the patience.
#[tokio::test]
async fn a_wait_rides_out_polls_that_fail_for_a_transient_cause() {
    use cerebras_batch::operations;
    use cerebras_batch_mock::FakeApi;
    let fake = FakeApi::start_with(cerebras_batch_mock::FakeOptions::default().polls_per_status(2)).await;
    let client = fake.client();
    let lines: String = (0..10)
        .map(|i| format!("{{\"custom_id\":\"q{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"m\",\"messages\":[]}}}}\n"))
        .collect();
    let length = lines.len() as u64;
    let upload =
        cerebras_batch::UploadFile::from_reader(std::io::Cursor::new(lines.into_bytes()), "in.jsonl", Some(length));
    let file = client.upload_file(upload).await.unwrap();
    let batch = client
        .create_batch(types::CreateBatchRequest::chat_completions(file.id))
        .await
        .unwrap();
    let fast = || WaitOptions::default().intervals(Duration::from_millis(20), Duration::from_millis(20));
    // Two polls fail in a row, each after its 2 retries.
    fake.fail_next(&operations::RETRIEVE_BATCH, 503, 6);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let done = client
        .wait_for_batch(
            &batch.id,
            fast().on_poll_error(move |e, pause| record.lock().unwrap().push((e.status().map(|s| s.as_u16()), pause))),
        )
        .await
        .unwrap();
    assert_eq!(done.status_text(), "completed");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0],
        (Some(503), Duration::from_millis(100)),
        "the interval, at least MIN_POLL_INTERVAL"
    );
    assert_eq!(seen[1], (Some(503), Duration::from_millis(200)), "the pause doubles");
    // No patience: the first failed poll ends the wait.
    fake.fail_next(&operations::RETRIEVE_BATCH, 503, 3);
    let e = client
        .wait_for_batch(&batch.id, fast().patience(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    // A batch that does not exist is not transient.
    let e = client.wait_for_batch("batch_nope", fast()).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
}
