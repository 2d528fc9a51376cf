//! The progress display as a person sees it: in a real terminal (tmux), bars and a live line
//! per batch; in a pipe, no bars, a plain line per change.

use std::process::Command;
use std::time::Duration;

use cerebras_batch_mock::FakeOptions;

use crate::common::{BIN, Env, KEY, requests, submit};

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_shows_bars_and_a_line_per_batch() {
    if Command::new("tmux").arg("-V").output().is_err() {
        // CI installs tmux and sets the variable: there, a missing tmux fails the test.
        assert!(
            std::env::var_os("CEREBRAS_BATCH_REQUIRE_TMUX").is_none(),
            "tmux is not installed, and CEREBRAS_BATCH_REQUIRE_TMUX is set: this test must run here"
        );
        eprintln!("skipped: tmux is not installed (CI installs it and sets CEREBRAS_BATCH_REQUIRE_TMUX)");
        return;
    }
    let env = Env::new("tmux", FakeOptions::default().polls_per_status(8)).await;
    env.write("in.jsonl", &requests("q", 30, "llama3.1-8b"));
    let socket = format!("cerebras-batch-test-{}", std::process::id());
    let command = format!(
        "cd {} && env CEREBRAS_BASE_URL={} CEREBRAS_API_KEY={KEY} {BIN} submit in.jsonl --out out.jsonl --wait --max-requests 10 --poll-interval 0.2; echo EXIT=$?; sleep 60",
        env.dir.display(),
        env.fake.uri()
    );
    tmux(
        &socket,
        &["new-session", "-d", "-s", "t", "-x", "160", "-y", "40", &command],
    );
    let mut seen_running = None;
    let mut screen = String::new();
    for _ in 0..600 {
        screen = tmux(&socket, &["capture-pane", "-p", "-t", "t"]);
        if seen_running.is_none() && screen.contains("in_progress") && screen.contains("batch 3/3 batch_fake_3 [") {
            seen_running = Some(screen.clone());
        }
        if screen.contains("EXIT=") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tmux(&socket, &["kill-server"]);
    let running = seen_running.unwrap_or_else(|| panic!("no live batch lines; last screen:\n{screen}"));
    for i in 1..=3 {
        assert!(running.contains(&format!("batch {i}/3 batch_fake_{i} [")), "{running}");
    }
    assert!(running.contains("/10 in_progress, 0 failed ("), "{running}");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("wrote out.jsonl: 30 results in the input's order"),
        "{screen}"
    );
    assert!(screen.contains("batch 1/3: uploaded "), "{screen}");
    assert!(!screen.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_gets_plain_lines_and_no_bars() {
    let env = Env::new("pipe", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 20, "llama3.1-8b"));
    let out = env.run(&submit(&["--wait", "--max-requests", "10"])).await;
    out.expect(0);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.contains(&"batch 1/2 batch_fake_1: validating (0/10 done, 0 failed)"),
        "{}",
        out.stderr
    );
    assert!(
        lines.contains(&"batch 2/2 batch_fake_2: completed (10/10 done, 0 failed)"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\r'),
        "no terminal codes: {:?}",
        out.stderr
    );
    assert!(!out.stderr.contains("[="), "no bars");

    let quiet = env.run(&["--quiet", "files", "list"]).await;
    quiet.expect(0);
    assert_eq!(quiet.stderr, "");
    std::fs::remove_file(env.dir.join("out.jsonl.state.json")).unwrap();
    let quiet = env.run(&submit(&["--wait", "--max-requests", "10", "--quiet"])).await;
    quiet.expect(0);
    assert_eq!(quiet.stderr, "", "--quiet prints nothing on stderr");
}
