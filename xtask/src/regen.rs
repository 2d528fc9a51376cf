//! `cargo xtask regen`: reads `spec/openapi.yaml`, writes every file the generator makes (the
//! client's `generated/src/generated/`, the mock crate's `mock/src/generated/`,
//! `generated/API.md`), removes the files it no longer makes, and prints what it generated. After
//! a change it proves that the whole workspace still compiles against the new code, and reports
//! what broke in spec locations (`prove.rs`).
//!
//! [`generate`], [`files`] and [`stale_extra_files`] are shared with `check`, which compares
//! instead of writing.

use cerebras_batch_generator as generator;

use crate::util::{SPEC, root};

pub fn regen() -> Result<(), String> {
    let output = generate()?;
    let mut changed = Vec::new();
    for (rel, new, old) in files(&output) {
        if old.as_deref() != Some(new.as_str()) {
            let path = root().join(&rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(&path, &new).map_err(|e| format!("cannot write {rel}: {e}"))?;
            changed.push(rel);
        }
    }
    for rel in stale_extra_files(&output) {
        std::fs::remove_file(root().join(&rel)).map_err(|e| format!("cannot remove {rel}: {e}"))?;
        changed.push(format!("{rel} (removed)"));
    }
    print_summary(&output.summary);
    if changed.is_empty() {
        println!("files changed: none");
        // An earlier regen may have written a change that broke hand-written code: until the
        // change is committed, every regen proves the workspace again, so that a second run
        // cannot pass where the first failed.
        return match uncommitted_generation() {
            Some(paths) if paths.is_empty() => Ok(()),
            Some(paths) => {
                println!(
                    "uncommitted changes to the spec or the generated code: {}",
                    paths.join(", ")
                );
                crate::prove::prove_workspace(&output)
            }
            None => crate::prove::prove_workspace(&output),
        };
    }
    println!("files changed ({}): {}", changed.len(), changed.join(", "));
    crate::prove::prove_workspace(&output)
}

/// The spec and generated files that differ from `HEAD` (`git status`); `None` when git cannot
/// tell (not a git checkout), in which case the caller proves the workspace anyway.
fn uncommitted_generation() -> Option<Vec<String>> {
    let paths = [
        SPEC,
        generator::OUTPUT_DIR,
        generator::mock::OUTPUT_DIR,
        generator::API_MD,
    ];
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(paths);
    let out = crate::util::git(&args).ok()?;
    Some(out.lines().map(|l| l.get(3..).unwrap_or(l).to_owned()).collect())
}

/// The generator's output for the checked-in spec.
pub fn generate() -> Result<generator::Output, String> {
    let spec_path = root().join(SPEC);
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    generator::generate_named(SPEC, &spec).map_err(|e| format!("generation failed: {e}"))
}

/// `(path relative to the root, new contents, old contents)` for every generated file.
pub fn files(output: &generator::Output) -> Vec<(String, String, Option<String>)> {
    output
        .files
        .iter()
        .map(|(rel, text)| {
            (
                rel.clone(),
                text.clone(),
                // A file that cannot be read (absent, most often) is one to write: its new
                // contents are compared with nothing, and writing it reports any real error.
                std::fs::read_to_string(root().join(rel)).ok(),
            )
        })
        .collect()
}

/// Files in the generated code's folders (the client's and the mock crate's) that the
/// generator no longer writes.
pub fn stale_extra_files(output: &generator::Output) -> Vec<String> {
    let mut extra: Vec<String> = [generator::OUTPUT_DIR, generator::mock::OUTPUT_DIR]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(root().join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .map(move |name| format!("{dir}/{name}"))
        })
        .filter(|rel| !output.files.contains_key(rel))
        .collect();
    extra.sort();
    extra
}

fn print_summary(s: &generator::Summary) {
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
        "types ({}), of which open enums ({}): {}; oneOf unions ({}): {}",
        s.types.len(),
        s.open_enums.len(),
        s.open_enums.join(", "),
        s.unions.len(),
        s.unions.join(", ")
    );
    for note in &s.notes {
        println!("note: {note}");
    }
}
