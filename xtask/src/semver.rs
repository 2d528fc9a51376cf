//! `cargo xtask semver`: cargo-semver-checks on the client crate against a base revision (a
//! second opinion beside `cargo xtask diff`; needs `cargo install cargo-semver-checks --locked`).

use crate::util::{cargo_plugin_installed, root, run};

/// Runs cargo-semver-checks on the client crate against `rev`.
pub fn semver(rev: &str) -> Result<(), String> {
    if !cargo_plugin_installed("semver-checks") {
        return Err(
            "cargo-semver-checks is not installed: run `cargo install cargo-semver-checks --locked` (about 8 minutes on 2 cores)"
                .into(),
        );
    }
    run(std::process::Command::new("cargo").current_dir(root()).args([
        "semver-checks",
        "--package",
        "cerebras-batch",
        "--baseline-rev",
        rev,
    ]))
}
