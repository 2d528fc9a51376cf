//! Result lines as real servers write them, none lost: both shapes, numeric codes, a string where
//! an object was documented, failed lines in OpenAI's shape, byte order marks and CRLF endings.

use cerebras_batch::ErrorKind;
use cerebras_batch::jsonl;
use cerebras_batch::jsonl::ResultLine;
use cerebras_batch::jsonl::ResultShape;
use cerebras_batch::jsonl::read_results_from;
use cerebras_batch::types::BatchResultStatus;
use futures::StreamExt;

async fn ok_lines(bytes: &[u8]) -> Vec<ResultLine> {
    lines(bytes)
        .await
        .into_iter()
        .map(|l| l.expect("the line decodes"))
        .collect()
}

async fn lines(bytes: &[u8]) -> Vec<cerebras_batch::Result<ResultLine>> {
    read_results_from(std::io::Cursor::new(bytes.to_vec())).collect().await
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
