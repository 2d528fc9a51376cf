//! What the mock says when a test goes wrong: a failed expectation names the operation and its
//! parameters; with `fail_on_unmatched`, a request no mock matched gets an answer naming it and
//! the closest mock, and the test fails when the `MockApi` is dropped; error replies have a
//! vendor-shaped body. Everything on 127.0.0.1.

use std::panic::{AssertUnwindSafe, catch_unwind};

use cerebras_batch::types::{Batch, CreateBatchRequest, ErrorBody, File, FileList};
use cerebras_batch::{ErrorKind, UploadFile};
use cerebras_batch_mock::{DOCUMENTED_ERROR_STATUSES, MockApi, Reply};
use serde_json::{Value, json};

/// Drops `api` and returns the message it panicked with, or `None`.
fn drop_message(api: MockApi) -> Option<String> {
    let failure = catch_unwind(AssertUnwindSafe(move || drop(api))).err()?;
    Some(match failure.downcast::<String>() {
        Ok(message) => *message,
        Err(other) => other.downcast_ref::<&str>().expect("a text panic").to_string(),
    })
}

/// A mock with the fallback and a cancel of `b1`.
async fn api_with_fallback() -> MockApi {
    let api = MockApi::start().await;
    api.fail_on_unmatched().await;
    api.cancel_batch()
        .batch_id("b1")
        .respond(Reply::ok(Batch::new("b1")))
        .mount(&api)
        .await;
    api
}

#[tokio::test]
async fn a_failed_expectation_names_the_operation_and_its_parameters() {
    let api = MockApi::start().await;
    api.cancel_batch()
        .batch_id("b1")
        .respond(Reply::ok(Batch::new("b1")))
        .expect(1)
        .mount(&api)
        .await;
    api.list_files()
        .limit(2)
        .after("file_9")
        .respond(Reply::ok(FileList::new()))
        .expect(1)
        .mount(&api)
        .await;
    api.client()
        .list_files()
        .limit(2)
        .after("file_9")
        .await
        .expect("matched");
    let message = drop_message(api).expect("the unmet expectation fails the test");
    assert!(
        message.contains("- cancel_batch(batch_id = \"b1\").\n\tExpected range of matching incoming requests: == 1\n\tNumber of matched incoming requests: 0"),
        "{message}"
    );
    assert!(!message.contains("list_files"), "the met one is not named: {message}");
}

#[tokio::test]
async fn mocks_without_parameters_and_hand_written_ones_are_named_too() {
    let api = MockApi::start().await;
    api.retrieve_batch()
        .respond(Reply::ok(Batch::new("x")))
        .expect(1)
        .mount(&api)
        .await;
    api.upload_file()
        .purpose("batch")
        .file_content(b"{}\n".to_vec())
        .respond(Reply::ok(File::new("f")))
        .expect(1)
        .mount(&api)
        .await;
    let message = drop_message(api).expect("both expectations fail");
    assert!(message.contains("- retrieve_batch(..).\n"), "{message}");
    assert!(
        message.contains("- upload_file(purpose = \"batch\", file_content = 3 bytes).\n"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unmatched_request_is_answered_with_the_closest_mock_and_why() {
    let api = api_with_fallback().await;
    // Farther: another method (the closest differs in a later condition).
    api.retrieve_batch()
        .batch_id("b2")
        .respond(Reply::ok(Batch::new("b2")))
        .mount(&api)
        .await;
    let error = api.client().cancel_batch("b2").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let report = "no mock matched DELETE /v1/batches/b2; the closest mock, cancel_batch(batch_id = \"b1\"), differs: path parameter batch_id is \"b2\", the mock expects \"b1\"";
    assert_eq!(error.message(), report);
    let body = error.body().expect("a decoded error body");
    assert_eq!(body.code.as_deref(), Some("no_mock_matched"));
    assert_eq!(body.type_.as_deref(), Some("mock_error"));
    // A matched request still gets its answer.
    assert_eq!(api.client().cancel_batch("b1").await.unwrap().id, "b1");

    let message = drop_message(api).expect("the unmatched request fails the test on drop");
    assert_eq!(
        message,
        format!("1 request(s) to the MockApi matched no mock (fail_on_unmatched):\n- {report}")
    );
}

#[tokio::test]
async fn the_reason_names_the_query_parameter_body_field_or_form_field_that_differs() {
    let api = api_with_fallback().await;
    api.list_files()
        .limit(2)
        .respond(Reply::ok(FileList::new()))
        .mount(&api)
        .await;
    api.create_batch()
        .body(CreateBatchRequest::chat_completions("file_up"))
        .respond(Reply::ok(Batch::new("b")))
        .mount(&api)
        .await;
    api.upload_file()
        .filename("a.jsonl")
        .respond(Reply::ok(File::new("f")))
        .mount(&api)
        .await;
    let client = api.client();
    let reasons = [
        (
            client.list_files().limit(3).await.unwrap_err(),
            "no mock matched GET /v1/files?limit=3; the closest mock, list_files(limit = 2), differs: query parameter limit is \"3\", the mock expects \"2\"",
        ),
        (
            client.list_files().await.unwrap_err(),
            "no mock matched GET /v1/files; the closest mock, list_files(limit = 2), differs: query parameter limit is absent, the mock expects \"2\"",
        ),
        (
            client
                .create_batch(CreateBatchRequest::chat_completions("file_other"))
                .await
                .unwrap_err(),
            "the closest mock, create_batch(body = {\"completion_window\":\"24h\",\"endpoint\":\"/v1/chat/completions\",\"input_file_id\":\"file_up\"}), differs: body field /input_file_id is \"file_other\", the mock expects \"file_up\"",
        ),
        (
            client
                .upload_file(UploadFile::from_reader(
                    std::io::Cursor::new(b"{}\n".to_vec()),
                    "b.jsonl",
                    Some(3),
                ))
                .await
                .unwrap_err(),
            "the closest mock, upload_file(filename = \"a.jsonl\"), differs: the file name is \"b.jsonl\", the mock expects \"a.jsonl\"",
        ),
    ];
    for (error, reason) in &reasons {
        assert!(
            error.message().ends_with(reason),
            "{}\nwants: {reason}",
            error.message()
        );
    }
    assert!(
        reasons[2]
            .0
            .message()
            .starts_with("no mock matched POST /v1/batches with the JSON body {\"completion_window\":\"24h\",\"endpoint\":\"/v1/chat/completions\",\"input_file_id\":\"file_other\"}; "),
        "{}",
        reasons[2].0.message()
    );
    assert!(
        reasons[3]
            .0
            .message()
            .starts_with("no mock matched POST /v1/files with a body of "),
        "{}",
        reasons[3].0.message()
    );
    // Taken, the reports no longer fail the drop.
    assert_eq!(api.take_unmatched_requests().len(), 4);
    assert_eq!(drop_message(api), None);
}

#[tokio::test]
async fn a_used_up_mock_and_an_empty_mock_api_are_explained() {
    let api = api_with_fallback().await;
    api.retrieve_batch()
        .batch_id("once")
        .respond(Reply::ok(Batch::new("once")))
        .up_to_n_times(1)
        .mount(&api)
        .await;
    api.client().retrieve_batch("once").await.expect("first time");
    let error = api.client().retrieve_batch("once").await.unwrap_err();
    assert_eq!(
        error.message(),
        "no mock matched GET /v1/batches/once; the mock retrieve_batch(batch_id = \"once\") matches it, but no longer answers: its `up_to_n_times` is used up, or it was unmounted"
    );
    api.take_unmatched_requests();

    let empty = MockApi::start().await;
    empty.fail_on_unmatched().await;
    let error = empty.client().retrieve_batch("b").await.unwrap_err();
    assert_eq!(
        error.message(),
        "no mock matched GET /v1/batches/b; this MockApi has built no mock to compare it with"
    );
    assert_eq!(empty.take_unmatched_requests().len(), 1);
}

#[tokio::test]
async fn without_the_fallback_an_unmatched_request_gets_wiremocks_empty_404_and_the_drop_passes() {
    let api = MockApi::start().await;
    let error = api.client().retrieve_batch("b").await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.body_text(), Some(""));
    assert_eq!(drop_message(api), None);
}

#[test]
fn error_replies_default_to_a_vendor_shaped_body() {
    let body = |reply: Reply<Batch>| serde_json::from_slice::<Value>(reply.body()).expect("JSON");
    assert_eq!(
        body(Reply::payment_required(ErrorBody::new())),
        json!({"message": "Payment Required", "type": "payment_required_error", "param": null, "code": null})
    );
    assert_eq!(
        body(Reply::too_many_requests(ErrorBody::new())),
        json!({"message": "Too Many Requests", "type": "too_many_requests_error", "param": null, "code": null})
    );
    assert_eq!(
        body(Reply::not_found(ErrorBody::new())),
        json!({"message": "Not Found", "type": "invalid_request_error", "param": null, "code": null})
    );
    for status in DOCUMENTED_ERROR_STATUSES {
        let fields = body(Reply::error(*status, ErrorBody::new()));
        for key in ["message", "type", "param", "code"] {
            assert!(fields.get(key).is_some(), "{status}: {key} in {fields}");
        }
        assert!(!fields["message"].as_str().unwrap().is_empty(), "{status}");
    }
    // What the test sets is kept; the rest is filled in.
    assert_eq!(
        body(Reply::bad_request(
            ErrorBody::new()
                .with_message("messages.2: unsupported")
                .with_param("validation_error")
                .with_code("wrong_api_format")
        )),
        json!({"message": "messages.2: unsupported", "type": "invalid_request_error", "param": "validation_error", "code": "wrong_api_format"})
    );
    assert_eq!(
        body(Reply::error(599, ErrorBody::new())),
        json!({"message": "HTTP 599", "type": "server_error", "param": null, "code": null})
    );
    // A wrapped body is sent as it is.
    let wrapped = ErrorBody::new().with_error(cerebras_batch::types::ErrorDetail::new().with_message("inner"));
    assert_eq!(
        body(Reply::unauthorized(wrapped)),
        json!({"error": {"message": "inner"}})
    );
}

#[tokio::test]
async fn the_client_reads_the_default_error_body() {
    let api = MockApi::start().await;
    api.cancel_batch()
        .batch_id("b1")
        .respond(Reply::payment_required(ErrorBody::new()))
        .mount(&api)
        .await;
    let error = api.client().cancel_batch("b1").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::from_status(402));
    assert_eq!(error.message(), "Payment Required");
    assert_eq!(
        error.body().and_then(|b| b.type_.clone()).as_deref(),
        Some("payment_required_error")
    );
}
