//! Every operation against a local server answering with the vendor's examples: the request sent
//! (method, path, query, body) and the response decoded.

use cerebras_batch::types;
use cerebras_batch_tests::batch_json;
use cerebras_batch_tests::example;
use cerebras_batch_tests::example_body;
use cerebras_batch_tests::{TEST_KEY, test_client};
use serde_json::json;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::body_json;
use wiremock::matchers::header;
use wiremock::matchers::method;
use wiremock::matchers::path;
use wiremock::matchers::query_param;

async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

#[tokio::test]
async fn cancel_batch_sends_delete_and_decodes_the_docs_example_byte_for_byte() {
    let server = MockServer::start().await;
    let ex = example("/cancel_batch_response");
    let body = example_body(&ex);
    assert!(
        String::from_utf8_lossy(&body).contains("\"cancelled_at\":null"),
        "the verbatim text is served"
    );
    Mock::given(method("DELETE"))
        .and(path("/v1/batches/batch_abc123"))
        .and(header("authorization", format!("Bearer {TEST_KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;

    let batch = test_client(&server.uri(), 0)
        .cancel_batch("batch_abc123")
        .await
        .expect("cancel succeeds");
    assert_eq!(batch.id, "batch_abc123");
    assert_eq!(batch.status, Some(types::BatchStatus::from("calling")));
    assert_eq!(batch.cancelling_at, Some(1765492797));
    assert_eq!(batch.request_counts, None);
    assert_eq!(batch.input_file_id.as_deref(), Some("file-abc123"));

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "DELETE");
    assert_eq!(request.url.path(), "/v1/batches/batch_abc123");
    assert_eq!(request.url.query(), None);
    assert!(
        request.headers.get("api-version").is_none(),
        "progenitor's api-version header is stripped"
    );
    assert!(
        request
            .headers
            .get("user-agent")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("cerebras-batch/")
    );
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn retrieve_batch_round_trip() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches/batch_abc123"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/retrieve_batch_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let batch = test_client(&server.uri(), 0)
        .retrieve_batch("batch_abc123")
        .await
        .expect("retrieve succeeds");
    assert_eq!(batch.status, Some(types::BatchStatus::InProgress));
    assert_eq!(batch.expires_at, Some(1766089677));
    let counts = batch.request_counts.expect("request_counts");
    assert_eq!(
        (counts.total, counts.completed, counts.failed),
        (Some(100), Some(75), Some(2))
    );
    assert_eq!(
        only_request(&server).await.headers.get("authorization").unwrap(),
        format!("Bearer {TEST_KEY}").as_str()
    );
}

#[tokio::test]
async fn list_batches_sends_limit_and_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .and(query_param("limit", "3"))
        .and(query_param("after", "batch_prev"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/list_batches_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let list = test_client(&server.uri(), 0)
        .list_batches()
        .after("batch_prev")
        .limit(3)
        .await
        .expect("list succeeds");
    let data = list.data.expect("data");
    assert_eq!(
        data.iter().map(|b| b.status_text()).collect::<Vec<_>>(),
        ["failed", "completed", "cancelled"]
    );
    assert_eq!(data[1].request_counts.as_ref().and_then(|c| c.total), Some(656));
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("after=batch_prev&limit=3"));
}

#[tokio::test]
async fn list_batches_without_arguments_sends_no_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"object":"list","data":null,"has_more":null}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let list = test_client(&server.uri(), 0)
        .list_batches()
        .await
        .expect("list succeeds");
    assert_eq!((list.data, list.has_more), (None, None));
    assert_eq!(only_request(&server).await.url.query(), None);
}

#[tokio::test]
async fn create_batch_posts_the_guide_request_body() {
    let server = MockServer::start().await;
    let request_example = example("/guide_create_request");
    Mock::given(method("POST"))
        .and(path("/v1/batches"))
        .and(header("content-type", "application/json"))
        .and(body_json(&request_example.value))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/create_batch_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let body: types::CreateBatchRequest = serde_json::from_value(request_example.value.clone()).expect("decodes");
    assert_eq!(body.endpoint, types::BatchEndpoint::ChatCompletions);
    assert_eq!(body.completion_window, types::CompletionWindow::Hours24);
    let batch = test_client(&server.uri(), 0)
        .create_batch(body)
        .await
        .expect("create succeeds");
    assert_eq!(batch.status, Some(types::BatchStatus::Validating));
    assert_eq!(batch.request_counts.and_then(|c| c.total), Some(0));
    assert_eq!(batch.metadata, None);
}

#[tokio::test]
async fn file_operations_round_trip() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(example_body(&example("/list_files_response")), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/file_123"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/retrieve_file_response")), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/files/file_123"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/delete_file_response")), "application/json"),
        )
        .mount(&server)
        .await;
    let jsonl = b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n".to_vec();
    Mock::given(method("GET"))
        .and(path("/v1/files/file_123/content"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(jsonl.clone(), "application/x-ndjson"))
        .mount(&server)
        .await;

    let c = test_client(&server.uri(), 0);
    let list = c.list_files().await.expect("list");
    assert_eq!(
        list.data.expect("data").iter().map(|f| f.bytes).collect::<Vec<_>>(),
        [Some(1048576), Some(2097152)]
    );
    assert_eq!(list.has_more, Some(false));
    let file = c.retrieve_file("file_123").await.expect("retrieve");
    assert_eq!(
        (file.filename.as_deref(), file.purpose.clone()),
        (Some("batch-requests.jsonl"), Some(types::FilePurpose::Batch))
    );
    let deleted = c.delete_file("file_123").await.expect("delete");
    assert_eq!(deleted.deleted, Some(true));
    let download = c.retrieve_file_content("file_123").await.expect("content");
    assert_eq!(download.headers()["content-type"], "application/x-ndjson");
    assert_eq!(download.bytes().await.expect("body"), jsonl);
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
