//! `cargo xtask docs-drift`: runs the docs-drift binary (`docs-drift/`, a crate of its own so
//! that its HTTP client stays out of regen) with the arguments given.

use crate::util::{root, run};

pub fn docs_drift(args: &[String]) -> Result<(), String> {
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .args(["run", "--quiet", "-p", "cerebras-batch-docs-drift", "--"])
        .args(args))
}
