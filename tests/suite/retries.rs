//! Retries and timeouts against local servers: every retry rule, the Retry-After forms (absurd ones
//! included), POST safety, redirects, connection failures, timeouts, stalled bodies, and the
//! failures no retry heals (409, TLS against plain HTTP, an untrusted certificate, a proxy that
//! refuses the tunnel or talks nonsense, an answer that is not HTTP), each counted on the
//! server's side. Backoffs are shortened to milliseconds and server-requested delays are checked
//! through the pure `retry_after` function, so nothing here waits long.

use cerebras_batch::Client;
use cerebras_batch::ErrorKind;
use cerebras_batch::MAX_RETRY_AFTER;
use cerebras_batch::retry_after;
use cerebras_batch_tests::batch_json;
use cerebras_batch_tests::batch_response;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::respond_in_sequence;
use cerebras_batch_tests::trickle;
use cerebras_batch_tests::{test_client, test_client_builder};
use reqwest::header::HeaderMap;
use reqwest::header::HeaderValue;
use serde_json::json;
use std::time::Duration;
use std::time::SystemTime;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::any;
use wiremock::matchers::method;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    h
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
async fn get_recovers_from_503_503_200() {
    let server = MockServer::start().await;
    respond_in_sequence(&server, ResponseTemplate::new(503), 2, batch_response("in_progress")).await;
    let batch = test_client(&server.uri(), 2)
        .retrieve_batch("b1")
        .await
        .expect("recovers");
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
    let err = test_client(&server.uri(), 2)
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
    for status in [408, 429, 500, 502, 503, 504] {
        let server = MockServer::start().await;
        respond_in_sequence(&server, ResponseTemplate::new(status), 1, batch_response("in_progress")).await;
        test_client(&server.uri(), 1)
            .cancel_batch("b1")
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(request_count(&server).await, 2, "{status} is retried");
    }
    for status in [400, 401, 403, 404, 409, 413, 422] {
        let server = MockServer::start().await;
        respond_in_sequence(&server, ResponseTemplate::new(status), 1, batch_response("in_progress")).await;
        let err = test_client(&server.uri(), 2)
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
        respond_in_sequence(&server, ResponseTemplate::new(status), 1, batch_response("in_progress")).await;
        let err = test_client(&server.uri(), 2)
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
    respond_in_sequence(&server, ResponseTemplate::new(429), 1, batch_response("in_progress")).await;
    test_client(&server.uri(), 2)
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("retried after 429");
    assert_eq!(request_count(&server).await, 2);

    let server = MockServer::start().await;
    respond_in_sequence(
        &server,
        ResponseTemplate::new(503).insert_header("x-should-retry", "true"),
        1,
        batch_response("in_progress"),
    )
    .await;
    test_client(&server.uri(), 2)
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("retried: x-should-retry");
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn x_should_retry_false_stops_a_retry() {
    let server = MockServer::start().await;
    respond_in_sequence(
        &server,
        ResponseTemplate::new(503).insert_header("x-should-retry", "false"),
        1,
        batch_response("in_progress"),
    )
    .await;
    let err = test_client(&server.uri(), 2)
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
        respond_in_sequence(
            &server,
            ResponseTemplate::new(429).insert_header(name, value.as_str()),
            1,
            batch_response("in_progress"),
        )
        .await;
        let started = std::time::Instant::now();
        test_client(&server.uri(), 1)
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
    let err = test_client(&format!("http://127.0.0.1:{port}"), 2)
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
        .respond_with(batch_response("in_progress").set_delay(Duration::from_secs(5)))
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

#[tokio::test]
async fn a_json_answer_must_arrive_whole_within_the_timeout() {
    // 6 parts 100 ms apart: each within the 300 ms timeout, the whole not. A JSON answer is
    // bounded whole (a download, per read: see download.rs).
    let body = serde_json::to_vec(&batch_json("b1", "in_progress", json!({}))).unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let parts: Vec<Vec<u8>> = body.chunks(body.len().div_ceil(6)).map(<[u8]>::to_vec).collect();
    let base = trickle(head, parts, Duration::from_millis(100)).await;
    let err = test_client_builder(&base, 0)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .retrieve_batch("b1")
        .await
        .expect_err("the whole answer takes 600 ms");
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Timeout, 1));
}

#[tokio::test]
async fn a_successful_post_is_never_repeated_even_if_the_server_asks() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch_response("validating").insert_header("x-should-retry", "true"))
        .mount(&server)
        .await;
    test_client(&server.uri(), 2)
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect("created");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(batch_response("cancelled"))
        .mount(&elsewhere)
        .await;
    for status in [301, 302, 303, 307, 308] {
        let server = MockServer::start().await;
        let target = format!("{}/v1/batches/b1", elsewhere.uri());
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).insert_header("location", target.as_str()))
            .mount(&server)
            .await;
        let c = test_client(&server.uri(), 2);
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

#[tokio::test]
async fn https_against_a_plain_http_server_says_so_after_one_attempt() {
    let server = MockServer::start().await;
    let https = server.uri().replacen("http://", "https://", 1);
    let err = test_client_builder(&https, 2)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("b1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), 1, "a TLS mismatch is not retried: {err}");
    assert!(
        err.message()
            .contains("the server may speak plain HTTP: if so, use http:// in the base URL"),
        "{err}"
    );
}

#[tokio::test]
async fn a_json_body_that_stalls_is_retried_like_any_timeout() {
    let base = stalls_once().await;
    let batch = test_client_builder(&base, 1)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("b1")
        .await
        .expect("the second attempt succeeds");
    assert_eq!(batch.id, "b1");
    let err = test_client_builder(&base, 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_batch("b1")
        .await;
    assert!(err.is_ok(), "only the first answer stalls");
}

/// The three methods of the API, each sent once through `client`.
async fn every_method(client: &Client) -> Vec<(&'static str, cerebras_batch::Error)> {
    let get = client.retrieve_batch("b1").await.expect_err("GET fails");
    let delete = client.cancel_batch("b1").await.expect_err("DELETE fails");
    let post = client
        .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
        .await
        .expect_err("POST fails");
    vec![("GET", get), ("DELETE", delete), ("POST", post)]
}

#[tokio::test]
async fn a_409_is_a_state_conflict_and_no_method_retries_it() {
    let body = json!({"error": {"message": "Batch b1 is already cancelled", "type": "invalid_request_error", "code": "batch_cancelled"}});
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(409).set_body_json(&body))
        .mount(&server)
        .await;
    for (method, err) in every_method(&test_client(&server.uri(), 2)).await {
        assert_eq!(
            (
                err.kind(),
                err.status().map(|s| s.as_u16()),
                err.attempts(),
                err.message()
            ),
            (ErrorKind::Conflict, Some(409), 1, "Batch b1 is already cancelled"),
            "{method}"
        );
        assert_eq!(err.method(), Some(method));
    }
    assert_eq!(request_count(&server).await, 3, "one request per call");

    // The server can still ask for another try.
    for method_name in ["GET", "DELETE", "POST"] {
        let server = MockServer::start().await;
        respond_in_sequence(
            &server,
            ResponseTemplate::new(409).insert_header("x-should-retry", "true"),
            1,
            batch_response("cancelled"),
        )
        .await;
        let client = test_client(&server.uri(), 2);
        let done = match method_name {
            "GET" => client.retrieve_batch("b1").await,
            "DELETE" => client.cancel_batch("b1").await,
            _ => {
                client
                    .create_batch(cerebras_batch::types::CreateBatchRequest::chat_completions("file-1"))
                    .await
            }
        };
        assert_eq!(done.expect("the second try succeeds").id, "b1", "{method_name}");
        assert_eq!(request_count(&server).await, 2, "{method_name}: x-should-retry: true");
    }
}

#[tokio::test]
async fn a_certificate_the_client_does_not_trust_is_tried_once() {
    let pki = crate::doubles::pki();
    let (base, handshakes) = crate::doubles::https_server(&pki, crate::doubles::batch_answer("b1")).await;
    let client = test_client_builder(&base, 2)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for (method, err) in every_method(&client).await {
        tried_once(method, &err, "the TLS handshake failed");
        assert!(
            err.message()
                .contains("the client does not trust the server's certificate"),
            "{method}: {err}"
        );
        assert!(err.message().contains("UnknownIssuer"), "{method}: {err}");
        assert!(err.message().ends_with("(not retried)"), "{method}: {err}");
    }
    assert_eq!(
        handshakes.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one handshake per call"
    );
}

/// Asserts that `err` is a connection failure without a response, tried once, whose message
/// starts with `cause` and says it was not retried.
fn tried_once(method: &str, err: &cerebras_batch::Error, cause: &str) {
    assert_eq!(
        (err.kind(), err.attempts(), err.status()),
        (ErrorKind::Connection, 1, None),
        "{method}: {err}"
    );
    assert!(err.message().starts_with(cause), "{method}: {err}");
    assert!(err.message().ends_with("(not retried)"), "{method}: {err}");
}

/// A client whose requests all go through the proxy at `proxy_url`.
fn through_proxy(base: &str, proxy_url: &str) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy_url).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    test_client_builder(base, 2).http_client(http).build().unwrap()
}

#[tokio::test]
async fn a_proxy_that_refuses_the_tunnel_or_talks_nonsense_is_tried_once() {
    use crate::doubles::ProxyAnswer::{Nonsense, Refuse};
    // The target is never reached: the proxy answers for it.
    let target = "https://127.0.0.1:9";
    for answer in [
        Refuse("HTTP/1.1 403 Forbidden"),
        Refuse("HTTP/1.1 407 Proxy Authentication Required"),
        Refuse("HTTP/1.1 502 Bad Gateway"),
        Nonsense,
    ] {
        let proxy = crate::doubles::proxy(answer).await;
        for (method, err) in every_method(&through_proxy(target, &proxy.url)).await {
            tried_once(
                method,
                &err,
                "the proxy refused to open a tunnel to the server, or does not speak HTTP",
            );
        }
        let seen = proxy.seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec!["CONNECT 127.0.0.1:9 HTTP/1.1"; 3],
            "one tunnel asked for per call"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_tried_once_direct_or_through_a_proxy() {
    let (base, accepted) = crate::doubles::raw_server(b"SSH-2.0-OpenSSH_9.6\r\n").await;
    for (method, err) in every_method(&test_client(&base, 2)).await {
        tried_once(method, &err, "the answer is not HTTP/1.1");
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);

    // An http:// URL through a proxy is sent to the proxy in absolute form: nonsense back is
    // the same failure.
    let proxy = crate::doubles::proxy(crate::doubles::ProxyAnswer::Nonsense).await;
    for (method, err) in every_method(&through_proxy("http://127.0.0.1:9", &proxy.url)).await {
        tried_once(method, &err, "the answer is not HTTP/1.1");
    }
    assert_eq!(proxy.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_proxy_that_cannot_be_reached_is_retried_like_any_refused_connection() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = through_proxy("https://127.0.0.1:9", &format!("http://{closed}"));
    for (method, err) in every_method(&client).await {
        // Nothing was sent, so even the POST is tried again.
        assert_eq!(
            (err.kind(), err.attempts()),
            (ErrorKind::Connection, 3),
            "{method}: {err}"
        );
        assert!(!err.message().contains("not retried"), "{method}: {err}");
    }
}
