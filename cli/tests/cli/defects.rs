//! Regression tests of the defects found by running `submit` as a new user would (issue 20):
//! each as the person met it.

use std::time::Duration;

use cerebras_batch::operations;
use cerebras_batch_mock::FakeOptions;

use crate::common::{Env, assert_merged, requests, submit};

/// Resuming while `GET /v1/files` answered 503 uploaded a shard again (4 files for 3 shards).
/// Now the lookup is tried again later (a transient failure), and nothing is uploaded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_lookup_that_fails_is_tried_again_instead_of_uploading_again() {
    let env = Env::new("lookup-503", FakeOptions::default()).await;
    let input = requests("q", 30, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let args = submit(&["--wait", "--max-requests", "10"]);
    env.run_with_fault("after-upload:1", &args).await.expect(86);
    assert_eq!(env.fake.uploads(), 2);
    env.fake.fail_next(&operations::LIST_FILES, 503, 3);
    let out = env.run(&args).await;
    out.expect(0);
    assert!(
        out.stderr.contains("a step failed (") && out.stderr.contains("server error (HTTP 503)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("(after 3 attempts)); trying again in 50ms"),
        "{}",
        out.stderr
    );
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.uploads(), 3);
    assert_eq!(env.fake.counts(), (6, 3), "three shard files and three outputs");
}

/// `--out` naming a directory (or `/`) uploaded and created, failed at the merge, and left
/// files behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_cannot_be_written_is_refused_before_anything_is_sent() {
    let env = Env::new("bad-out", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 20, "llama3.1-8b"));
    std::fs::create_dir(env.dir.join("results")).unwrap();
    for (out, expected) in [
        (
            "results",
            "the output `results` is a directory; give the path of the results file to write",
        ),
        (
            "/",
            "the output `/` names no file; give the path of the results file to write",
        ),
        (
            "nowhere/out.jsonl",
            "the output `nowhere/out.jsonl` cannot be written: its folder `nowhere`:",
        ),
        (
            "in.jsonl",
            "the output `in.jsonl` is the input: the results would overwrite the requests",
        ),
    ] {
        let out = env
            .run(&["submit", "in.jsonl", "--out", out, "--wait", "--poll-interval", "0.05"])
            .await;
        out.expect(1);
        assert!(out.stderr.contains(expected), "{}", out.stderr);
    }
    assert_eq!(env.fake.counts(), (0, 0), "nothing sent");
    let mut left: Vec<String> = std::fs::read_dir(&env.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["in.jsonl", "results"], "nothing left behind");
    assert!(std::fs::read_dir(env.dir.join("results")).unwrap().next().is_none());
    assert!(!std::path::Path::new("/.state.json").exists() && !std::path::Path::new("/.parts").exists());
}

/// A duplicate `custom_id` named only its second line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_custom_id_names_both_lines_in_submit_and_files_upload() {
    let env = Env::new("duplicate", FakeOptions::default()).await;
    let mut input = requests("q", 12, "llama3.1-8b");
    input.push_str("{not json\n");
    input.push_str(&requests("q", 1, "llama3.1-8b"));
    env.write("in.jsonl", &input);
    let out = env.run(&submit(&["--wait"])).await;
    out.expect(1);
    assert!(
        out.stderr
            .contains("in.jsonl:14: custom_id \"q0\" is used twice: on lines 1 and 14"),
        "{}",
        out.stderr
    );
    let out = env.run(&["files", "upload", "in.jsonl"]).await;
    out.expect(1);
    assert!(
        out.stderr
            .contains("in.jsonl:14: custom_id \"q0\" is used twice: on lines 1 and 14"),
        "{}",
        out.stderr
    );
    assert_eq!(env.fake.uploads(), 0);
}

/// A mistyped `--base-url` that never reached a server locked the run until the state file was
/// deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_that_never_answered_does_not_lock_the_run() {
    let env = Env::new("typo-url", FakeOptions::default()).await;
    let input = requests("q", 20, "llama3.1-8b");
    env.write("in.jsonl", &input);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let typo = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut args = vec!["--base-url", typo.as_str()];
    args.extend(submit(&["--wait"]));
    let out = env.run(&args).await;
    out.expect(1);
    assert!(out.stderr.contains("connection failed"), "{}", out.stderr);
    assert!(!env.exists("out.jsonl.state.json") && !env.exists("out.jsonl.parts"));
    let out = env.run(&submit(&["--wait"])).await;
    out.expect(0);
    assert!(!out.stderr.contains("resuming"), "{}", out.stderr);
    assert_merged(&input, &env.read("out.jsonl"));
    assert_eq!(env.fake.counts(), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_submit_on_the_same_output_is_refused_naming_the_first() {
    let env = Env::new("two-runs", FakeOptions::default().polls_per_status(1000)).await;
    env.write("in.jsonl", &requests("q", 20, "llama3.1-8b"));
    let args = submit(&["--wait", "--poll-interval", "0.2"]);
    let first = env.command(&args).spawn().unwrap();
    let pid = first.id().unwrap();
    for _ in 0..500 {
        if env.fake.counts().1 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = env.run(&args).await;
    second.expect(1);
    assert!(
        second.stderr.contains(&format!(
            "the job's state out.jsonl.state.json is in use by process {pid} on host "
        )),
        "{}",
        second.stderr
    );
    assert_eq!(env.fake.counts().1, 1, "the second created nothing");
    drop(first);
}

/// Issue 21's findings, each as a person meets it.
mod issue_21 {
    use cerebras_batch_mock::FakeOptions;

    use crate::common::{Env, requests, submit};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_empty_custom_id_is_refused() {
        let env = Env::new("empty-id", FakeOptions::default()).await;
        env.write("in.jsonl", &requests("q", 12, "m").replace("\"q3\"", "\"\""));
        let out = env.run(&submit(&["--dry-run"])).await;
        out.expect(1);
        assert!(out.stderr.contains("in.jsonl:4: custom_id is empty;"), "{}", out.stderr);
        assert_eq!(env.fake.received(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_utf16_file_is_named_as_such_once() {
        let env = Env::new("utf16", FakeOptions::default()).await;
        let text = requests("q", 12, "m");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        std::fs::write(env.dir.join("in.jsonl"), bytes).unwrap();
        for args in [submit(&["--wait"]), vec!["files", "upload", "in.jsonl"]] {
            let out = env.run(&args).await;
            out.expect(1);
            assert!(
                out.stderr.contains("in.jsonl:1: the file is UTF-16 (little-endian: it starts with the byte order mark FF FE); save it as UTF-8"),
                "{}",
                out.stderr
            );
            assert!(out.stderr.contains("has 1 problem(s)"), "{}", out.stderr);
        }
        assert_eq!(env.fake.uploads(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_directory_as_input_is_named_with_the_users_path() {
        let env = Env::new("dir-input", FakeOptions::default()).await;
        std::fs::create_dir(env.dir.join("inputs")).unwrap();
        let out = env.run(&["submit", "inputs", "--out", "out.jsonl", "--wait"]).await;
        out.expect(1);
        assert!(
            out.stderr
                .contains("the input `inputs` is a directory, not a request file"),
            "{}",
            out.stderr
        );
        let out = env.run(&["submit", "inputs", "--out", "out.jsonl", "--dry-run"]).await;
        out.expect(1);
        assert!(
            out.stderr
                .contains("`inputs` is a directory; give a JSONL request file"),
            "{}",
            out.stderr
        );
        let out = env.run(&["files", "upload", "inputs"]).await;
        out.expect(1);
        assert!(
            out.stderr
                .contains("`inputs` is a directory; give a JSONL request file"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("os error"), "{}", out.stderr);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_output_that_cannot_be_written_at_the_merge_is_named_as_given() {
        let env = Env::new("merge-path", FakeOptions::default()).await;
        env.write("in.jsonl", &requests("q", 10, "m"));
        std::fs::create_dir(env.dir.join("out.jsonl.tmp")).unwrap();
        let out = env.run(&submit(&["--wait"])).await;
        out.expect(1);
        assert!(
            out.stderr
                .contains("cannot write `out.jsonl` (it is written as `out.jsonl.tmp` first): Is a directory"),
            "{}",
            out.stderr
        );
        std::fs::remove_dir(env.dir.join("out.jsonl.tmp")).unwrap();
        env.run(&submit(&["--wait"])).await.expect(0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_problem_count_says_when_it_is_capped_and_upload_lists_as_few_as_submit() {
        let env = Env::new("capped", FakeOptions::default()).await;
        env.write("in.jsonl", &"not json\n".repeat(1200));
        let out = env.run(&submit(&["--dry-run"])).await;
        out.expect(1);
        assert!(
            out.stderr
                .contains("in.jsonl has 1200 problem(s); nothing was uploaded"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("... and 1150 more"), "{}", out.stderr);
        let listed = |s: &str| s.lines().filter(|l| l.starts_with("in.jsonl:")).count();
        assert_eq!(listed(&out.stderr), 50);
        let upload = env.run(&["files", "upload", "in.jsonl"]).await;
        upload.expect(1);
        assert_eq!(listed(&upload.stderr), 50, "as many as submit");
        assert!(
            upload
                .stderr
                .contains("in.jsonl has at least 1000 problem(s); nothing was uploaded"),
            "{}",
            upload.stderr
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shell_completions_name_every_command_and_option() {
        let env = Env::new("completions", FakeOptions::default()).await;
        for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
            let out = env.run(&["completions", shell]).await;
            out.expect(0);
            for word in ["submit", "rerun-unfinished", "dry-run", "status"] {
                assert!(out.stdout.contains(word), "{shell}: {word}");
            }
        }
        env.run(&["completions", "tcsh"]).await.expect(2);
    }
}

/// A finished run's output deleted afterwards: running the same command again reported
/// "wrote out.jsonl" and exited 0 for a file that was not there. It is an error naming the
/// file and what to do, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_whose_output_is_gone_says_so_instead_of_wrote() {
    let env = Env::new("output-gone", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 12, "llama3.1-8b"));
    let args = submit(&["--wait"]);
    env.run(&args).await.expect(0);
    let counts = env.fake.counts();
    std::fs::remove_file(env.dir.join("out.jsonl")).unwrap();
    let again = env.run(&args).await;
    again.expect(1);
    assert!(
        again.stderr.contains("out.jsonl is gone: run ") && again.stderr.contains("delete "),
        "{}",
        again.stderr
    );
    assert!(!again.stdout.contains("wrote"), "{}", again.stdout);
    assert_eq!(env.fake.counts(), counts, "nothing sent");
}
