//! The client against a local HTTP server (wiremock, on 127.0.0.1) that answers with the
//! vendor's examples from the spec.

use cerebras_batch::{Client, ErrorKind, types};
use cerebras_batch_tests::{Example, example};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-7f3a9c";

/// The example's text as the docs print it (or its value, when no verbatim text exists).
fn body_of(ex: &Example) -> Vec<u8> {
    match &ex.verbatim {
        Some(text) => text.as_bytes().to_vec(),
        None => serde_json::to_vec_pretty(&ex.value).expect("serialises"),
    }
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .expect("client builds")
}

async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

#[tokio::test]
async fn cancel_batch_sends_delete_and_decodes_the_docs_example_byte_for_byte() {
    let server = MockServer::start().await;
    let ex = example("/cancel_batch_response");
    let body = body_of(&ex);
    assert!(
        String::from_utf8_lossy(&body).contains("\"cancelled_at\":null"),
        "the verbatim text is served"
    );
    Mock::given(method("DELETE"))
        .and(path("/v1/batches/batch_abc123"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;

    let batch = client(&server)
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
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/retrieve_batch_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let batch = client(&server)
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
        format!("Bearer {KEY}").as_str()
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
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/list_batches_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
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
    let list = client(&server).list_batches().await.expect("list succeeds");
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
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/create_batch_response")), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let body: types::CreateBatchRequest = serde_json::from_value(request_example.value.clone()).expect("decodes");
    assert_eq!(body.endpoint, types::BatchEndpoint::ChatCompletions);
    assert_eq!(body.completion_window, types::CompletionWindow::Hours24);
    let batch = client(&server).create_batch(body).await.expect("create succeeds");
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
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/list_files_response")), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/file_123"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/retrieve_file_response")), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/files/file_123"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/delete_file_response")), "application/json"),
        )
        .mount(&server)
        .await;
    let jsonl = b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n".to_vec();
    Mock::given(method("GET"))
        .and(path("/v1/files/file_123/content"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(jsonl.clone(), "application/x-ndjson"))
        .mount(&server)
        .await;

    let c = client(&server);
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
async fn plain_text_404_is_not_found_with_the_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_raw("no such batch", "text/plain")
                .insert_header("x-request-id", "req_42"),
        )
        .mount(&server)
        .await;
    let err = client(&server).retrieve_batch("batch_missing").await.expect_err("404");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.body_text(), Some("no such batch"));
    assert_eq!(err.request_id(), Some("req_42"));
    assert_eq!(err.operation(), Some("retrieve_batch"));
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/batch_missing): not found (HTTP 404): no such batch (request id req_42)"
    );
}

#[tokio::test]
async fn vendor_error_bodies_decode_flat_and_wrapped() {
    let server = MockServer::start().await;
    let flat = serde_json::to_vec(&example("/observed_429").value).unwrap();
    Mock::given(method("GET"))
        .and(path("/v1/batches/flat"))
        .respond_with(ResponseTemplate::new(429).set_body_raw(flat, "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/batches/wrapped"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":{"message":"bad id","type":"invalid_request_error","code":"bad_id","status_code":404}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.retrieve_batch("flat").await.expect_err("429");
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(
        err.message(),
        "Requests per minute limit exceeded - too many requests sent."
    );
    assert_eq!(
        err.body().and_then(|b| b.code.as_deref()),
        Some("request_quota_exceeded")
    );
    let err = c.retrieve_batch("wrapped").await.expect_err("400");
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "the body's status_code selects the kind, as in the vendor SDK"
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.message(), "bad id");
}

#[tokio::test]
async fn html_502_is_a_server_error_with_the_html() {
    let server = MockServer::start().await;
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(html, "text/html"))
        .mount(&server)
        .await;
    let err = client(&server).retrieve_batch("batch_abc123").await.expect_err("502");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.body_text(), Some(html));
    assert_eq!(err.body(), None);
}

#[tokio::test]
async fn truncated_json_on_200_is_a_decode_error_with_status_and_body() {
    let server = MockServer::start().await;
    let truncated = r#"{"id": "batch_abc123", "object": "batch", "stat"#;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(truncated, "application/json")
                .insert_header("x-request-id", "req_7"),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .retrieve_batch("batch_abc123")
        .await
        .expect_err("decode");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.body_text(), Some(truncated));
    assert_eq!(err.request_id(), Some("req_7"));
}

#[tokio::test]
async fn ids_that_leave_their_segment_are_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let c = client(&server);
    for id in [
        "", ".", "..", "a\\b", "a\nb", "%2e%2E", "%2E", "a%5Cb", "a%00b", "\u{7f}",
    ] {
        let err = c.cancel_batch(id).await.expect_err(id);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{id:?}");
        assert!(err.message().starts_with("`batch_id` "), "{id:?}: {}", err.message());
        assert_eq!(err.attempts(), 0);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn other_ids_arrive_as_exactly_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/cancel_batch_response")), "application/json"),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let table = [
        ("batch_abc123", "/v1/batches/batch_abc123"),
        ("a/b?c", "/v1/batches/a%2Fb%3Fc"),
        ("a b", "/v1/batches/a%20b"),
        ("100%", "/v1/batches/100%25"),
        ("x#y", "/v1/batches/x%23y"),
        ("ünï", "/v1/batches/%C3%BCn%C3%AF"),
        ("...", "/v1/batches/..."),
        ("%41", "/v1/batches/%2541"),
    ];
    for (id, _) in table {
        c.cancel_batch(id).await.unwrap_or_else(|e| panic!("{id:?}: {e}"));
    }
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(seen, table.iter().map(|(_, t)| t.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn base_url_with_trailing_slash_or_v1_sends_one_v1() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches/batch_abc123"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body_of(&example("/retrieve_batch_response")), "application/json"),
        )
        .mount(&server)
        .await;
    for base in [
        server.uri(),
        format!("{}/", server.uri()),
        format!("{}/v1", server.uri()),
        format!("{}/v1/", server.uri()),
    ] {
        let c = Client::builder().api_key(KEY).base_url(&base).build().expect("builds");
        assert_eq!(c.base_url(), server.uri());
        c.retrieve_batch("batch_abc123")
            .await
            .unwrap_or_else(|e| panic!("{base}: {e}"));
    }
}

#[tokio::test]
async fn the_api_key_never_shows_in_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw("{\"message\":\"bad key\"}", "application/json"))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.retrieve_batch("batch_abc123").await.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    for text in [
        format!("{c:?}"),
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", Client::builder().api_key(KEY)),
    ] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("7f3a9c"), "{text}");
    }
}
