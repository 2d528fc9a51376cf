//! `submit`: a file to merged results.

use cerebras_batch_mock::FakeOptions;

use crate::common::{Env, assert_merged, requests, submit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twelve_line_file_becomes_twelve_results_in_order() {
    let env = Env::new("twelve", FakeOptions::default()).await;
    let mut input = requests("q", 12, "llama3.1-8b");
    input = input
        .replace("\"q7\"", "\"fail-7\"")
        .replace("question q7", "question fail-7");
    env.write("in.jsonl", &input);
    let out = env.run(&submit(&["--wait", "--metadata", "team=evals"])).await;
    out.expect(3);
    assert_eq!(assert_merged(&input, &env.read("out.jsonl")), 12);
    let line8: serde_json::Value = serde_json::from_str(env.read("out.jsonl").lines().nth(7).unwrap()).unwrap();
    assert_eq!(line8["status"], "failed");
    assert_eq!(line8["error"]["message"], "Request fail-7 was refused");
    assert!(
        out.stdout
            .contains("wrote out.jsonl: 12 results in the input's order\n  succeeded 11\n  failed    1\n  expired   0\n  missing   0"),
        "{}",
        out.stdout
    );
    assert_eq!(
        env.fake.counts(),
        (3, 1),
        "the input, the output and the error file; one batch"
    );
    let batch = &env.fake.batches()[0];
    assert_eq!(batch["metadata"]["team"], "evals");
    assert_eq!(batch["metadata"]["cerebras_batch_shard"], "1");
    // The parts are gone; the state stays, and running again only reports.
    assert!(!env.exists("out.jsonl.parts"));
    let again = env.run(&submit(&["--wait"])).await;
    again.expect(3);
    assert!(again.stdout.contains("succeeded 11"), "{}", again.stdout);
    assert_eq!(env.fake.counts(), (3, 1));
}

/// 120,000 lines: three batches of 40,000, merged line by line in the input's order, within
/// 128 MiB of peak RSS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_120000_line_file_runs_in_three_batches_within_the_memory_bound() {
    let env = Env::new("large", FakeOptions::default()).await;
    let input = requests("request-", 120_000, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let mut command = env.command(&submit(&["--wait", "--json"]));
    command.env("CEREBRAS_BATCH_CLI_REPORT_RSS", "1");
    let out = crate::common::output(command).await;
    out.expect(0);
    let report = out.json();
    let sizes: Vec<u64> = report["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["requests"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [40_000, 40_000, 40_000]);
    assert_eq!(report["summary"]["succeeded"], 120_000);
    assert_eq!(report["done"], true);
    assert_eq!(assert_merged(&input, &env.read("out.jsonl")), 120_000);
    assert_eq!(env.fake.counts(), (6, 3));
    // Measured inside the command (VmHWM), so that the test's own memory does not count.
    let peak_kib: f64 = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak RSS: "))
        .and_then(|v| v.trim_end_matches(" KiB").parse().ok())
        .expect("the command reports its peak RSS");
    let peak_mib = peak_kib / 1024.0;
    eprintln!("peak RSS of the 120,000-line run: {peak_mib:.1} MiB");
    assert!(peak_mib < 128.0, "peak RSS {peak_mib:.1} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_leaves_its_requests_marked_missing() {
    let env = Env::new("failing", FakeOptions::default().failing_model("broken-model")).await;
    let input = format!(
        "{}{}",
        requests("good-", 12, "llama3.1-8b"),
        requests("bad-", 10, "broken-model")
    );
    env.write("in.jsonl", &input);
    let out = env.run(&submit(&["--wait"])).await;
    out.expect(3);
    assert!(out.stdout.contains("succeeded 12"), "{}", out.stdout);
    assert!(out.stdout.contains("missing   10"), "{}", out.stdout);
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains("broken-model"))
        .expect("a row for the failed batch");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["2/2", "broken-model", "10", "batch_fake_2", "failed", "0", "0"]);
    let results = env.read("out.jsonl");
    assert_merged(&input, &results);
    let bad: serde_json::Value = serde_json::from_str(results.lines().nth(12).unwrap()).unwrap();
    assert_eq!(bad["custom_id"], "bad-0");
    assert_eq!(bad["status"], "missing");
    assert_eq!(
        bad["error"]["message"],
        "batch batch_fake_2 ended `failed` without a result for this request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_line_by_line_before_anything_is_uploaded() {
    let env = Env::new("bad-input", FakeOptions::default()).await;
    let mut input = requests("q", 12, "llama3.1-8b");
    input.push_str("{not json\n");
    input.push_str(&requests("q", 1, "llama3.1-8b"));
    input.push_str(&requests("tiny-", 3, "other-model"));
    env.write("in.jsonl", &input);
    let out = env.run(&submit(&["--wait"])).await;
    out.expect(1);
    assert!(
        out.stderr.contains("in.jsonl:13: not a batch request line"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("in.jsonl:14: custom_id \"q0\" is used twice"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("in.jsonl has 2 problem(s); nothing was uploaded"),
        "{}",
        out.stderr
    );
    assert_eq!(env.fake.uploads(), 0);

    // Without the bad lines, the model with three requests is refused by name.
    let input = format!(
        "{}{}",
        requests("q", 12, "llama3.1-8b"),
        requests("tiny-", 3, "other-model")
    );
    env.write("in.jsonl", &input);
    let out = env.run(&submit(&["--wait"])).await;
    out.expect(1);
    assert!(
        out.stderr
            .contains("model \"other-model\" has 3 request(s) (first on line 13); a batch needs at least 10"),
        "{}",
        out.stderr
    );
    assert_eq!(env.fake.uploads(), 0);
}

/// Without `--wait`, each run does what it can and exits 8 until the output is written (then
/// 0); run from cron, it gets there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_without_wait_get_there_one_step_at_a_time() {
    let env = Env::new("cron", FakeOptions::default()).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let mut runs = 0;
    while !env.exists("out.jsonl") {
        runs += 1;
        assert!(runs < 20, "never finished");
        let out = env.run(&submit(&["--max-requests", "10", "--max-active", "2"])).await;
        out.expect(if env.exists("out.jsonl") { 0 } else { 8 });
        if !env.exists("out.jsonl") {
            assert!(
                out.stderr.contains("run the same command again to go on"),
                "{}",
                out.stderr
            );
        }
    }
    assert!(runs >= 4, "{runs} runs");
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.counts(), (6, 3));
    // At most two were active at any time: the third was created after one finished.
    let batches = env.fake.batches();
    let third_created = batches[2]["created_at"].as_i64().unwrap();
    let first_done = batches[0]["completed_at"].as_i64().unwrap();
    assert!(third_created > first_done, "{third_created} vs {first_done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_input_or_server_is_not_resumed() {
    let env = Env::new("changed", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 20, "llama3.1-8b"));
    env.run(&submit(&[])).await.expect(8);
    env.write("in.jsonl", &requests("q", 21, "llama3.1-8b"));
    let out = env.run(&submit(&[])).await;
    out.expect(1);
    assert!(out.stderr.contains("in.jsonl changed since run cbr"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("delete out.jsonl.state.json (and out.jsonl.parts) to start a new run"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_comes_from_a_file_and_is_never_printed() {
    let env = Env::new("key", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 10, "llama3.1-8b"));
    env.write("key.txt", &format!("{}\n", crate::common::KEY));
    let mut c = env.command(&[
        "--verbose",
        "submit",
        "in.jsonl",
        "--out",
        "out.jsonl",
        "--wait",
        "--poll-interval",
        "0.05",
        "--api-key-file",
        "key.txt",
    ]);
    c.env_remove("CEREBRAS_API_KEY");
    let out = crate::common::output(c).await;
    out.expect(0);
    assert!(out.stderr.contains("DEBUG"), "--verbose logs: {}", out.stderr);
    let mut c = env.command(&["list"]);
    c.env_remove("CEREBRAS_API_KEY");
    let out = crate::common::output(c).await;
    out.expect(1);
    assert_eq!(
        out.stderr,
        "cerebras-batch: no API key: export CEREBRAS_API_KEY, or pass --api-key-file FILE\n"
    );
}
