//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask regen`: reads `spec/openapi.yaml`, writes the generated code into
//!   `generated/src/generated/` and prints what it generated and which files changed.
//! - `cargo xtask check`: exits non-zero, with a unified diff, when the checked-in generated
//!   code differs from what the spec produces now.
//! - `cargo xtask fuzz [--seconds N] [TARGET...]`: runs the libFuzzer targets of `tests/fuzz/`
//!   (needs `cargo install cargo-fuzz`), seeded with every spec example.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cerebras_batch_generator as generator;

const USAGE: &str = "usage: cargo xtask <regen|check|fuzz>
  regen                            write the generated code from spec/openapi.yaml
  check                            fail with a diff when the checked-in generated code is stale
  fuzz [--seconds N] [TARGET...]   run the libFuzzer targets (default: all, 30 s each)";

/// The libFuzzer targets of `tests/fuzz/`.
const FUZZ_TARGETS: &[&str] = &["batch", "list", "error_body", "retry_after", "result_lines"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => regen(),
        Some("check") => check(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn generate() -> Result<generator::Output, String> {
    let spec_path = root().join("spec/openapi.yaml");
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    generator::generate(&spec).map_err(|e| format!("generation failed: {e}"))
}

/// `(path relative to the root, new contents, old contents)` for every generated file.
fn files(output: &generator::Output) -> Vec<(String, String, Option<String>)> {
    output
        .files
        .iter()
        .map(|(name, text)| {
            let rel = format!("{}/{name}", generator::OUTPUT_DIR);
            let old = std::fs::read_to_string(root().join(&rel)).ok();
            (rel, text.clone(), old)
        })
        .collect()
}

/// Generated files on disk that the generator no longer writes.
fn stale_extra_files(output: &generator::Output) -> Vec<String> {
    let dir = root().join(generator::OUTPUT_DIR);
    let mut extra: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !output.files.contains_key(name.as_str()))
        .map(|name| format!("{}/{name}", generator::OUTPUT_DIR))
        .collect();
    extra.sort();
    extra
}

fn regen() -> Result<(), String> {
    let output = generate()?;
    let dir = root().join(generator::OUTPUT_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut changed = Vec::new();
    for (rel, new, old) in files(&output) {
        if old.as_deref() != Some(new.as_str()) {
            std::fs::write(root().join(&rel), &new).map_err(|e| format!("cannot write {rel}: {e}"))?;
            changed.push(rel);
        }
    }
    for rel in stale_extra_files(&output) {
        std::fs::remove_file(root().join(&rel)).map_err(|e| format!("cannot remove {rel}: {e}"))?;
        changed.push(format!("{rel} (removed)"));
    }
    let s = &output.summary;
    println!(
        "operations generated ({}): {}",
        s.generated.len(),
        s.generated.join(", ")
    );
    println!("operations left out ({}), implemented by hand:", s.left_out.len());
    for (id, why) in &s.left_out {
        println!("  {id}: {why}");
    }
    println!(
        "types ({}), of which open enums ({}): {}",
        s.types.len(),
        s.open_enums.len(),
        s.open_enums.join(", ")
    );
    if changed.is_empty() {
        println!("files changed: none");
    } else {
        println!("files changed ({}): {}", changed.len(), changed.join(", "));
    }
    Ok(())
}

fn check() -> Result<(), String> {
    let output = generate()?;
    let mut report = String::new();
    for (rel, new, old) in files(&output) {
        let old = old.unwrap_or_default();
        if old != new {
            let diff = similar::TextDiff::from_lines(&old, &new);
            report.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{rel} (checked in)"), &format!("b/{rel} (from spec)"))
                    .to_string(),
            );
        }
    }
    for rel in stale_extra_files(&output) {
        report.push_str(&format!("{rel}: checked in but no longer generated\n"));
    }
    if report.is_empty() {
        println!("generated code is up to date with spec/openapi.yaml");
        Ok(())
    } else {
        Err(format!(
            "{report}\ngenerated code is stale: run `cargo xtask regen` and commit the result"
        ))
    }
}

fn fuzz(args: &[String]) -> Result<(), String> {
    let mut seconds = 30u64;
    let mut targets: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--seconds takes a whole number")?;
            }
            t if FUZZ_TARGETS.contains(&t) => targets.push(FUZZ_TARGETS.iter().find(|x| **x == t).expect("listed")),
            other => {
                return Err(format!(
                    "unknown fuzz target {other:?}; the targets are {}",
                    FUZZ_TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.to_vec();
    }
    let installed = std::process::Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Err("cargo-fuzz is not installed: run `cargo install cargo-fuzz --locked`".into());
    }
    // The spec's examples seed every target's corpus.
    let spec = std::fs::read_to_string(root().join("spec/openapi.yaml")).map_err(|e| e.to_string())?;
    let spec = generator::parse_spec(&spec).map_err(|e| e.to_string())?;
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for ex in generator::examples::examples(&spec) {
        seeds.push(match &ex.value {
            serde_json::Value::String(text) => text.clone().into_bytes(),
            value => serde_json::to_vec(value).map_err(|e| e.to_string())?,
        });
        seeds.extend(ex.verbatim.map(String::into_bytes));
    }
    // libFuzzer on a stable toolchain needs RUSTC_BOOTSTRAP (cargo-fuzz passes -Z flags).
    let nightly = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"));
    let mut failed = Vec::new();
    for target in targets {
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
            .args(["fuzz", "run", "--fuzz-dir", "tests/fuzz", target])
            .arg(&corpus)
            .arg(&committed)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"));
        if !nightly {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        let status = cmd.status().map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            failed.push(target);
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
