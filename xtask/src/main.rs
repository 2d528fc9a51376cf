//! `cargo xtask`: the project's own commands. This file only parses the command line (clap)
//! and dispatches; each command lives in its own module, and what they share (the workspace
//! root, running programs, git, the pinned spec tools) in `util`. Run `cargo xtask --help` for
//! the list; every command has `--help`, and unknown commands and flags are errors.
//!
//! - `regen [--check]` (`regen.rs`): reads `spec/openapi.yaml`, writes the generated code into
//!   `generated/src/generated/`, `mock/src/generated/` and `generated/API.md`, and prints what
//!   it generated and which files changed; after a change, type-checks the whole workspace and
//!   reports what broke in spec locations (`prove.rs`). With `--check` it acts as `check`.
//! - `check` (`check.rs`): writes nothing and exits non-zero, with a unified diff, when the
//!   checked-in generated code is stale; when it is fresh, type-checks the whole workspace as
//!   `regen` does.
//! - `lint` (`lint.rs`): the spec through Redocly (strict) and Spectral (our rules).
//! - `test` (`test.rs`): lint, then every test with the Prism contract tests required (the
//!   README's test command).
//! - `diff [BASE [HEAD]] [--format text|markdown|json] [--allow-breaking] [--history]`
//!   (`diff.rs`): the semantic spec diff, each change BREAKING or compatible.
//! - `docs-drift [-- ARGS]` (`docs_drift.rs`): the spec against the vendor's documentation
//!   pages (the docs-drift binary).
//! - `bench [-- ARGS]` and `build-cost [-- ARGS]` (`bench.rs`): the benchmark binary's
//!   loopback benchmark and clean-build cost (not run in CI).
//! - `package` (`package.rs`): every publishable crate built from its package alone, minimal
//!   versions, the dependencies' MSRV.
//! - `public-api [--write]` (`public_api.rs`): the client's public API and the external types it
//!   exposes, against their checked-in snapshots.
//! - `semver [--baseline-rev REV]` (`semver.rs`): cargo-semver-checks against a base revision.
//! - `fuzz [--seconds N] [TARGET...]` (`fuzz.rs`): the libFuzzer targets of `tests/fuzz/`.

mod bench;
mod check;
mod diff;
mod docs_drift;
mod fuzz;
mod lint;
mod package;
mod prove;
mod public_api;
mod regen;
mod semver;
mod test;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Write the generated code (the client's and the mock crate's) and generated/API.md from
    /// spec/openapi.yaml; after a change, type-check the whole workspace and report what broke
    /// in spec locations.
    Regen {
        /// Write nothing; fail with a diff when the checked-in generated code is stale.
        #[arg(long)]
        check: bool,
    },
    /// Fail with a diff when the checked-in generated code is stale (same as `regen --check`);
    /// when it is fresh, type-check the whole workspace against it.
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
        #[arg(value_parser = fuzz::TARGETS.to_vec())]
        targets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regen { check: false } => regen::regen(),
        Command::Regen { check: true } | Command::Check => check::check(),
        Command::Lint => lint::lint(),
        Command::Test => test::test(),
        Command::Diff { history: true, .. } => diff::history(),
        Command::Diff {
            base,
            head,
            format,
            allow_breaking,
            history: false,
        } => diff::diff(base, head, format.parse().expect("checked by clap"), allow_breaking),
        Command::Semver { baseline_rev } => semver::semver(&baseline_rev),
        Command::Fuzz { seconds, targets } => fuzz::fuzz(seconds, targets),
        Command::DocsDrift { args } => docs_drift::docs_drift(&args),
        Command::Bench { args } => bench::bench("run", &args),
        Command::BuildCost { args } => bench::bench("build-cost", &args),
        Command::Package => package::package(),
        Command::PublicApi { write } => public_api::public_api(write),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
