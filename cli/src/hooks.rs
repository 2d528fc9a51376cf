//! Testing hooks, read from the environment.
//!
//! `CEREBRAS_BATCH_CLI_FAULT=<point>[:<shard>]` ends the process at once at that point of
//! `submit` (as `kill -9` would, exit code 86), so that tests can check that a run
//! resumes from every step without doing anything twice. The points follow the job's events
//! ([`JobEvent`]): `after-upload` (the file is uploaded, its id not recorded), `after-create-sent`
//! (the batch is created, its id not recorded), `after-create-recorded` (its id is recorded),
//! `while-waiting` (between polls).

use std::collections::HashSet;

use cerebras_batch::job::JobEvent;

/// The fault point asked for, if any, and what it has seen.
pub struct Faults {
    point: Option<(String, Option<usize>)>,
    /// Shards whose batch status was reported (the first report follows the create's record).
    reported: HashSet<usize>,
}

impl Faults {
    /// The fault point of `CEREBRAS_BATCH_CLI_FAULT`.
    pub fn from_env() -> Self {
        let point = std::env::var("CEREBRAS_BATCH_CLI_FAULT")
            .ok()
            .map(|spec| match spec.split_once(':') {
                Some((n, s)) => (n.to_owned(), s.parse::<usize>().ok()),
                None => (spec, None),
            });
        Self {
            point,
            reported: HashSet::new(),
        }
    }

    /// Ends the process when `event` is the fault point.
    pub fn check(&mut self, event: &JobEvent) {
        let Some((name, at)) = &self.point else {
            return;
        };
        let (point, shard) = match event {
            JobEvent::Uploaded {
                shard, found: false, ..
            } => ("after-upload", shard.index),
            JobEvent::BatchCreated {
                shard, found: false, ..
            } => ("after-create-sent", shard.index),
            JobEvent::BatchStatus { shard, .. } if self.reported.insert(shard.index) => {
                ("after-create-recorded", shard.index)
            }
            JobEvent::Waiting { .. } => ("while-waiting", 0),
            _ => return,
        };
        if name == point && at.is_none_or(|s| s == shard) {
            eprintln!("cerebras-batch: fault injected at {point} (shard {shard})");
            crate::tty::restore();
            std::process::exit(86);
        }
    }
}

/// With `CEREBRAS_BATCH_CLI_REPORT_RSS` set, prints the process's peak resident set size
/// (`VmHWM` of `/proc/self/status`, Linux) on stderr as `peak RSS: N KiB`: measured inside the
/// process, so that a test can bound the command's memory exactly.
pub fn report_peak_rss() {
    if std::env::var_os("CEREBRAS_BATCH_CLI_REPORT_RSS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        eprintln!("peak RSS: {kib} KiB");
    }
}
