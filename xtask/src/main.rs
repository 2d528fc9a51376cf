//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask regen`: reads `spec/openapi.yaml`, writes the generated code into
//!   `generated/src/generated/` and prints what it generated and which files changed.
//! - `cargo xtask check`: exits non-zero, with a unified diff, when the checked-in generated
//!   code differs from what the spec produces now.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cerebras_batch_generator as generator;

const USAGE: &str = "usage: cargo xtask <regen|check>\n  regen  write the generated code from spec/openapi.yaml\n  check  fail with a diff when the checked-in generated code is stale";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => regen(),
        Some("check") => check(),
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
