//! `cargo xtask regen`: reads `spec/openapi.yaml`, writes every file the generator makes (the
//! client's `generated/src/generated/`, the mock crate's `mock/src/generated/`,
//! `generated/API.md`), removes the files it no longer makes, and prints what it generated. After
//! a change it proves that the hand-written layer still compiles against the new code.
//!
//! [`generate`], [`files`] and [`stale_extra_files`] are shared with `check`, which compares
//! instead of writing.

use cerebras_batch_generator as generator;

use crate::util::{SPEC, root};

/// What `cargo check` proves after a change: the packages and targets whose hand-written code
/// must still compile against the newly generated code, with the words that say so.
const COMPILE_PROOF: (&[&str], &str) = (&["-p", "cerebras-batch", "--lib"], "the client crate");

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
        return Ok(());
    }
    println!("files changed ({}): {}", changed.len(), changed.join(", "));
    prove_it_compiles(&output)
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
        "types ({}), of which open enums ({}): {}",
        s.types.len(),
        s.open_enums.len(),
        s.open_enums.join(", ")
    );
    for note in &s.notes {
        println!("note: {note}");
    }
}

/// After a change, checks that the hand-written code still compiles: a spec change can break
/// it (a renamed field that `wait.rs` reads), and regen says so, naming the file and line,
/// instead of the next build.
fn prove_it_compiles(output: &generator::Output) -> Result<(), String> {
    let (args, what) = COMPILE_PROOF;
    println!("== cargo check ({what}, its hand-written layer against the new code)");
    let out = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root())
        .args(["check", "--quiet"])
        .args(args)
        .arg("--message-format=json")
        .output()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    let mut errors = compile_errors(&String::from_utf8_lossy(&out.stdout), &output.summary.left_out);
    if errors.is_empty() && !out.status.success() {
        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    if errors.is_empty() {
        println!("{what} compiles");
        Ok(())
    } else {
        Err(format!(
            "the generated code was written, but {what} no longer compiles:\n  {}\nchange the spec, or the hand-written layer in generated/src/ (the spec changed what it uses)",
            errors.join("\n  ")
        ))
    }
}

/// The errors of `cargo check --message-format=json` output, each as `file:line: message`; an
/// error about a left-out operation's missing hand-written method says what to write.
fn compile_errors(json_lines: &str, left_out: &[(String, String)]) -> Vec<String> {
    let mut errors = Vec::new();
    for line in json_lines.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        let text = msg["message"]["message"].as_str().unwrap_or_default();
        let span = msg["message"]["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
            .map(|s| format!("{}:{}", s["file_name"].as_str().unwrap_or("?"), s["line_start"]))
            .unwrap_or_default();
        let missing = left_out
            .iter()
            .find(|(id, _)| text.contains(&format!("`{id}`")) && span.contains("operations.rs"));
        errors.push(match missing {
            Some((id, why)) => format!(
                "operation `{id}` is left out of generation ({why}) and nothing implements it: write `Client::{id}` by hand in generated/src/ ({span})"
            ),
            None => format!("{span}: {text}"),
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::compile_errors;

    #[test]
    fn compile_errors_name_the_file_line_and_the_missing_hand_written_method() {
        let message = |text: &str, file: &str, line: u32| {
            serde_json::json!({
                "reason": "compiler-message",
                "message": {"level": "error", "message": text,
                    "spans": [{"is_primary": true, "file_name": file, "line_start": line}]}
            })
            .to_string()
        };
        let output = [
            message("no field `status` on type `&Batch`", "generated/src/batch.rs", 21),
            message(
                "no function or associated item named `upload_thing` found for struct `Client`",
                "generated/src/generated/operations.rs",
                319,
            ),
            serde_json::json!({"reason": "compiler-artifact"}).to_string(),
        ]
        .join("\n");
        let left_out = [(
            "upload_thing".to_owned(),
            "request body is multipart/form-data".to_owned(),
        )];
        assert_eq!(
            compile_errors(&output, &left_out),
            [
                "generated/src/batch.rs:21: no field `status` on type `&Batch`".to_owned(),
                "operation `upload_thing` is left out of generation (request body is multipart/form-data) and nothing implements it: write `Client::upload_thing` by hand in generated/src/ (generated/src/generated/operations.rs:319)".to_owned(),
            ]
        );
    }
}
