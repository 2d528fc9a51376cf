//! Errors a person can act on: `Display` names the operation, the request with its ids, the
//! status, the server's message (or an HTML page's title) and the request id; error bodies with
//! numeric codes decode; a TLS handshake against plain HTTP says so after one attempt; a body
//! that stalls is retried; a download's body error counts its attempts.

use std::time::Duration;

use cerebras_batch::{Client, ErrorKind};
use cerebras_batch_tests::request_count;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base: &str, retries: u32) -> Client {
    Client::builder()
        .api_key("sk-errors-test")
        .base_url(base)
        .max_retries(retries)
        .retry_delays(Duration::from_millis(1), Duration::from_millis(4))
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client builds")
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
async fn a_wrapped_error_with_a_numeric_code_is_decoded() {
    let server = answering(
        404,
        r#"{"error":{"message":"No batch found","type":"invalid_request_error","code":404}}"#,
        "application/json",
    )
    .await;
    let err = client(&server.uri(), 0).retrieve_batch("batch_nope").await.unwrap_err();
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
    let err = client(&server.uri(), 0)
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
    let err = client(&server.uri(), 0).cancel_batch("batch_1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        err.to_string(),
        "cancel_batch (DELETE /v1/batches/batch_1): server error (HTTP 502): 502 Bad Gateway (request id req_7)"
    );
    assert_eq!(err.body_text(), Some(page), "the raw body is kept");

    let untitled = "<!DOCTYPE html><html><body><script>var x = 1;</script><h1>Service\n unavailable</h1><p>Try later.</p></body></html>";
    let server = answering(503, untitled, "text/html").await;
    let err = client(&server.uri(), 0).retrieve_file("file_1").await.unwrap_err();
    assert_eq!(err.message(), "Service unavailable Try later.");
}

#[tokio::test]
async fn the_fake_api_answers_unknown_ids_with_vendor_shaped_errors() {
    let server = cerebras_batch_tests::demo().await;
    let err = client(&server.uri(), 0).retrieve_batch("batch_nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/batch_nope): not found (HTTP 404): No such object"
    );
}

#[tokio::test]
async fn https_against_a_plain_http_server_says_so_after_one_attempt() {
    let server = MockServer::start().await;
    let https = server.uri().replacen("http://", "https://", 1);
    let err = client(&https, 2).retrieve_batch("b1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), 1, "a TLS mismatch is not retried: {err}");
    assert!(
        err.message()
            .contains("the server may speak plain HTTP: if so, use http:// in the base URL"),
        "{err}"
    );
}

/// A server whose first answer stalls in the middle of its JSON body and whose later answers
/// are whole.
async fn stalls_once() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut socket, _)) = listener.accept().await {
            let stall = std::mem::replace(&mut first, false);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut read = Vec::new();
                while !read.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read.extend_from_slice(&buf[..n]),
                    }
                }
                let body = br#"{"id":"b1","object":"batch","status":"in_progress"}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                if stall {
                    let _ = socket.write_all(&body[..10]).await;
                    let _ = socket.flush().await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                } else {
                    let _ = socket.write_all(body).await;
                }
            });
        }
    });
    base
}

#[tokio::test]
async fn a_json_body_that_stalls_is_retried_like_any_timeout() {
    let base = stalls_once().await;
    let batch = client(&base, 1)
        .retrieve_batch("b1")
        .await
        .expect("the second attempt succeeds");
    assert_eq!(batch.id, "b1");
    let err = client(&base, 0).retrieve_batch("b1").await;
    assert!(err.is_ok(), "only the first answer stalls");
}

#[tokio::test]
async fn a_download_body_error_names_the_call_and_counts_its_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}\n"))
        .mount(&server)
        .await;
    // The download arrives on the second attempt; its attempts travel with it.
    let download = client(&server.uri(), 2)
        .retrieve_file_content("f1")
        .await
        .expect("second attempt");
    let lines: Vec<_> = futures::StreamExt::collect::<Vec<_>>(download.into_stream()).await;
    assert!(lines.iter().all(|l| l.is_ok()));
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn a_refusal_before_sending_names_the_route() {
    let err = client("http://127.0.0.1:9", 0).retrieve_batch("..").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.attempts(), 0);
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/{batch_id}): invalid input: `batch_id` has the dot segment \"..\"; it must be one path segment"
    );
}
