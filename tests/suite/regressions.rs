//! Regression tests for the problems an adversarial review found (each fixed): a successful
//! POST repeated, redirects followed to other servers, header injection, panics and overshoot in
//! waits, transfers cut by a total timeout, upload length and file-name problems, custom header
//! handling, lost response parts, an echoed key, and JSONL limit off-by-ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cerebras_batch::jsonl::{self, ChatCompletionRequest, ChatMessage, RequestWriter};
use cerebras_batch::{Client, ClientBuilder, ErrorKind, UploadFile, WaitOptions, types};
use cerebras_batch_tests::{batch_json, request_count};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{any, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "csk-regression-9d7e";

fn client(base: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(base)
        .max_retries(2)
        .retry_delays(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap()
}

fn batch(status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(batch_json("b1", status, json!({})))
}

#[tokio::test]
async fn a_successful_post_is_never_repeated_even_if_the_server_asks() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch("validating").insert_header("x-should-retry", "true"))
        .mount(&server)
        .await;
    client(&server.uri())
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("created");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch("cancelled"))
        .mount(&elsewhere)
        .await;
    for status in [301, 302, 303, 307, 308] {
        let server = MockServer::start().await;
        let target = format!("{}/v1/batches/b1", elsewhere.uri());
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).insert_header("location", target.as_str()))
            .mount(&server)
            .await;
        let c = client(&server.uri());
        let err = c.cancel_batch("b1").await.expect_err("a redirect is an error");
        assert_eq!(
            (err.kind(), err.status().map(|s| s.as_u16())),
            (ErrorKind::OtherStatus, Some(status))
        );
        assert_eq!(
            err.message(),
            format!("the server redirected to {target}; redirects are not followed")
        );
        let err = c
            .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
            .await
            .expect_err("a redirect is an error");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(request_count(&server).await, 2, "{status}: not retried");
    }
    assert_eq!(request_count(&elsewhere).await, 0, "nothing reached the other server");
}

#[test]
fn header_injection_and_reserved_headers_are_refused() {
    let refused = [
        ("X-Integration", "my-app\nAuthorization: Bearer attacker-key"),
        ("X-Integration", "my-app\r\nX-Other: 1"),
        ("X-A:B", "v"),
        ("Host", "evil.example"),
        ("Content-Length", "5"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "close"),
    ];
    for (name, value) in refused {
        let err = Client::builder().api_key(KEY).header(name, value).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Config, "{name}: {value:?}");
        assert!(!err.to_string().contains("attacker-key"));
    }
    let err = ClientBuilder::default()
        .from_vars(|n| match n {
            "CEREBRAS_API_KEY" => Some(KEY.into()),
            "CEREBRAS_CUSTOM_HEADERS" => Some("X-Ok: 1\nHost: evil.example".into()),
            _ => None,
        })
        .unwrap_err();
    assert_eq!(
        err.message(),
        "CEREBRAS_CUSTOM_HEADERS line 2: `host` is set by the client and cannot be overridden"
    );
}

#[tokio::test]
async fn repeated_custom_headers_keep_every_value() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch("in_progress"))
        .mount(&server)
        .await;
    let c = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .header("X-Tag", "first")
        .unwrap()
        .header("X-Tag", "second")
        .unwrap()
        .build()
        .unwrap();
    c.retrieve_batch("b1").await.unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    let tags: Vec<&str> = request
        .headers
        .get_all("x-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(tags, ["first", "second"]);
}

#[tokio::test]
async fn waits_with_huge_durations_do_not_panic() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch("in_progress"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(batch("completed"))
        .with_priority(2)
        .mount(&server)
        .await;
    let done = client(&server.uri())
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::MAX)
                .intervals(Duration::ZERO, Duration::ZERO),
        )
        .await;
    assert_eq!(done.expect("completes").status, Some(types::BatchStatus::Completed));

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch("in_progress"))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::from_millis(50))
                .intervals(Duration::MAX, Duration::MAX),
        )
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
}

#[tokio::test]
async fn the_deadline_bounds_a_poll_in_flight() {
    // A slow server that would answer `completed`: past the deadline, the wait must not take it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch("completed").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .wait_for_batch("b1", WaitOptions::default().deadline(Duration::from_millis(200)))
        .await
        .expect_err("deadline first");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    assert!(err.last_batch().is_none());

    // A server that asks to retry in 4 s: the wait ends at its deadline, not after the retries.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "4"))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .wait_for_batch("b1", WaitOptions::default().deadline(Duration::from_millis(200)))
        .await
        .expect_err("deadline first");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
}

#[tokio::test]
async fn a_zero_interval_has_a_floor() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(batch("in_progress"))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .wait_for_batch(
            "b1",
            WaitOptions::default()
                .deadline(Duration::from_millis(350))
                .intervals(Duration::ZERO, Duration::ZERO),
        )
        .await
        .expect_err("deadline");
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    assert!(
        request_count(&server).await <= 5,
        "at most one poll per MIN_POLL_INTERVAL: {}",
        request_count(&server).await
    );
}

/// A fault injector: answers with `head`, then writes each chunk after `pause`.
async fn trickle(head: String, chunks: Vec<Vec<u8>>, pause: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut buf = vec![0u8; 8192];
        let mut read = Vec::new();
        while !read.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        }
        let _ = socket.write_all(head.as_bytes()).await;
        for chunk in chunks {
            tokio::time::sleep(pause).await;
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = socket.shutdown().await;
    });
    base
}

#[tokio::test]
async fn a_slow_but_steady_download_outlives_the_timeout() {
    // 6 parts 100 ms apart: 600 ms in all, against a 300 ms timeout that applies per read.
    let line = b"{\"custom_id\":\"x\",\"status\":\"succeeded\",\"response\":{}}\n".to_vec();
    let total = line.len() * 6;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: {total}\r\n\r\n");
    let base = trickle(head, vec![line; 6], Duration::from_millis(100)).await;
    let c = Client::builder()
        .api_key(KEY)
        .base_url(&base)
        .timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    let body = c
        .retrieve_file_content("f1")
        .await
        .expect("headers")
        .bytes()
        .await
        .expect("the whole body");
    assert_eq!(body.len(), total);
}

#[tokio::test]
async fn upload_problems_are_io_or_invalid_input_errors() {
    let server = cerebras_batch_tests::demo().await;
    let c = client(&server.uri());
    let err = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(vec![b'x'; 5000]),
            "a.jsonl",
            Some(100),
        ))
        .await
        .expect_err("longer");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "the reader gave more than the 100 bytes declared")
    );
    let err = c
        .upload_file(UploadFile::from_reader(
            std::io::Cursor::new(vec![b'x'; 100]),
            "a.jsonl",
            Some(5000),
        ))
        .await
        .expect_err("shorter");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "the reader ended after 100 of the 5000 bytes declared")
    );

    struct Failing(usize);
    impl tokio::io::AsyncRead for Failing {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.0 == 0 {
                return std::task::Poll::Ready(Err(std::io::Error::other("disk on fire")));
            }
            self.0 -= 1;
            buf.put_slice(b"{}\n");
            std::task::Poll::Ready(Ok(()))
        }
    }
    let err = c
        .upload_file(UploadFile::from_reader(Failing(3), "a.jsonl", None))
        .await
        .expect_err("reader fails");
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Io, "reading the file failed: disk on fire")
    );

    let dir = std::env::temp_dir();
    let err = c
        .upload_file(UploadFile::from_path(&dir))
        .await
        .expect_err("a directory");
    assert_eq!(err.kind(), ErrorKind::Io);

    let before = request_count(&server).await;
    for name in [
        "a.jsonl\"\r\nContent-Type: text/evil",
        "line\nbreak.jsonl",
        "",
        "tab\there",
    ] {
        let err = c
            .upload_file(UploadFile::from_reader(&b"{}\n"[..], name, Some(3)))
            .await
            .expect_err(name);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?}");
    }
    assert_eq!(request_count(&server).await, before, "refused names send nothing");
}

#[tokio::test]
async fn an_echoed_key_is_redacted_and_a_base_url_with_credentials_is_not_shown() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("Invalid API key: {KEY}")}))
                .insert_header("x-echo", KEY),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri()).retrieve_batch("b1").await.expect_err("401");
    assert_eq!(err.message(), "Invalid API key: [redacted]");
    assert_eq!(
        err.body().and_then(|b| b.message.as_deref()),
        Some("Invalid API key: [redacted]")
    );
    for text in [err.to_string(), format!("{err:?}"), err.body_text().unwrap().to_owned()] {
        assert!(!text.contains(KEY), "{text}");
    }
    let builder = Client::builder()
        .api_key(KEY)
        .base_url(format!("https://user:{KEY}@api.cerebras.ai"));
    assert!(!format!("{builder:?}").contains(KEY));
}

#[tokio::test]
async fn check_path_segment_refuses_double_decoding_escapes_and_huge_ids() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch("in_progress"))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    for id in [
        "%2e%2e%2f",
        "..%2F..%2Fadmin",
        "../x",
        "a/./b",
        &"x".repeat(cerebras_batch::MAX_PATH_SEGMENT_BYTES + 1),
    ] {
        let err = c.retrieve_batch(id).await.expect_err(id);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{id}");
    }
    c.retrieve_batch("x".repeat(cerebras_batch::MAX_PATH_SEGMENT_BYTES))
        .await
        .expect("4096 bytes are fine");
    assert_eq!(request_count(&server).await, 1);
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
