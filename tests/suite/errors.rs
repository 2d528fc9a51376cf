//! Errors a person can act on: `Display` names the operation, the request with its ids, the status,
//! the server's message (or an HTML page's title) and the request id; error bodies flat or wrapped,
//! with numeric codes; undeclared or broken bodies keep status and body.

use cerebras_batch::ErrorKind;
use cerebras_batch_tests::example;
use cerebras_batch_tests::{test_client, test_client_builder};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::method;
use wiremock::matchers::path;

/// A fault injector (not a server): answers each request with `head` (a status line, headers
/// that promise 1000 bytes, and the first bytes of the body), then resets the connection.
async fn reset_mid_body(head: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let mut read = Vec::new();
            while !read.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                read.extend_from_slice(&buf[..n]);
            }
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            // A zero linger makes the close a reset (and never blocks, unlike other lingers).
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            drop(socket);
        }
    });
    base
}

async fn answering(status: u16, body: &str, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("x-request-id", "req_7")
                .set_body_raw(body.as_bytes().to_vec(), content_type),
        )
        .mount(&server)
        .await;
    server
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
    let err = test_client(&server.uri(), 0)
        .retrieve_batch("batch_missing")
        .await
        .expect_err("404");
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
    let c = test_client(&server.uri(), 0);
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
    let err = test_client(&server.uri(), 0)
        .retrieve_batch("batch_abc123")
        .await
        .expect_err("502");
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
    let err = test_client(&server.uri(), 0)
        .retrieve_batch("batch_abc123")
        .await
        .expect_err("decode");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.body_text(), Some(truncated));
    assert_eq!(err.request_id(), Some("req_7"));
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_connection_error_with_the_status() {
    let base = reset_mid_body(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\":\"b1\",\"object\"",
    )
    .await;
    let err = test_client(&base, 0)
        .retrieve_batch("b1")
        .await
        .expect_err("body cut off");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));

    let download = test_client(&base, 0)
        .retrieve_file_content("f1")
        .await
        .expect("headers arrive");
    let chunks: Vec<_> = futures::StreamExt::collect::<Vec<_>>(download.into_stream()).await;
    let last = chunks.last().expect("at least one item");
    let err = last.as_ref().expect_err("the stream ends in an error");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), 1, "the attempt that got the response counts");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(
        err.to_string()
            .starts_with("retrieve_file_content (GET /v1/files/f1/content): connection failed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrapped_error_with_a_numeric_code_is_decoded() {
    let server = answering(
        404,
        r#"{"error":{"message":"No batch found","type":"invalid_request_error","code":404}}"#,
        "application/json",
    )
    .await;
    let err = test_client_builder(&server.uri(), 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("batch_nope")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let detail = err
        .body()
        .and_then(|b| b.error.clone())
        .expect("the wrapped error decodes");
    assert_eq!(detail.code.as_deref(), Some("404"));
    assert_eq!(detail.type_.as_deref(), Some("invalid_request_error"));
    assert_eq!(err.message(), "No batch found");
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/batch_nope): not found (HTTP 404): No batch found (request id req_7)"
    );
}

#[tokio::test]
async fn a_flat_error_with_a_numeric_code_is_decoded() {
    let server = answering(
        400,
        r#"{"code":400,"message":"metadata is not allowed here"}"#,
        "application/json",
    )
    .await;
    let err = test_client_builder(&server.uri(), 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file_1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(err.body().and_then(|b| b.code.clone()).as_deref(), Some("400"));
    assert_eq!(
        err.to_string(),
        "create_batch (POST /v1/batches): bad request (HTTP 400): metadata is not allowed here (request id req_7)"
    );
}

#[tokio::test]
async fn an_html_page_gives_its_title_or_a_short_excerpt() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let server = answering(502, page, "text/html").await;
    let err = test_client_builder(&server.uri(), 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .cancel_batch("batch_1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        err.to_string(),
        "cancel_batch (DELETE /v1/batches/batch_1): server error (HTTP 502): 502 Bad Gateway (request id req_7)"
    );
    assert_eq!(err.body_text(), Some(page), "the raw body is kept");

    let untitled = "<!DOCTYPE html><html><body><script>var x = 1;</script><h1>Service\n unavailable</h1><p>Try later.</p></body></html>";
    let server = answering(503, untitled, "text/html").await;
    let err = test_client_builder(&server.uri(), 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_file("file_1")
        .await
        .unwrap_err();
    assert_eq!(err.message(), "Service unavailable Try later.");
}

#[tokio::test]
async fn the_fake_api_answers_unknown_ids_with_vendor_shaped_errors() {
    let server = cerebras_batch_tests::demo().await;
    let err = test_client_builder(&server.uri(), 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("batch_nope")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/batch_nope): not found (HTTP 404): No such object"
    );
}

#[tokio::test]
async fn a_refusal_before_sending_names_the_route() {
    let err = test_client_builder("http://127.0.0.1:9", 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("..")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.attempts(), 0);
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/{batch_id}): invalid input: `batch_id` has the dot segment \"..\"; it must be one path segment"
    );
}

/// A call that was sent names the request as sent, with its ids, whatever the answer: an
/// undeclared success (a 204 to a cancel), a decode failure, an error status, a redirect.
#[tokio::test]
async fn an_answer_the_operation_does_not_declare_names_the_request_with_its_ids() {
    let cases: [(ResponseTemplate, ErrorKind, &str); 4] = [
        (
            ResponseTemplate::new(204),
            ErrorKind::OtherStatus,
            "unexpected status (HTTP 204): undocumented success status 204 No Content",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("[\"batch_abc\"]", "application/json"),
            ErrorKind::Decode,
            "response did not decode (HTTP 200): the response body does not match the expected type",
        ),
        (
            ResponseTemplate::new(404).set_body_raw("No such batch", "text/plain"),
            ErrorKind::NotFound,
            "not found (HTTP 404): No such batch",
        ),
        (
            ResponseTemplate::new(307).insert_header("location", "http://127.0.0.1:9/elsewhere"),
            ErrorKind::OtherStatus,
            "unexpected status (HTTP 307): the server redirected to http://127.0.0.1:9/elsewhere",
        ),
    ];
    for (answer, kind, text) in cases {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path("/v1/batches/batch_abc"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let err = test_client(&server.uri(), 0)
            .cancel_batch("batch_abc")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(
            (err.method(), err.path()),
            (Some("DELETE"), Some("/v1/batches/batch_abc"))
        );
        assert_eq!(err.attempts(), 1);
        assert!(
            err.to_string()
                .starts_with(&format!("cancel_batch (DELETE /v1/batches/batch_abc): {text}")),
            "{err}"
        );
    }
}

/// An error body that is a JSON array (or holds one where an object belongs) is never read by
/// position into the vendor's error: no `code` or `message` the server never sent. The body
/// stays whole as text, and its first line is the message; on every kind of operation.
#[tokio::test]
async fn an_error_body_that_is_an_array_invents_nothing() {
    for (status, body, kind) in [
        (400, r#"["bad", 400]"#, ErrorKind::BadRequest),
        (
            404,
            r#"[{"message": "no such batch", "code": "not_found"}]"#,
            ErrorKind::NotFound,
        ),
        (429, r#"[429, "slow down", "rate_limit"]"#, ErrorKind::RateLimit),
        (500, r#"{"error": ["upstream", 503]}"#, ErrorKind::Server),
        (
            409,
            r#"{"message": "already cancelled", "error": [1]}"#,
            ErrorKind::Conflict,
        ),
    ] {
        let server = answering(status, body, "application/json").await;
        let c = test_client(&server.uri(), 0);
        let errors = [
            c.retrieve_batch("batch_1").await.unwrap_err(),
            c.cancel_batch("batch_1").await.unwrap_err(),
            c.list_files().await.unwrap_err(),
            c.delete_file("file_1").await.unwrap_err(),
            c.retrieve_file_content("file_1").await.unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.kind(), kind, "{body}: {e}");
            assert_eq!(e.body(), None, "{body}: nothing read by position");
            assert_eq!(e.body_text(), Some(body));
            assert_eq!(e.message(), body, "{body}: the body's own words");
        }
    }
}

/// The vendor's error shapes still decode, with a `status_code` sent as a numeric string taking
/// precedence as an integer does (the tolerance rule), and unknown fields kept.
#[tokio::test]
async fn error_objects_decode_and_their_numbers_may_be_strings() {
    for (status, body, kind, message, code) in [
        (
            400,
            r#"{"message": "quota", "status_code": "429", "code": 7, "trace": "t-1"}"#,
            ErrorKind::RateLimit,
            "quota",
            Some("7"),
        ),
        (
            500,
            r#"{"error": {"message": "try later", "status_code": "503.0", "code": "overloaded"}}"#,
            ErrorKind::Server,
            "try later",
            None,
        ),
        (
            422,
            r#"{"error": "model not found", "param": "model"}"#,
            ErrorKind::UnprocessableEntity,
            "model not found",
            None,
        ),
    ] {
        let server = answering(status, body, "application/json").await;
        let c = test_client(&server.uri(), 0);
        for e in [
            c.create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file_1"))
                .await
                .unwrap_err(),
            c.list_batches().await.unwrap_err(),
            c.retrieve_file("file_1").await.unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.message()), (kind, message), "{body}");
            let decoded = e.body().expect("the vendor's shape");
            assert_eq!(decoded.code.as_deref(), code, "{body}");
        }
    }
    let server = answering(400, r#"{"message": "m", "trace": "t-1"}"#, "application/json").await;
    let e = test_client(&server.uri(), 0).retrieve_batch("b").await.unwrap_err();
    assert_eq!(e.body().unwrap().extra["trace"], "t-1");
    // Fields of another API only: not the vendor's error, and kept as text.
    let server = answering(404, r#"{"detail": "Not Found"}"#, "application/json").await;
    let e = test_client(&server.uri(), 0).retrieve_batch("b").await.unwrap_err();
    assert_eq!((e.body(), e.message()), (None, r#"{"detail": "Not Found"}"#));
}

/// A success body or result line holding an array where an object belongs is a decode error,
/// not an object read by position.
#[tokio::test]
async fn an_array_where_an_object_belongs_is_a_decode_error() {
    let batch = cerebras_batch_tests::batch_json("b1", "completed", serde_json::json!({"request_counts": [12, 10, 2]}));
    let server = answering(200, &batch.to_string(), "application/json").await;
    let e = test_client(&server.uri(), 0).retrieve_batch("b1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));

    for body in [
        r#"{"object": "list", "data": [["b1", "completed"]], "has_more": false}"#,
        r#"["list", [], false]"#,
    ] {
        let server = answering(200, body, "application/json").await;
        let e = test_client(&server.uri(), 0).list_batches().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{body}");
        assert_eq!(e.body_text(), Some(body));
    }
    let server = answering(200, r#"["file_1", true, "file"]"#, "application/json").await;
    let e = test_client(&server.uri(), 0).delete_file("file_1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);

    let lines = concat!(
        r#"{"custom_id":"a","status":"failed","error":["timeout","took too long"]}"#,
        "\n",
        r#"{"custom_id":"b","status":"failed","error":"took too long"}"#,
        "\n"
    );
    let read: Vec<_> = futures::StreamExt::collect::<Vec<_>>(cerebras_batch::jsonl::read_results_from(
        std::io::Cursor::new(lines.as_bytes().to_vec()),
    ))
    .await;
    let e = read[0].as_ref().unwrap_err();
    assert_eq!((e.kind(), e.line()), (ErrorKind::Decode, Some(1)));
    assert!(e.message().contains("not a batch result line"), "{e}");
    assert_eq!(read[1].as_ref().unwrap().error_message(), Some("took too long"));
}

/// An error response whose body breaks off while it is read keeps what arrived and says it is
/// not the whole body, rather than passing the part for the whole.
#[tokio::test]
async fn an_error_body_that_breaks_off_is_marked_cut() {
    let base = reset_mid_body(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"message\":\"overloa",
    )
    .await;
    let e = test_client(&base, 0).retrieve_batch("b1").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.status().map(|s| s.as_u16())),
        (ErrorKind::Server, Some(503))
    );
    assert_eq!(e.body_text(), Some("{\"message\":\"overloa"));
    assert!(e.body_truncated(), "the body broke off: not the whole body");
    assert_eq!(e.body(), None);
}
