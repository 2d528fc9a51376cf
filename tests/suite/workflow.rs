//! The whole batch workflow against the fake API on 127.0.0.1: upload, create, wait, cancel and
//! wait, downloads, pagination and JSONL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cerebras_batch::jsonl::{self, ChatCompletionRequest, ChatMessage, RequestWriter, ResultShape};
use cerebras_batch::types::{self, BatchResultStatus, BatchStatus};
use cerebras_batch::{Client, ErrorKind, UploadFile, WaitOptions};
use cerebras_batch_tests::{batch_json, request_count};
use futures::StreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .expect("client builds")
}

fn fast() -> WaitOptions {
    WaitOptions::default().intervals(Duration::from_millis(1), Duration::from_millis(5))
}

fn twelve_requests() -> Vec<u8> {
    let mut writer = RequestWriter::new(Vec::new());
    for i in 1..=12 {
        let body = ChatCompletionRequest::new("llama-3.3-70b", vec![ChatMessage::user(format!("Question {i}"))])
            .max_completion_tokens(500);
        writer.push(format!("req-{i:02}"), &body).expect("valid line");
    }
    let (bytes, summary) = writer.finish().expect("12 lines are enough");
    assert_eq!((summary.lines, summary.bytes as usize), (12, bytes.len()));
    bytes
}

/// The multipart fields of a request body: `(name, filename, content type, bytes)`.
async fn multipart_fields(request: &wiremock::Request) -> Vec<(String, Option<String>, Option<String>, Vec<u8>)> {
    let content_type = request
        .headers
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap();
    let boundary = multer::parse_boundary(content_type).expect("a multipart boundary");
    let body = request.body.clone();
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.expect("valid multipart") {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        fields.push((
            name,
            filename,
            content_type,
            field.bytes().await.expect("field body").to_vec(),
        ));
    }
    fields
}

#[tokio::test]
async fn upload_streams_a_12_line_file_as_multipart() {
    let server = cerebras_batch_tests::demo().await;
    let dir = std::env::temp_dir().join(format!("cerebras-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("requests.jsonl");
    let content = twelve_requests();
    std::fs::write(&path, &content).unwrap();

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let file = client(&server)
        .upload_file(
            UploadFile::from_path(&path)
                .expires_after(86400)
                .on_progress(move |p| seen.lock().unwrap().push(p)),
        )
        .await
        .expect("upload succeeds");
    assert_eq!(file.id, cerebras_batch_mock::demo::INPUT_FILE_ID);
    assert_eq!(file.purpose, Some(types::FilePurpose::Batch));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/files"));
    assert_eq!(request.headers.get("authorization").unwrap(), "Bearer test-key");
    let fields = multipart_fields(request).await;
    let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["purpose", "expires_after[anchor]", "expires_after[seconds]", "file"]
    );
    assert_eq!(fields[0].3, b"batch");
    assert_eq!(fields[1].3, b"created_at");
    assert_eq!(fields[2].3, b"86400");
    assert_eq!(fields[3].1.as_deref(), Some("requests.jsonl"));
    assert_eq!(fields[3].2.as_deref(), Some("application/octet-stream"));
    assert_eq!(fields[3].3, content, "the server received the file byte for byte");
    assert_eq!(fields[3].3.iter().filter(|b| **b == b'\n').count(), 12);

    let progress = progress.lock().unwrap();
    let last = progress.last().expect("progress was reported");
    assert_eq!(
        (last.sent, last.total),
        (content.len() as u64, Some(content.len() as u64))
    );
    assert!(progress.windows(2).all(|w| w[0].sent <= w[1].sent));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn upload_refuses_bad_input_before_sending() {
    let server = cerebras_batch_tests::demo().await;
    let c = client(&server);
    let err = c
        .upload_file(UploadFile::from_reader(&b"x"[..], "a.jsonl", Some(1)).expires_after(60))
        .await
        .expect_err("too short");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.message(), "expires_after is 60 s; it must be from 3600 to 2592000");
    let err = c
        .upload_file(UploadFile::from_reader(
            &b"x"[..],
            "a.jsonl",
            Some(cerebras_batch::MAX_FILE_BYTES + 1),
        ))
        .await
        .expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = c
        .upload_file(UploadFile::from_path("/nonexistent/requests.jsonl"))
        .await
        .expect_err("no file");
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn create_wait_and_download_the_results() {
    let server = cerebras_batch_tests::demo().await;
    let c = client(&server);
    let file = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(twelve_requests()),
            "requests.jsonl",
            None,
        ))
        .await
        .expect("upload");
    let batch = c
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions(&file.id))
        .await
        .expect("create");
    assert_eq!(batch.status, Some(BatchStatus::Validating));

    let statuses = Arc::new(Mutex::new(Vec::new()));
    let seen = statuses.clone();
    let done = c
        .wait_for_batch(
            &batch.id,
            fast().on_poll(move |b| seen.lock().unwrap().push(b.status.clone())),
        )
        .await
        .expect("completes");
    assert_eq!(
        *statuses.lock().unwrap(),
        [BatchStatus::InProgress, BatchStatus::Finalizing, BatchStatus::Completed].map(Some)
    );
    assert_eq!(
        done.output_file_id.as_deref(),
        Some(cerebras_batch_mock::demo::OUTPUT_FILE_ID)
    );

    let lines: Vec<_> = c
        .download_output(&done)
        .await
        .expect("download")
        .expect("an output file")
        .results()
        .collect()
        .await;
    let lines: Vec<_> = lines.into_iter().map(|l| l.expect("every line decodes")).collect();
    assert_eq!(lines.len(), 12);
    let count = |s: BatchResultStatus| lines.iter().filter(|l| l.status() == s).count();
    assert_eq!(
        (
            count(BatchResultStatus::Succeeded),
            count(BatchResultStatus::Failed),
            count(BatchResultStatus::Expired)
        ),
        (10, 1, 1)
    );
    assert_eq!(lines[1].shape(), ResultShape::OpenAi);
    assert_eq!(lines[1].http_status(), Some(200));
    assert_eq!(
        lines[0].completion().unwrap()["choices"][0]["message"]["content"],
        "Answer 1"
    );
    assert_eq!(
        lines[1].completion().unwrap()["choices"][0]["message"]["content"],
        "Answer 2"
    );
    assert_eq!(
        lines[2].error().and_then(|e| e.code.as_deref()),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn cancel_and_wait_reaches_cancelled_with_partial_results() {
    let server = cerebras_batch_tests::demo().await;
    let c = client(&server);
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
    let batch = client(&server).wait_for_batch("b1", fast()).await.expect("ends");
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
    let err = client(&server)
        .wait_for_batch("b1", fast().deadline(Duration::from_millis(30)))
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    let last = err.last_batch().expect("the last batch seen");
    assert_eq!(
        (last.id.as_str(), last.status.clone()),
        ("b1", Some(BatchStatus::InProgress))
    );
}

fn page(ids: &[&str], has_more: serde_json::Value) -> ResponseTemplate {
    let data: Vec<_> = ids.iter().map(|id| batch_json(id, "completed", json!({}))).collect();
    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data, "has_more": has_more}))
}

#[tokio::test]
async fn list_batches_stream_walks_three_pages() {
    let server = MockServer::start().await;
    let list = || {
        Mock::given(method("GET"))
            .and(path("/v1/batches"))
            .and(query_param("limit", "2"))
    };
    list()
        .and(query_param_is_missing("after"))
        .respond_with(page(&["b1", "b2"], json!(true)))
        .mount(&server)
        .await;
    list()
        .and(query_param("after", "b2"))
        .respond_with(page(&["b3", "b4"], json!(true)))
        .mount(&server)
        .await;
    list()
        .and(query_param("after", "b4"))
        .respond_with(page(&["b5"], json!(false)))
        .mount(&server)
        .await;
    let c = client(&server);
    let ids: Vec<String> = c
        .list_batches()
        .limit(2)
        .into_stream()
        .map(|b| b.expect("ok").id)
        .collect()
        .await;
    assert_eq!(ids, ["b1", "b2", "b3", "b4", "b5"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn list_stream_stops_on_null_has_more_and_empty_data() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(page(&["b1"], json!(null)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [], "has_more": true})))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.list_batches().into_stream().collect::<Vec<_>>().await.len(), 1);
    assert_eq!(c.list_files().into_stream().collect::<Vec<_>>().await.len(), 0);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_server_that_repeats_a_page_is_caught() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(page(&["b1", "b2"], json!(true)))
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server).list_batches().into_stream().collect().await;
    assert_eq!(
        items.len(),
        3,
        "the first page's items, then the error (the repeated page is not yielded)"
    );
    let err = items.last().unwrap().as_ref().expect_err("the guard trips");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.message(), "the server repeated a page: `after=b2` was already used");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn result_reader_takes_both_shapes_and_survives_a_bad_line() {
    let text = concat!(
        r#"{"custom_id":"a","status":"succeeded","response":{"id":"cmpl_1","object":"chat.completion"},"new_field":42}"#,
        "\n",
        r#"{"id":"batch_req_1","custom_id":"b","response":{"status_code":400,"request_id":"req_1","body":{"error":{"message":"bad"}}},"error":null}"#,
        "\n",
        "{not json\n",
        "\n",
        r#"{"status":"failed"}"#,
        "\n",
        r#"{"custom_id":"c","status":"paused"}"#,
    );
    let lines: Vec<_> = jsonl::read_results_from(std::io::Cursor::new(text.as_bytes().to_vec()))
        .collect()
        .await;
    assert_eq!(lines.len(), 5, "the blank line is skipped");
    let a = lines[0].as_ref().unwrap();
    assert_eq!(
        (a.custom_id(), a.shape(), a.status()),
        ("a", ResultShape::Cerebras, BatchResultStatus::Succeeded)
    );
    assert_eq!(a.raw()["new_field"], 42, "unknown fields are kept");
    let b = lines[1].as_ref().unwrap();
    assert_eq!(
        (b.shape(), b.status(), b.http_status()),
        (ResultShape::OpenAi, BatchResultStatus::Failed, Some(400))
    );
    let bad = lines[2].as_ref().unwrap_err();
    assert_eq!((bad.kind(), bad.line()), (ErrorKind::Decode, Some(3)));
    let missing = lines[3].as_ref().unwrap_err();
    assert_eq!(missing.line(), Some(5));
    assert!(missing.message().contains("custom_id"), "{}", missing.message());
    let c = lines[4].as_ref().unwrap();
    assert_eq!((c.line_number(), c.status()), (6, BatchResultStatus::from("paused")));
}

fn body(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(model, vec![ChatMessage::user("hi")])
}

#[test]
fn writer_refuses_each_limit_violation_naming_the_line() {
    // Fewer than 10 lines.
    let mut w = RequestWriter::new(Vec::new());
    for i in 0..9 {
        w.push(format!("r{i}"), &body("m")).unwrap();
    }
    let err = w.finish().unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ErrorKind::InvalidInput,
            "the file has 9 requests; a batch needs at least 10"
        )
    );

    // A duplicate custom_id and a second model, at lines 3 and 4.
    let mut w = RequestWriter::new(Vec::new());
    w.push("r1", &body("m")).unwrap();
    w.push("r2", &body("m")).unwrap();
    let dup = w.push("r1", &body("m")).unwrap_err();
    assert_eq!((dup.line(), dup.message()), (Some(3), "custom_id \"r1\" is used twice"));
    let other = w.push("r3", &body("other")).unwrap_err();
    assert_eq!(
        (other.line(), other.message()),
        (
            Some(3),
            "model \"other\" differs from \"m\" of line 1; one model per file"
        )
    );

    // A line over 1 MB.
    let big = body("m").param("padding", "x".repeat(jsonl::MAX_LINE_BYTES));
    let err = w.push("r4", &big).unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.message().starts_with("the line is 1000"), "{}", err.message());
    assert_eq!(w.lines(), 2);
    assert_eq!(
        w.get_ref().iter().filter(|b| **b == b'\n').count(),
        2,
        "refused lines are not written"
    );
}

#[test]
fn writer_refuses_line_50001_and_the_200_mb_limit() {
    let mut w = RequestWriter::new(std::io::sink());
    for i in 0..jsonl::MAX_REQUESTS {
        w.push(i.to_string(), &body("m")).unwrap();
    }
    let err = w.push("one more", &body("m")).unwrap_err();
    assert_eq!(
        (err.line(), err.message()),
        (Some(50_001), "a batch file holds at most 50000 requests")
    );

    let mut w = RequestWriter::new(std::io::sink());
    let line = body("m").param("padding", "x".repeat(999_000)); // about 999,140 bytes a line
    let mut refused = None;
    for i in 0..250 {
        if let Err(e) = w.push(i.to_string(), &line) {
            refused = Some(e);
            break;
        }
    }
    let err = refused.expect("200 MB is reached");
    assert_eq!(
        (err.line(), err.message()),
        (Some(201), "the file would exceed 200000000 bytes")
    );
}

#[tokio::test]
async fn file_check_names_utf8_crlf_and_shape_problems() {
    let good = |id: &str| {
        format!(
            r#"{{"custom_id":"{id}","method":"POST","url":"/v1/chat/completions","body":{{"model":"m","messages":[]}}}}"#
        )
    };
    let mut text = Vec::new();
    for i in 0..10 {
        text.extend_from_slice(good(&i.to_string()).as_bytes());
        text.push(b'\n');
    }
    text.extend_from_slice(format!("{}\r\n", good("crlf")).as_bytes());
    text.extend_from_slice(b"{\"custom_id\":\"\xff\"}\n");
    text.extend_from_slice(br#"{"custom_id":"x","method":"GET","url":"/v1/chat/completions","body":{"model":"m"}}"#);
    text.push(b'\n');
    text.extend_from_slice(br#"{"custom_id":"y","method":"POST","url":"/v1/embeddings","body":{"model":"m"}}"#);
    let check = jsonl::check_request_file(std::io::Cursor::new(text)).await.unwrap();
    let problems: Vec<(Option<usize>, String)> = check
        .problems
        .iter()
        .map(|e| (e.line(), e.message().to_owned()))
        .collect();
    assert_eq!(
        problems,
        [
            (Some(11), "the line ends with CRLF; use LF line endings".to_owned()),
            (Some(12), "the line is not valid UTF-8".to_owned()),
            (Some(13), "method is \"GET\"; only POST is accepted".to_owned()),
            (
                Some(14),
                "url is \"/v1/embeddings\"; only /v1/chat/completions is accepted".to_owned()
            ),
        ]
    );
    assert_eq!(check.summary.lines, 10);
    assert!(!check.is_ok());
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
    let result = client(&server).cancel_and_wait("b1", fast()).await;
    (server, result)
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
    let err = client(&server)
        .cancel_and_wait("batch_nope", fast())
        .await
        .expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.operation(), Some("cancel_batch"));
}

#[tokio::test]
async fn an_empty_output_file_id_means_no_output_and_no_request() {
    let server = MockServer::start().await;
    let batch: types::Batch = serde_json::from_value(batch_json(
        "b1",
        "completed",
        json!({"output_file_id": "", "error_file_id": ""}),
    ))
    .expect("decodes");
    assert_eq!(
        (batch.output_file_id.as_deref(), batch.error_file_id.as_deref()),
        (None, None)
    );
    let c = client(&server);
    assert!(c.download_output(&batch).await.expect("no error").is_none());
    assert!(c.download_errors(&batch).await.expect("no error").is_none());
    // Even a batch built by hand with an empty id sends nothing.
    let by_hand = types::Batch::new("b2").with_output_file_id("");
    assert!(c.download_output(&by_hand).await.expect("no error").is_none());
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn a_files_page_without_has_more_decodes_and_the_stream_stops() {
    for page in [
        json!({"object": "list", "data": [{"id": "file_1", "object": "file"}]}),
        json!({"object": "list", "data": [{"id": "file_1"}], "has_more": null}),
        json!({"object": "list"}),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/files"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page.clone()))
            .mount(&server)
            .await;
        let c = client(&server);
        let list = c.list_files().await.expect("decodes");
        assert_eq!(list.has_more, None, "{page}");
        let items: Vec<_> = c.list_files().into_stream().collect().await;
        assert_eq!(items.len(), list.data.map_or(0, |d| d.len()), "{page}");
        assert!(items.iter().all(|i| i.is_ok()));
        assert_eq!(
            request_count(&server).await,
            2,
            "one list, one page of the stream: {page}"
        );
    }
}

#[tokio::test]
async fn a_batch_with_a_list_of_errors_is_typed() {
    let batch: types::Batch = serde_json::from_value(batch_json(
        "b1",
        "failed",
        json!({"errors": {"object": "list", "data": [{"code": "invalid_json", "message": "line 3 is not JSON", "param": null, "line": 3}]}}),
    ))
    .expect("decodes");
    let Some(types::BatchErrors::BatchErrorList(list)) = batch.errors else {
        panic!("expected a list of errors, got {:?}", batch.errors);
    };
    let error = &list.data.expect("data")[0];
    assert_eq!(
        (error.code.as_deref(), error.message.as_deref(), error.line),
        (Some("invalid_json"), Some("line 3 is not JSON"), Some(3))
    );
    let plain: types::Batch =
        serde_json::from_value(batch_json("b1", "failed", json!({"errors": "Batch failed."}))).expect("decodes");
    assert_eq!(plain.errors, Some(types::BatchErrors::String("Batch failed.".into())));
}
