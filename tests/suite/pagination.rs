//! Pagination: list streams follow `after` through every page, stop on `has_more` false, null or
//! absent and on an empty page, and catch a server that repeats a page.

use cerebras_batch::ErrorKind;
use cerebras_batch_tests::batch_json;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::test_client;
use futures::StreamExt;
use serde_json::json;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::method;
use wiremock::matchers::path;
use wiremock::matchers::query_param;
use wiremock::matchers::query_param_is_missing;

fn page(ids: &[&str], has_more: serde_json::Value) -> ResponseTemplate {
    let data: Vec<_> = ids.iter().map(|id| batch_json(id, "completed", json!({}))).collect();
    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data, "has_more": has_more}))
}

#[tokio::test]
async fn list_batches_stream_walks_three_pages() {
    let server = MockServer::start().await;
    let list = || {
        Mock::given(method("GET"))
            .and(path("/v1/batches"))
            .and(query_param("limit", "2"))
    };
    list()
        .and(query_param_is_missing("after"))
        .respond_with(page(&["b1", "b2"], json!(true)))
        .mount(&server)
        .await;
    list()
        .and(query_param("after", "b2"))
        .respond_with(page(&["b3", "b4"], json!(true)))
        .mount(&server)
        .await;
    list()
        .and(query_param("after", "b4"))
        .respond_with(page(&["b5"], json!(false)))
        .mount(&server)
        .await;
    let c = test_client(&server.uri(), 0);
    let ids: Vec<String> = c
        .list_batches()
        .limit(2)
        .into_stream()
        .map(|b| b.expect("ok").id)
        .collect()
        .await;
    assert_eq!(ids, ["b1", "b2", "b3", "b4", "b5"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn list_stream_stops_on_null_has_more_and_empty_data() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(page(&["b1"], json!(null)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [], "has_more": true})))
        .mount(&server)
        .await;
    let c = test_client(&server.uri(), 0);
    assert_eq!(c.list_batches().into_stream().collect::<Vec<_>>().await.len(), 1);
    assert_eq!(c.list_files().into_stream().collect::<Vec<_>>().await.len(), 0);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_server_that_repeats_a_page_is_caught() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/batches"))
        .respond_with(page(&["b1", "b2"], json!(true)))
        .mount(&server)
        .await;
    let items: Vec<_> = test_client(&server.uri(), 0)
        .list_batches()
        .into_stream()
        .collect()
        .await;
    assert_eq!(
        items.len(),
        3,
        "the first page's items, then the error (the repeated page is not yielded)"
    );
    let err = items.last().unwrap().as_ref().expect_err("the guard trips");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.message(), "the server repeated a page: `after=b2` was already used");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_files_page_without_has_more_decodes_and_the_stream_stops() {
    for page in [
        json!({"object": "list", "data": [{"id": "file_1", "object": "file"}]}),
        json!({"object": "list", "data": [{"id": "file_1"}], "has_more": null}),
        json!({"object": "list"}),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/files"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page.clone()))
            .mount(&server)
            .await;
        let c = test_client(&server.uri(), 0);
        let list = c.list_files().await.expect("decodes");
        assert_eq!(list.has_more, None, "{page}");
        let items: Vec<_> = c.list_files().into_stream().collect().await;
        assert_eq!(items.len(), list.data.map_or(0, |d| d.len()), "{page}");
        assert!(items.iter().all(|i| i.is_ok()));
        assert_eq!(
            request_count(&server).await,
            2,
            "one list, one page of the stream: {page}"
        );
    }
}
