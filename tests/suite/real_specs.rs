//! The generator over published OpenAPI documents nobody here wrote, read from
//! `../shared/reference/real-specs/` (see its `SOURCES.md`; they are third-party files and are not
//! copied into this repository). The generator exists for one vendor's spec, so most of these
//! are refused; the point is that each is handled cleanly: Rust that parses, or every problem
//! listed, each with its file, line, column, JSON pointer and a hint, and never a panic or a
//! progenitor error.
//!
//! Skipped, saying so, when `../shared` is absent (a clone outside CI); a failure instead when
//! `CEREBRAS_BATCH_REQUIRE_SHARED` is set, as `.ci/run` does.

use cerebras_batch_tests::shared;

#[test]
fn published_specs_generate_or_are_refused_with_every_problem_located() {
    let Some(dir) = shared("reference/real-specs") else {
        return;
    };
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 19,
        "expected the 19 published specs, found {}",
        files.len()
    );
    let mut summary = String::new();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        match cerebras_batch_generator::generate_named(&name, &text) {
            Ok(output) => {
                for (file, code) in output.files.iter().filter(|(f, _)| f.ends_with(".rs")) {
                    if let Err(e) = syn::parse_file(code) {
                        failures.push(format!("{name}: generated {file} does not parse: {e}"));
                    }
                }
                summary.push_str(&format!(
                    "{name}: generated {} operations and {} types\n",
                    output.summary.generated.len(),
                    output.summary.types.len()
                ));
            }
            Err(cerebras_batch_generator::GenerateError::Spec(problems)) => {
                for p in &problems {
                    let located =
                        p.file == name && p.line > 0 && p.column > 0 && !p.hint.is_empty() && !p.message.is_empty();
                    if !located {
                        failures.push(format!("{name}: a problem not located: {p:?}"));
                    }
                }
                summary.push_str(&format!(
                    "{name}: refused, {} problem(s); first: {}\n",
                    problems.len(),
                    problems[0].message
                ));
            }
            Err(other) => failures.push(format!("{name}: not a located refusal: {other}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!("real_specs", summary);
}
