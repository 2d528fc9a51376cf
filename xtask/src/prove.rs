//! The compile proof of `regen` and `check`: the whole workspace, every target (the client's
//! hand-written layer, the mock crate and its example, the CLI, the tests, the examples, the
//! benchmarks), type-checked against the generated code. What fails is reported in spec
//! locations by [`generator::breakage`]: each error under the spec change (from the spec at
//! `HEAD` to the working tree's) that causes it, and the lines of crates the compiler never
//! reached that use the change's names.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use cerebras_batch_generator as generator;
use generator::breakage::{self, Specs, Unchecked};

use crate::util::{SPEC, git, root};

/// What `cargo check` is given: every package and every target, past the first failing crate.
const CHECK_ARGS: &[&str] = &[
    "check",
    "--workspace",
    "--all-targets",
    "--keep-going",
    "--quiet",
    "--message-format=json",
];

/// Type-checks the workspace; an error is the report of what broke, in spec locations.
pub fn prove_workspace(output: &generator::Output) -> Result<(), String> {
    println!("== cargo check --workspace --all-targets (every crate and target that uses the generated API)");
    let started = Instant::now();
    let out = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root())
        .args(CHECK_ARGS)
        .output()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        println!("the workspace compiles: every crate and target ({seconds:.1} s)");
        return Ok(());
    }
    let errors = breakage::compile_errors(&stdout);
    if errors.is_empty() {
        return Err(format!(
            "cargo check failed without a compiler error:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let head_text = std::fs::read_to_string(root().join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let head = generator::yaml::load(&head_text).map_err(|e| format!("{SPEC}: {}", e.message))?;
    // Without a spec at HEAD (a new repository) there is nothing to compare with: every error
    // is then listed as one no change explains, which the report says.
    let (base, base_name) = match git(&["show", &format!("HEAD:{SPEC}")]) {
        Ok(text) => (
            generator::yaml::load(&text).map_err(|e| format!("{SPEC} at HEAD: {}", e.message))?,
            "HEAD".to_owned(),
        ),
        Err(e) => (head.clone(), format!("nothing ({e})")),
    };
    let changes = generator::diff::diff(&base.value, &head.value);
    let texts = unchecked_files(&breakage::checked_manifests(&stdout))?;
    let unchecked: Vec<Unchecked> = texts.iter().map(|(file, text)| Unchecked { file, text }).collect();
    let specs = Specs {
        file: SPEC,
        base: &base,
        head: &head,
        base_name: &base_name,
    };
    Err(format!(
        "the generated code was written, but the workspace no longer compiles ({seconds:.1} s).\n{}",
        breakage::report(&specs, &changes, &errors, &unchecked, &output.summary.left_out)
    ))
}

/// The hand-written Rust files of the workspace packages that cargo neither built nor
/// reported on (`checked` holds the manifests it did): `(path relative to the root, text)`.
fn unchecked_files(checked: &BTreeSet<String>) -> Result<Vec<(String, String)>, String> {
    let out = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root())
        .args(["metadata", "--no-deps", "--offline", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let dirs: Vec<std::path::PathBuf> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["manifest_path"].as_str())
        .map(|m| Path::new(m).parent().expect("a manifest is in a folder").to_path_buf())
        .collect();
    let mut files = Vec::new();
    for dir in &dirs {
        if !checked.contains(&dir.join("Cargo.toml").to_string_lossy().into_owned()) {
            rust_files(dir, &mut files)?;
        }
    }
    let root = root();
    let generated = [generator::OUTPUT_DIR, generator::mock::OUTPUT_DIR].map(|d| root.join(d));
    let mut out = Vec::new();
    for path in files {
        if generated.iter().any(|g| path.starts_with(g)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let rel = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().into_owned();
        out.push((rel, text));
    }
    out.sort();
    Ok(out)
}

/// Every `.rs` file of the package in `dir`: not in `target`, nor in a folder with a manifest
/// of its own (another package, or a workspace of its own like `tests/fuzz`).
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            if !path.join("Cargo.toml").exists() && path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}
