//! Downloads: streamed bodies that outlive the timeout, body errors that name the call, compressed
//! results, bodies in encodings nobody decoded (downloads and JSON calls), and batches without an
//! output file.

use cerebras_batch::Client;
use cerebras_batch::types;
use cerebras_batch_tests::batch_json;
use cerebras_batch_tests::request_count;
use cerebras_batch_tests::trickle;
use cerebras_batch_tests::{TEST_KEY, test_client, test_client_builder};
use futures::StreamExt;
use serde_json::json;
use std::io::Write;
use std::time::Duration;
use wiremock::Mock;
use wiremock::MockServer;
use wiremock::ResponseTemplate;
use wiremock::matchers::header;
use wiremock::matchers::header_regex;
use wiremock::matchers::method;
use wiremock::matchers::path;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_slow_but_steady_download_outlives_the_timeout() {
    // 6 parts 100 ms apart: 600 ms in all, against a 300 ms timeout that applies per read.
    let line = b"{\"custom_id\":\"x\",\"status\":\"succeeded\",\"response\":{}}\n".to_vec();
    let total = line.len() * 6;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: {total}\r\n\r\n");
    let base = trickle(head, vec![line; 6], Duration::from_millis(100)).await;
    let c = Client::builder()
        .api_key(TEST_KEY)
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
async fn a_download_body_error_names_the_call_and_counts_its_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}\n"))
        .mount(&server)
        .await;
    // The download arrives on the second attempt; its attempts travel with it.
    let download = test_client_builder(&server.uri(), 2)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_file_content("f1")
        .await
        .expect("second attempt");
    let lines: Vec<_> = futures::StreamExt::collect::<Vec<_>>(download.into_stream()).await;
    assert!(lines.iter().all(|l| l.is_ok()));
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn an_empty_output_file_id_means_no_output_and_no_request() {
    let server = MockServer::start().await;
    let batch: types::Batch = serde_json::from_value(batch_json(
        "b1",
        "completed",
        json!({"output_file_id": "", "error_file_id": ""}),
    ))
    .expect("decodes");
    assert_eq!(
        (batch.output_file_id.as_deref(), batch.error_file_id.as_deref()),
        (None, None)
    );
    let c = test_client(&server.uri(), 0);
    assert!(c.download_output(&batch).await.expect("no error").is_none());
    assert!(c.download_errors(&batch).await.expect("no error").is_none());
    // Even a batch built by hand with an empty id sends nothing.
    let by_hand = types::Batch::new("b2").with_output_file_id("");
    assert!(c.download_output(&by_hand).await.expect("no error").is_none());
    assert_eq!(request_count(&server).await, 0);
}

/// A results file served gzip-compressed, even to a client told to ask for it by hand.
#[tokio::test]
async fn compressed_results_are_saved_and_read_decompressed() {
    let plain: Vec<u8> = (0..500)
        .flat_map(|i| {
            format!("{{\"custom_id\":\"r{i}\",\"status\":\"succeeded\",\"response\":{{\"id\":\"c{i}\"}}}}\n")
                .into_bytes()
        })
        .collect();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .and(header("accept-encoding", "gzip"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gzip(&plain), "application/x-ndjson"),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .from_vars(|name| match name {
            "CEREBRAS_API_KEY" => Some("k".into()),
            "CEREBRAS_BASE_URL" => Some(server.uri()),
            "CEREBRAS_CUSTOM_HEADERS" => Some("Accept-Encoding: gzip".into()),
            _ => None,
        })
        .unwrap()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("cerebras-gzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("results.jsonl");
    let written = client
        .retrieve_file_content("f1")
        .await
        .unwrap()
        .save(&saved)
        .await
        .unwrap();
    assert_eq!(written, plain.len() as u64);
    assert_eq!(std::fs::read(&saved).unwrap(), plain);
    let read: Vec<_> = client
        .retrieve_file_content("f1")
        .await
        .unwrap()
        .results()
        .collect()
        .await;
    assert_eq!(read.len(), 500);
    assert!(read.iter().all(|l| l.is_ok()));
    assert_eq!(read[499].as_ref().unwrap().custom_id(), "r499");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_custom_headers_the_client_asks_for_compression_itself() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header_regex("accept-encoding", "gzip"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gzip(b"{\"custom_id\":\"a\"}\n"), "application/x-ndjson"),
        )
        .mount(&server)
        .await;
    let client = Client::builder().api_key("k").base_url(server.uri()).build().unwrap();
    let bytes = client
        .retrieve_file_content("f1")
        .await
        .expect("asked with gzip")
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"{\"custom_id\":\"a\"}\n");
}

/// A body that breaks off never leaves a file that looks complete: the target keeps what it held,
/// and the temporary file is gone.
#[tokio::test]
async fn a_save_that_fails_leaves_the_target_untouched() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: 1000\r\n\r\n".to_owned();
    let base = trickle(head, vec![b"{\"custom_id\"".to_vec()], Duration::from_millis(10)).await;
    let dir = scratch("save");
    let target = dir.join("results.jsonl");
    std::fs::write(&target, "the previous results\n").unwrap();
    let download = test_client_builder(&base, 0)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("a test client builds")
        .retrieve_file_content("file-1")
        .await
        .expect("the head arrives");
    let err = download.save(&target).await.expect_err("the body breaks off");
    assert_eq!(err.kind(), cerebras_batch::ErrorKind::Connection, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the previous results\n");
    assert_eq!(names_in(&dir), ["results.jsonl"], "no temporary file is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh, empty folder of the system's temporary folder, for one test.
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cerebras-batch-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_custom_accept_header_leaves_a_download_streamed_and_whole() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/files/f1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"line1\nline2\n".to_vec(), "application/x-ndjson"))
        .mount(&server)
        .await;
    let client = test_client_builder(&server.uri(), 0)
        .header("Accept", "application/json")
        .unwrap()
        .build()
        .unwrap();
    let body = client.retrieve_file_content("f1").await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"line1\nline2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_saves_to_one_path_both_succeed_and_one_whole_body_stays() {
    let dir = scratch("two-saves");
    let target = dir.join("out.jsonl");
    let body = |byte: u8| vec![byte; 64 * 1024];
    let serve = |byte: u8| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\n\r\n",
            64 * 1024
        );
        trickle(
            head,
            body(byte).chunks(4096).map(<[u8]>::to_vec).collect(),
            Duration::from_millis(5),
        )
    };
    let (a, b) = (serve(b'A').await, serve(b'B').await);
    let da = test_client(&a, 0).retrieve_file_content("f").await.unwrap();
    let db = test_client(&b, 0).retrieve_file_content("f").await.unwrap();
    let (ta, tb) = (target.clone(), target.clone());
    let (ra, rb) = tokio::join!(tokio::spawn(da.save(ta)), tokio::spawn(db.save(tb)));
    assert_eq!(ra.unwrap().expect("the first save"), 64 * 1024);
    assert_eq!(rb.unwrap().expect("the second save"), 64 * 1024);
    let content = std::fs::read(&target).unwrap();
    assert!(
        content == body(b'A') || content == body(b'B'),
        "one whole body, not a mix"
    );
    assert_eq!(names_in(&dir), ["out.jsonl"], "no temporary file is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_save_to_a_255_byte_file_name_works() {
    let dir = scratch("long-name");
    let name = format!("{}.jsonl", "r".repeat(249));
    assert_eq!(name.len(), 255);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"abc\n".to_vec(), "application/x-ndjson"))
        .mount(&server)
        .await;
    let download = test_client(&server.uri(), 0).retrieve_file_content("f1").await.unwrap();
    assert_eq!(download.save(dir.join(&name)).await.expect("a name the OS accepts"), 4);
    assert_eq!(names_in(&dir), [name]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_save_dropped_midway_leaves_no_temporary_file() {
    let dir = scratch("dropped-save");
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: 1000\r\n\r\n".to_owned();
    // One part, then nothing for 10 s: the save is still running when it is dropped.
    let base = trickle(
        head,
        vec![b"{\"a\":1}\n".to_vec(), b"x".to_vec()],
        Duration::from_secs(10),
    )
    .await;
    let download = test_client(&base, 0).retrieve_file_content("f").await.unwrap();
    let target = dir.join("out.jsonl");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), download.save(&target))
            .await
            .is_err(),
        "the save was still running"
    );
    assert_eq!(names_in(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A client that asks for and decodes gzip and deflate ([`test_client`]), or, with
/// `decodes: false`, one built on a reqwest client that decodes nothing (as a build without
/// the `compression` feature).
fn client_decoding(base: &str, decodes: bool) -> Client {
    if decodes {
        return test_client(base, 2);
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_gzip().no_deflate().build().unwrap();
    test_client_builder(base, 2).http_client(http).build().unwrap()
}

/// What a server answers with `content-encoding` set to each of `codings` (one header line
/// each) and `body`.
async fn encoded(status: u16, codings: &[&str], body: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    let mut answer = ResponseTemplate::new(status).set_body_raw(body, "application/json");
    for coding in codings {
        answer = answer.append_header("content-encoding", *coding);
    }
    Mock::given(method("GET")).respond_with(answer).mount(&server).await;
    server
}

#[tokio::test]
async fn a_download_in_an_encoding_nobody_decoded_is_an_error_and_leaves_no_file() {
    let results = gzip(b"{\"custom_id\":\"r1\",\"status\":\"succeeded\",\"response\":{}}\n");
    let cases: &[(&[&str], bool, &str)] = &[
        (&["br"], true, "br"),
        (&["zstd"], true, "zstd"),
        (&["x-snappy-framed"], true, "x-snappy-framed"),
        (&["gzip, br"], true, "gzip, br"),
        (&["br, gzip"], true, "br, gzip"),
        (&["br", "gzip"], true, "br, gzip"),
        (&["identity, br"], true, "br"),
        (&["GZIP"], true, "GZIP"),
        (&["x-gzip"], true, "x-gzip"),
        (&["gzip"], false, "gzip"),
        (&["deflate"], false, "deflate"),
    ];
    for (codings, decodes, named) in cases {
        let server = encoded(200, codings, results.clone()).await;
        let client = client_decoding(&server.uri(), *decodes);
        let dir = scratch("undecoded");
        let target = dir.join("results.jsonl");
        let saved = match client.retrieve_file_content("f1").await {
            Ok(download) => download.save(&target).await,
            Err(e) => Err(e),
        };
        let err = saved.expect_err(named);
        assert_eq!(
            (err.kind(), err.status().map(|s| s.as_u16()), err.attempts()),
            (cerebras_batch::ErrorKind::Decode, Some(200), 1),
            "{codings:?}: {err}"
        );
        assert_eq!(
            (err.operation(), err.method(), err.path()),
            (Some("retrieve_file_content"), Some("GET"), Some("/v1/files/f1/content"))
        );
        assert!(
            err.message().starts_with(&format!(
                "the response's body is in the content encoding `{named}`, which was not decoded"
            )),
            "{codings:?}: {err}"
        );
        let raw = String::from_utf8_lossy(&results);
        assert_eq!(err.body_text(), Some(&*raw), "the raw body is kept (as lossy text)");
        assert_eq!(
            names_in(&dir),
            Vec::<String>::new(),
            "{codings:?}: no file, final or temporary"
        );
        // The other ways to a download fail the same way, before anything is read.
        let batch = types::Batch::new("b1").with_output_file_id("f1");
        let err = client.download_output(&batch).await.expect_err("download_output");
        assert_eq!(err.kind(), cerebras_batch::ErrorKind::Decode);
        assert!(client.retrieve_file_content("f1").await.map(|d| d.results()).is_err());
        assert_eq!(request_count(&server).await, 3, "{codings:?}: never retried");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Two header lines, `gzip` then `br` (gzip applied first): reqwest's decoder looks at the
/// first line only, decodes gzip and drops both. The bytes of the br layer then fail the gzip
/// decoder while the body is read: an error, and still no file.
#[tokio::test]
async fn gzip_then_br_on_two_lines_fails_while_reading_and_leaves_no_file() {
    let server = encoded(200, &["gzip", "br"], b"\x1b\x07\x00\xf8\xa5\x40\x82\x34".to_vec()).await;
    let dir = scratch("gzip-then-br");
    let target = dir.join("results.jsonl");
    let download = test_client(&server.uri(), 0)
        .retrieve_file_content("f1")
        .await
        .expect("the head arrives; the header is gone");
    let err = download.save(&target).await.expect_err("not gzip");
    assert_eq!(err.kind(), cerebras_batch::ErrorKind::Connection, "{err}");
    assert!(err.message().contains("error decoding response body"), "{err}");
    assert_eq!(names_in(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_json_answer_in_an_encoding_nobody_decoded_is_an_error_even_if_it_reads_as_json() {
    // The body is a valid batch, sent as is: the header says otherwise, and wins.
    let batch = serde_json::to_vec(&batch_json("b1", "in_progress", json!({}))).unwrap();
    for (codings, decodes, named) in [
        (&["br"][..], true, "br"),
        (&["zstd"][..], true, "zstd"),
        (&["x-unknown-coding"][..], true, "x-unknown-coding"),
        (&["gzip, br"][..], true, "gzip, br"),
        (&["gzip"][..], false, "gzip"),
    ] {
        let server = encoded(200, codings, batch.clone()).await;
        let err = client_decoding(&server.uri(), decodes)
            .retrieve_batch("b1")
            .await
            .expect_err(named);
        assert_eq!(
            (err.kind(), err.status().map(|s| s.as_u16()), err.attempts(), err.path()),
            (cerebras_batch::ErrorKind::Decode, Some(200), 1, Some("/v1/batches/b1")),
            "{codings:?}: {err}"
        );
        assert!(err.message().contains(&format!("`{named}`")), "{err}");
        assert_eq!(request_count(&server).await, 1, "not retried");
    }
}

#[tokio::test]
async fn an_error_answer_in_an_encoding_nobody_decoded_keeps_its_status_and_says_so() {
    for (status, kind, attempts) in [
        (404, cerebras_batch::ErrorKind::NotFound, 1),
        (400, cerebras_batch::ErrorKind::BadRequest, 1),
        (503, cerebras_batch::ErrorKind::Server, 3),
    ] {
        let server = encoded(status, &["br"], b"\x1b\x07\x00\xf8\xa5".to_vec()).await;
        let err = test_client(&server.uri(), 2)
            .retrieve_batch("b1")
            .await
            .expect_err("an error status");
        assert_eq!(
            (err.kind(), err.status().map(|s| s.as_u16()), err.attempts()),
            (kind, Some(status), attempts),
            "{err}"
        );
        assert!(
            err.message()
                .starts_with("the response's body is in the content encoding `br`, which was not decoded"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn identity_and_a_decoded_gzip_are_not_errors() {
    let plain = b"{\"custom_id\":\"r1\"}\n".to_vec();
    for (codings, body) in [
        (&["identity"][..], plain.clone()),
        (&["IDENTITY"][..], plain.clone()),
        (&[""][..], plain.clone()),
        (&["gzip"][..], gzip(&plain)),
    ] {
        let server = encoded(200, codings, body).await;
        let bytes = test_client(&server.uri(), 0)
            .retrieve_file_content("f1")
            .await
            .unwrap_or_else(|e| panic!("{codings:?}: {e}"))
            .bytes()
            .await
            .unwrap();
        assert_eq!(bytes.as_ref(), plain.as_slice(), "{codings:?}");
    }
}
