//! Contract tests: the client against Prism (a mock server nobody on this team wrote) serving
//! spec/openapi.yaml on 127.0.0.1. Every request the client sends must pass Prism's request
//! validation (Prism answers 422 with an `sl-violations` header otherwise), every example
//! response must decode, and 200+ random schema-valid responses (Prism's dynamic mode) must
//! decode too.
//!
//! Prism comes from `spec/node_modules` (`cargo xtask test` installs it). Without it these
//! tests are skipped with a message, unless `CEREBRAS_BATCH_REQUIRE_PRISM` is set (as
//! `cargo xtask test` and CI do), in which case they fail.

use std::process::Stdio;
use std::time::{Duration, Instant};

use cerebras_batch::{Client, Error, ErrorKind, UploadFile, types};
use cerebras_batch_tests::{example, workspace_root};
use futures::StreamExt;

struct Prism {
    _child: tokio::process::Child,
    base: String,
}

async fn prism(dynamic: bool) -> Option<Prism> {
    let bin = workspace_root().join("spec/node_modules/.bin/prism");
    if !bin.exists() {
        let hint = "Prism is not installed: run `cargo xtask test`, or `npm ci --ignore-scripts` in spec/";
        assert!(std::env::var_os("CEREBRAS_BATCH_REQUIRE_PRISM").is_none(), "{hint}");
        eprintln!("skipped: {hint}");
        return None;
    }
    // A port picked by binding to 0 and letting go may be taken again before Prism binds it
    // (other tests start servers too): a Prism that exits is started again on a new port.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()]);
        if dynamic {
            cmd.arg("-d");
        }
        let mut child = cmd
            .arg(workspace_root().join("spec/openapi.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prism starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if child.try_wait().expect("prism's status").is_some() {
                break; // it exited: the port was taken
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                // Listening, and still running: it is ours.
                tokio::time::sleep(Duration::from_millis(200)).await;
                if child.try_wait().expect("prism's status").is_none() {
                    return Some(Prism {
                        _child: child,
                        base: format!("http://127.0.0.1:{port}"),
                    });
                }
                break;
            }
            assert!(Instant::now() < deadline, "Prism did not listen within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("Prism did not start on any of 5 ports");
}

fn client(base: &str) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(base)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Fails with Prism's own words when it refused the request.
fn check<T>(operation: &str, result: Result<T, Error>) -> T {
    result.unwrap_or_else(|e| {
        let violations = e
            .headers()
            .and_then(|h| h.get("sl-violations"))
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        panic!(
            "{operation}: {e}\nPrism's violations: {violations:?}\nbody: {:?}",
            e.body_text()
        )
    })
}

fn create_request() -> types::CreateBatchRequest {
    let ex = example("/guide_create_request");
    serde_json::from_value(ex.value).unwrap()
}

#[tokio::test]
async fn every_operation_passes_prism_validation_and_decodes_the_examples() {
    let Some(mock) = prism(false).await else { return };
    let c = client(&mock.base);

    let cancelled = check("cancel_batch", c.cancel_batch("batch_abc123").await);
    assert_eq!(cancelled.status, Some(types::BatchStatus::from("calling")));
    assert_eq!(cancelled.request_counts, None);
    let retrieved = check("retrieve_batch", c.retrieve_batch("batch_abc123").await);
    assert_eq!(retrieved.status, Some(types::BatchStatus::InProgress));
    let created = check("create_batch", c.create_batch(create_request()).await);
    assert_eq!(created.status, Some(types::BatchStatus::Validating));
    // Prism's validation is live: a body outside the spec is refused, as a typed error.
    let mut outside = create_request();
    outside.endpoint = types::BatchEndpoint::from("/v1/embeddings");
    let refused = c
        .create_batch(outside)
        .await
        .expect_err("Prism refuses an endpoint outside the enum");
    assert_eq!(
        (refused.kind(), refused.status().map(|s| s.as_u16())),
        (ErrorKind::UnprocessableEntity, Some(422))
    );
    assert!(refused.headers().and_then(|h| h.get("sl-violations")).is_some());
    let list = check("list_batches", c.list_batches().await);
    assert_eq!(list.data.map(|d| d.len()), Some(3));
    check(
        "list_batches with limit and after",
        c.list_batches().after("batch_abc123").limit(100).await,
    );
    let results = check("retrieve_batch_results", c.retrieve_batch_results("batch_abc123").await);
    let lines: Vec<_> = results.results().collect().await;
    assert_eq!(lines.iter().filter(|l| l.is_ok()).count(), 3, "{lines:?}");

    let files = check("list_files", c.list_files().limit(20).await);
    assert_eq!(files.data.map(|d| d.len()), Some(2));
    let file = check("retrieve_file", c.retrieve_file("file_123").await);
    assert_eq!(file.bytes, Some(1048576));
    assert_eq!(
        check("delete_file", c.delete_file("file_123").await).deleted,
        Some(true)
    );
    check("retrieve_file_content", c.retrieve_file_content("file_123").await);

    let jsonl = b"{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[]}}\n".to_vec();
    let uploaded = check(
        "upload_file",
        c.upload_file(UploadFile::from_reader(
            std::io::Cursor::new(jsonl.clone()),
            "requests.jsonl",
            Some(jsonl.len() as u64),
        ))
        .await,
    );
    assert_eq!(uploaded.id, "fileI72lQshwSO6Z7LIQ850CvA");
    check(
        "upload_file with expires_after",
        c.upload_file(UploadFile::from_reader(std::io::Cursor::new(jsonl), "requests.jsonl", None).expires_after(3600))
            .await,
    );
}

#[tokio::test]
async fn random_schema_valid_responses_decode() {
    let Some(mock) = prism(true).await else { return };
    let c = client(&mock.base);
    let body = create_request();
    let mut decoded = 0;
    for round in 0..30 {
        check("list_batches", c.list_batches().await);
        check("create_batch", c.create_batch(body.clone()).await);
        check("retrieve_batch", c.retrieve_batch("batch_abc123").await);
        check("cancel_batch", c.cancel_batch("batch_abc123").await);
        check("list_files", c.list_files().await);
        check("retrieve_file", c.retrieve_file("file_123").await);
        check("delete_file", c.delete_file("file_123").await);
        decoded += 7;
        assert_eq!(decoded, (round + 1) * 7);
    }
    assert!(decoded >= 200, "{decoded}");
}

#[tokio::test]
async fn a_missing_bearer_token_is_a_typed_authentication_error() {
    let Some(mock) = prism(false).await else { return };
    // Custom headers override the default ones: this client sends Basic instead of Bearer.
    let c = Client::builder()
        .api_key("test-key")
        .base_url(&mock.base)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .unwrap()
        .build()
        .unwrap();
    let err = c
        .retrieve_batch("batch_abc123")
        .await
        .expect_err("Prism wants a bearer token");
    assert_eq!(
        (err.kind(), err.status().map(|s| s.as_u16())),
        (ErrorKind::Authentication, Some(401))
    );
    let violations = err
        .headers()
        .and_then(|h| h.get("sl-violations"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(violations.contains("Invalid security scheme used"), "{violations}");
}
