//! The library's batch job (`cerebras_batch::job`) against the stateful fake: runs, events,
//! interruptions at every step and resumes, the lock, and the defects it fixes.

mod defects;
mod rerun;
mod resume;
mod run;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cerebras_batch::job::{Job, JobBuilder, JobEvent};

/// A fresh folder for one test, removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cerebras-batch-job-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `in.jsonl`; returns its path.
    pub fn input(&self, text: &str) -> PathBuf {
        let path = self.path("in.jsonl");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The names in the folder, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A job from `in.jsonl` to `out.jsonl`, polling every 20 ms.
    pub fn job(&self) -> JobBuilder {
        Job::builder(self.path("in.jsonl"), self.path("out.jsonl")).poll_interval(std::time::Duration::from_millis(20))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
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

/// The events a job reported, kept in order.
#[derive(Clone, Default)]
pub struct Events(Arc<Mutex<Vec<JobEvent>>>);

impl Events {
    /// A callback that records into this.
    pub fn recorder(&self) -> impl Fn(&JobEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |e| events.lock().unwrap().push(e.clone())
    }

    pub fn all(&self) -> Vec<JobEvent> {
        self.0.lock().unwrap().clone()
    }
}

/// Checks that `output` answers `input` line by line: the same `custom_id`s in the same order,
/// each success echoing its request. Returns the result lines.
#[track_caller]
pub fn assert_merged(input: &str, output: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(output).unwrap();
    let results: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let requests: Vec<serde_json::Value> = input.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), requests.len(), "a result per request");
    for (n, (request, result)) in requests.iter().zip(&results).enumerate() {
        assert_eq!(result["custom_id"], request["custom_id"], "line {}", n + 1);
        if result["status"] == "succeeded" {
            let asked = request["body"]["messages"][0]["content"].as_str().unwrap();
            assert_eq!(
                result["response"]["choices"][0]["message"]["content"],
                format!("echo: {asked}"),
                "line {}",
                n + 1
            );
        }
    }
    results
}
