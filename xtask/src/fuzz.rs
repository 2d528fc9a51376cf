//! `cargo xtask fuzz`: the libFuzzer targets of `tests/fuzz/` through cargo-fuzz, each seeded
//! with every spec example and the committed seeds (`tests/fuzz/seeds/<target>/`).

use cerebras_batch_generator as generator;

use crate::util::{SPEC, cargo_plugin_installed, root};

/// The libFuzzer targets of `tests/fuzz/`.
pub const TARGETS: &[&str] = &[
    "batch",
    "list",
    "error_body",
    "retry_after",
    "result_lines",
    "result_decode",
    "pagination",
];

/// Fuzzes `targets` (all when empty) for `seconds` each.
pub fn fuzz(seconds: u64, targets: Vec<String>) -> Result<(), String> {
    let targets: Vec<String> = if targets.is_empty() {
        TARGETS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        targets
    };
    if !cargo_plugin_installed("fuzz") {
        return Err("cargo-fuzz is not installed: run `cargo install cargo-fuzz --locked`".into());
    }
    let seeds = spec_example_seeds()?;
    // libFuzzer on a stable toolchain needs RUSTC_BOOTSTRAP (cargo-fuzz passes -Z flags).
    let nightly = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"));
    let mut failed = Vec::new();
    for target in &targets {
        let corpus = root().join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(corpus.join(format!("spec-example-{i}")), seed).map_err(|e| e.to_string())?;
        }
        let committed = root().join("tests/fuzz/seeds").join(target);
        std::fs::create_dir_all(&committed).map_err(|e| e.to_string())?;
        println!("== fuzzing {target} for {seconds} s");
        let mut cmd = std::process::Command::new("cargo");
        cmd.current_dir(root())
            .env("CARGO_TARGET_DIR", root().join("target/fuzz"))
            .args(["fuzz", "run", "--fuzz-dir", "tests/fuzz", target.as_str()])
            .arg(&corpus)
            .arg(&committed)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"));
        if !nightly {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        let status = cmd.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            failed.push(target.as_str());
        }
    }
    if failed.is_empty() {
        println!("no crash in any target");
        Ok(())
    } else {
        Err(format!(
            "crashes in {}: the inputs are in tests/fuzz/artifacts/<target>/; copy each into tests/fuzz/seeds/<target>/ as a regression seed once fixed",
            failed.join(", ")
        ))
    }
}

/// Every spec example, as bytes (a string example as its text, with its verbatim form too):
/// the seeds of every target's corpus.
fn spec_example_seeds() -> Result<Vec<Vec<u8>>, String> {
    let spec = std::fs::read_to_string(root().join(SPEC)).map_err(|e| e.to_string())?;
    let spec = generator::parse_spec(&spec).map_err(|e| e.to_string())?;
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for ex in generator::examples::examples(&spec) {
        seeds.push(match &ex.value {
            serde_json::Value::String(text) => text.clone().into_bytes(),
            value => serde_json::to_vec(value).map_err(|e| e.to_string())?,
        });
        seeds.extend(ex.verbatim.map(String::into_bytes));
    }
    Ok(seeds)
}
