//! Ids in paths: any id is refused before a request or arrives as exactly one path segment (a
//! property over arbitrary ids).

use cerebras_batch::Client;
use cerebras_batch::ErrorKind;
use cerebras_batch_tests::batch_response;
use cerebras_batch_tests::example;
use cerebras_batch_tests::example_body;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::test_client;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::any as any_request;
use wiremock::matchers::method;

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

#[tokio::test]
async fn check_path_segment_refuses_double_decoding_escapes_and_huge_ids() {
    let server = MockServer::start().await;
    Mock::given(any_request())
        .respond_with(batch_response("in_progress"))
        .mount(&server)
        .await;
    let c = test_client(&server.uri(), 2);
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
async fn ids_that_leave_their_segment_are_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let c = test_client(&server.uri(), 0);
    for id in [
        "", ".", "..", "a\\b", "a\nb", "%2e%2E", "%2E", "a%5Cb", "a%00b", "\u{7f}",
    ] {
        let err = c.cancel_batch(id).await.expect_err(id);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{id:?}");
        assert!(err.message().starts_with("`batch_id` "), "{id:?}: {}", err.message());
        assert_eq!(err.attempts(), 0);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn other_ids_arrive_as_exactly_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(example_body(&example("/cancel_batch_response")), "application/json"),
        )
        .mount(&server)
        .await;
    let c = test_client(&server.uri(), 0);
    let table = [
        ("batch_abc123", "/v1/batches/batch_abc123"),
        ("a/b?c", "/v1/batches/a%2Fb%3Fc"),
        ("a b", "/v1/batches/a%20b"),
        ("100%", "/v1/batches/100%25"),
        ("x#y", "/v1/batches/x%23y"),
        ("ünï", "/v1/batches/%C3%BCn%C3%AF"),
        ("...", "/v1/batches/..."),
        ("%41", "/v1/batches/%2541"),
    ];
    for (id, _) in table {
        c.cancel_batch(id).await.unwrap_or_else(|e| panic!("{id:?}: {e}"));
    }
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(seen, table.iter().map(|(_, t)| t.to_string()).collect::<Vec<_>>());
}
