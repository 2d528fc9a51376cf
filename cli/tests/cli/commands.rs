//! The small commands, as tables and as `--json` parsed back.

use cerebras_batch::types::CreateBatchRequest;
use cerebras_batch_mock::FakeOptions;

use crate::common::{Env, requests, submit};

/// A fake with one finished run of three batches.
async fn after_a_run(name: &str) -> Env {
    let env = Env::new(name, FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 30, "llama3.1-8b"));
    env.run(&submit(&["--wait", "--max-requests", "10"])).await.expect(0);
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_list_as_tables_and_json() {
    let env = after_a_run("status-list").await;

    let out = env.run(&["status", "batch_fake_2", "--json"]).await;
    out.expect(0);
    let batch = out.json();
    assert_eq!(batch["id"], "batch_fake_2");
    assert_eq!(batch["status"], "completed");
    assert_eq!(batch["request_counts"]["total"], 10);
    assert_eq!(batch["metadata"]["cerebras_batch_shard"], "2");
    let out = env.run(&["status", "batch_fake_2"]).await;
    out.expect(0);
    assert!(out.stdout.contains(" status "), "{}", out.stdout);
    assert!(out.stdout.contains(" completed "), "{}", out.stdout);
    assert!(out.stdout.contains(" requests done/total  10/10 "), "{}", out.stdout);

    let out = env.run(&["list", "--json"]).await;
    out.expect(0);
    let ids: Vec<String> = out.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["batch_fake_3", "batch_fake_2", "batch_fake_1"]);
    let out = env.run(&["list", "--limit", "2", "--json"]).await;
    assert_eq!(out.json()["has_more"], true);
    let out = env.run(&["list", "--all", "--limit", "1", "--json"]).await;
    out.expect(0);
    assert_eq!(out.json()["data"].as_array().unwrap().len(), 3);
    assert_eq!(out.json()["has_more"], false);
    let out = env.run(&["list"]).await;
    out.expect(0);
    let header = out.stdout.lines().next().unwrap();
    for column in [
        "ID",
        "STATUS",
        "CREATED",
        "DONE/TOTAL",
        "FAILED",
        "INPUT FILE",
        "OUTPUT FILE",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = out.stdout.lines().find(|l| l.contains("batch_fake_1")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[..2], ["batch_fake_1", "completed"]);
    assert!(
        cells[2].ends_with('Z') && cells[2].contains('T'),
        "an RFC 3339 time: {row}"
    );
    assert_eq!(cells[3..5], ["10/10", "0"]);

    let out = env.run(&["status", "batch_nope"]).await;
    out.expect(1);
    assert!(
        out.stderr.starts_with("cerebras-batch: retrieve_batch (GET /v1/batches/batch_nope): not found (HTTP 404): No batch with id batch_nope"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_with_and_without_wait() {
    let env = Env::new("cancel", FakeOptions::default().polls_per_status(1000)).await;
    env.write("in.jsonl", &requests("q", 10, "llama3.1-8b"));
    let out = env.run(&["files", "upload", "in.jsonl", "--json"]).await;
    out.expect(0);
    let file_id = out.json()["id"].as_str().unwrap().to_owned();
    let client = env.fake.client();
    let a = client
        .create_batch(CreateBatchRequest::chat_completions(&file_id))
        .await
        .unwrap();
    let b = client
        .create_batch(CreateBatchRequest::chat_completions(&file_id))
        .await
        .unwrap();

    let out = env.run(&["cancel", &a.id, "--json"]).await;
    out.expect(0);
    assert_eq!(out.json()[0]["status"], "cancelling");
    let out = env.run(&["cancel", &b.id, "--wait", "--json"]).await;
    out.expect(0);
    assert_eq!(out.json()[0]["status"], "cancelled");
    assert_eq!(out.json()[0]["request_counts"]["completed"], 5);

    // A finished batch cannot be cancelled: the error says so, the others still are tried.
    let out = env.run(&["cancel", &b.id, "batch_nope"]).await;
    out.expect(1);
    assert!(
        out.stderr.contains("already cancelled and cannot be cancelled"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not found (HTTP 404)"), "{}", out.stderr);
    assert!(
        out.stderr.contains("2 of 2 batches were not cancelled"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("already cancelled").count(),
        1,
        "each error once: {}",
        out.stderr
    );
    // One batch: its error, printed once.
    let out = env.run(&["cancel", &b.id]).await;
    out.expect(1);
    assert_eq!(out.stderr.matches("already cancelled").count(), 1, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_writes_the_output_or_error_file() {
    let env = Env::new("download", FakeOptions::default()).await;
    let input = requests("q", 12, "llama3.1-8b").replace("\"q3\"", "\"fail-3\"");
    env.write("in.jsonl", &input);
    env.run(&submit(&["--wait"])).await.expect(3);

    let out = env
        .run(&["download", "batch_fake_1", "--out", "output.jsonl", "--json"])
        .await;
    out.expect(0);
    let report = out.json();
    let written = env.read("output.jsonl");
    assert_eq!(report["bytes"], written.len());
    assert_eq!(report["file_id"], env.fake.batches()[0]["output_file_id"]);
    assert_eq!(written.lines().count(), 11);
    let out = env
        .run(&["download", "batch_fake_1", "--errors", "--out", "errors.jsonl"])
        .await;
    out.expect(0);
    assert!(out.stdout.starts_with("wrote "), "{}", out.stdout);
    assert!(env.read("errors.jsonl").contains("\"custom_id\":\"fail-3\""));
    assert!(!env.exists("errors.part"), "the temporary file is renamed");

    // A batch still running has no output yet.
    let client = env.fake.client();
    let file = &env.fake.files()[0]["id"];
    let running = client
        .create_batch(CreateBatchRequest::chat_completions(file.as_str().unwrap()))
        .await
        .unwrap();
    let out = env.run(&["download", &running.id, "--out", "x.jsonl"]).await;
    out.expect(1);
    assert!(
        out.stderr
            .contains(&format!("batch {} has no output file (it is", running.id)),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_list_get_delete_upload() {
    let env = after_a_run("files").await;
    let out = env.run(&["files", "list", "--json"]).await;
    out.expect(0);
    let files = out.json();
    assert_eq!(files["data"].as_array().unwrap().len(), 6);
    assert_eq!(files["has_more"], false);
    let out = env.run(&["files", "list", "--all", "--limit", "4", "--json"]).await;
    assert_eq!(out.json()["data"].as_array().unwrap().len(), 6);
    let out = env.run(&["files", "list"]).await;
    out.expect(0);
    assert!(
        out.stdout.lines().next().unwrap().contains("FILENAME"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("batch_fake_1_output.jsonl"), "{}", out.stdout);

    let out = env.run(&["files", "get", "file-fake-1", "--json"]).await;
    out.expect(0);
    let file = out.json();
    assert_eq!(file["id"], "file-fake-1");
    assert!(
        file["filename"].as_str().unwrap().ends_with("-shard-0001.jsonl"),
        "{file}"
    );
    assert_eq!(file["purpose"], "batch");

    let out = env.run(&["files", "delete", "file-fake-1", "--json"]).await;
    out.expect(0);
    assert_eq!(out.json()["deleted"], true);
    let out = env.run(&["files", "get", "file-fake-1"]).await;
    out.expect(1);

    let out = env
        .run(&["files", "upload", "in.jsonl", "--expires-after", "86400", "--json"])
        .await;
    out.expect(0);
    let uploaded = out.json();
    assert_eq!(uploaded["filename"], "in.jsonl");
    assert_eq!(uploaded["bytes"], env.read("in.jsonl").len());

    // A file over the per-batch limits is refused before upload, naming the problem.
    env.write("small.jsonl", &requests("q", 3, "llama3.1-8b"));
    let out = env.run(&["files", "upload", "small.jsonl"]).await;
    out.expect(1);
    assert!(
        out.stderr
            .contains("small.jsonl: the file has 3 requests; a batch needs at least 10"),
        "{}",
        out.stderr
    );
}

/// Text from the server reaches the terminal escaped: a status, a file name and an error
/// message holding terminal escape sequences (clear the screen, retitle the window, recolour)
/// and a bidirectional override are shown as `\u{1b}`, `\u{202e}`, and cannot act. `--json`
/// keeps them as JSON escapes, and its value round-trips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_cannot_drive_the_terminal() {
    use cerebras_batch_mock::{MockApi, Reply};

    let api = MockApi::start().await;
    let hostile = "in_progress\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}txt.exe";
    let batch = serde_json::json!({"id": "b1", "object": "batch", "status": hostile, "created_at": 1});
    api.retrieve_batch()
        .batch_id("b1")
        .respond(Reply::raw(200, batch.to_string(), "application/json"))
        .mount(&api)
        .await;
    let error = serde_json::json!({"message": "gone\u{1b}[31m red\u{1b}[0m", "type": "not_found_error"});
    api.cancel_batch()
        .batch_id("b2")
        .respond(Reply::raw(404, error.to_string(), "application/json"))
        .mount(&api)
        .await;
    // A batch that ended `failed`, its id holding an escape: `status --wait` names it in the
    // reason for its exit code.
    let failed = serde_json::json!({"id": "b3\u{1b}[2J\nforged line", "object": "batch", "status": "failed"});
    api.retrieve_batch()
        .batch_id("b3")
        .respond(Reply::raw(200, failed.to_string(), "application/json"))
        .mount(&api)
        .await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-hostile-text");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let mut c = tokio::process::Command::new(crate::common::BIN);
        c.args(args)
            .current_dir(&dir)
            .env("CEREBRAS_BASE_URL", api.uri())
            .env("CEREBRAS_API_KEY", crate::common::KEY)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        crate::common::output(c)
    };
    let shown = run(&["status", "b1"]).await;
    shown.expect(0);
    let cancel = run(&["cancel", "b2"]).await;
    cancel.expect(1);
    let waited = run(&["status", "b3", "--wait", "--poll-interval", "0.05"]).await;
    waited.expect(6);
    assert!(
        waited
            .stderr
            .contains(r"batch b3\u{1b}[2J\u{a}forged line ended `failed` (exit 6)"),
        "{}",
        waited.stderr
    );
    for text in [
        &shown.stdout,
        &shown.stderr,
        &cancel.stdout,
        &cancel.stderr,
        &waited.stdout,
        &waited.stderr,
    ] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{text:?}"
        );
    }
    assert!(
        shown
            .stdout
            .contains(r"in_progress\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}txt.exe"),
        "{}",
        shown.stdout
    );
    assert!(
        cancel.stderr.contains(r"gone\u{1b}[31m red\u{1b}[0m"),
        "{}",
        cancel.stderr
    );
    let json = run(&["status", "b1", "--json"]).await;
    json.expect(0);
    assert!(!json.stdout.contains('\u{1b}'), "{}", json.stdout);
    assert_eq!(json.json()["status"], hostile);
}
