//! Result lines as real servers write them, none lost: numeric codes, a string where an object
//! was documented, failed lines in OpenAI's shape, byte order marks, CRLF endings and gzip.

use std::io::Write;

use cerebras_batch::Client;
use cerebras_batch::jsonl::{ResultLine, check_request_file, read_results_from};
use cerebras_batch::types::BatchResultStatus;
use futures::StreamExt;
use wiremock::matchers::{header, header_regex, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn lines(bytes: &[u8]) -> Vec<cerebras_batch::Result<ResultLine>> {
    read_results_from(std::io::Cursor::new(bytes.to_vec())).collect().await
}

async fn ok_lines(bytes: &[u8]) -> Vec<ResultLine> {
    lines(bytes)
        .await
        .into_iter()
        .map(|l| l.expect("the line decodes"))
        .collect()
}

#[tokio::test]
async fn a_numeric_error_code_in_a_result_line_is_kept() {
    let read = ok_lines(br#"{"custom_id":"r1","status":"failed","error":{"code":429,"message":"rate limited"}}"#).await;
    let line = &read[0];
    assert_eq!((line.custom_id(), line.status()), ("r1", BatchResultStatus::Failed));
    let error = line.error().expect("an error");
    assert_eq!(
        (error.code.as_deref(), error.message.as_deref()),
        (Some("429"), Some("rate limited"))
    );
    assert_eq!(line.error_message(), Some("rate limited"));
}

#[tokio::test]
async fn a_string_error_keeps_the_line_and_its_message() {
    let read = ok_lines(br#"{"custom_id":"r2","status":"failed","error":"request timed out"}"#).await;
    assert_eq!(read[0].custom_id(), "r2");
    assert_eq!(read[0].status(), BatchResultStatus::Failed);
    assert_eq!(read[0].error_message(), Some("request timed out"));
    assert_eq!(read[0].error().and_then(|e| e.code.clone()), None);
}

#[tokio::test]
async fn a_failed_line_in_openai_shape_has_no_completion_and_says_why() {
    let read = ok_lines(
        br#"{"id":"x","custom_id":"r-400","response":{"status_code":400,"request_id":"q","body":{"error":{"message":"m"}}},"error":null}"#,
    )
    .await;
    let line = &read[0];
    assert_eq!(line.status(), BatchResultStatus::Failed);
    assert_eq!(line.http_status(), Some(400));
    assert_eq!(line.completion(), None, "an error body is not a completion");
    assert_eq!(line.error_message(), Some("m"));

    let ok = ok_lines(
        br#"{"id":"y","custom_id":"r-200","response":{"status_code":200,"request_id":"q","body":{"id":"c","object":"chat.completion"}},"error":null}"#,
    )
    .await;
    assert_eq!(ok[0].status(), BatchResultStatus::Succeeded);
    assert_eq!(
        ok[0].completion().and_then(|c| c.get("id")),
        Some(&serde_json::json!("c"))
    );
    assert_eq!(ok[0].error_message(), None);
}

#[tokio::test]
async fn a_byte_order_mark_and_crlf_endings_lose_no_result() {
    let text = b"\xEF\xBB\xBF{\"custom_id\":\"first\",\"status\":\"succeeded\",\"response\":{}}\r\n{\"custom_id\":\"second\",\"status\":\"expired\"}\r\n";
    let read = ok_lines(text).await;
    assert_eq!(
        read.iter()
            .map(|l| (l.line_number(), l.custom_id()))
            .collect::<Vec<_>>(),
        [(1, "first"), (2, "second")]
    );
    assert_eq!(read[1].status(), BatchResultStatus::Expired);
}

#[tokio::test]
async fn a_request_file_with_a_byte_order_mark_is_refused_naming_the_mark() {
    let mut file = b"\xEF\xBB\xBF".to_vec();
    for i in 0..10 {
        writeln!(
            file,
            r#"{{"custom_id":"r{i}","method":"POST","url":"/v1/chat/completions","body":{{"model":"m","messages":[]}}}}"#
        )
        .unwrap();
    }
    let check = check_request_file(std::io::Cursor::new(file)).await.expect("reads");
    assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
    let problem = &check.problems[0];
    assert_eq!(problem.line(), Some(1));
    assert_eq!(
        problem.message(),
        "the file starts with a UTF-8 byte order mark (EF BB BF); save it as UTF-8 without one"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A results file served gzip-compressed, even to a client told to ask for it by hand.
#[tokio::test]
async fn compressed_results_are_saved_and_read_decompressed() {
    let plain: Vec<u8> = (0..500)
        .flat_map(|i| {
            format!("{{\"custom_id\":\"r{i}\",\"status\":\"succeeded\",\"response\":{{\"id\":\"c{i}\"}}}}\n")
                .into_bytes()
        })
        .collect();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .and(header("accept-encoding", "gzip"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gzip(&plain), "application/x-ndjson"),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .from_vars(|name| match name {
            "CEREBRAS_API_KEY" => Some("k".into()),
            "CEREBRAS_BASE_URL" => Some(server.uri()),
            "CEREBRAS_CUSTOM_HEADERS" => Some("Accept-Encoding: gzip".into()),
            _ => None,
        })
        .unwrap()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("cerebras-gzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("results.jsonl");
    let written = client
        .retrieve_file_content("f1")
        .await
        .unwrap()
        .save(&saved)
        .await
        .unwrap();
    assert_eq!(written, plain.len() as u64);
    assert_eq!(std::fs::read(&saved).unwrap(), plain);
    let read: Vec<_> = client
        .retrieve_file_content("f1")
        .await
        .unwrap()
        .results()
        .collect()
        .await;
    assert_eq!(read.len(), 500);
    assert!(read.iter().all(|l| l.is_ok()));
    assert_eq!(read[499].as_ref().unwrap().custom_id(), "r499");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_custom_headers_the_client_asks_for_compression_itself() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header_regex("accept-encoding", "gzip"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gzip(b"{\"custom_id\":\"a\"}\n"), "application/x-ndjson"),
        )
        .mount(&server)
        .await;
    let client = Client::builder().api_key("k").base_url(server.uri()).build().unwrap();
    let bytes = client
        .retrieve_file_content("f1")
        .await
        .expect("asked with gzip")
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"{\"custom_id\":\"a\"}\n");
}
