//! `cargo xtask`: the project's own commands. Run `cargo xtask --help` for the list; every
//! command has `--help`, and unknown commands and flags are errors.
//!
//! - `regen [--check]`: reads `spec/openapi.yaml`, writes the generated code into
//!   `generated/src/generated/` and `generated/API.md`, and prints what it generated and which
//!   files changed. With `--check` (or as `check`) it writes nothing and exits non-zero, with a
//!   unified diff, when the checked-in code is stale.
//! - `lint`, `test`, `docs`: the spec linters; lint then every test (the README's test
//!   command); a self-contained HTML reference.
//! - `diff [BASE [HEAD]] [--format text|markdown|json] [--allow-breaking] [--history]`: the
//!   semantic spec diff (breaking or compatible).
//! - `semver [--baseline-rev REV]`: cargo-semver-checks against a base revision.
//! - `fuzz [--seconds N] [TARGET...]`: the libFuzzer targets of `tests/fuzz/`.

mod package;
mod public_api;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cerebras_batch_generator as generator;
use clap::{Parser, Subcommand};
use generator::diff::Format;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The cerebras-batch project's own commands",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the generated code and generated/API.md from spec/openapi.yaml.
    Regen {
        /// Write nothing; fail with a diff when the checked-in generated code is stale.
        #[arg(long)]
        check: bool,
    },
    /// Fail with a diff when the checked-in generated code is stale (same as `regen --check`).
    Check,
    /// Lint the spec with Redocly (strict) and Spectral (the project's rules).
    Lint,
    /// Install the pinned spec tools if needed, lint the spec, run every test.
    Test,
    /// Report spec changes, each BREAKING or compatible, with the Rust items they change.
    Diff {
        /// The older spec: a git ref (default origin/main, or HEAD~1 without a remote).
        base: Option<String>,
        /// The newer spec: a git ref (default: the working tree).
        head: Option<String>,
        /// How to write the report.
        #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json"])]
        format: String,
        /// Exit 0 even when a change is breaking.
        #[arg(long)]
        allow_breaking: bool,
        /// Check every commit that changed the spec: a breaking change needs a
        /// `Spec-Breaking-Change: <why>` line in its commit message.
        #[arg(long, conflicts_with_all = ["base", "head"])]
        history: bool,
    },
    /// Run cargo-semver-checks on the client crate against a base revision (needs
    /// `cargo install cargo-semver-checks --locked`).
    Semver {
        /// The git revision to compare with.
        #[arg(long, default_value = "origin/main")]
        baseline_rev: String,
    },
    /// Check the spec against the vendor's documentation pages (the docs-drift binary): every
    /// difference not in spec/known-differences.yaml fails. `--fetch` downloads the current pages
    /// into spec/vendor-pages first; see `cargo xtask docs-drift -- --help`.
    DocsDrift {
        /// Passed on to docs-drift (`--pages DIR`, `--fetch`, ...).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmark the client against raw reqwest + serde on loopback (release build, a few
    /// minutes; not run in CI): each figure as the median ratio over interleaved rounds.
    Bench {
        /// Passed on to `bench run` (`--rounds N`, `--calls N`, `--results-mb N`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build a minimal downstream crate clean in release, with this client and with
    /// async-openai 0.43, and print crates compiled and CPU seconds (several minutes; not in CI).
    BuildCost {
        /// Passed on to `bench build-cost` (`--features SET` to also build with a feature set,
        /// `--skip-async-openai`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Package every publishable crate and build it from its package alone; build the client
    /// with the lowest dependency versions its manifest allows; check that no dependency needs a
    /// newer Rust than our rust-version.
    Package,
    /// Check the public API of the client (from rustdoc's JSON) against
    /// generated/public-api.txt, and the external types it exposes against
    /// generated/external-types.toml.
    PublicApi {
        /// Write both files from today's code instead of checking them.
        #[arg(long)]
        write: bool,
    },
    /// Run the libFuzzer targets (needs `cargo install cargo-fuzz`).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Targets to run (default: all).
        #[arg(value_parser = FUZZ_TARGETS.to_vec())]
        targets: Vec<String>,
    },
}

/// The libFuzzer targets of `tests/fuzz/`.
const FUZZ_TARGETS: &[&str] = &[
    "batch",
    "list",
    "error_body",
    "retry_after",
    "result_lines",
    "result_decode",
    "pagination",
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regen { check: false } => regen(),
        Command::Regen { check: true } | Command::Check => check(),
        Command::Lint => lint(),
        Command::Test => test(),
        Command::Diff { history: true, .. } => diff_history(),
        Command::Diff {
            base,
            head,
            format,
            allow_breaking,
            history: false,
        } => diff(base, head, format.parse().expect("checked by clap"), allow_breaking),
        Command::Semver { baseline_rev } => semver(&baseline_rev),
        Command::Fuzz { seconds, targets } => fuzz(seconds, targets),
        Command::DocsDrift { args } => docs_drift(&args),
        Command::Bench { args } => bench("run", &args),
        Command::Package => package::package(),
        Command::PublicApi { write } => public_api::public_api(write),
        Command::BuildCost { args } => bench("build-cost", &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, read at run time (cargo sets `CARGO_MANIFEST_DIR` for `cargo run`), so
/// that a target directory shared by two checkouts never makes one act on the other.
pub(crate) fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().expect("xtask lives in the workspace").to_path_buf()
}

fn generate() -> Result<generator::Output, String> {
    let spec_path = root().join("spec/openapi.yaml");
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    generator::generate_named(SPEC, &spec).map_err(|e| format!("generation failed: {e}"))
}

/// `(path relative to the root, new contents, old contents)` for every generated file.
fn files(output: &generator::Output) -> Vec<(String, String, Option<String>)> {
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
fn stale_extra_files(output: &generator::Output) -> Vec<String> {
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

fn regen() -> Result<(), String> {
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
    for note in &s.notes {
        println!("note: {note}");
    }
    if changed.is_empty() {
        println!("files changed: none");
        return Ok(());
    }
    println!("files changed ({}): {}", changed.len(), changed.join(", "));
    prove_it_compiles(&output)
}

/// After a change, checks that the client crate still compiles: a spec change can break the
/// hand-written layer (a renamed field that `wait.rs` reads), and regen says so, naming the
/// file and line, instead of the next build.
fn prove_it_compiles(output: &generator::Output) -> Result<(), String> {
    println!("== cargo check (the hand-written layers of the client and the mock crate against the new code)");
    let out = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root())
        .args([
            "check",
            "--quiet",
            "-p",
            "cerebras-batch",
            "--lib",
            "--message-format=json",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    let mut errors = compile_errors(&String::from_utf8_lossy(&out.stdout), &output.summary.left_out);
    if errors.is_empty() && !out.status.success() {
        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    if errors.is_empty() {
        println!("the client and mock crates compile");
        Ok(())
    } else {
        Err(format!(
            "the generated code was written, but the client or mock crate no longer compiles:\n  {}\nchange the spec, or the hand-written layer in generated/src/ (the spec changed what it uses)",
            errors.join("\n  ")
        ))
    }
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

fn fuzz(seconds: u64, targets: Vec<String>) -> Result<(), String> {
    let targets: Vec<String> = if targets.is_empty() {
        FUZZ_TARGETS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        targets
    };
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

const SPEC: &str = "spec/openapi.yaml";

pub(crate) fn run(cmd: &mut std::process::Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("failed ({status}): {shown}"))
    }
}

/// Installs the pinned spec tools (`spec/package-lock.json`) unless they are installed already
/// from the same lockfile.
/// The Node.js versions the pinned spec tools need (`engines` in spec/package-lock.json):
/// Redocly CLI 2.77 needs 20.19+ on the 20 line, or 22.12+.
const NODE_NEEDED: &str = "Node.js 22.12 or later (or 20.19+ on the 20 line) with npm 10+";

/// Checks that `node` is there and new enough for the pinned tools.
fn check_node() -> Result<(), String> {
    let out = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node ({e}): the spec tools need {NODE_NEEDED}"))?;
    let version = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches('v')
        .to_owned();
    let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    let ok = match parts.as_slice() {
        [20, minor, ..] => *minor >= 19,
        [22, minor, ..] => *minor >= 12,
        [major, ..] => *major > 22,
        [] => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "node {version} is too old or unsupported: the spec tools need {NODE_NEEDED}"
        ))
    }
}

fn ensure_spec_tools() -> Result<(), String> {
    check_node()?;
    let spec = root().join("spec");
    let installed = spec.join("node_modules/.package-lock.json");
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let up_to_date = match (fresh(&installed), fresh(&spec.join("package-lock.json"))) {
        (Some(i), Some(l)) => i >= l && spec.join("node_modules/.bin/prism").exists(),
        _ => false,
    };
    if !up_to_date {
        println!("== installing the pinned spec tools (npm ci)");
        run(std::process::Command::new("npm").current_dir(&spec).args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ]))?;
    }
    Ok(())
}

fn spec_tool(name: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(root().join("spec/node_modules/.bin").join(name));
    cmd.current_dir(root().join("spec"))
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true");
    cmd
}

fn lint() -> Result<(), String> {
    ensure_spec_tools()?;
    println!("== redocly lint (strict; allow-list: spec/.redocly.lint-ignore.yaml)");
    run(spec_tool("redocly").args(["lint", "openapi.yaml", "--format=stylish"]))?;
    println!("== spectral lint (rules: spec/.spectral.yaml)");
    run(spec_tool("spectral").args(["lint", "openapi.yaml", "--fail-severity=warn"]))?;
    Ok(())
}

fn test() -> Result<(), String> {
    lint()?;
    println!("== cargo test (Prism contract tests required)");
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .arg("test")
        .env("CEREBRAS_BATCH_REQUIRE_PRISM", "1"))
}

/// Runs the benchmark binary (`bench/`, built in release) with `command`.
fn bench(command: &str, args: &[String]) -> Result<(), String> {
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "cerebras-batch-bench",
            "--",
            command,
        ])
        .args(args))
}

/// Runs the docs-drift binary, a crate of its own so that its HTTP client stays out of regen.
fn docs_drift(args: &[String]) -> Result<(), String> {
    run(std::process::Command::new("cargo")
        .current_dir(root())
        .args(["run", "--quiet", "-p", "cerebras-batch-docs-drift", "--"])
        .args(args))
}

fn git(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("git")
        .current_dir(root())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The spec at a git ref, parsed.
fn spec_at(reference: &str) -> Result<serde_json::Value, String> {
    let text = git(&["show", &format!("{reference}:{SPEC}")])?;
    generator::parse_spec(&text).map_err(|e| format!("{SPEC} at {reference}: {e}"))
}

fn diff(base: Option<String>, head: Option<String>, format: Format, allow_breaking: bool) -> Result<(), String> {
    let base = match base {
        Some(r) => r,
        None if git(&["rev-parse", "--verify", "--quiet", "origin/main"]).is_ok() => "origin/main".to_owned(),
        None => "HEAD~1".to_owned(),
    };
    let (head_name, head) = match head {
        Some(r) => {
            let spec = spec_at(&r)?;
            (r, spec)
        }
        None => {
            let text = std::fs::read_to_string(root().join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
            (
                "the working tree".to_owned(),
                generator::parse_spec(&text).map_err(|e| e.to_string())?,
            )
        }
    };
    let changes = generator::diff::diff(&spec_at(&base)?, &head);
    print!("{}", generator::diff::report(&changes, &base, &head_name, format));
    let breaking = changes.iter().filter(|c| c.breaking).count();
    if breaking > 0 && !allow_breaking {
        return Err(format!(
            "{breaking} breaking spec change(s): if they are deliberate, pass --allow-breaking (in CI: add a `Spec-Breaking-Change: <why>` line to the commit message)"
        ));
    }
    Ok(())
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

/// Runs cargo-semver-checks on the client crate against `rev`.
fn semver(rev: &str) -> Result<(), String> {
    let installed = std::process::Command::new("cargo")
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
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

/// Checks every commit that changed the spec against its parent. A commit with breaking
/// changes must say so with a `Spec-Breaking-Change: <why>` line in its message.
fn diff_history() -> Result<(), String> {
    let commits = git(&["rev-list", "--reverse", "HEAD", "--", SPEC])?;
    let mut unacknowledged = Vec::new();
    for commit in commits.lines() {
        let parent = format!("{commit}~1");
        let Ok(base) = spec_at(&parent) else { continue }; // the commit that created the spec
        let changes = generator::diff::diff(&base, &spec_at(commit)?);
        let subject = git(&["log", "-1", "--format=%h %s", commit])?;
        let message = git(&["log", "-1", "--format=%B", commit])?;
        let acknowledged = message.lines().any(|l| l.starts_with("Spec-Breaking-Change:"));
        let breaking = changes.iter().filter(|c| c.breaking).count();
        println!("== {}", subject.trim());
        print!("{}", generator::diff::report(&changes, &parent, commit, Format::Text));
        if breaking > 0 && !acknowledged {
            unacknowledged.push(subject.trim().to_owned());
        }
    }
    if unacknowledged.is_empty() {
        println!("every breaking spec change in the history is acknowledged");
        Ok(())
    } else {
        Err(format!(
            "breaking spec changes without a `Spec-Breaking-Change: <why>` line in the commit message:\n  {}",
            unacknowledged.join("\n  ")
        ))
    }
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
