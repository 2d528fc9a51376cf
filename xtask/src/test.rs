//! `cargo xtask test`, the README's test command: the spec lint, then every test of the
//! workspace with the Prism contract tests required (`CEREBRAS_BATCH_REQUIRE_PRISM`: a missing
//! Prism fails them instead of skipping them).

use crate::util::{root, run};

pub fn test() -> Result<(), String> {
    crate::lint::lint()?;
    println!("== cargo test (Prism contract tests required)");
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .arg("test")
        .env("CEREBRAS_BATCH_REQUIRE_PRISM", "1"))
}
