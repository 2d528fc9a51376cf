//! Pagination: list streams follow `after` through every page and stop on `has_more` false, null
//! or absent; they never yield an id twice, end in a `Protocol` error when a page brings nothing
//! new while saying more follow, and never end in silence on a page that may page another way.

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
async fn list_stream_stops_on_null_has_more_and_an_empty_page_that_says_more_is_an_error() {
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
    let batches: Vec<_> = c.list_batches().into_stream().collect().await;
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].as_ref().unwrap().id, "b1");
    // An empty page that says more follow: no cursor to go on with, and the rest is missing.
    let files: Vec<_> = c.list_files().into_stream().collect().await;
    assert_eq!(files.len(), 1);
    let err = files[0].as_ref().unwrap_err();
    assert_eq!((err.kind(), err.operation()), (ErrorKind::Protocol, Some("list_files")));
    assert_eq!(
        err.message(),
        "page 1 says more items follow but has none; the listing may be incomplete"
    );
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
    assert_eq!(
        err.message(),
        "page 2 says more items follow but brings none that the listing has not already yielded \
         (2 repeated); the listing may be incomplete"
    );
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

fn file_json(id: &str) -> serde_json::Value {
    json!({"id": id, "object": "file", "filename": format!("{id}.jsonl"), "bytes": 10, "purpose": "batch"})
}

/// Mounts `pages` on `route`: the first answers a request without `after`, each next one the
/// request whose `after` is the given cursor.
async fn mount_pages(server: &MockServer, route: &str, pages: Vec<(Option<&str>, serde_json::Value)>) {
    for (after, body) in pages {
        let m = Mock::given(method("GET")).and(path(route.to_owned()));
        let m = match after {
            None => m.and(query_param_is_missing("after")),
            Some(a) => m.and(query_param("after", a)),
        };
        m.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
}

fn ids<T>(items: &[cerebras_batch::Result<T>], id: fn(&T) -> &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|i| id(i).to_owned())
        .collect()
}

/// Pages that overlap (a page repeating items of the one before, as an offset-paged server does
/// when items are added meanwhile): every id once, in the order first seen, for both lists, and
/// a warning naming each skipped id and its page.
#[tokio::test]
async fn overlapping_pages_yield_each_id_once_and_say_so() {
    let log = crate::tracing::captured_log();
    let server = MockServer::start().await;
    let batches = |ids: &[&str], more: bool| {
        let data: Vec<_> = ids.iter().map(|id| batch_json(id, "completed", json!({}))).collect();
        json!({"object": "list", "data": data, "has_more": more})
    };
    mount_pages(
        &server,
        "/v1/batches",
        vec![
            (None, batches(&["ov_b1", "ov_b2", "ov_b3"], true)),
            (Some("ov_b3"), batches(&["ov_b2", "ov_b3", "ov_b4", "ov_b5"], true)),
            (Some("ov_b5"), batches(&["ov_b5", "ov_b6"], false)),
        ],
    )
    .await;
    let files = |ids: &[&str], more: Option<bool>| {
        let data: Vec<_> = ids.iter().map(|id| file_json(id)).collect();
        json!({"object": "list", "data": data, "has_more": more})
    };
    mount_pages(
        &server,
        "/v1/files",
        vec![
            (None, files(&["ov_f1", "ov_f2"], Some(true))),
            (Some("ov_f2"), files(&["ov_f1", "ov_f3", "ov_f2", "ov_f4"], Some(true))),
            (Some("ov_f4"), files(&["ov_f4", "ov_f5", "ov_f3"], None)),
        ],
    )
    .await;
    let c = test_client(&server.uri(), 0);
    let items: Vec<_> = c.list_batches().into_stream().collect().await;
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(
        ids(&items, |b| b.id.as_str()),
        ["ov_b1", "ov_b2", "ov_b3", "ov_b4", "ov_b5", "ov_b6"]
    );
    let items: Vec<_> = c.list_files().into_stream().collect().await;
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(
        ids(&items, |f| f.id.as_str()),
        ["ov_f1", "ov_f2", "ov_f3", "ov_f4", "ov_f5"]
    );
    assert_eq!(items[4].as_ref().unwrap().filename.as_deref(), Some("ov_f5.jsonl"));
    assert_eq!(request_count(&server).await, 6);

    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let warned: Vec<(String, String)> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("already yielded") && l.contains("id=ov_"))
        .map(|l| {
            let field = |name: &str| {
                let start = l.find(&format!("{name}=")).unwrap() + name.len() + 1;
                l[start..].split_whitespace().next().unwrap().to_owned()
            };
            (field("id"), field("page"))
        })
        .collect();
    let mut warned = warned;
    warned.sort();
    let expected: Vec<(String, String)> = [
        ("ov_b2", "2"),
        ("ov_b3", "2"),
        ("ov_b5", "3"),
        ("ov_f1", "2"),
        ("ov_f2", "2"),
        ("ov_f3", "3"),
        ("ov_f4", "3"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(warned, expected, "{log}");
}

/// A page that says more follow but brings only ids already yielded ends the listing in an
/// error after what it did bring (nothing), instead of asking again forever.
#[tokio::test]
async fn a_page_with_nothing_new_ends_the_listing_in_an_error() {
    let server = MockServer::start().await;
    mount_pages(
        &server,
        "/v1/files",
        vec![
            (
                None,
                json!({"data": [file_json("f1"), file_json("f2")], "has_more": true}),
            ),
            // The server ignores `after` past the first page and answers its last page forever.
            (Some("f2"), json!({"data": [file_json("f3")], "has_more": true})),
            (
                Some("f3"),
                json!({"data": [file_json("f2"), file_json("f3")], "has_more": true}),
            ),
        ],
    )
    .await;
    mount_pages(
        &server,
        "/v1/batches",
        vec![
            (
                None,
                json!({"data": [batch_json("b1", "completed", json!({}))], "has_more": true}),
            ),
            (Some("b1"), json!({"object": "list", "data": null, "has_more": true})),
        ],
    )
    .await;
    let c = test_client(&server.uri(), 0);
    let items: Vec<_> = c.list_files().limit(2).into_stream().collect().await;
    assert_eq!(ids(&items, |f| f.id.as_str()), ["f1", "f2", "f3"]);
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind(), err.operation()), (ErrorKind::Protocol, Some("list_files")));
    assert!(
        err.message().contains("page 3 says more items follow but brings none"),
        "{err}"
    );
    assert!(err.message().contains("(2 repeated)"), "{err}");
    assert_eq!(items.len(), 4);

    let items: Vec<_> = c.list_batches().into_stream().collect().await;
    assert_eq!(ids(&items, |b| b.id.as_str()), ["b1"]);
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.operation()),
        (ErrorKind::Protocol, Some("list_batches"))
    );
    assert_eq!(
        err.message(),
        "page 2 says more items follow but has none; the listing may be incomplete"
    );
    assert_eq!(request_count(&server).await, 5);
}

/// A page without `has_more` that carries paging fields this client does not know ends the
/// listing with an error naming them, after its items: never a silent stop after page one.
#[tokio::test]
async fn unknown_paging_fields_end_the_listing_with_an_error_naming_them() {
    let cases = [
        (
            "/v1/batches",
            json!({"object": "list", "data": [batch_json("b1", "completed", json!({})), batch_json("b2", "failed", json!({}))], "next_page_token": "tok_2"}),
            vec!["next_page_token"],
        ),
        (
            "/v1/batches",
            json!({"object": "list", "data": [batch_json("b1", "completed", json!({}))], "has_more": null, "next_cursor": "c2", "next": "/v1/batches?cursor=c2", "first_id": "b1", "last_id": "b1"}),
            vec!["next", "next_cursor"],
        ),
        (
            "/v1/files",
            json!({"data": [file_json("f1")], "pagination": {"next": "f2"}}),
            vec!["pagination"],
        ),
        (
            "/v1/files",
            json!({"object": "list", "data": [], "has_more": null, "nextPageToken": "x"}),
            vec!["nextPageToken"],
        ),
    ];
    for (route, body, fields) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let c = test_client(&server.uri(), 0);
        let (items, operation): (Vec<Result<String, cerebras_batch::Error>>, _) = if route == "/v1/batches" {
            let items: Vec<_> = c.list_batches().into_stream().collect().await;
            (items.into_iter().map(|i| i.map(|b| b.id)).collect(), "list_batches")
        } else {
            let items: Vec<_> = c.list_files().into_stream().collect().await;
            (items.into_iter().map(|i| i.map(|f| f.id)).collect(), "list_files")
        };
        let expected: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        let got: Vec<&str> = items.iter().filter_map(|i| i.as_deref().ok()).collect();
        assert_eq!(got, expected, "{body}");
        assert_eq!(items.len(), expected.len() + 1, "the items, then the error: {body}");
        let err = items.last().unwrap().as_ref().unwrap_err();
        assert_eq!((err.kind(), err.operation()), (ErrorKind::Protocol, Some(operation)));
        assert!(
            err.message().contains("top-level fields this client does not know")
                && err.message().contains("the listing may be incomplete"),
            "{err}"
        );
        for field in fields {
            assert!(err.message().contains(field), "{field}: {err}");
        }
        assert!(
            !err.message().contains("first_id") && !err.message().contains("last_id"),
            "{err}"
        );
        assert_eq!(request_count(&server).await, 1, "{body}");
    }
}

/// What is not such a signal ends the listing as before: `has_more` null or absent alone,
/// OpenAI's `first_id`/`last_id`, and anything on a page that says `has_more: false`. With
/// `has_more: true`, `after` is followed whatever else the page holds.
#[tokio::test]
async fn known_fields_and_an_explicit_end_stop_the_listing_quietly() {
    for (body, expected) in [
        (
            json!({"object": "list", "data": [batch_json("b1", "completed", json!({}))], "first_id": "b1", "last_id": "b1"}),
            1,
        ),
        (
            json!({"object": "list", "data": [batch_json("b1", "completed", json!({}))], "has_more": null}),
            1,
        ),
        (
            json!({"object": "list", "data": [batch_json("b1", "completed", json!({})), batch_json("b2", "completed", json!({}))], "has_more": false, "next_page_token": "ignored"}),
            2,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/batches"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let items: Vec<_> = test_client(&server.uri(), 0)
            .list_batches()
            .into_stream()
            .collect()
            .await;
        assert_eq!(items.len(), expected, "{body}");
        assert!(items.iter().all(Result::is_ok), "{body}");
    }
    let server = MockServer::start().await;
    mount_pages(
        &server,
        "/v1/files",
        vec![
            (
                None,
                json!({"data": [file_json("f1")], "has_more": true, "next_page_token": "t2", "first_id": "f1"}),
            ),
            (
                Some("f1"),
                json!({"data": [file_json("f2")], "has_more": false, "next_page_token": null}),
            ),
        ],
    )
    .await;
    let c = test_client(&server.uri(), 0);
    let items: Vec<_> = c.list_files().into_stream().collect().await;
    assert_eq!(ids(&items, |f| f.id.as_str()), ["f1", "f2"]);
    assert_eq!(items.len(), 2);
    let page = c.list_files().await.unwrap();
    assert_eq!(
        page.extra.get("next_page_token"),
        Some(&json!("t2")),
        "a page keeps its unknown fields"
    );
    assert_eq!(page.extra.get("first_id"), Some(&json!("f1")));
}

/// The listing's decisions, through the replay the fuzz target `pagination` uses: the requests
/// it makes and what it yields, for the sequences the module's docs describe.
#[tokio::test]
async fn the_replayed_listing_makes_the_documented_decisions() {
    let page = |ids: &[&str], more: serde_json::Value| {
        let data: Vec<_> = ids.iter().map(|id| json!({"id": id})).collect();
        json!({"data": data, "has_more": more}).to_string()
    };
    let run = |pages: Vec<String>| async move {
        let bodies: Vec<&[u8]> = pages.iter().map(|p| p.as_bytes()).collect();
        cerebras_batch::replay_listing(&bodies).await
    };
    let l = run(vec![
        page(&["a", "b"], json!(true)),
        page(&["b", "c"], json!(true)),
        page(&["d"], json!(false)),
    ])
    .await;
    assert_eq!(l.requests, [None, Some("b".to_owned()), Some("c".to_owned())]);
    assert_eq!(
        l.items,
        [
            Ok("a".to_owned()),
            Ok("b".to_owned()),
            Ok("c".to_owned()),
            Ok("d".to_owned())
        ]
    );
    assert!(l.ended);

    let l = run(vec![page(&["a", "b"], json!(true))]).await;
    assert_eq!(l.requests, [None, Some("b".to_owned())]);
    assert_eq!(l.items.len(), 3);
    assert_eq!(l.items[2].as_ref().unwrap_err().0, ErrorKind::Protocol);

    let l = run(vec![
        json!({"data": [{"id": "a"}], "next": "/v1/batches?page=2"}).to_string(),
    ])
    .await;
    assert_eq!(l.items[0], Ok("a".to_owned()));
    let (kind, message) = l.items[1].as_ref().unwrap_err();
    assert_eq!(*kind, ErrorKind::Protocol);
    assert!(message.contains("(next)"), "{message}");

    let l = run(vec![page(&["a"], json!(true)), "not json".to_owned()]).await;
    assert_eq!(l.items[0], Ok("a".to_owned()));
    assert_eq!(l.items[1].as_ref().unwrap_err().0, ErrorKind::Decode);
    assert_eq!(l.requests.len(), 2);
}
