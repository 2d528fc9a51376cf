//! What a spec change broke, in spec locations: `cargo xtask regen` (and `check`) type-check
//! the whole workspace against the newly generated code, and this module turns the compiler's
//! errors into a report a maintainer editing the spec can act on.
//!
//! Each error in hand-written code is traced to the spec change that caused it with the
//! diff's own mapping from spec changes to Rust items ([`crate::diff::Change::rust`]): an error
//! belongs to a change when its message or its source line names one of the change's items
//! (the field, setter, method, argument or type). The report gives, per change, the spec file,
//! line and JSON pointer, the Rust items, and every hand-written file and line it breaks.
//!
//! The compiler stops at a crate that fails: when the client crate's hand-written layer breaks,
//! the crates that depend on it (the mock crate, the CLI, the tests, the examples) are never
//! type-checked. So for those crates the report also lists the lines that use a broken
//! change's names, marked as not type-checked: they are where the next errors will be, and a
//! maintainer sees every place at once instead of one crate per regen.
//!
//! Pure: the caller runs cargo (`cargo check --workspace --all-targets --keep-going
//! --message-format=json`) and reads the files; [`compile_errors`] and [`checked_manifests`]
//! read cargo's output, [`report`] writes the words.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

use crate::diff::Change;
use crate::yaml::Loaded;

/// One error of the compiler, at its primary place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The file, relative to the workspace root (as cargo names it).
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The compiler's message (its first line).
    pub message: String,
    /// The source line the error points at, as the compiler quotes it.
    pub code: String,
}

impl CompileError {
    /// `file:line: message`.
    pub fn located(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The errors of `cargo … --message-format=json` output, in the order cargo gave them, without
/// repeats (a file shared by several targets is reported once per target).
pub fn compile_errors(cargo_json: &str) -> Vec<CompileError> {
    let mut out: Vec<CompileError> = Vec::new();
    for line in cargo_json.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        let message = msg["message"]["message"].as_str().unwrap_or("(no message)");
        let Some(span) = msg["message"]["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
        else {
            // "aborting due to N previous errors" and the like: no place, nothing new.
            continue;
        };
        let error = CompileError {
            file: span["file_name"].as_str().unwrap_or("?").to_owned(),
            line: span["line_start"].as_u64().map_or(0, |l| l as usize),
            message: message.lines().next().unwrap_or_default().to_owned(),
            code: span["text"][0]["text"].as_str().unwrap_or_default().trim().to_owned(),
        };
        if !out.contains(&error) {
            out.push(error);
        }
    }
    out
}

/// The manifests (`manifest_path`) of the packages cargo built or reported an error for: a
/// workspace package missing from it was not type-checked (a crate it depends on failed). A
/// package's build script does not count: it builds before, and without, the package's code.
/// (Lines cargo did not write as JSON are none of these messages.)
pub fn checked_manifests(cargo_json: &str) -> BTreeSet<String> {
    cargo_json
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" || m["reason"] == "compiler-message")
        .filter(|m| {
            let kinds = m["target"]["kind"].as_array();
            !kinds.is_some_and(|k| k.iter().all(|k| k == "custom-build"))
        })
        .filter_map(|m| m["manifest_path"].as_str().map(str::to_owned))
        .collect()
}

/// A hand-written file that was not type-checked, with its text.
pub struct Unchecked<'a> {
    /// Relative to the workspace root.
    pub file: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// Where a spec change sits in the spec files.
pub struct Specs<'a> {
    /// The spec's file name, e.g. `spec/openapi.yaml`.
    pub file: &'a str,
    /// The older spec (where a removed node was written).
    pub base: &'a Loaded,
    /// The newer spec.
    pub head: &'a Loaded,
    /// What the older spec is, in words (`HEAD`, a git ref).
    pub base_name: &'a str,
}

impl Specs<'_> {
    /// `file:line:column` of a change: in the newer spec, or, for what it no longer has, in
    /// the older one (saying so).
    fn locate(&self, pointer: &str) -> String {
        if !self.head.positions.contains_key(pointer) && self.base.positions.contains_key(pointer) {
            let (line, column) = self.base.position(pointer);
            return format!("{}:{line}:{column} (in {})", self.file, self.base_name);
        }
        let (line, column) = self.head.position(pointer);
        format!("{}:{line}:{column}", self.file)
    }
}

/// How code uses a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// A field: `value.name`, never called.
    Field,
    /// A method or function: `name(...)`.
    Call,
    /// A type or path: the name as a whole word.
    Path,
}

/// The names by which code uses one Rust item of [`Change::rust`]: `types::Batch::status` is
/// the field `status`, `Client::list_batches (argument after)` the call `list_batches`,
/// `types::Batch::new` the path `Batch::new`, `types::Batch` the path `Batch`.
fn names(item: &str) -> Vec<(String, Use)> {
    let path = item.split(" (").next().unwrap_or(item).trim();
    let segments: Vec<&str> = path.split("::").collect();
    let last = segments.last().copied().unwrap_or_default();
    let owner = segments.len().checked_sub(2).map(|i| segments[i]);
    let starts_upper = last.chars().next().is_some_and(char::is_uppercase);
    match (last, owner) {
        ("" | "types" | "builder" | "Client", _) => Vec::new(),
        ("new" | "send", Some(owner)) => vec![(format!("{owner}::{last}"), Use::Path), (owner.to_owned(), Use::Path)],
        (last, _) if starts_upper => vec![(last.to_owned(), Use::Path)],
        (last, Some("Client")) => vec![(last.to_owned(), Use::Call)],
        (last, _) if last.starts_with("with_") || segments.first() == Some(&"builder") => {
            vec![(last.to_owned(), Use::Call)]
        }
        (last, _) => vec![(last.to_owned(), Use::Field)],
    }
}

/// Whether the line of code uses `name` as `how`.
fn uses_name(code: &str, name: &str, how: Use) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        if before.is_some_and(ident) || after.is_some_and(ident) {
            return false;
        }
        let called = code[i + name.len()..].trim_start().starts_with('(');
        if code[..i].trim_end().ends_with("fn") {
            return false; // a definition of its own, not a use
        }
        match how {
            Use::Path => true,
            Use::Field => before == Some('.') && !called,
            Use::Call => called,
        }
    })
}

/// Whether `text` holds `word` as a whole identifier (or path).
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whether the change names an item the error's message or line uses.
fn explains(change: &Change, error: &CompileError) -> bool {
    change
        .rust
        .iter()
        .flat_map(|item| names(item))
        .any(|(n, _)| has_word(&error.message, &n) || has_word(&error.code, &n))
}

/// The lines of `file` that use one of `names` as its kind of item: the places a change
/// breaks in code the compiler did not reach.
fn uses(file: &Unchecked, names: &[(String, Use)]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in file.text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        if names.iter().any(|(n, how)| uses_name(code, n, *how)) {
            out.push(format!("{}:{}: {}", file.file, i + 1, line.trim()));
        }
    }
    out
}

/// Whether an error is in generated code (the generator's, not the maintainer's, to fix).
fn in_generated(error: &CompileError) -> bool {
    [crate::OUTPUT_DIR, crate::mock::OUTPUT_DIR]
        .iter()
        .any(|dir| error.file.starts_with(dir))
}

/// The report of a workspace that no longer compiles: each breaking spec change (from the
/// diff of the older spec with the newer) with its spec location, its Rust items and the
/// hand-written lines it breaks (`errors`), then the lines of `unchecked` files that use its
/// names, then any error no change explains. `left_out` are the operations left out of
/// generation `(operationId, why)`: an error for one of their missing methods says what to
/// write.
pub fn report(
    specs: &Specs,
    changes: &[Change],
    errors: &[CompileError],
    unchecked: &[Unchecked],
    left_out: &[(String, String)],
) -> String {
    let mut out = String::new();
    let files: BTreeSet<&str> = errors.iter().map(|e| e.file.as_str()).collect();
    let _ = writeln!(
        out,
        "{} error(s) in {} file(s). By the spec change that causes them (the diff from {} to the spec):",
        errors.len(),
        files.len(),
        specs.base_name
    );
    let mut explained = vec![false; errors.len()];
    for change in changes {
        let mine: Vec<usize> = (0..errors.len()).filter(|i| explains(change, &errors[*i])).collect();
        if mine.is_empty() {
            continue;
        }
        let names: Vec<(String, Use)> = change.rust.iter().flat_map(|item| names(item)).collect();
        let not_checked: Vec<String> = unchecked.iter().flat_map(|f| uses(f, &names)).collect();
        let _ = writeln!(
            out,
            "\n{} {}\n  {}: {} ({})\n  Rust: {}\n  breaks:",
            specs.locate(&change.pointer),
            change.pointer,
            change.location,
            change.what,
            if change.breaking { "breaking" } else { "compatible" },
            change.rust.join(", ")
        );
        for i in mine {
            explained[i] = true;
            let _ = writeln!(out, "    {}", errors[i].located());
        }
        if !not_checked.is_empty() {
            let _ = writeln!(
                out,
                "  not type-checked (a crate they depend on fails), these lines use its names (matched by name: some may be another type's):"
            );
            for l in not_checked {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    let rest: Vec<&CompileError> = (0..errors.len())
        .filter(|i| !explained[*i])
        .map(|i| &errors[i])
        .collect();
    if !rest.is_empty() {
        let _ = writeln!(out, "\nerrors no spec change explains:");
        for e in rest {
            let _ = writeln!(out, "    {}", unexplained(e, left_out));
        }
    }
    out.push_str(
        "\nWhat to do: change the spec back, or update each hand-written place listed to the new Rust items \
         (`cargo xtask diff HEAD` lists every spec change with them); errors in generated code are the generator's \
         to fix (or the spec's, when it says so).\n",
    );
    out
}

/// An error no spec change explains, in words: a left-out operation's missing method says what
/// to write, an error in generated code says whose it is.
fn unexplained(e: &CompileError, left_out: &[(String, String)]) -> String {
    let missing = left_out
        .iter()
        .find(|(id, _)| has_word(&e.message, id) && e.file.ends_with("operations.rs"));
    match missing {
        Some((id, why)) => format!(
            "operation `{id}` is left out of generation ({why}) and nothing implements it: write `Client::{id}` by hand in generated/src/ ({}:{})",
            e.file, e.line
        ),
        None if in_generated(e) => format!("{} (in generated code: a generator bug)", e.located()),
        None => e.located(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: usize, message: &str, code: &str) -> CompileError {
        CompileError {
            file: file.into(),
            line,
            message: message.into(),
            code: code.into(),
        }
    }

    #[test]
    fn cargo_messages_become_located_errors_once() {
        let message = |text: &str, file: &str, line: u32| {
            serde_json::json!({
                "reason": "compiler-message",
                "manifest_path": "/w/cli/Cargo.toml",
                "message": {"level": "error", "message": text,
                    "spans": [{"is_primary": true, "file_name": file, "line_start": line,
                        "text": [{"text": "    let s = batch.status;"}]}]}
            })
            .to_string()
        };
        let output = [
            message("no field `status` on type `&Batch`", "cli/src/show.rs", 21),
            message("no field `status` on type `&Batch`", "cli/src/show.rs", 21),
            serde_json::json!({"reason": "compiler-artifact", "manifest_path": "/w/generated/Cargo.toml"}).to_string(),
            // A build script built is not its package checked (the tests crate's, here).
            serde_json::json!({"reason": "compiler-artifact", "manifest_path": "/w/tests/Cargo.toml", "target": {"kind": ["custom-build"]}}).to_string(),
        ]
        .join("\n");
        assert_eq!(
            compile_errors(&output),
            [error(
                "cli/src/show.rs",
                21,
                "no field `status` on type `&Batch`",
                "let s = batch.status;"
            )]
        );
        assert_eq!(
            checked_manifests(&output),
            BTreeSet::from(["/w/cli/Cargo.toml".to_owned(), "/w/generated/Cargo.toml".to_owned()])
        );
    }

    #[test]
    fn names_are_what_code_writes() {
        let name = |n: &str, how| (n.to_owned(), how);
        assert_eq!(names("types::Batch::status"), [name("status", Use::Field)]);
        assert_eq!(names("types::Batch::with_status"), [name("with_status", Use::Call)]);
        assert_eq!(
            names("Client::list_batches (argument after)"),
            [name("list_batches", Use::Call)]
        );
        assert_eq!(names("builder::ListBatches::after"), [name("after", Use::Call)]);
        assert_eq!(
            names("types::Batch::new"),
            [name("Batch::new", Use::Path), name("Batch", Use::Path)]
        );
        assert_eq!(names("types::Batch"), [name("Batch", Use::Path)]);
        assert!(uses_name("x(b.status);", "status", Use::Field));
        assert!(!uses_name("response.status()", "status", Use::Field));
        assert!(!uses_name("pub fn with_status(x: u8)", "with_status", Use::Call));
        assert!(has_word("batch.status;", "status"));
        assert!(!has_word("batch.status_code;", "status"));
    }

    #[test]
    fn each_error_goes_under_the_change_that_names_it_with_the_spec_location() {
        let spec = "components:\n  schemas:\n    Batch:\n      properties:\n        state:\n          type: string\n";
        let base_spec =
            "components:\n  schemas:\n    Batch:\n      properties:\n        status:\n          type: string\n";
        let (head, base) = (crate::yaml::load(spec).unwrap(), crate::yaml::load(base_spec).unwrap());
        let specs = Specs {
            file: "spec/openapi.yaml",
            base: &base,
            head: &head,
            base_name: "HEAD",
        };
        let change = |pointer: &str, rust: &str, what: &str| Change {
            breaking: true,
            location: "schema Batch, property".into(),
            pointer: pointer.into(),
            rust: vec![rust.into()],
            what: what.into(),
        };
        let changes = [
            change(
                "/components/schemas/Batch/properties/status",
                "types::Batch::status",
                "removed",
            ),
            change(
                "/components/schemas/Batch/properties/state",
                "types::Batch::state",
                "added",
            ),
        ];
        let errors = [
            error(
                "generated/src/wait.rs",
                21,
                "no field `status` on type `&Batch`",
                "b.status",
            ),
            error("generated/src/lib.rs", 3, "something else", "x"),
        ];
        let cli = Unchecked {
            file: "cli/src/show.rs",
            text: "fn f(b: &Batch) {\n    println!(\"{:?}\", b.status);\n    let c = response.status();\n}\n",
        };
        let text = report(&specs, &changes, &errors, &[cli], &[]);
        assert!(
            text.contains("spec/openapi.yaml:5:9 (in HEAD) /components/schemas/Batch/properties/status\n"),
            "{text}"
        );
        assert!(
            text.contains("    generated/src/wait.rs:21: no field `status`"),
            "{text}"
        );
        assert!(text.contains("    cli/src/show.rs:2: println!"), "{text}");
        assert!(
            !text.contains("cli/src/show.rs:3"),
            "a call of another `status()`: {text}"
        );
        assert!(
            !text.contains("properties/state"),
            "a change that breaks nothing: {text}"
        );
        assert!(
            text.contains("errors no spec change explains:\n    generated/src/lib.rs:3: something else"),
            "{text}"
        );
    }

    #[test]
    fn a_left_out_operation_without_its_method_says_what_to_write() {
        let e = error(
            "generated/src/generated/operations.rs",
            319,
            "no function or associated item named `upload_thing` found for struct `Client`",
            "",
        );
        let left_out = [(
            "upload_thing".to_owned(),
            "request body is multipart/form-data".to_owned(),
        )];
        assert_eq!(
            unexplained(&e, &left_out),
            "operation `upload_thing` is left out of generation (request body is multipart/form-data) and nothing implements it: write `Client::upload_thing` by hand in generated/src/ (generated/src/generated/operations.rs:319)"
        );
    }
}
