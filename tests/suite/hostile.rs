//! Hostile input: ids, base URLs, headers and environment values that must give a clear, typed
//! error and nothing else (no panic, no request to an unintended URL), and a property over
//! arbitrary ids.

use cerebras_batch::{Client, ClientBuilder, ErrorKind};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

fn vars_owned(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    move |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
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

/// The same rule as the client's, written independently: could `id` leave its segment, on this
/// server or on one that decodes twice?
fn must_refuse(id: &str) -> bool {
    let bad = |s: &str| {
        s.is_empty()
            || s.len() > cerebras_batch::MAX_PATH_SEGMENT_BYTES
            || s.split('/').any(|piece| piece == "." || piece == "..")
            || s.contains('\\')
            || s.chars().any(char::is_control)
    };
    bad(id) || bad(&percent_decode_str(id).decode_utf8_lossy())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// For any string, the client either refuses it before sending anything, or the server
    /// receives it as exactly one segment of the right route, unchanged once decoded.
    #[test]
    fn any_id_is_refused_or_arrives_as_one_segment(id in any::<String>(), pick in prop::sample::select(vec![
        "\\", "/", "%", "%2e", "%2E%2e", "%5c", "%00", ".", "..", "?", "#", "\u{0}", "\u{7f}", "\u{85}", "\r\n", " ", "%25", "ü", "[x]", "|", "^", "`", "{}", "\"",
    ])) {
        let id = format!("{id}{pick}");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(any_request()).respond_with(ResponseTemplate::new(200).set_body_json(cerebras_batch_tests::batch_json("x", "in_progress", serde_json::json!({})))).mount(&server).await;
            let client = Client::builder().api_key("k").base_url(server.uri()).max_retries(0).build().unwrap();
            let result = client.retrieve_batch(&id).await;
            let received = server.received_requests().await.unwrap();
            match result {
                Err(e) if e.kind() == ErrorKind::InvalidInput => {
                    prop_assert!(must_refuse(&id), "refused a safe id {:?}: {}", id, e);
                    prop_assert_eq!(received.len(), 0);
                }
                other => {
                    prop_assert!(!must_refuse(&id), "sent an unsafe id {:?}: {:?}", id, other.map(|b| b.id));
                    prop_assert!(other.is_ok(), "{:?}", other.err());
                    prop_assert_eq!(received.len(), 1);
                    let path = received[0].url.path();
                    let segment = path.strip_prefix("/v1/batches/").expect("the right route");
                    prop_assert!(!segment.contains('/'), "{:?} became {:?}", id, path);
                    prop_assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), id.as_str());
                }
            }
            Ok(())
        })?;
    }
}
