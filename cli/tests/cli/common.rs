//! Running the command against a fake API.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use cerebras_batch_mock::{FakeApi, FakeOptions};

/// The command under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cerebras-batch");

/// The API key the tests use; it must never be printed.
pub const KEY: &str = "sk-test-never-printed-4242";

/// A fake API and a fresh folder to run in.
pub struct Env {
    pub fake: FakeApi,
    pub dir: PathBuf,
}

/// What a run printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stdout.contains(KEY) && !self.stderr.contains(KEY),
            "the API key was printed"
        );
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Env {
    pub async fn new(name: &str, options: FakeOptions) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            fake: FakeApi::start_with(options).await,
            dir,
        }
    }

    /// The command with the fake's URL and [`KEY`], run in [`dir`](Self::dir).
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .current_dir(&self.dir)
            .env("CEREBRAS_BASE_URL", self.fake.uri())
            .env("CEREBRAS_API_KEY", KEY)
            .env_remove("CEREBRAS_BATCH_CLI_FAULT")
            .env_remove("CEREBRAS_CUSTOM_HEADERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs the command to its end.
    pub async fn run(&self, args: &[&str]) -> Output {
        output(self.command(args)).await
    }

    /// Runs the command with the fault hook set to `fault`.
    pub async fn run_with_fault(&self, fault: &str, args: &[&str]) -> Output {
        let mut c = self.command(args);
        c.env("CEREBRAS_BATCH_CLI_FAULT", fault);
        output(c).await
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.dir.join(name).exists()
    }
}

pub async fn output(mut c: tokio::process::Command) -> Output {
    let out = c.output().await.expect("the command runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `n` request lines `{prefix}{i}` for `model`, asking `question {prefix}{i}`.
pub fn requests(prefix: &str, n: usize, model: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"custom_id\":\"{prefix}{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"question {prefix}{i}\"}}]}}}}\n"
            )
        })
        .collect()
}

/// Checks that `out` answers `input` line by line: same `custom_id`s in the same order, and
/// each success echoes its request. Returns how many lines there were.
#[track_caller]
pub fn assert_merged(input: &str, out: &str) -> usize {
    let mut n = 0;
    let mut outs = out.lines();
    for line in input.lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        let result: serde_json::Value = serde_json::from_str(outs.next().expect("a result per request")).unwrap();
        let id = request["custom_id"].as_str().unwrap();
        assert_eq!(result["custom_id"], id, "line {}", n + 1);
        if result["status"] == "succeeded" {
            let asked = request["body"]["messages"][0]["content"].as_str().unwrap();
            assert_eq!(
                result["response"]["choices"][0]["message"]["content"],
                format!("echo: {asked}"),
                "line {}",
                n + 1
            );
        }
        n += 1;
    }
    assert_eq!(outs.next(), None, "more results than requests");
    n
}

/// The standard arguments of a fast `submit`.
pub fn submit<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["submit", "in.jsonl", "--out", "out.jsonl"];
    if !extra.contains(&"--poll-interval") {
        args.extend(["--poll-interval", "0.05"]);
    }
    args.extend_from_slice(extra);
    args
}

/// Waits for a spawned command and collects what it printed.
pub async fn output_of(child: tokio::process::Child) -> Output {
    let out = child.wait_with_output().await.expect("the command ends");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
