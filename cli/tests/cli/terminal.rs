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

/// A session in tmux: a command in a `width`-column window, its screen read as a person sees it.
struct Screen {
    socket: String,
}

impl Screen {
    /// Starts `command` (in `env`'s folder, against its fake) in a window `width` wide; `None`
    /// when tmux is missing (and not required).
    fn start(env: &Env, name: &str, width: u16, command: &str) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("CEREBRAS_BATCH_REQUIRE_TMUX").is_none(),
                "tmux is not installed, and CEREBRAS_BATCH_REQUIRE_TMUX is set: this test must run here"
            );
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        let socket = format!("cerebras-batch-{name}-{}", std::process::id());
        let line = format!(
            "cd {} && env CEREBRAS_BASE_URL={} CEREBRAS_API_KEY={KEY} {command}; echo EXIT=$?; sleep 60",
            env.dir.display(),
            env.fake.uri()
        );
        let width = width.to_string();
        tmux(
            &socket,
            &["new-session", "-d", "-s", "t", "-x", &width, "-y", "40", &line],
        );
        Some(Self { socket })
    }

    /// The screen, row by row, as a person sees it.
    fn capture(&self) -> String {
        tmux(&self.socket, &["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen holds `text` (at most 30 s); returns the screen.
    async fn wait_for(&self, text: &str) -> String {
        let mut screen = String::new();
        for _ in 0..600 {
            screen = self.capture();
            if screen.contains(text) {
                return screen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never saw {text:?}; last screen:\n{screen}");
    }

    fn keys(&self, keys: &str) {
        tmux(&self.socket, &["send-keys", "-t", "t", keys]);
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        tmux(&self.socket, &["kill-server"]);
    }
}

/// A progress line: a bar (`[==> ]`) or a spinner's `(elapsed)`.
fn progress_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains("[=") || l.contains("[ ") || l.contains("Ctrl-C stops") || l.contains("ing its"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalizing_is_said_and_every_line_fits_80_columns() {
    let options = FakeOptions::default().polls_per_status(4).finalizing_polls(60);
    let env = Env::new("tmux-80", options).await;
    env.write("in.jsonl", &requests("a-rather-long-custom-id-", 30, "llama-3.3-70b"));
    let command = format!(
        "{BIN} submit in.jsonl --out results-with-a-long-name.jsonl --wait --max-requests 10 --poll-interval 0.1"
    );
    let Some(screen) = Screen::start(&env, "80", 80, &command) else {
        return;
    };
    let seen = screen.wait_for("finalizing: writing the results").await;
    let done = screen.wait_for("EXIT=").await;
    assert!(done.contains("EXIT=0"), "{done}");
    // Each batch's line is whole on its row (a line over 80 columns would wrap: its end would
    // start the next row), and so is each line the command prints while they run.
    for shown in [&seen, &done] {
        let rows: Vec<&str> = shown.lines().map(str::trim_end).collect();
        for (n, row) in rows.iter().enumerate() {
            if row.starts_with("batch ") && row.contains(" [") {
                assert!(row.ends_with("s)"), "row {n} is cut: {row:?}\n{shown}");
            }
        }
        for i in 1..=3 {
            let created = format!("batch {i}/3: created batch_fake_{i}");
            assert!(rows.contains(&created.as_str()), "{created}\n{shown}");
            let uploaded = format!("batch {i}/3: uploaded as file-fake-{i} (10 requests, ");
            assert!(
                rows.iter().any(|r| r.starts_with(&uploaded) && r.ends_with("bytes)")),
                "{uploaded}\n{shown}"
            );
        }
    }
    assert_eq!(
        seen.lines()
            .filter(|r| r.starts_with("batch ") && r.contains(" ["))
            .count(),
        3,
        "{seen}"
    );
    // The last line is short: a terminal echoes Ctrl-C there without wrapping.
    let last = seen.lines().map(str::trim_end).rfind(|r| !r.is_empty());
    assert_eq!(last, Some("Ctrl-C stops here; the same command resumes"), "{seen}");
    assert!(done.contains("tokens: prompt 90, completion 60, total 150"), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinner_shows_results_being_collected_and_ctrl_c_leaves_no_stale_line() {
    let options = FakeOptions::default().slow_downloads(Duration::from_secs(20));
    let env = Env::new("tmux-ctrl-c", options).await;
    env.write("in.jsonl", &requests("q", 20, "llama3.1-8b"));
    let command = format!("{BIN} submit in.jsonl --out out.jsonl --wait --max-requests 10 --poll-interval 0.1");
    let Some(screen) = Screen::start(&env, "ctrl-c", 100, &command) else {
        return;
    };
    let seen = screen.wait_for("batch 1/2: collecting its results").await;
    assert!(seen.contains("batch 1/2 batch_fake_1 ["), "{seen}");
    screen.keys("C-c");
    let done = screen.wait_for("EXIT=").await;
    assert!(done.contains("EXIT=130"), "{done}");
    assert!(done.contains("interrupted: nothing is lost"), "{done}");
    assert_eq!(
        progress_lines(&done),
        Vec::<&str>::new(),
        "stale progress lines:\n{done}"
    );
    let parts = env.dir.join("out.jsonl.parts");
    let hidden: Vec<String> = std::fs::read_dir(&parts)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(hidden.iter().all(|n| !n.ends_with(".part")), "{hidden:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_with_cancel_on_interrupt_leaves_no_stale_line() {
    let env = Env::new("tmux-cancel", FakeOptions::default().polls_per_status(1000)).await;
    env.write("in.jsonl", &requests("q", 30, "llama3.1-8b"));
    let command = format!(
        "{BIN} submit in.jsonl --out out.jsonl --wait --max-requests 10 --poll-interval 0.1 --cancel-on-interrupt"
    );
    let Some(screen) = Screen::start(&env, "cancel", 120, &command) else {
        return;
    };
    screen.wait_for("batch 3/3 batch_fake_3 [").await;
    screen.keys("C-c");
    let done = screen.wait_for("EXIT=").await;
    assert!(done.contains("EXIT=130"), "{done}");
    assert!(done.contains("cancelled batch_fake_3 (cancelling)"), "{done}");
    assert_eq!(
        progress_lines(&done),
        Vec::<&str>::new(),
        "stale progress lines:\n{done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_shows_progress_and_ctrl_c_leaves_no_part_file() {
    let env = Env::new("tmux-download", FakeOptions::default()).await;
    env.write("in.jsonl", &requests("q", 10, "llama3.1-8b"));
    env.run(&crate::common::submit(&["--wait"])).await.expect(0);
    env.fake.set_delay(
        &cerebras_batch::operations::RETRIEVE_FILE_CONTENT,
        Some(Duration::from_secs(30)),
    );
    let command = format!("{BIN} download batch_fake_1 --out got.jsonl");
    let Some(screen) = Screen::start(&env, "download", 100, &command) else {
        return;
    };
    screen.wait_for("downloading batch batch_fake_1's output file").await;
    screen.keys("C-c");
    let done = screen.wait_for("EXIT=").await;
    assert!(done.contains("EXIT=130"), "{done}");
    assert!(done.contains("interrupted: nothing was written to got.jsonl"), "{done}");
    assert_eq!(progress_lines(&done), Vec::<&str>::new(), "{done}");
    let names: Vec<String> = std::fs::read_dir(&env.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".part") && n != "got.jsonl"),
        "{names:?}"
    );
}
