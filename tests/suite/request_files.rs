//! Request files: the writer and the checker refuse each documented limit, naming the line.

use cerebras_batch::ErrorKind;
use cerebras_batch::jsonl;
use cerebras_batch::jsonl::ChatCompletionRequest;
use cerebras_batch::jsonl::ChatMessage;
use cerebras_batch::jsonl::RequestWriter;
use cerebras_batch::jsonl::check_request_file;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

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
    assert_eq!(
        (dup.line(), dup.message()),
        (Some(3), "custom_id \"r1\" is used twice: on lines 1 and 3")
    );
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

#[tokio::test]
async fn line_limits_are_exact() {
    // A line of exactly MAX_LINE_BYTES passes the length check (and fails as JSON); one more
    // byte is over the limit.
    for (len, expected) in [
        (jsonl::MAX_LINE_BYTES, "not a batch request line"),
        (jsonl::MAX_LINE_BYTES + 1, "the line is over 1000000 bytes"),
    ] {
        let mut text = vec![b'x'; len];
        text.push(b'\n');
        let check = jsonl::check_request_file(std::io::Cursor::new(text)).await.unwrap();
        assert!(
            check.problems[0].message().starts_with(expected),
            "{len}: {}",
            check.problems[0].message()
        );
    }
}

#[test]
fn a_failed_write_is_not_counted() {
    struct FailsOnce(Vec<u8>, Arc<AtomicUsize>);
    impl std::io::Write for FailsOnce {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.1.fetch_add(1, Ordering::Relaxed) == 2 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let body = ChatCompletionRequest::new("m", vec![ChatMessage::user("hi")]);
    let mut w = RequestWriter::new(FailsOnce(Vec::new(), Arc::new(AtomicUsize::new(0))));
    w.push("r1", &body).unwrap();
    w.push("r2", &body).unwrap();
    let err = w.push("r3", &body).unwrap_err();
    assert_eq!((err.kind(), err.line()), (ErrorKind::Io, Some(3)));
    assert_eq!(w.lines(), 2);
    w.push("r3", &body)
        .expect("r3 was never written, so it is not a duplicate");
    assert_eq!(w.lines(), 3);
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

/// A request line that is a JSON array is refused, not read by position into a request line the
/// API would not accept; an object with leading spaces is still a line.
#[tokio::test]
async fn a_request_line_that_is_an_array_is_refused() {
    // Ten good lines, each after two spaces.
    let mut text = String::new();
    for line in cerebras_batch_tests::twelve_requests().split(|b| *b == b'\n').take(10) {
        text.push_str("  ");
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    text.push_str(r#"[{"model":"m","messages":[]},"pos","POST","/v1/chat/completions"]"#);
    text.push('\n');
    text.push_str(r#" ["x"]"#);
    text.push('\n');
    let check = jsonl::check_request_file(std::io::Cursor::new(text.into_bytes()))
        .await
        .unwrap();
    let problems: Vec<(Option<usize>, String)> = check
        .problems
        .iter()
        .map(|e| (e.line(), e.message().to_owned()))
        .collect();
    let refused = "not a batch request line: a JSON object is expected".to_owned();
    assert_eq!(problems, [(Some(11), refused.clone()), (Some(12), refused)]);
    assert_eq!(check.summary.lines, 10);
}
