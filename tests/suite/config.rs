//! Configuration: base URLs normalised or refused, variables, keys and custom headers; the key
//! never shown.

use cerebras_batch::Client;
use cerebras_batch::ClientBuilder;
use cerebras_batch::ErrorKind;
use cerebras_batch_tests::batch_response;
use cerebras_batch_tests::example;
use cerebras_batch_tests::example_body;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::{TEST_KEY, test_client};
use serde_json::json;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::any;
use wiremock::matchers::method;
use wiremock::matchers::path;

fn vars_owned(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    move |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

#[test]
fn base_urls_are_normalised_or_refused() {
    let ok = [
        ("https://api.cerebras.ai", "https://api.cerebras.ai"),
        ("https://api.cerebras.ai/", "https://api.cerebras.ai"),
        ("https://api.cerebras.ai/v1", "https://api.cerebras.ai"),
        ("https://api.cerebras.ai/v1/", "https://api.cerebras.ai"),
        ("  https://api.cerebras.ai//  ", "https://api.cerebras.ai"),
        ("http://127.0.0.1:8080/proxy/v1", "http://127.0.0.1:8080/proxy"),
        ("http://[::1]:9/", "http://[::1]:9"),
        ("HTTPS://API.CEREBRAS.AI", "https://api.cerebras.ai"),
    ];
    for (input, expected) in ok {
        assert_eq!(cerebras_batch::normalize_base_url(input).unwrap(), expected, "{input}");
    }
    let refused = [
        (
            "ftp://api.cerebras.ai",
            "invalid base URL `ftp://api.cerebras.ai`: the scheme `ftp` is not http or https",
        ),
        (
            "https://user:sk-secret@api.cerebras.ai",
            "invalid base URL the URL: it must not contain credentials; pass the API key separately",
        ),
        (
            "https://api.cerebras.ai/?key=1",
            "invalid base URL `https://api.cerebras.ai/?key=1`: it must not have a query or fragment",
        ),
        (
            "https://api.cerebras.ai/#x",
            "invalid base URL `https://api.cerebras.ai/#x`: it must not have a query or fragment",
        ),
        (
            "api.cerebras.ai",
            "invalid base URL `api.cerebras.ai`: it has no scheme; write `https://api.cerebras.ai`",
        ),
        (
            "127.0.0.1:7070",
            "invalid base URL `127.0.0.1:7070`: it has no scheme; write `http://127.0.0.1:7070`",
        ),
        (
            "localhost:7070",
            "invalid base URL `localhost:7070`: it has no scheme; write `http://localhost:7070`",
        ),
        ("", "invalid base URL: it is empty"),
    ];
    for (input, message) in refused {
        let err = cerebras_batch::normalize_base_url(input).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{input}");
        assert_eq!(err.message(), message, "{input}");
        assert!(!err.to_string().contains("sk-secret"));
    }
}

#[test]
fn configuration_from_variables() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    };
    let err = ClientBuilder::default().from_vars(vars(&[])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.message().starts_with("CEREBRAS_API_KEY is not set"),
        "{}",
        err.message()
    );
    let err = ClientBuilder::default()
        .from_vars(vars(&[("CEREBRAS_API_KEY", "  ")]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "a blank key counts as unset");

    let client = ClientBuilder::default()
        .from_vars(vars(&[
            ("CEREBRAS_API_KEY", "csk-abc"),
            ("CEREBRAS_BASE_URL", "http://127.0.0.1:9/v1/"),
            (
                "CEREBRAS_CUSTOM_HEADERS",
                "X-Cerebras-3rd-Party-Integration: my-app\n\nX-Trace: on",
            ),
        ]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9");

    let err = ClientBuilder::default()
        .from_vars(vars(&[
            ("CEREBRAS_API_KEY", "k"),
            ("CEREBRAS_CUSTOM_HEADERS", "Good: 1\nno colon here"),
        ]))
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ErrorKind::Config,
            "CEREBRAS_CUSTOM_HEADERS line 2: expected `Name: value` (one header per line)"
        )
    );
    let err = ClientBuilder::default()
        .from_vars(vars(&[
            ("CEREBRAS_API_KEY", "k"),
            ("CEREBRAS_CUSTOM_HEADERS", "Bad Name: secret-value"),
        ]))
        .unwrap_err();
    assert_eq!(err.message(), "CEREBRAS_CUSTOM_HEADERS line 1: invalid header name");
    assert!(!format!("{err:?}").contains("secret-value"));

    // Headers are separated by line breaks: two on one line is ambiguous, and refused.
    for joined in ["X-Foo: bar; X-Baz: q", "X-Foo: bar, X-Baz: q"] {
        let err = ClientBuilder::default()
            .from_vars(vars_owned(&[
                ("CEREBRAS_API_KEY", "k"),
                ("CEREBRAS_CUSTOM_HEADERS", joined),
            ]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "CEREBRAS_CUSTOM_HEADERS line 1: the value of `X-Foo` holds `X-Baz:`, which looks like a second header; put each header on a line of its own"
        );
    }
    // A value with a `;` that is not followed by a header stays one header.
    ClientBuilder::default()
        .from_vars(vars_owned(&[
            ("CEREBRAS_API_KEY", "k"),
            (
                "CEREBRAS_CUSTOM_HEADERS",
                "Cookie: a=1; b=2\nAccept: text/html, application/json",
            ),
        ]))
        .expect("no second header there");

    // The variable is named when the base URL comes from it.
    let err = ClientBuilder::default()
        .from_vars(vars_owned(&[
            ("CEREBRAS_API_KEY", "k"),
            ("CEREBRAS_BASE_URL", "127.0.0.1:7070"),
        ]))
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        err.message(),
        "CEREBRAS_BASE_URL: invalid base URL `127.0.0.1:7070`: it has no scheme; write `http://127.0.0.1:7070`"
    );
}

#[test]
fn bad_keys_and_headers_are_config_errors_without_the_key() {
    for key in ["", "   ", "line\nbreak", "nul\0key"] {
        let err = Client::new(key).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{key:?}");
        assert!(
            key.trim().is_empty() || !format!("{err} {err:?}").contains(key),
            "{err:?}"
        );
    }
    let err = Client::builder()
        .api_key("k")
        .header("X-Ok", "bad\r\nvalue")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = Client::builder()
        .api_key("k")
        .user_agent("bad\nagent")
        .build()
        .unwrap_err();
    assert_eq!(err.message(), "invalid user agent");
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
        let err = Client::builder().api_key(TEST_KEY).header(name, value).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Config, "{name}: {value:?}");
        assert!(!err.to_string().contains("attacker-key"));
    }
    let err = ClientBuilder::default()
        .from_vars(|n| match n {
            "CEREBRAS_API_KEY" => Some(TEST_KEY.into()),
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
        .respond_with(batch_response("in_progress"))
        .mount(&server)
        .await;
    let c = Client::builder()
        .api_key(TEST_KEY)
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
async fn an_echoed_key_is_redacted_and_a_base_url_with_credentials_is_not_shown() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("Invalid API key: {TEST_KEY}")}))
                .insert_header("x-echo", TEST_KEY),
        )
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 2)
        .retrieve_batch("b1")
        .await
        .expect_err("401");
    assert_eq!(err.message(), "Invalid API key: [redacted]");
    assert_eq!(
        err.body().and_then(|b| b.message.as_deref()),
        Some("Invalid API key: [redacted]")
    );
    for text in [err.to_string(), format!("{err:?}"), err.body_text().unwrap().to_owned()] {
        assert!(!text.contains(TEST_KEY), "{text}");
    }
    let builder = Client::builder()
        .api_key(TEST_KEY)
        .base_url(format!("https://user:{TEST_KEY}@api.cerebras.ai"));
    assert!(!format!("{builder:?}").contains(TEST_KEY));
}

#[tokio::test]
async fn base_url_with_trailing_slash_or_v1_sends_one_v1() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches/batch_abc123"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/retrieve_batch_response")), "application/json"),
        )
        .mount(&server)
        .await;
    for base in [
        server.uri(),
        format!("{}/", server.uri()),
        format!("{}/v1", server.uri()),
        format!("{}/v1/", server.uri()),
    ] {
        let c = Client::builder()
            .api_key(TEST_KEY)
            .base_url(&base)
            .build()
            .expect("builds");
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
    let c = test_client(&server.uri(), 0);
    let err = c.retrieve_batch("batch_abc123").await.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    for text in [
        format!("{c:?}"),
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", Client::builder().api_key(TEST_KEY)),
    ] {
        assert!(!text.contains(TEST_KEY), "{text}");
        assert!(!text.contains("7f3a9c"), "{text}");
    }
}

#[tokio::test]
async fn a_given_http_client_carries_every_call_transfers_included() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::header("x-from-http-client", "yes"))
        .and(path("/v1/batches/b1"))
        .respond_with(batch_response("in_progress"))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::header("x-from-http-client", "yes"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}\n"))
        .mount(&server)
        .await;
    // Building one of ours first installs the rustls provider (ring) that a reqwest client
    // without its default features needs (see the `rustls` feature).
    drop(test_client(&server.uri(), 0));
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-from-http-client", reqwest::header::HeaderValue::from_static("yes"));
    let http = reqwest::Client::builder().default_headers(defaults).build().unwrap();
    let client = Client::builder()
        .api_key(TEST_KEY)
        .base_url(server.uri())
        .http_client(http)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(client.retrieve_batch("b1").await.expect("a JSON call").id, "b1");
    // A clone shares the client for transfers, which is the one given here too.
    let body = client
        .clone()
        .retrieve_file_content("f1")
        .await
        .expect("a download")
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"{}\n");
    assert_eq!(request_count(&server).await, 2);
}

#[test]
fn content_type_is_set_by_each_request_and_cannot_be_a_custom_header() {
    let err = Client::builder()
        .header("Content-Type", "application/json")
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("content-type"), "{err}");
}

/// A key echoed in a field that does not decode reaches the error's source (serde quotes the
/// value): the source chain is redacted too, in `Display`, `Debug` and every `source()`.
#[tokio::test]
async fn a_key_echoed_in_a_field_that_does_not_decode_is_redacted_from_the_source_chain() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "k2", "object": "batch", "status": "completed",
            "request_counts": {"total": TEST_KEY}
        })))
        .mount(&server)
        .await;
    let err = test_client(&server.uri(), 0)
        .retrieve_batch("k2")
        .await
        .expect_err("does not decode");
    assert_eq!(err.kind(), ErrorKind::Decode);
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    assert!(texts.len() > 2, "the error keeps a source: {texts:?}");
    for text in &texts {
        assert!(!text.contains(TEST_KEY), "the key leaked: {text}");
    }
    assert!(texts.iter().skip(2).any(|t| t.contains("[redacted]")), "{texts:?}");
}
