//! Retries and faults against local servers on 127.0.0.1: every retry rule, the Retry-After
//! forms (absurd ones included), POST safety, connection failures, timeouts and a connection
//! reset in the middle of a body. Backoffs are shortened to milliseconds and server-requested
//! delays are checked through the pure `retry_after` function, so nothing here waits long.

use std::time::{Duration, SystemTime};

use cerebras_batch::{Client, ErrorKind, MAX_RETRY_AFTER, retry_after};
use cerebras_batch_tests::{batch_json, request_count};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base: &str, retries: u32) -> Client {
    Client::builder()
        .api_key("sk-fault-test")
        .base_url(base)
        .max_retries(retries)
        .retry_delays(Duration::from_millis(1), Duration::from_millis(4))
        .build()
        .expect("client builds")
}

fn ok_batch() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(batch_json("b1", "in_progress", json!({})))
}

/// Mounts `first` for the first `n` requests, then `then`.
async fn sequence(server: &MockServer, first: ResponseTemplate, n: u64, then: ResponseTemplate) {
    Mock::given(wiremock::matchers::any())
        .respond_with(first)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(then)
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn get_recovers_from_503_503_200() {
    let server = MockServer::start().await;
    sequence(&server, ResponseTemplate::new(503), 2, ok_batch()).await;
    let batch = client(&server.uri(), 2).retrieve_batch("b1").await.expect("recovers");
    assert_eq!(batch.id, "b1");
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn the_final_error_counts_its_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let err = client(&server.uri(), 2)
        .retrieve_batch("b1")
        .await
        .expect_err("always 500");
    assert_eq!(
        (err.kind(), err.attempts(), err.body_text()),
        (ErrorKind::Server, 3, Some("boom"))
    );
    assert_eq!(
        err.to_string(),
        "retrieve_batch (GET /v1/batches/b1): server error (HTTP 500): boom (after 3 attempts)"
    );
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn retried_statuses_for_idempotent_calls() {
    for status in [408, 409, 429, 500, 502, 503, 504] {
        let server = MockServer::start().await;
        sequence(&server, ResponseTemplate::new(status), 1, ok_batch()).await;
        client(&server.uri(), 1)
            .cancel_batch("b1")
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(request_count(&server).await, 2, "{status} is retried");
    }
    for status in [400, 401, 403, 404, 422] {
        let server = MockServer::start().await;
        sequence(&server, ResponseTemplate::new(status), 1, ok_batch()).await;
        let err = client(&server.uri(), 2)
            .retrieve_batch("b1")
            .await
            .expect_err("not retried");
        assert_eq!((err.status().map(|s| s.as_u16()), err.attempts()), (Some(status), 1));
        assert_eq!(request_count(&server).await, 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn post_is_not_retried_when_the_request_may_have_been_processed() {
    for status in [408, 409, 500, 503] {
        let server = MockServer::start().await;
        sequence(&server, ResponseTemplate::new(status), 1, ok_batch()).await;
        let err = client(&server.uri(), 2)
            .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
            .await
            .expect_err("not retried");
        assert_eq!(err.attempts(), 1, "{status}");
        assert_eq!(
            request_count(&server).await,
            1,
            "a POST answered {status} is not repeated: it may have created a batch"
        );
    }
}

#[tokio::test]
async fn post_is_retried_on_429_and_when_the_server_says_so() {
    let server = MockServer::start().await;
    sequence(&server, ResponseTemplate::new(429), 1, ok_batch()).await;
    client(&server.uri(), 2)
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("retried after 429");
    assert_eq!(request_count(&server).await, 2);

    let server = MockServer::start().await;
    sequence(
        &server,
        ResponseTemplate::new(503).insert_header("x-should-retry", "true"),
        1,
        ok_batch(),
    )
    .await;
    client(&server.uri(), 2)
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("retried: x-should-retry");
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn x_should_retry_false_stops_a_retry() {
    let server = MockServer::start().await;
    sequence(
        &server,
        ResponseTemplate::new(503).insert_header("x-should-retry", "false"),
        1,
        ok_batch(),
    )
    .await;
    let err = client(&server.uri(), 2)
        .retrieve_batch("b1")
        .await
        .expect_err("not retried");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn a_429_with_any_retry_after_form_is_retried_within_bounds() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let far = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(10 * 365 * 86400));
    let forms: Vec<(&str, String)> = vec![
        ("retry-after", "0.001".into()),
        ("retry-after-ms", "2".into()),
        ("retry-after", "-5".into()),
        ("retry-after", "NaN".into()),
        ("retry-after", "inf".into()),
        ("retry-after", "99999999999999999999".into()),
        ("retry-after", "soon".into()),
        ("retry-after", past),
        ("retry-after", far),
        ("retry-after-ms", "-1".into()),
    ];
    for (name, value) in forms {
        let server = MockServer::start().await;
        sequence(
            &server,
            ResponseTemplate::new(429).insert_header(name, value.as_str()),
            1,
            ok_batch(),
        )
        .await;
        let started = std::time::Instant::now();
        client(&server.uri(), 1)
            .retrieve_batch("b1")
            .await
            .unwrap_or_else(|e| panic!("{name}: {value}: {e}"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: {value} waited {:?}",
            started.elapsed()
        );
        assert_eq!(request_count(&server).await, 2, "{name}: {value}");
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    h
}

#[test]
fn retry_after_parses_every_form_and_ignores_absurd_values() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_766_000_000);
    let at = |secs: i64| {
        httpdate::fmt_http_date(if secs >= 0 {
            now + Duration::from_secs(secs as u64)
        } else {
            now - Duration::from_secs((-secs) as u64)
        })
    };
    type Case = (Vec<(&'static str, String)>, Option<Duration>);
    let cases: Vec<Case> = vec![
        (vec![("retry-after", "3".into())], Some(Duration::from_secs(3))),
        (vec![("retry-after", "1.5".into())], Some(Duration::from_millis(1500))),
        (vec![("retry-after", at(30))], Some(Duration::from_secs(30))),
        (vec![("retry-after-ms", "250".into())], Some(Duration::from_millis(250))),
        (
            vec![("retry-after-ms", "250".into()), ("retry-after", "9".into())],
            Some(Duration::from_millis(250)),
        ),
        (vec![("retry-after", "60".into())], Some(MAX_RETRY_AFTER)),
        (vec![("retry-after", "61".into())], None),
        (vec![("retry-after", "0".into())], None),
        (vec![("retry-after", "-1".into())], None),
        (vec![("retry-after", "NaN".into())], None),
        (vec![("retry-after", "inf".into())], None),
        (vec![("retry-after", "1e400".into())], None),
        (vec![("retry-after", "18446744073709551616".into())], None),
        (vec![("retry-after", at(-10))], None),
        (vec![("retry-after", at(10 * 365 * 86400))], None),
        (vec![("retry-after", "Wed, 99 Foo 2026 99:99:99 GMT".into())], None),
        (vec![("retry-after-ms", "-3".into())], None),
        (vec![("retry-after", "1e-20".into())], None), // found by the fuzzer: rounds to 0 ns
        (vec![("retry-after-ms", "0.0000001".into())], None),
        (vec![("retry-after-ms", "60001".into())], None),
        (vec![], None),
    ];
    for (pairs, expected) in cases {
        let refs: Vec<(&'static str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(retry_after(&headers(&refs), now), expected, "{pairs:?}");
    }
}

#[tokio::test]
async fn connection_refused_is_retried_then_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client(&format!("http://127.0.0.1:{port}"), 2)
        .retrieve_batch("b1")
        .await
        .expect_err("nobody listens");
    assert_eq!(
        (err.kind(), err.attempts(), err.status()),
        (ErrorKind::Connection, 3, None)
    );
    assert!(err.message().contains("127.0.0.1"), "{}", err.message());
}

#[tokio::test]
async fn a_slow_response_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok_batch().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let c = Client::builder()
        .api_key("k")
        .base_url(server.uri())
        .timeout(Duration::from_millis(100))
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.retrieve_batch("b1").await.expect_err("too slow");
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Timeout, 1));
}

/// A fault injector (not a server): answers the first request with headers that promise
/// 1000 bytes, sends 20, then resets the connection.
async fn reset_mid_body() -> String {
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
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\":\"b1\",\"object\"";
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.flush().await;
            // A zero linger makes the close a reset (and never blocks, unlike other lingers).
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            drop(socket);
        }
    });
    base
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_connection_error_with_the_status() {
    let base = reset_mid_body().await;
    let err = client(&base, 0).retrieve_batch("b1").await.expect_err("body cut off");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));

    let download = client(&base, 0)
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

/// The client's `tracing` output, captured process-wide (thread-local subscribers race with the
/// callsite cache when tests run in parallel). Only the `cerebras_batch` target is kept.
fn captured_log() -> &'static std::sync::Mutex<Vec<u8>> {
    use std::sync::{Mutex, OnceLock};
    use tracing_subscriber::layer::SubscriberExt;
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Writer(&'static Mutex<Vec<u8>>);
        impl std::io::Write for Writer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let layer = tracing_subscriber::fmt::layer()
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || Writer(log));
        let filter = tracing_subscriber::filter::Targets::new().with_target("cerebras_batch", tracing::Level::DEBUG);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer).with(filter))
            .expect("no other global subscriber in this test binary");
        log
    })
}

#[tokio::test]
async fn spans_carry_operation_method_path_status_attempt_and_no_secret() {
    let log = captured_log();
    let server = MockServer::start().await;
    sequence(&server, ResponseTemplate::new(503), 1, ok_batch()).await;
    client(&server.uri(), 2)
        .retrieve_batch("batch_tracing_probe")
        .await
        .expect("recovers");

    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let spans: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cerebras_batch.request{") && l.contains("batch_tracing_probe") && l.contains("close"))
        .collect();
    assert_eq!(spans.len(), 2, "{log}");
    for (i, status) in [(1, 503), (2, 200)] {
        let span = spans[i - 1];
        for field in [
            "operation=\"retrieve_batch\"".to_owned(),
            "method=GET".to_owned(),
            "path=/v1/batches/batch_tracing_probe".to_owned(),
            format!("attempt={i}"),
            format!("status={status}"),
            "duration_ms=".to_owned(),
        ] {
            assert!(span.contains(&field), "{field} missing from {span}");
        }
    }
    assert!(
        log.lines()
            .any(|l| l.contains("batch_tracing_probe") && l.contains("retrying")),
        "{log}"
    );
    assert!(
        !log.contains("sk-fault-test"),
        "the API key leaked into the logs: {log}"
    );
}
