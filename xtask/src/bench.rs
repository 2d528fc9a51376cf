//! `cargo xtask bench` and `cargo xtask build-cost`: both run the benchmark binary (`bench/`,
//! built in release), with `run` or `build-cost` and the arguments given.

use crate::util::{root, run};

/// Runs the benchmark binary with `command` (`run`, `build-cost`) and `args`.
pub fn bench(command: &str, args: &[String]) -> Result<(), String> {
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "cerebras-batch-bench",
            "--",
            command,
        ])
        .args(args))
}
