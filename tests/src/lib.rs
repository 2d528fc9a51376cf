//! Support for the snapshot and end-to-end tests in `tests/suite/`: loading the spec, finding
//! every example in it, validating examples against their schemas, and the spec audit.

use serde_json::{Value, json};

pub use cerebras_batch_generator::examples::{Example, examples};

pub mod audit;
pub mod variants;
pub mod workspace;

/// The mock crate's demo API (a whole batch workflow), started on 127.0.0.1.
pub async fn demo() -> cerebras_batch_mock::MockApi {
    let api = cerebras_batch_mock::MockApi::start().await;
    cerebras_batch_mock::demo::mount(&api).await;
    api
}

/// How many requests `server` has received.
pub async fn request_count(server: &wiremock::MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
        .len()
}

/// A batch object as the API returns it.
pub fn batch_json(id: &str, status: &str, extra: Value) -> Value {
    let mut b = json!({
        "id": id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
        "input_file_id": "file-input-1", "completion_window": "24h", "status": status,
        "output_file_id": null, "error_file_id": null, "created_at": 1766003277,
        "in_progress_at": null, "expires_at": null, "finalizing_at": null, "completed_at": null,
        "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": 12, "completed": 0, "failed": 0}, "metadata": null
    });
    if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
        b.extend(extra);
    }
    b
}

/// The spec's YAML text, as checked in.
pub fn spec_text() -> String {
    std::fs::read_to_string(workspace_root().join("spec/openapi.yaml")).expect("spec/openapi.yaml is readable")
}

/// The spec as JSON.
pub fn spec_json() -> Value {
    cerebras_batch_generator::parse_spec(&spec_text()).expect("the spec parses")
}

/// The spec's example whose JSON pointer ends with `suffix` (e.g. `/cancel_batch_response`).
///
/// # Panics
///
/// When no example matches: the test names an example the spec does not have.
pub fn example(suffix: &str) -> Example {
    examples(&spec_json())
        .into_iter()
        .find(|e| e.pointer.ends_with(suffix))
        .unwrap_or_else(|| panic!("the spec has no example ending in {suffix}"))
}

/// A YAML document (a test fixture) as JSON, read by the generator's YAML reader.
///
/// # Errors
///
/// The reader's message, with its line and column.
pub fn yaml(text: &str) -> Result<Value, String> {
    cerebras_batch_generator::yaml::load(text)
        .map(|l| l.value)
        .map_err(|e| format!("line {} column {}: {}", e.position.0, e.position.1, e.message))
}

/// The workspace root.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, its subfolders included, in path order.
///
/// # Panics
///
/// When a folder cannot be read.
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The environment variable that turns a missing `../shared` into a failure instead of a skip.
/// `.ci/run` sets it: in CI, a test that needs the reference material must run.
pub const REQUIRE_SHARED: &str = "CEREBRAS_BATCH_REQUIRE_SHARED";

/// `../shared/<rel>` beside the checkout (the reference material, not copied into the
/// repository: the vendor's pages, the published specs), when it is there.
///
/// When it is absent, the test is skipped: this says so on stderr and returns `None`.
///
/// # Panics
///
/// When it is absent and [`REQUIRE_SHARED`] is set (to any value), naming the path and the
/// variable.
pub fn shared(rel: &str) -> Option<std::path::PathBuf> {
    shared_in(&workspace_root(), rel, std::env::var_os(REQUIRE_SHARED).is_some())
}

/// [`shared`] for a checkout at `root`, with the requirement given rather than read from the
/// environment.
///
/// # Panics
///
/// When `root/../shared/<rel>` is absent and `required`.
pub fn shared_in(root: &std::path::Path, rel: &str, required: bool) -> Option<std::path::PathBuf> {
    let path = root.join("../shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        !required,
        "{} is absent, and {REQUIRE_SHARED} is set: this test must run here (put the reference material in ../shared beside the checkout)",
        path.display()
    );
    eprintln!(
        "skipped: {} is absent (CI has it and sets {REQUIRE_SHARED})",
        path.display()
    );
    None
}

/// Rewrites OpenAPI 3.0 schemas into JSON Schema: `nullable: true` becomes a `null` type (or
/// an `anyOf` with `null` when the schema has no `type`).
pub fn oas30_to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut m: serde_json::Map<String, Value> =
                m.iter().map(|(k, c)| (k.clone(), oas30_to_json_schema(c))).collect();
            if m.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(t) = m.get("type").cloned() {
                    m.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(e)) = m.get_mut("enum")
                        && !e.contains(&Value::Null)
                    {
                        e.push(Value::Null);
                    }
                } else {
                    return json!({ "anyOf": [{ "type": "null" }, Value::Object(m)] });
                }
            }
            Value::Object(m)
        }
        Value::Array(a) => Value::Array(a.iter().map(oas30_to_json_schema).collect()),
        other => other.clone(),
    }
}

/// Validates `instance` against `schema` (an OpenAPI 3.0 schema that may `$ref` the spec's
/// components); returns one line per violation: `instance path: message`.
pub fn schema_violations(spec: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = oas30_to_json_schema(schema);
    if let Value::Object(m) = &mut root {
        m.insert("components".into(), oas30_to_json_schema(&spec["components"]));
    }
    let validator = jsonschema::draft4::new(&root).expect("the spec's schemas are valid JSON Schema");
    let mut out: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!("{}: {e}", if path.is_empty() { "(root)" } else { &path })
        })
        .collect();
    out.sort();
    out
}

/// The API key every test client sends; tests check it never shows in errors or logs.
pub const TEST_KEY: &str = "csk-test-never-shown-9d7e";

/// A client for `base` with [`TEST_KEY`], `retries` retries, and backoffs of milliseconds
/// (1 to 4 ms) so that retry tests do not wait.
pub fn test_client(base: &str, retries: u32) -> cerebras_batch::Client {
    test_client_builder(base, retries)
        .build()
        .expect("a test client builds")
}

/// As [`test_client`], a builder to add settings to (a short timeout, say).
pub fn test_client_builder(base: &str, retries: u32) -> cerebras_batch::ClientBuilder {
    cerebras_batch::Client::builder()
        .api_key(TEST_KEY)
        .base_url(base)
        .max_retries(retries)
        .retry_delays(std::time::Duration::from_millis(1), std::time::Duration::from_millis(4))
}

/// A `200` response carrying [`batch_json`] for batch `b1` in `status`.
pub fn batch_response(status: &str) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(batch_json("b1", status, json!({})))
}

/// Mounts `first` on `server` for its first `n` requests, then `then` for every later one.
pub async fn respond_in_sequence(
    server: &wiremock::MockServer,
    first: wiremock::ResponseTemplate,
    n: u64,
    then: wiremock::ResponseTemplate,
) {
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(first)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(server)
        .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(then)
        .with_priority(2)
        .mount(server)
        .await;
}

/// The example's text as the docs print it (or its value, when no verbatim text exists).
pub fn example_body(ex: &Example) -> Vec<u8> {
    match &ex.verbatim {
        Some(text) => text.as_bytes().to_vec(),
        None => serde_json::to_vec_pretty(&ex.value).expect("an example serialises"),
    }
}

/// A valid request file of 12 chat-completion lines (`req-01` to `req-12`), written by the
/// library's [`RequestWriter`](cerebras_batch::jsonl::RequestWriter).
pub fn twelve_requests() -> Vec<u8> {
    use cerebras_batch::jsonl::{ChatCompletionRequest, ChatMessage, RequestWriter};
    let mut writer = RequestWriter::new(Vec::new());
    for i in 1..=12 {
        let body = ChatCompletionRequest::new("llama-3.3-70b", vec![ChatMessage::user(format!("Question {i}"))])
            .max_completion_tokens(500);
        writer.push(format!("req-{i:02}"), &body).expect("valid line");
    }
    let (bytes, summary) = writer.finish().expect("12 lines are enough");
    assert_eq!((summary.lines, summary.bytes as usize), (12, bytes.len()));
    bytes
}

/// A fault injector on 127.0.0.1 (wiremock cannot send a body in parts): answers one request with `head`, then writes each chunk after `pause`.
pub async fn trickle(head: String, chunks: Vec<Vec<u8>>, pause: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout with no `../shared` beside it.
    fn lonely_checkout() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cerebras-batch-no-shared-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("checkout")).unwrap();
        dir.join("checkout")
    }

    #[test]
    fn a_missing_shared_folder_is_a_skip_unless_required() {
        let root = lonely_checkout();
        assert_eq!(shared_in(&root, "reference/real-specs", false), None);
        let failure = std::panic::catch_unwind(|| shared_in(&root, "reference/real-specs", true))
            .expect_err("required and absent fails");
        let message = failure.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("reference/real-specs is absent"), "{message}");
        assert!(message.contains(REQUIRE_SHARED), "{message}");
        // Present, it is found either way.
        std::fs::create_dir_all(root.join("../shared/reference/real-specs")).unwrap();
        for required in [false, true] {
            assert_eq!(
                shared_in(&root, "reference/real-specs", required),
                Some(root.join("../shared/reference/real-specs"))
            );
        }
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    /// Run by [`the_variable_makes_a_missing_shared_folder_fail`] in a child process: `shared`
    /// as the tests call it, with the variable of the child's environment, against a folder
    /// that is never there.
    #[test]
    #[ignore = "run by the_variable_makes_a_missing_shared_folder_fail"]
    fn child_looks_for_a_missing_shared_folder() {
        assert_eq!(shared("no-such-folder-in-shared"), None);
    }

    #[test]
    fn the_variable_makes_a_missing_shared_folder_fail() {
        let child = |required: bool| {
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "tests::child_looks_for_a_missing_shared_folder",
                "--ignored",
                "--nocapture",
            ])
            .env_remove(REQUIRE_SHARED);
            if required {
                cmd.env(REQUIRE_SHARED, "1");
            }
            cmd.output().unwrap()
        };
        let skipped = child(false);
        assert!(skipped.status.success(), "{skipped:?}");
        assert!(String::from_utf8_lossy(&skipped.stderr).contains("skipped: "));
        let required = child(true);
        assert!(!required.status.success(), "{required:?}");
        let out = String::from_utf8_lossy(&required.stdout).into_owned() + &String::from_utf8_lossy(&required.stderr);
        assert!(
            out.contains("no-such-folder-in-shared is absent, and CEREBRAS_BATCH_REQUIRE_SHARED is set"),
            "{out}"
        );
    }
}
