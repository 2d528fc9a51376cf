//! Testing hooks, read from the environment.
//!
//! `CEREBRAS_BATCH_CLI_FAULT=<point>[:<shard>]` ends the process at once at that point of
//! `submit` (as `kill -9` would, exit code 86), so that tests can check that a run
//! resumes from every step without doing anything twice. Points: `after-upload` (the file is
//! uploaded, its id not recorded), `after-create-sent` (the batch is created, its id not
//! recorded), `after-create-recorded`, `while-waiting`.

/// Ends the process when the hook names `point` (and `shard`, if it names one).
pub fn point(point: &str, shard: usize) {
    let Ok(spec) = std::env::var("CEREBRAS_BATCH_CLI_FAULT") else {
        return;
    };
    let (name, at) = match spec.split_once(':') {
        Some((n, s)) => (n, s.parse::<usize>().ok()),
        None => (spec.as_str(), None),
    };
    if name == point && at.is_none_or(|s| s == shard) {
        eprintln!("cerebras-batch: fault injected at {point} (shard {shard})");
        std::process::exit(86);
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
