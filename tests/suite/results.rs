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

/// A results file with lone surrogate escapes, downloaded and saved: every value reads each lone
/// surrogate as U+FFFD, and the saved file and `text()` keep the server's bytes exactly.
#[tokio::test]
async fn lone_surrogates_are_replacement_characters_and_the_bytes_stay_as_sent() {
    use wiremock::matchers::{method, path};
    let body = concat!(
        r#"{"custom_id":"c-1","status":"succeeded","response":{"id":"cmpl_1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"half an emoji: \ud83d, a trail \ude00 and a whole \ud83d\ude00"}}]},"error":null}"#,
        "\n",
        r#"{"id":"batch_req_2","custom_id":"o-\uDFFF","response":{"status_code":200,"request_id":"r","body":{"choices":[{"message":{"content":"x\udbff\udbffy"}}]}},"error":null}"#,
        "\n",
        r#"{"id":"batch_req_3","custom_id":"o-3","response":{"status_code":400,"request_id":"r","body":{"error":{"message":"bad \ud800 byte"}}},"error":null}"#,
        "\n",
        r#"{"custom_id":"c-4","status":"failed","error":{"code":"bad_\udc01","message":"cut \ud834"}}"#,
        "\n",
        r#"{"custom_id":"c-5","status":"succeeded","response":{"content":"\\ud800 is an escaped backslash, \ud800 is not"}}"#,
        "\n",
    );
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .and(path("/v1/files/file-out/content"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/x-ndjson"))
        .mount(&server)
        .await;
    let client = cerebras_batch_tests::test_client(&server.uri(), 0);
    let read: Vec<ResultLine> = client
        .retrieve_file_content("file-out")
        .await
        .unwrap()
        .results()
        .map(|l| l.expect("the line decodes"))
        .collect()
        .await;
    let content = |l: &ResultLine| l.completion().unwrap()["choices"][0]["message"]["content"].clone();
    assert_eq!(
        (read[0].status(), content(&read[0])),
        (
            BatchResultStatus::Succeeded,
            serde_json::json!("half an emoji: \u{FFFD}, a trail \u{FFFD} and a whole \u{1F600}")
        )
    );
    assert_eq!(
        (read[1].custom_id(), read[1].status(), content(&read[1])),
        (
            "o-\u{FFFD}",
            BatchResultStatus::Succeeded,
            serde_json::json!("x\u{FFFD}\u{FFFD}y")
        )
    );
    assert_eq!(read[1].raw()["custom_id"], "o-\u{FFFD}");
    assert_eq!(read[1].line().custom_id, "o-\u{FFFD}");
    assert_eq!(
        (read[2].status(), read[2].error_message()),
        (BatchResultStatus::Failed, Some("bad \u{FFFD} byte"))
    );
    let error = read[3].error().unwrap();
    assert_eq!(
        (error.code.as_deref(), error.message.as_deref()),
        (Some("bad_\u{FFFD}"), Some("cut \u{FFFD}"))
    );
    assert_eq!(
        read[4].completion().unwrap()["content"],
        "\\ud800 is an escaped backslash, \u{FFFD} is not"
    );
    let texts: Vec<&str> = read.iter().map(ResultLine::text).collect();
    assert_eq!(texts.join("\n") + "\n", body, "text() is the line as sent");

    let dir = std::env::temp_dir().join(format!("cb-surrogates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("results.jsonl");
    client
        .retrieve_file_content("file-out")
        .await
        .unwrap()
        .save(&saved)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        body.as_bytes(),
        "the saved file is the body"
    );
    let again: Vec<_> = read_results_from(tokio::fs::File::open(&saved).await.unwrap())
        .map(|l| l.unwrap().completion().cloned())
        .collect()
        .await;
    assert_eq!(again[0], read[0].completion().cloned());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `response.status_code` follows the tolerance rule for integers: a numeric string is the
/// status, in both shapes of what a status decides (success, failure, the error's message).
#[tokio::test]
async fn a_status_code_sent_as_a_string_is_the_status() {
    let text = concat!(
        r#"{"id":"r1","custom_id":"s-200","response":{"status_code":"200","request_id":"q","body":{"id":"cmpl"}},"error":null}"#,
        "\n",
        r#"{"id":"r2","custom_id":"s-429","response":{"status_code":"429","body":{"error":{"message":"slow down"}}},"error":null}"#,
        "\n",
        r#"{"id":"r3","custom_id":"s-201","response":{"status_code":" 201 ","body":{"id":"cmpl-3"}}}"#,
        "\n",
        r#"{"id":"r4","custom_id":"s-204f","response":{"status_code":204.0,"body":{}}}"#,
        "\n",
        r#"{"id":"r5","custom_id":"s-500","response":{"status_code":"500","body":"upstream died"}}"#,
        "\n",
        r#"{"id":"r6","custom_id":"s-ok-but-error","response":{"status_code":"200","body":{}},"error":{"message":"late"}}"#,
        "\n",
    );
    let read = ok_lines(text.as_bytes()).await;
    let got: Vec<_> = read
        .iter()
        .map(|l| (l.custom_id(), l.shape(), l.http_status(), l.status(), l.error_message()))
        .collect();
    use BatchResultStatus::{Failed, Succeeded};
    use ResultShape::OpenAi;
    assert_eq!(
        got,
        [
            ("s-200", OpenAi, Some(200), Succeeded, None),
            ("s-429", OpenAi, Some(429), Failed, Some("slow down")),
            ("s-201", OpenAi, Some(201), Succeeded, None),
            ("s-204f", OpenAi, Some(204), Succeeded, None),
            ("s-500", OpenAi, Some(500), Failed, Some("upstream died")),
            ("s-ok-but-error", OpenAi, Some(200), Failed, Some("late")),
        ]
    );
    assert_eq!(read[0].completion().unwrap()["id"], "cmpl");
    assert_eq!(read[2].completion().unwrap()["id"], "cmpl-3");
    assert_eq!(read[1].completion(), None);
}

/// A status that is no number, or out of range, is an error for that line naming the request,
/// never a made-up outcome; reading goes on.
#[tokio::test]
async fn a_status_code_that_is_no_status_fails_its_line_only() {
    let text = concat!(
        r#"{"id":"r1","custom_id":"bad-1","response":{"status_code":"two hundred","body":{}}}"#,
        "\n",
        r#"{"id":"r2","custom_id":"bad-2","response":{"status_code":99999,"body":{}}}"#,
        "\n",
        r#"{"id":"r3","custom_id":"good","response":{"status_code":"200","body":{}}}"#,
        "\n",
    );
    let read = lines(text.as_bytes()).await;
    for (i, id) in [(0, "bad-1"), (1, "bad-2")] {
        let e = read[i].as_ref().unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::Decode, Some(i + 1)));
        assert!(
            e.message().contains(&format!(
                "custom_id \"{id}\": response.status_code is not an HTTP status"
            )),
            "{e}"
        );
    }
    assert_eq!(read[2].as_ref().unwrap().status(), BatchResultStatus::Succeeded);
}

/// What serde_json skips without checking (a number out of range, nesting past its limit) is
/// still a decode error for the line, never `Ok` with an empty response.
#[tokio::test]
async fn a_line_serde_json_cannot_decode_is_an_error_not_an_empty_success() {
    let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
    let text = format!(
        "{}\n{}\n{}\n",
        r#"{"custom_id":"big","status":"succeeded","response":{"usage":{"total_tokens":1e999}}}"#,
        format_args!(r#"{{"id":"x","custom_id":"deep","response":{{"status_code":200,"body":{{"v":{deep}}}}}}}"#),
        r#"{"custom_id":"fine","status":"succeeded","response":{"usage":{"total_tokens":1e300}}}"#,
    );
    let read = lines(text.as_bytes()).await;
    for (i, what) in [(0, "number out of range"), (1, "recursion limit exceeded")] {
        let e = read[i].as_ref().unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::Decode, Some(i + 1)));
        assert!(e.message().contains(what), "{e}");
    }
    let fine = read[2].as_ref().unwrap();
    assert_eq!(fine.completion().unwrap()["usage"]["total_tokens"], 1e300);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

    /// Any UTF-16 code units, escaped in a line, read as `String::from_utf16_lossy` reads them,
    /// through the first pass and the full decode alike.
    #[test]
    fn escaped_utf16_reads_as_lossy_utf16(
        units in proptest::collection::vec(
            proptest::prop_oneof![0xD7F0u16..0xE010, 0u16..0x80, proptest::prelude::any::<u16>()],
            0..12,
        ),
        upper in proptest::prelude::any::<bool>(),
    ) {
        let escaped: String = units
            .iter()
            .map(|u| if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") })
            .collect();
        let text = format!(
            r#"{{"custom_id":"id-{escaped}","status":"succeeded","response":{{"content":"{escaped}"}}}}"#
        );
        let expected = String::from_utf16_lossy(&units);
        for full in [false, true] {
            let line = jsonl::decode_result_line(text.as_bytes(), full).unwrap();
            proptest::prop_assert_eq!(line.custom_id(), format!("id-{expected}"));
            proptest::prop_assert_eq!(&line.completion().unwrap()["content"], &serde_json::json!(expected));
            proptest::prop_assert_eq!(line.text(), text.as_str());
        }
    }
}
