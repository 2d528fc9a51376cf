//! The exit-code contract (`status --wait`, `submit`), a row of the table per test; reruns of
//! what a run left unfinished; usage sums; `--dry-run`.

use cerebras_batch::UploadFile;
use cerebras_batch::types::CreateBatchRequest;
use cerebras_batch_mock::{FakeOptions, LineFailure};

use crate::common::{Env, assert_merged, requests, submit};

/// Creates a batch of `input` on the fake; returns its id.
async fn batch(env: &Env, input: &str) -> String {
    env.write("batch.jsonl", input);
    let client = env.fake.client();
    let file = client
        .upload_file(UploadFile::from_path(env.dir.join("batch.jsonl")))
        .await
        .unwrap();
    client
        .create_batch(CreateBatchRequest::chat_completions(file.id))
        .await
        .unwrap()
        .id
}

/// `status ID --wait` on a batch of `input` with the fake's `options`: the exit code and stderr.
async fn waited(name: &str, options: FakeOptions, input: &str, cancel: bool) -> (i32, String, String) {
    let env = Env::new(name, options).await;
    let id = batch(&env, input).await;
    if cancel {
        env.fake.client().cancel_batch(&id).await.unwrap();
    }
    let out = env.run(&["status", &id, "--wait", "--poll-interval", "0.05"]).await;
    (out.code, out.stdout, out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_0_when_every_request_succeeded() {
    let (code, stdout, stderr) = waited("wait-0", FakeOptions::default(), &requests("q", 10, "m"), false).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("completed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_3_on_partial_success() {
    let input = requests("q", 8, "m") + &requests("fail", 2, "m");
    let (code, _, stderr) = waited("wait-3", FakeOptions::default(), &input, false).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("completed, but some requests failed: completed (8/10 done, 2 failed) (exit 3)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_4_when_the_batch_expired() {
    let (code, _, stderr) = waited(
        "wait-4",
        FakeOptions::default().expiring_model("m"),
        &requests("q", 10, "m"),
        false,
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("ended `expired` (exit 4)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_5_when_the_batch_was_cancelled() {
    let (code, _, stderr) = waited(
        "wait-5",
        FakeOptions::default().polls_per_status(3),
        &requests("q", 10, "m"),
        true,
    )
    .await;
    assert_eq!(code, 5, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_6_when_the_batch_failed() {
    let (code, _, stderr) = waited(
        "wait-6",
        FakeOptions::default().failing_model("m"),
        &requests("q", 10, "m"),
        false,
    )
    .await;
    assert_eq!(code, 6, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_7_when_the_counts_do_not_add_up() {
    let (code, _, stderr) = waited(
        "wait-7",
        FakeOptions::default().inconsistent_counts(),
        &requests("q", 10, "m"),
        false,
    )
    .await;
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("total != completed + failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_124_when_its_timeout_runs_out() {
    let env = Env::new("wait-124", FakeOptions::default().polls_per_status(1000)).await;
    let id = batch(&env, &requests("q", 10, "m")).await;
    let out = env
        .run(&["status", &id, "--wait", "--timeout", "0.5", "--poll-interval", "0.1"])
        .await;
    out.expect(124);
    assert!(
        out.stderr
            .contains(&format!("timed out after 0.5 s: batch {id} is validating")),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_130_on_ctrl_c_and_leaves_the_batch_running() {
    let env = Env::new("wait-130", FakeOptions::default().polls_per_status(1000)).await;
    let id = batch(&env, &requests("q", 10, "m")).await;
    let child = env
        .command(&["status", &id, "--wait", "--poll-interval", "0.1"])
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let pid = child.id().unwrap() as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = crate::common::output_of(child).await;
    out.expect(130);
    assert!(out.stderr.contains("was not cancelled"), "{}", out.stderr);
    let status = env.fake.client().retrieve_batch(&id).await.unwrap();
    assert_eq!(status.status_text(), "validating", "the batch goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_wait_and_bad_arguments_keep_their_codes() {
    let env = Env::new("wait-args", FakeOptions::default()).await;
    let id = batch(&env, &requests("q", 10, "m")).await;
    env.run(&["status", &id]).await.expect(0);
    env.run(&["status", &id, "--timeout", "3"]).await.expect(2);
    env.run(&["status", "batch_nope", "--wait"]).await.expect(1);
    let help = env.run(&["status", "--help"]).await;
    help.expect(0);
    for row in [
        "  124  ",
        "  7    the batch completed without request counts",
        "  8    submitted",
    ] {
        assert!(help.stdout.contains(row), "{row}: {}", help.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_exits_8_until_finished_then_0_or_3() {
    let env = Env::new("submit-8", FakeOptions::default().polls_per_status(3)).await;
    env.write("in.jsonl", &requests("q", 10, "m"));
    let first = env.run(&submit(&[])).await;
    first.expect(8);
    assert!(first.stderr.contains("not finished"), "{}", first.stderr);
    let last = env.run(&submit(&["--wait"])).await;
    last.expect(0);
    let env = Env::new("submit-3", FakeOptions::default()).await;
    env.write("in.jsonl", &(requests("q", 9, "m") + &requests("fail", 1, "m")));
    env.run(&submit(&["--wait"])).await.expect(3);
}

/// 40 requests of `m` (10 fail with HTTP 429, 10 with `invalid_request` after the fix-up, the
/// rest fine) and 20 of `x`, whose batch expires half done; failures heal on a rerun.
fn rerun_input() -> String {
    requests("rate-", 10, "m") + &requests("x", 20, "x") + &requests("fail", 10, "m") + &requests("ok", 20, "m")
}

/// Unfinished requests too few for a batch (the least is 10 of one model): the summary does not
/// send the user round a loop of `--rerun-unfinished` runs that each leave them out, whether
/// they are few in all (3 + 3) or only per model (6 + 6, 12 in all); a rerun asked for anyway
/// says what it left out and does not advise itself again. With 12 of one model, it is
/// advised, and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_too_few_for_a_rerun_are_not_advised_a_rerun() {
    let options = || {
        FakeOptions::default()
            .fail_lines("rate-", LineFailure::status(429))
            .fail_lines("slow-", LineFailure::status(503))
            .failures_heal()
    };
    let input = |rate: usize, slow: usize| {
        requests("rate-", rate, "m")
            + &requests("ok", 10, "m")
            + &requests("slow-", slow, "n")
            + &requests("fine", 10, "n")
    };
    for (name, (rate, slow)) in [("rerun-3-3", (3, 3)), ("rerun-6-6", (6, 6))] {
        let env = Env::new(name, options()).await;
        env.write("in.jsonl", &input(rate, slow));
        let first = env.run(&submit(&["--wait"])).await;
        first.expect(3);
        let few = format!(
            "{} of them worth another run, too few for a batch (10 of one model): send them another way",
            rate + slow
        );
        assert!(first.stdout.contains(&few), "{name}: {}", first.stdout);
        assert!(
            !first.stdout.contains("add --rerun-unfinished"),
            "{name}: {}",
            first.stdout
        );
        let again = env.run(&submit(&["--wait", "--rerun-unfinished"])).await;
        again.expect(3);
        let left_out = format!("left out: {rate} unfinished request(s) of m, fewer than the 10 a batch needs");
        assert!(again.stderr.contains(&left_out), "{name}: {}", again.stderr);
        assert!(again.stdout.contains(&few), "{name}: {}", again.stdout);
        assert!(
            !again.stdout.contains("add --rerun-unfinished"),
            "{name}: {}",
            again.stdout
        );
        assert_eq!(env.fake.counts().1, 2, "{name}: no batch created by the rerun");
    }

    let env = Env::new("rerun-12-6", options()).await;
    env.write("in.jsonl", &input(12, 6));
    let first = env.run(&submit(&["--wait"])).await;
    first.expect(3);
    assert!(
        first
            .stdout
            .contains("18 of them worth another run: add --rerun-unfinished"),
        "{}",
        first.stdout
    );
    let again = env.run(&submit(&["--wait", "--rerun-unfinished"])).await;
    again.expect(3);
    assert!(
        again.stderr.contains("left out: 6 unfinished request(s) of n"),
        "{}",
        again.stderr
    );
    assert_eq!(env.fake.counts().1, 3, "one batch, of m's 12");
    assert!(
        again
            .stdout
            .contains("6 of them worth another run, too few for a batch"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_unfinished_completes_the_output_and_survives_a_kill() {
    let options = FakeOptions::default()
        .fail_lines("rate-", LineFailure::status(429))
        .expiring_model("x")
        .failures_heal();
    let env = Env::new("rerun", options).await;
    let input = rerun_input();
    env.write("in.jsonl", &input);
    let first = env.run(&submit(&["--wait", "--json"])).await;
    first.expect(3);
    let summary = &first.json()["summary"];
    assert_eq!(
        (
            &summary["succeeded"],
            &summary["failed"],
            &summary["expired"],
            &summary["rerunnable"]
        ),
        (&30.into(), &20.into(), &10.into(), &20.into())
    );
    assert_eq!(summary["error_file_lines"], 20);
    assert_eq!(summary["usage"]["total_tokens"], 30 * 5);
    let before = env.read("out.jsonl");
    // Killed while the rerun's batches run; the same command again resumes it.
    let killed = env
        .run_with_fault("while-waiting", &submit(&["--wait", "--rerun-unfinished"]))
        .await;
    killed.expect(86);
    assert!(
        killed.stderr.contains("rerun 1: 20 unfinished requests"),
        "{}",
        killed.stderr
    );
    let creates = env.fake.counts().1;
    assert_eq!(creates, 4, "two batches, then two for the rerun");
    let resumed = env.run(&submit(&["--wait", "--rerun-unfinished"])).await;
    resumed.expect(3);
    assert!(resumed.stderr.contains("resuming run"), "{}", resumed.stderr);
    assert_eq!(
        env.fake.counts().1,
        creates,
        "the rerun resumed: no batch created again"
    );
    let after = env.read("out.jsonl");
    assert_merged(&input, &after);
    for (n, (old, new)) in before.lines().zip(after.lines()).enumerate() {
        if old.contains("\"succeeded\"") || old.contains("invalid_request") {
            assert_eq!(old, new, "line {} kept byte for byte", n + 1);
        } else {
            assert!(new.contains("\"succeeded\""), "line {} finished: {new}", n + 1);
        }
    }
    assert!(
        resumed.stdout.contains("  succeeded 50\n  failed    10\n"),
        "{}",
        resumed.stdout
    );
    assert!(resumed.stdout.contains("1/2 (rerun 1)"), "{}", resumed.stdout);
    assert!(
        resumed.stdout.contains("tokens: prompt 150, completion 100, total 250"),
        "{}",
        resumed.stdout
    );
    // Only the invalid requests are left, and they are never sent again.
    let again = env.run(&submit(&["--wait", "--rerun-unfinished"])).await;
    again.expect(3);
    assert!(again.stderr.contains("nothing to rerun"), "{}", again.stderr);
    assert_eq!(env.fake.counts().1, creates);
    let state: serde_json::Value = serde_json::from_str(&env.read("out.jsonl.state.json")).unwrap();
    assert_eq!(state["attempts"][1]["number"], 2);
    assert_eq!(
        state["attempts"][1]["lines"],
        serde_json::json!([[1, 10], [21, 30]]),
        "the 429s and the half the expired batch did not reach"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_the_plan_and_sends_nothing() {
    let env = Env::new("dry-run", FakeOptions::default()).await;
    env.write("in.jsonl", &(requests("a", 25, "m") + &requests("b", 10, "n")));
    let out = env.run(&submit(&["--dry-run", "--max-requests", "20"])).await;
    out.expect(0);
    assert!(out.stdout.contains("dry run: 35 requests ("), "{}", out.stdout);
    assert!(
        out.stdout.contains("in 3 batch(es); nothing was sent or written"),
        "{}",
        out.stdout
    );
    let json = env.run(&submit(&["--dry-run", "--max-requests", "20", "--json"])).await;
    json.expect(0);
    let plan = json.json();
    assert_eq!(plan["models"][0]["model"], "m");
    assert_eq!(plan["models"][0]["requests"], 25);
    assert_eq!(plan["models"][0]["batches"], 2);
    assert_eq!(plan["models"][1]["requests"], 10);
    assert_eq!(plan["batches"].as_array().unwrap().len(), 3);
    assert_eq!(env.fake.received(), 0, "the fake saw no request");
    assert!(!env.exists("out.jsonl") && !env.exists("out.jsonl.state.json"));
    // A bad input: the problems, exit 1, still nothing sent.
    env.write("in.jsonl", &requests("a", 5, "m"));
    env.run(&submit(&["--dry-run"])).await.expect(1);
    assert_eq!(env.fake.received(), 0);
    // An output the real run would refuse (a directory, the input itself) is refused here too.
    env.write("in.jsonl", &requests("a", 12, "m"));
    std::fs::create_dir_all(env.dir.join("a-folder")).unwrap();
    for out in ["a-folder", "in.jsonl"] {
        let run = env.run(&["submit", "in.jsonl", "--out", out, "--dry-run"]).await;
        run.expect(1);
        assert!(run.stderr.contains(&format!("the output `{out}`")), "{}", run.stderr);
    }
    assert_eq!(env.fake.received(), 0);
}

/// One table: the codes `--help` prints are the codes of the README's table, in order.
#[test]
fn the_readme_and_help_list_the_same_exit_codes() {
    let help = std::process::Command::new(crate::common::BIN)
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8(help.stdout).unwrap();
    let table = help.split("Exit codes:").nth(1).expect("--help has the exit codes");
    let from_help: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.split_whitespace().next())
        .filter(|c| c.chars().all(|ch| ch.is_ascii_digit()))
        .collect();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("**Exit codes**")
        .nth(1)
        .expect("the README has the exit codes");
    let from_readme: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| 0 "))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .collect();
    assert_eq!(from_help, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "124", "130"]);
    assert_eq!(from_readme, from_help);
}
